"""Why a pick is there, for a profile: the seed or query it is closest to, and the terms they share.

Shared terms are ranked by their rarity among the candidates (idf), two-word phrases first: a rare
shared phrase ("mean estimation") says more than a word every candidate has ("privacy").
`explain_profile` puts the same into each result's `why` (search.why: the retrievers' ranks come from
the engine), so that `recommend` and reading lists say why as `search` and `similar` do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .profile import Profile, Seed
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


@dataclass
class Explanation:
    seed: Seed  # the seed or query the pick is closest to
    cosine: float
    terms: list[str]  # what they share

    def line(self) -> str:
        text = f"closest to {_label(self.seed)} (cosine {self.cosine:.2f})"
        return text + (f"; shares: {', '.join(self.terms)}" if self.terms else "; no shared terms (close in meaning only)")

    def closest_to(self, rec) -> dict:
        out = {"label": self.seed.label, "kind": self.seed.kind, "cosine": round(self.cosine, 4)}
        if self.seed.row is not None:
            out["id"] = rec.papers[self.seed.row].id
        return out


def explanation(vocab: Vocabulary, item_row: int, item_vector: np.ndarray, seeds: list[Seed],
                seed_rows: list[int]) -> Explanation:
    """`seed_rows[j]`: the vocab row of `seeds[j]`'s text."""
    best, similarity = closest_seed(item_vector, seeds)
    return Explanation(seeds[best], similarity, shared_terms(vocab, item_row, seed_rows[best]))


def reason(vocab: Vocabulary, item_row: int, item_vector: np.ndarray, seeds: list[Seed], seed_rows: list[int]) -> str:
    return explanation(vocab, item_row, item_vector, seeds, seed_rows).line()


def attach(rec, result, found: Explanation) -> None:
    """The profile's side of `result.why`: its closest seed and the terms they share."""
    why = dict(result.why or {})
    why["shared_words"] = found.terms
    why["closest_to"] = found.closest_to(rec)
    result.why = why


def explain_profile(rec, profile: Profile, results: list) -> None:
    """Set each result's closest seed and shared terms (recommend; reading lists do it with their own
    vocabulary). Terms are ranked by rarity among the results and the seeds."""
    seeds = profile.attractors
    if not results or not seeds:
        return
    vocab = Vocabulary([r.paper.text for r in results] + [s.text for s in seeds])
    seed_rows = list(range(len(results), len(results) + len(seeds)))
    vectors = np.asarray(rec.vectors[[rec.row_of_id[r.paper.id] for r in results]], dtype=np.float32)
    for i, result in enumerate(results):
        attach(rec, result, explanation(vocab, i, vectors[i], seeds, seed_rows))
