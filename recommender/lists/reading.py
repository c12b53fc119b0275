"""Putting a reading list together: candidates for the profile, a diverse pick, themes, order, reasons."""
from __future__ import annotations

import math
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
from .reasons import attach, explanation
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


def specificity(rec, vocab: Vocabulary) -> np.ndarray:
    """Per vocabulary term, how rare its words are in the whole index: the mean idf of its words over
    the largest idf a word can have there (0..1). Words every paper of the field uses ("data", "users")
    do not name a theme even when a theme's papers use them more than the others."""
    from ..search.ranking import doc_freqs

    stems = {stem for t in range(len(vocab.terms)) for stem in vocab.stems(t)}
    n = max(len(rec), 1)
    df = doc_freqs(rec, stems)
    idf = {stem: math.log(1.0 + (n - df[stem] + 0.5) / (df[stem] + 0.5)) for stem in stems}
    top = math.log(1.0 + (n - 0.5) / 1.5)
    out = np.empty(len(vocab.terms))
    for t in range(len(vocab.terms)):
        words = vocab.stems(t)
        out[t] = min(1.0, sum(idf[stem] for stem in words) / (len(words) * top))  # a word the index lacks: 1
    return out


def _title(profile: Profile, made_from: dict) -> str:
    if made_from.get("bib"):
        return f"Missing from {Path(made_from['bib']).name}"
    return profile.describe()


def build_reading_list(rec, profile: Profile, made_from: dict, *, n: int, diversity: float,
                       method: str = "auto", mode: str | None = None, filters=None) -> ReadingList:
    n, diversity = check_n(n), check_diversity(diversity)
    direction = profile_direction(profile, rec.vectors, method)
    # The pool, its order and the pick all follow the fused score of the engine's ranking (the one
    # `search` and `similar` use); diversity only trades some of it for variety (MMR, on paper vectors).
    pool = rank_profile(rec, profile, max(POOL_FACTOR * n, MIN_POOL), method=method, mode=mode, filters=filters,
                        direction=direction)
    if not pool:  # the filters left nothing
        return ReadingList(made_from, [], _title(profile, made_from))
    rows = [rec.row_of_id[r.paper.id] for r in pool]
    vectors = np.asarray(rec.vectors[rows], dtype=np.float32)
    relevance = np.array([r.score for r in pool], dtype=np.float64)  # best first, as the engine ranked them
    picked = sorted(mmr(relevance, vectors, n, diversity))  # by relevance again
    chosen = set(picked)
    left_out = [p for p in range(len(pool)) if p not in chosen]
    seeds = profile.attractors
    # Vocabulary rows: the picks (by relevance), the candidates left out (theme background), the seeds.
    vocab = Vocabulary([pool[p].paper.text for p in picked] + [pool[p].paper.text for p in left_out]
                       + [s.text for s in seeds])
    picked_vectors = vectors[picked]
    grouping = group(picked_vectors, vocab, background=range(len(picked), len(picked) + len(left_out)),
                     titles=[pool[p].paper.title for p in picked], specificity=specificity(rec, vocab),
                     subject=profile.query.text if profile.query else "")
    seed_rows = list(range(len(picked) + len(left_out), vocab.counts.shape[0]))
    items: list[Result] = []
    for position, p in enumerate(picked):
        source = pool[p]
        found = explanation(vocab, position, picked_vectors[position], seeds, seed_rows)
        item = Result(position + 1, source.score, source.paper, found.line(), source.why)
        attach(rec, item, found)
        items.append(item)
    themes = []
    for positions in reading_order(grouping.labels, [i.paper.year for i in items], picked_vectors):
        terms = grouping.terms[int(grouping.labels[positions[0]])]
        themes.append(Theme(theme_name(terms), terms, [items[p] for p in positions]))
    return ReadingList(made_from, themes, _title(profile, made_from))
