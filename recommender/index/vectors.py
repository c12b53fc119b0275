"""FAISS index types over L2-normalised vectors (inner product = cosine)."""
from __future__ import annotations

import numpy as np

from ..errors import UsageError

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")


def choose_index_type(requested: str, n: int) -> str:
    if requested not in INDEX_TYPES:
        raise UsageError(f"--index-type {requested!r}: choose one of {', '.join(INDEX_TYPES)}")
    if requested != "auto":
        return requested
    return "flat"


def build_faiss(vectors: np.ndarray, index_type: str) -> tuple[object, dict]:
    """Returns the FAISS index and the parameters to record in the manifest."""
    import faiss

    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index, {"type": "flat", "metric": "inner_product"}
    raise UsageError(f"index type {index_type!r} is not available yet; use --index-type flat")


def search_faiss(index, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    n = min(n, index.ntotal)
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), n)
    return rows, scores
