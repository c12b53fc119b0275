"""The order to read a list in.

Themes: by relevance, the theme holding the most relevant paper first.
Inside a theme: first its most central paper (the highest mean cosine to the theme's other papers),
read as the theme's overview or background; then the others from the oldest to the newest, so that
later work comes after what it builds on (papers of unknown year last; equal years by relevance).
"""
from __future__ import annotations

import numpy as np


def central(positions: list[int], vectors: np.ndarray) -> int:
    """The member closest on average to the others; with two or fewer, the first (most relevant)."""
    if len(positions) <= 2:
        return positions[0]
    members = np.asarray(vectors[positions], dtype=np.float64)
    sims = members @ members.T
    mean_to_others = (sims.sum(axis=1) - np.diag(sims)) / (len(positions) - 1)
    return positions[int(np.argmax(mean_to_others))]  # ties: the more relevant one


def reading_order(labels: np.ndarray, years: list[int | None], vectors: np.ndarray) -> list[list[int]]:
    """Positions grouped by theme, themes and papers in reading order. Positions are indexes into
    `labels`/`years`/`vectors`, which are sorted by relevance (position 0 the most relevant)."""
    themes: dict[int, list[int]] = {}
    for position, label in enumerate(labels.tolist()):
        themes.setdefault(int(label), []).append(position)  # dict order = the theme's best member first
    ordered = []
    for members in themes.values():
        first = central(members, vectors)
        rest = sorted((p for p in members if p != first),
                      key=lambda p: (years[p] is None, years[p] or 0, p))
        ordered.append([first, *rest])
    return ordered
