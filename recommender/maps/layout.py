"""The collection map's 2D layout, computed when an index is built, added to or removed from.

t-SNE (openTSNE, an optional dependency: the `map` extra) of the paper vectors, cosine metric. One thread on
purpose: on a machine whose cores are busy, openTSNE's worker threads wait for each other and a 50-paper
layout took 12 s instead of 0.7 s. The budget (scripts/benchmark.py, README "Web page and HTTP API"): above
MAX_MAP_PAPERS papers no layout is computed and the manifest says why; the page and `recommender map` then say
the map is not available and the neighbourhood picture still works.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

MAP_FILE = "map.npy"
MAX_MAP_PAPERS = 100_000  # 6.8 min and 1.2 GB on 2 busy cores (README): the most a build should add
TSNE_PERPLEXITY = 30
EXAGGERATION_ITERATIONS = 125  # openTSNE's default is 250 + 500; the map is a picture, not a measurement
ITERATIONS = 250
RANDOM_STATE = 0
TINY = 10  # below this many papers t-SNE's perplexity makes no sense: the two main axes of the vectors


def compute(vectors: np.ndarray) -> tuple[np.ndarray | None, dict]:
    """(n x 2 float32 coordinates, the manifest's `map` block); coordinates None when skipped (the block says why)."""
    n = len(vectors)
    if n > MAX_MAP_PAPERS:
        return None, {"skipped": f"{n:,} papers is more than the map's limit of {MAX_MAP_PAPERS:,}; "
                                 "the neighbourhood picture still works"}
    started = time.perf_counter()
    if n < TINY:
        coords, method = _main_axes(vectors), "principal axes (fewer than 10 papers)"
    else:
        try:
            import openTSNE
        except ImportError:
            return None, {"skipped": "openTSNE is not installed: pip install 'recommender[map]', then rebuild the index"}
        perplexity = min(TSNE_PERPLEXITY, (n - 1) / 3)
        tsne = openTSNE.TSNE(n_components=2, perplexity=perplexity, metric="cosine", n_jobs=1, random_state=RANDOM_STATE,
                             early_exaggeration_iter=EXAGGERATION_ITERATIONS, n_iter=ITERATIONS, verbose=False)
        try:
            coords = np.asarray(tsne.fit(np.ascontiguousarray(vectors, dtype=np.float32)))
        except (ValueError, RuntimeError, FloatingPointError, MemoryError) as exc:
            # A picture must never cost the index: the build goes on without the map and says why.
            return None, {"skipped": f"the layout failed ({type(exc).__name__}: {exc}); the neighbourhood picture still works"}
        method = (f"openTSNE {openTSNE.__version__} (cosine, perplexity {perplexity:g}, "
                  f"{EXAGGERATION_ITERATIONS}+{ITERATIONS} iterations)")
    coords = _unit_box(coords)
    return coords, {"file": MAP_FILE, "method": method, "seconds": round(time.perf_counter() - started, 2)}


def save(folder: Path, coords: np.ndarray | None) -> None:
    """Into `folder`, an index being written (its manifest then covers the file); nothing when the map was skipped."""
    if coords is not None:
        np.save(folder / MAP_FILE, np.ascontiguousarray(coords, dtype=np.float32))


def _main_axes(vectors: np.ndarray) -> np.ndarray:
    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    if len(centred) < 2:
        return np.zeros((len(centred), 2))
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    out = centred @ axes[:2].T
    return np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def _unit_box(coords: np.ndarray) -> np.ndarray:
    """Centred, the larger side scaled to [-1, 1]: every picture can assume the same frame."""
    coords = np.asarray(coords, dtype=np.float64)
    if not len(coords):
        return coords.astype(np.float32).reshape(0, 2)
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = float(max((high - low).max(), 1e-12))
    return ((coords - (low + high) / 2) * (2 / span)).astype(np.float32)
