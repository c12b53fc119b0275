"""Putting a reading list together: candidates for the profile, a diverse pick, themes, order, reasons."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..records import Result
from .bib import read_library
from .diversify import check_diversity, mmr
from .methods import profile_direction, rank_profile
from .model import ReadingList, Theme
from .order import reading_order
from .profile import Profile, build_profile
from .reasons import reason
from .terms import Vocabulary
from .themes import group, theme_name

MAX_N = 500
POOL_FACTOR = 4  # the diverse pick chooses among this many times n of the best candidates
MIN_POOL = 40  # ... and never fewer (enough background for naming the themes)


def check_n(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_N:
        raise UsageError(f"-n must be a number of papers from 1 to {MAX_N}, got {n!r}")
    return n


def load_profile(rec, *, query: str | None, like: Sequence[str], unlike: Sequence[str],
                 bib: str | Path | None) -> tuple[Profile, dict]:
    """The profile, and the record of what it was made from (ReadingList.query)."""
    library = read_library(rec, bib) if bib is not None else None
    profile = build_profile(rec, like, unlike, query,
                            library=library.outside if library else (),
                            library_rows=library.rows if library else ())
    made_from = {
        "text": profile.query.text if profile.query else None,
        "like": [s.label if s.row is None else rec.papers[s.row].id for s in profile.positives
                 if s.kind == "paper" and (library is None or s.row not in library.in_index)],
        "unlike": [rec.papers[s.row].id for s in profile.negatives],
        "bib": str(library.path) if library else None,
    }
    if library:
        made_from["library"] = {"entries": len(library), "in_index": len(library.in_index), "skipped": library.skipped}
    return profile, made_from


def _title(profile: Profile, made_from: dict) -> str:
    if made_from.get("bib"):
        return f"Missing from {Path(made_from['bib']).name}"
    return profile.describe()


def build_reading_list(rec, profile: Profile, made_from: dict, *, n: int, diversity: float,
                       method: str = "auto", mode: str | None = None, filters=None) -> ReadingList:
    n, diversity = check_n(n), check_diversity(diversity)
    direction = profile_direction(profile, rec.vectors, method)
    pool = rank_profile(rec, profile, max(POOL_FACTOR * n, MIN_POOL), method=method, mode=mode, filters=filters,
                        direction=direction)
    if not pool:  # the filters left nothing
        return ReadingList(made_from, [], _title(profile, made_from))
    rows = [rec.row_of_id[r.paper.id] for r in pool]
    vectors = np.asarray(rec.vectors[rows], dtype=np.float32)
    # Relevance for the pick is the cosine to the profile, on the scale of the cosines between picks
    # (as MMR was defined); the ranker's own scores (fused ranks, margins) only chose the candidates.
    relevance = vectors @ direction
    by_relevance = np.argsort(-relevance, kind="stable")
    pool, vectors, relevance = [pool[i] for i in by_relevance], vectors[by_relevance], relevance[by_relevance]
    picked = sorted(mmr(relevance, vectors, n, diversity))  # by relevance again
    chosen = set(picked)
    left_out = [p for p in range(len(pool)) if p not in chosen]
    seeds = profile.attractors
    # Vocabulary rows: the picks (by relevance), the candidates left out (theme background), the seeds.
    vocab = Vocabulary([pool[p].paper.text for p in picked] + [pool[p].paper.text for p in left_out]
                       + [s.text for s in seeds])
    picked_vectors = vectors[picked]
    grouping = group(picked_vectors, vocab, background=range(len(picked), len(picked) + len(left_out)))
    seed_rows = list(range(len(picked) + len(left_out), vocab.counts.shape[0]))
    items: list[Result] = []
    for position, p in enumerate(picked):
        source = pool[p]
        items.append(Result(position + 1, float(relevance[p]), source.paper,
                            reason(vocab, position, picked_vectors[position], seeds, seed_rows)))
    themes = []
    for positions in reading_order(grouping.labels, [i.paper.year for i in items], picked_vectors):
        terms = grouping.terms[int(grouping.labels[positions[0]])]
        themes.append(Theme(theme_name(terms), terms, [items[p] for p in positions]))
    return ReadingList(made_from, themes, _title(profile, made_from))
