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
    from .fusion import FUSION_DEPTH, fuse_free_text, fuse_seed

    # Score normalisation is over each retriever's top FUSION_DEPTH, whatever k is, so that a
    # paper's fused score does not depend on how many results were asked for.
    depth = max(depth, min(len(rec), FUSION_DEPTH))
    dense = dense_candidates(rec, query, depth)
    lexical = lexical_candidates(rec, query, depth)
    return fuse_seed(lexical, dense) if query.kind == "paper" else fuse_free_text(lexical, dense)
