"""Ranking metrics over one query: pure functions of (ranked ids, {doc_id: grade}).

Conventions (the same as BEIR / pytrec_eval):
- a grade > 0 is relevant; grades <= 0 (or absent) count as irrelevant;
- nDCG uses graded gains 2^grade - 1 and log2(rank + 1) discounts; the ideal ranking is built from
  ALL judged relevant documents of the query (not only the retrieved ones);
- a query with no relevant document gets None (callers average over queries that have one).
Duplicate ids in a ranking count once, at their first position.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["dcg", "ndcg_at_k", "recall_at_k", "mrr_at_k", "mean_defined"]


def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")


def _top_k(ranked: Sequence[str], k: int) -> list[str]:
    _check_k(k)
    seen: set[str] = set()
    out: list[str] = []
    for doc in ranked:
        if doc in seen:
            continue
        seen.add(doc)
        out.append(doc)
        if len(out) == k:
            break
    return out


def _gain(grade: float) -> float:
    return 2.0 ** grade - 1.0 if grade > 0 else 0.0


def dcg(grades: Iterable[float]) -> float:
    """Discounted cumulative gain of grades listed in rank order (rank 1 first)."""
    return sum(_gain(g) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10) -> float | None:
    _check_k(k)
    ideal_grades = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    if not ideal_grades:
        return None
    ideal = dcg(ideal_grades)
    got = dcg(qrels.get(doc, 0) for doc in _top_k(ranked, k))
    return got / ideal


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 100) -> float | None:
    _check_k(k)
    relevant = {d for d, g in qrels.items() if g > 0}
    if not relevant:
        return None
    return sum(1 for doc in _top_k(ranked, k) if doc in relevant) / len(relevant)


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10) -> float | None:
    _check_k(k)
    if not any(g > 0 for g in qrels.values()):
        return None
    for i, doc in enumerate(_top_k(ranked, k)):
        if qrels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def mean_defined(values: Iterable[float | None]) -> float:
    """Mean over the values that are not None (queries with at least one relevant document)."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else 0.0
