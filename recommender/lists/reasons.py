"""One line per pick that says why it is there: the seed or query it is closest to, and the terms they share.

Shared terms are ranked by their rarity among the candidates (idf), two-word phrases first: a rare
shared phrase ("mean estimation") says more than a word every candidate has ("privacy").
"""
from __future__ import annotations

import numpy as np

from .profile import Seed
from .terms import Vocabulary, pick_terms

SHARED_TERMS = 3
LABEL_WIDTH = 50


def _label(seed: Seed) -> str:
    text = " ".join(seed.label.split())
    text = text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"
    if seed.kind == "query":
        return f'the query "{text}"'
    if seed.kind == "library":
        return f'"{text}" (your library)'
    return f'"{text}"'


def shared_terms(vocab: Vocabulary, item_row: int, seed_row: int, n: int = SHARED_TERMS) -> list[str]:
    common = vocab.term_set(item_row) & vocab.term_set(seed_row)
    ranked = sorted(common, key=lambda t: (not vocab.is_phrase(t), -vocab.idf[t], vocab.terms[t]))
    return [vocab.shown(t) for t in pick_terms(vocab, ranked, n)]


def closest_seed(item_vector: np.ndarray, seeds: list[Seed]) -> tuple[int, float]:
    sims = np.stack([s.vector for s in seeds]) @ np.asarray(item_vector, dtype=np.float32)
    best = int(np.argmax(sims))
    return best, float(sims[best])


def reason(vocab: Vocabulary, item_row: int, item_vector: np.ndarray, seeds: list[Seed], seed_rows: list[int]) -> str:
    """`seed_rows[j]`: the vocab row of `seeds[j]`'s text."""
    best, similarity = closest_seed(item_vector, seeds)
    line = f"closest to {_label(seeds[best])} (cosine {similarity:.2f})"
    terms = shared_terms(vocab, item_row, seed_rows[best])
    return line + (f"; shares: {', '.join(terms)}" if terms else "; no shared terms (close in meaning only)")
