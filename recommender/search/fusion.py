"""Combining ranked lists from several retrievers: pure numpy functions.

Every retriever contributes a run `(rows, scores)`: int64 corpus rows of its top-N candidates and
their float32 scores (any order; N may be 1000 or the whole corpus). Every function returns
`(rows, scores)` sorted by descending score (ties: lower row first), covering the union of the runs.

The default ranking (issue 3; scripts/research_ranking.py reproduces the comparison; issue 12 for seeds):
  runs     free text:  BM25 (stemmed, the index's settings) of the query text
                       dense: cosine of the query vector with each paper vector
           seed paper: BM25 of the seed's 50 most distinctive words, weighted by their count in the seed
                       (search.ranking; scripts/research_seed_queries.py)
                       dense: cosine of the normalised mean of the seed's sentence vectors (title + abstract)
           each run: the top FUSION_DEPTH rows
  fusion   z-score each run's scores, absent rows take the run's minimum, average with equal weights
           (fuse_free_text / fuse_seed). A corpus-wide sentence store (a third, max-sim run) was measured
           and left out of the default (README, Quality); the functions still take its run.
  fuse_by_peak (weights following each run's peakedness) was measured for seed papers on CSFCube and
  left out: 0.483 against 0.484 nDCG@10 with equal weights.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "RRF_K", "FUSION_NORM", "FUSION_DEPTH", "FREE_TEXT_WEIGHTS", "SEED_WEIGHTS", "FALLBACK_WEIGHTS",
    "normalize", "sort_run", "rrf", "score_fusion", "fuse_free_text", "fuse_seed", "peakedness", "fuse_by_peak",
]

Run = tuple[np.ndarray, np.ndarray]

# --- the chosen configuration --------------------------------------------------------------------
# Chosen on the three dev sets (scifact, csfcube, cisi) by scripts/research_ranking.py; its JSON has
# every alternative. The rule is deliberately the untuned one: z-score each retriever's top-N and
# average with EQUAL weights, the same rule for free-text and seed-paper queries. Tuning bought
# little: for BM25+dense, alpha_dense 0.4-0.6 are all within 0.004 nDCG@10 of 0.5 on scifact and
# cisi; for the 3-way fusion the best grid point, 0.4/0.2/0.4, gains +0.004 (scifact), +0.015
# (csfcube, 24 queries: noise) and 0.000 (cisi) over equal weights: not worth a tuned constant.
FUSION_NORM = "zscore"  # min-max is within 0.003 nDCG@10 on every set; RRF is 0.015-0.02 worse on scifact and cisi
FUSION_DEPTH = 1000  # per retriever; N=100 or 200: nDCG@10 within +-0.005, recall@100 up to 0.014 lower
FREE_TEXT_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)  # BM25, dense, sentence max-sim
SEED_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)  # BM25 of the seed's text, seed-vector cosine, sentence max-sim
FALLBACK_WEIGHTS = (0.5, 0.5)  # BM25, dense: an index without a sentence store
RRF_K = 60  # only for rrf(), kept as an alternative; the usual constant (Cormack et al., 2009)


def sort_run(rows: np.ndarray, scores: np.ndarray) -> Run:
    """Sort by descending score, ties broken by ascending row (deterministic)."""
    rows = np.asarray(rows, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float32)
    order = np.lexsort((rows, -scores))
    return rows[order], scores[order]


def _check(run: Run) -> Run:
    rows, scores = np.asarray(run[0], dtype=np.int64), np.asarray(run[1], dtype=np.float32)
    if rows.ndim != 1 or rows.shape != scores.shape:
        raise ValueError(f"a run needs 1-d rows and scores of one length, got {rows.shape} and {scores.shape}")
    if len(np.unique(rows)) != len(rows):
        raise ValueError("a run lists a row twice")
    return rows, scores


def normalize(scores: np.ndarray, method: str = "zscore") -> np.ndarray:
    """Put one retriever's top-N scores on a common scale.

    minmax: (s - min) / (max - min), in [0, 1]; zscore: (s - mean) / std. A constant run maps to 0."""
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return s.astype(np.float32)
    if method == "minmax":
        lo, hi = s.min(), s.max()
        out = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
    elif method == "zscore":
        sd = s.std()
        out = (s - s.mean()) / sd if sd > 0 else np.zeros_like(s)
    else:
        raise ValueError(f"unknown normalisation {method!r}: minmax or zscore")
    return out.astype(np.float32)


def _union(runs: Sequence[Run]) -> tuple[np.ndarray, list[np.ndarray]]:
    """All rows of the runs, and for each run the positions of its rows in that union."""
    union = np.unique(np.concatenate([r for r, _ in runs])) if runs else np.zeros(0, np.int64)
    return union, [np.searchsorted(union, r) for r, _ in runs]


def rrf(runs: Sequence[Run], k: float = RRF_K, weights: Sequence[float] | None = None) -> Run:
    """(Weighted) reciprocal rank fusion: sum_i w_i / (k + rank_i), rank 1-based; absent = no term."""
    runs = [_check(r) for r in runs]
    weights = [1.0] * len(runs) if weights is None else list(weights)
    if len(weights) != len(runs):
        raise ValueError("one weight per run")
    union, pos = _union(runs)
    total = np.zeros(len(union), dtype=np.float64)
    for (rows, scores), p, w in zip(runs, pos, weights):
        rank = np.empty(len(rows), dtype=np.float64)
        rank[np.lexsort((rows, -scores))] = np.arange(1, len(rows) + 1)
        total[p] += w / (k + rank)
    return sort_run(union, total.astype(np.float32))


def score_fusion(runs: Sequence[Run], weights: Sequence[float], norm: str = FUSION_NORM) -> Run:
    """Convex combination of normalised scores: sum_i w_i * norm_i(s).

    A row missing from a run gets that run's lowest normalised score (it ranked below the run's
    depth, so it can be at most as good as the run's last candidate)."""
    runs = [_check(r) for r in runs]
    if len(weights) != len(runs):
        raise ValueError("one weight per run")
    union, pos = _union(runs)
    total = np.zeros(len(union), dtype=np.float64)
    for (rows, scores), p, w in zip(runs, pos, weights):
        if len(rows) == 0:
            continue
        z = normalize(scores, norm).astype(np.float64)
        col = np.full(len(union), z.min())
        col[p] = z
        total += w * col
    return sort_run(union, total.astype(np.float32))


def fuse_free_text(lexical: Run, dense: Run, maxsim: Run | None = None) -> Run:
    """Default for a free-text query: z-scored BM25, dense and (when the index has a sentence store)
    sentence max-sim runs, averaged with equal weights. Each run: its top FUSION_DEPTH."""
    if maxsim is None:
        return score_fusion([lexical, dense], list(FALLBACK_WEIGHTS), FUSION_NORM)
    return score_fusion([lexical, dense, maxsim], list(FREE_TEXT_WEIGHTS), FUSION_NORM)


def fuse_seed(lexical: Run, dense: Run, maxsim: Run | None = None) -> Run:
    """Default for a seed-paper query: z-scored BM25 (query = the seed's "title. abstract"), dense
    (the seed's own vector) and sentence max-sim (seed.maxsim_scores of the seed's title + abstract
    sentences) runs, averaged with equal weights. Without a sentence store (maxsim None) it is the
    BM25 + dense average, which on csfcube does NOT beat plain BM25 (0.461 vs 0.463)."""
    if maxsim is None:
        return score_fusion([lexical, dense], list(FALLBACK_WEIGHTS), FUSION_NORM)
    return score_fusion([lexical, dense, maxsim], list(SEED_WEIGHTS), FUSION_NORM)


PEAK_TOP = 10  # peakedness: the mean z-score of a run's top PEAK_TOP


def peakedness(scores: np.ndarray, top: int = PEAK_TOP) -> float:
    """How far a run's best candidates stand out from the rest of its top-N: the mean z-score of its
    `top` best scores (0 for a flat run)."""
    z = normalize(scores, "zscore").astype(np.float64)
    if z.size == 0:
        return 0.0
    return float(np.sort(z)[::-1][:top].mean())


def fuse_by_peak(runs: Sequence[Run]) -> Run:
    """z-score fusion whose weights follow each run's peakedness: a retriever that singles out a few
    papers counts more than one that scores many alike. Equal weights when no run stands out."""
    runs = [_check(r) for r in runs]
    peaks = np.array([max(peakedness(scores), 0.0) for _, scores in runs])
    weights = peaks / peaks.sum() if peaks.sum() > 0 else np.full(len(runs), 1.0 / max(len(runs), 1))
    return score_fusion(runs, weights.tolist(), FUSION_NORM)
