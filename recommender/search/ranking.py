"""Candidate generation per retrieval mode, and their fusion for the hybrid mode."""
from __future__ import annotations

import numpy as np

from ..index.vectors import search_faiss


def dense_candidates(rec, query, depth: int) -> tuple[np.ndarray, np.ndarray]:
    rows, scores = search_faiss(rec.faiss_index, query.vector[None, :], depth)
    keep = rows[0] >= 0
    return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def lexical_candidates(rec, query, depth: int) -> tuple[np.ndarray, np.ndarray]:
    rows, scores = rec.lexical.top(query.text, depth)
    keep = scores > 0
    return rows[keep], scores[keep]


def rank_candidates(rec, query, mode: str, depth: int) -> tuple[np.ndarray, np.ndarray]:
    if mode == "dense":
        return dense_candidates(rec, query, depth)
    if mode == "lexical":
        return lexical_candidates(rec, query, depth)
    dense = dense_candidates(rec, query, depth)
    lexical = lexical_candidates(rec, query, depth)
    return fuse(dense, lexical, query.kind)


def fuse(dense, lexical, kind: str, k: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal-rank fusion; placeholder until the tuned fusion lands."""
    scores: dict[int, float] = {}
    for rows, _ in (dense, lexical):
        for rank, row in enumerate(rows.tolist()):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank + 1)
    order = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return np.array([r for r, _ in order], dtype=np.int64), np.array([s for _, s in order], dtype=np.float32)
