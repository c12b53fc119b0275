"""FAISS index types over L2-normalised vectors (inner product = cosine), and searching them.

- flat:  exact (IndexFlatIP). The default while a single query over every vector stays fast.
- hnsw:  IndexHNSWFlat (graph; best recall per millisecond, but holds a second copy of the vectors
         and a removal or a changed paper means rebuilding the graph).
- ivfpq: IndexIVFPQ (coarse k-means cells, 48-byte product-quantised codes), whose candidates are
         re-scored exactly against the memory-mapped vectors.npy ("refine"): a 57 MB file at 1M
         papers, built in a minute, updated without retraining; the default above FLAT_MAX.

The parameters a search needs (efSearch, nprobe, refine) are recorded in the manifest's `index`
block, so an index is searched the way it was measured.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UsageError
from . import storage  # noqa: F401  (sets OpenMP's wait policy before FAISS is imported)

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")

# `auto` keeps exact search up to this many papers. Measured with scripts/benchmark.py on 2 cores
# (docs/performance.json): one flat query over 100K papers takes 5 ms on a quiet machine and 20 ms
# (the latency budget) when other work shares the cores; at 1M it is 50 ms even when quiet.
FLAT_MAX = 100_000

# Up to this many vectors a flat index is searched with numpy (~1 ms at 10K on 2 cores, under FAISS's
# own import time); beyond, FAISS's flat search is faster.
NUMPY_FLAT_MAX = 20_000
FLAT_MAGIC = b"IxFI"  # the first bytes of a FAISS IndexFlatIP file

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128  # recall@10 0.995 at 100K, 0.989 at 1M; 32 gives 0.955 at 1M (docs/performance.json)

IVFPQ_MIN_PAPERS = 1_000  # below this the product quantiser cannot be trained; use flat
IVFPQ_SUBQUANTIZERS = 48  # 384 dims / 48 = 8 dims per byte-sized code
IVFPQ_REFINE = 10  # re-score 10x the requested candidates exactly
# A query's 10 nearest neighbours lie in a few dozen cells whatever the corpus size (benchmark sweep,
# refine 10: recall@10 0.95 / 0.98 / 0.99 at 16 / 32 / 64 cells for 10K papers; 0.996 / 0.998 / 0.999
# at 1M), and 64 cells cost about a millisecond at 1M, so the probe count is fixed, not a share of cells.
IVFPQ_NPROBE = 64
IVFPQ_TRAIN_PER_CELL = 40  # faiss warns below 39 training points per cell
# The training sample is sized to the cells, with no other cap: the former 100,000 cap left 16 points a cell at
# 10M papers (6,324 cells). At 10M it is 253K vectors (388 MB). Below ~1.5M papers nothing changed.
IVFPQ_ADD_ROWS = 100_000  # vectors added at a time, so that a memory-mapped vectors.npy is read in pieces


def choose_index_type(requested: str, n: int) -> str:
    if requested not in INDEX_TYPES:
        raise UsageError(f"--index-type {requested!r}: choose one of {', '.join(INDEX_TYPES)}")
    if requested == "ivfpq" and n < IVFPQ_MIN_PAPERS:  # said before anything is embedded
        raise UsageError(f"--index-type ivfpq needs at least {IVFPQ_MIN_PAPERS:,} papers (this corpus has {n}); "
                         "use --index-type flat (or auto)")
    if requested != "auto":
        return requested
    return "flat" if n <= FLAT_MAX else "ivfpq"


def ivfpq_shape(n: int) -> dict:
    """Cells, code bits and probes for n vectors: ~2*sqrt(n) cells, of which a query scans IVFPQ_NPROBE."""
    nlist = max(16, int(2 * math.sqrt(n)))
    nbits = int(max(4, min(8, math.floor(math.log2(max(2, n) / 39)))))
    nprobe = min(nlist, IVFPQ_NPROBE)
    return {"nlist": nlist, "nbits": nbits, "nprobe": nprobe}


def ivfpq_training_size(n: int, shape: dict) -> int:
    """IVFPQ_TRAIN_PER_CELL points for each coarse cell and each product-quantiser centroid (or all n)."""
    return min(n, IVFPQ_TRAIN_PER_CELL * max(shape["nlist"], 1 << shape["nbits"]))


def build_faiss(vectors: np.ndarray, index_type: str, *, seed: int = 0) -> tuple[object, dict]:
    """Returns the FAISS index and the parameters to record in the manifest."""
    import faiss

    faiss.omp_set_num_threads(cpu_threads())  # a search in this process may have left it at 1
    if index_type != "ivfpq":  # ivfpq reads a (memory-mapped) array in pieces; the others take it whole
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, {"type": "flat", "metric": "inner_product"}
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        return index, {"type": "hnsw", "metric": "inner_product", "M": HNSW_M,
                       "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    if index_type == "ivfpq":
        if n < IVFPQ_MIN_PAPERS:
            raise UsageError(f"--index-type ivfpq needs at least {IVFPQ_MIN_PAPERS:,} papers (this corpus has {n}); "
                             "use --index-type flat (or auto)")
        if dim % IVFPQ_SUBQUANTIZERS:
            raise UsageError(f"--index-type ivfpq needs a dimension divisible by {IVFPQ_SUBQUANTIZERS} (this model: {dim}); use hnsw")
        shape = ivfpq_shape(n)
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, shape["nlist"], IVFPQ_SUBQUANTIZERS, shape["nbits"],
                                 faiss.METRIC_INNER_PRODUCT)
        for clustering in (index.cp, index.pq.cp):
            clustering.seed = seed
            clustering.min_points_per_centroid = 1  # small corpora: fewer points per cell is fine, refine corrects it
        sample = ivfpq_training_size(n, shape)
        rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
        training = gather_rows(vectors, rows)
        index.train(training)
        del training
        for start in range(0, n, IVFPQ_ADD_ROWS):
            index.add(np.ascontiguousarray(vectors[start:start + IVFPQ_ADD_ROWS], dtype=np.float32))
            release_pages(vectors)
        return index, {"type": "ivfpq", "metric": "inner_product", "subquantizers": IVFPQ_SUBQUANTIZERS,
                       "trained_on": int(sample), "refine": IVFPQ_REFINE, **shape}
    raise UsageError(f"--index-type {index_type!r}: choose one of {', '.join(INDEX_TYPES)}")


def gather_rows(vectors, rows: np.ndarray) -> np.ndarray:
    """vectors[rows] as a float32 array. From a memory-mapped file the rows are read with pread: indexing the
    map would fault in the pages around each row as well, and at 10M papers a 253K-row sample spread over the
    file made nearly all of its 15 GB resident."""
    filename = getattr(vectors, "filename", None)
    if not isinstance(vectors, np.memmap) or filename is None or vectors.dtype != np.float32 or not vectors.flags.c_contiguous:
        return np.ascontiguousarray(vectors[rows], dtype=np.float32)
    vectors.flush()
    width = vectors.shape[1] * 4
    out = np.empty((len(rows), vectors.shape[1]), dtype=np.float32)
    view = memoryview(out).cast("B")
    fd = os.open(filename, os.O_RDONLY)
    try:
        for i, row in enumerate(rows):
            view[i * width:(i + 1) * width] = os.pread(fd, width, vectors.offset + int(row) * width)
    finally:
        os.close(fd)
    return out


def release_pages(vectors) -> None:
    """Drop the pages of a memory-mapped vectors.npy that this process has read or written (after writing
    them to the file): the kernel would give them back under pressure anyway, but until then they count in the
    process's resident memory, 15 GB at 10M papers. A plain array is left alone."""
    import mmap

    mapped = getattr(vectors, "_mmap", None)
    if mapped is None or not hasattr(mapped, "madvise"):
        return
    mapped.flush()
    mapped.madvise(mmap.MADV_DONTNEED)


def refill_faiss(index, vectors: np.ndarray) -> object:
    """The same index type with the same training, holding exactly `vectors` (rows renumbered from 0).

    For ivfpq this keeps the trained cells and codebooks, so an update costs one encoding pass and
    no k-means; flat and hnsw have nothing to keep and are rebuilt by the caller."""
    import faiss

    faiss.omp_set_num_threads(cpu_threads())
    fresh = faiss.clone_index(index)
    fresh.reset()
    fresh.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return fresh


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class VectorSearcher:
    """An index searched with the manifest's parameters; ivfpq candidates are re-scored exactly.

    `index` is a FAISS index, or an index folder whose FAISS file is memory-mapped on the first search.
    A small flat index is searched with numpy over the memory-mapped vectors instead: the same exact
    scores, without importing FAISS (a fifth of a cold query's CPU time)."""

    def __init__(self, index, params: dict, vectors: Callable[[], np.ndarray] | np.ndarray | None = None,
                 ntotal: int | None = None):
        self.params = dict(params)
        self.type = self.params.get("type", "flat")
        self._vectors = vectors
        self._folder = Path(index) if isinstance(index, (str, os.PathLike)) else None
        self._index = None if self._folder is not None else index
        self._ntotal = ntotal
        self.use_numpy = (self.type == "flat" and vectors is not None and self._folder is not None
                          and ntotal is not None and ntotal <= NUMPY_FLAT_MAX)
        if self.use_numpy:
            storage.check_faiss_file(self._folder, FLAT_MAGIC)  # still catch a damaged index file

    @property
    def index(self):
        if self._index is None:
            self._index = storage.load_faiss(self._folder)
            if self.type == "hnsw":
                self._index.hnsw.efSearch = int(self.params.get("efSearch", HNSW_EF_SEARCH))
            elif self.type == "ivfpq":
                self._index.nprobe = int(self.params["nprobe"])
        return self._index

    @property
    def ntotal(self) -> int:
        return int(self._ntotal) if self.use_numpy else int(self.index.ntotal)

    def vectors(self) -> np.ndarray:
        return self._vectors() if callable(self._vectors) else self._vectors

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores), each (len(queries), min(n, ntotal)), best first; row -1 pads a short answer."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        n = min(n, self.ntotal)
        if self.use_numpy:
            return _exact(self.vectors(), queries, n)
        import faiss

        index = self.index
        if self._folder is None:  # an index handed in: apply the parameters to it now
            if self.type == "hnsw":
                index.hnsw.efSearch = int(self.params.get("efSearch", HNSW_EF_SEARCH))
            elif self.type == "ivfpq":
                index.nprobe = int(self.params["nprobe"])
        # One query gains nothing from OpenMP threads, and on a busy machine their spin-waits cost
        # 5x (measured: 23 ms on one thread vs 135 ms on two for a 100K flat search).
        faiss.omp_set_num_threads(1 if len(queries) < 4 else cpu_threads())
        if self.type != "ivfpq" or self._vectors is None:
            scores, rows = index.search(queries, n)
            return rows, scores
        depth = min(self.ntotal, n * int(self.params.get("refine", IVFPQ_REFINE)))
        _, candidates = index.search(queries, depth)
        return _refine(self.vectors(), queries, candidates, n)


def _dot(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """matrix @ query without BLAS: numpy's OpenBLAS wakes its threads even for one matrix-vector product,
    which on a busy 2-core machine cost 12-16 ms where einsum's own loop takes 0.1 ms (2,000 x 384)."""
    return np.einsum("ij,j->i", matrix, query)


def _exact(vectors: np.ndarray, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force inner products; the n best rows per query, best first (ties by row)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scores = np.stack([_dot(vectors, q) for q in queries]) if len(queries) < 4 else queries @ vectors.T
    rows_out = np.empty((len(queries), n), dtype=np.int64)
    scores_out = np.empty((len(queries), n), dtype=np.float32)
    for i, row_scores in enumerate(scores):
        part = np.argpartition(-row_scores, n - 1)[:n] if n < len(row_scores) else np.arange(len(row_scores))
        order = part[np.lexsort((part, -row_scores[part]))]
        rows_out[i], scores_out[i] = order, row_scores[order]
    return rows_out, scores_out


def _refine(vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner products of each query with its candidate rows; the n best, best first."""
    rows_out = np.full((len(queries), n), -1, dtype=np.int64)
    scores_out = np.full((len(queries), n), -np.inf, dtype=np.float32)
    for i, (query, rows) in enumerate(zip(queries, candidates)):
        rows = np.unique(rows[rows >= 0])  # sorted, so the memory-mapped reads go forward
        scores = _dot(np.asarray(vectors[rows], dtype=np.float32), query)
        order = np.lexsort((rows, -scores))[:n]
        rows_out[i, :len(order)] = rows[order]
        scores_out[i, :len(order)] = scores[order]
    return rows_out, scores_out


def search_faiss(index, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(index, VectorSearcher):
        return index.search(queries, n)
    n = min(n, index.ntotal)
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), n)
    return rows, scores
