"""Maximal marginal relevance (Carbonell & Goldstein, 1998): relevant papers that are not near-copies.

Each step picks the candidate with the best
    (1 - diversity) * relevance - diversity * (highest cosine to a paper already picked),
relevance min-max scaled to [0, 1] over the candidates so that it weighs against cosines whatever the
scale of the ranker's scores (cosines, fused ranks, classifier margins). diversity = 0 is the ranking
as it was; diversity = 1 ignores relevance after the first pick.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError


def check_diversity(diversity: float) -> float:
    try:
        value = float(diversity)
    except (TypeError, ValueError):
        raise UsageError(f"--diversity must be a number from 0 to 1, got {diversity!r}") from None
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"--diversity must be from 0 (most relevant only) to 1 (most varied), got {diversity}")
    return value


def scale_relevance(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    low, high = scores.min(), scores.max()
    return (scores - low) / (high - low) if high > low else np.ones_like(scores)


def mmr(scores: np.ndarray, vectors: np.ndarray, n: int, diversity: float) -> list[int]:
    """Positions (into `scores`/`vectors`) of the n picks, in the order picked. `vectors` L2-normalised rows."""
    diversity = check_diversity(diversity)
    relevance = scale_relevance(scores)
    n = min(n, len(relevance))
    if n <= 0:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    chosen: list[int] = []
    closest = np.full(len(relevance), -np.inf)  # each candidate's highest cosine to the picks so far
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(n):
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        gain = (1.0 - diversity) * relevance - diversity * redundancy
        gain[~available] = -np.inf
        pick = int(np.argmax(gain))  # ties: the more relevant (earlier) candidate
        chosen.append(pick)
        available[pick] = False
        closest = np.maximum(closest, vectors @ vectors[pick])
    return chosen


def mean_pairwise_similarity(vectors: np.ndarray) -> float:
    """Mean cosine over the distinct pairs of a list: how much its papers repeat each other."""
    vectors = np.asarray(vectors, dtype=np.float64)
    n = len(vectors)
    if n < 2:
        return 0.0
    sims = vectors @ vectors.T
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))
