"""Is this record the user's paper? A strict title check, so that no wrong abstract is ever attached.

Titles are compared after normalisation (case, accents, punctuation). A candidate is accepted when the
normalised titles are equal, or nearly so (rapidfuzz ratio >= TITLE_RATIO: a typo, a dropped hyphen) with
the year within one when both are known. "Augmenting language models with chemistry tools" against
"Augmenting large language models with chemistry tools" scores 94 and is refused: a missing word can be
a different paper.
"""
from __future__ import annotations

from ..ingest.ids import normalise_title
from .record import FetchedPaper

TITLE_RATIO = 97.0
DOI_TITLE_AGREEMENT = 70.0  # a DOI's record whose title shares less than this is the wrong DOI, not the paper


def title_score(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    na, nb = normalise_title(a), normalise_title(b)
    if not na or not nb:
        return 0.0
    return 100.0 if na == nb else float(fuzz.ratio(na, nb))


def titles_agree(entry_title: str, record_title: str) -> bool:
    """For a DOI or arXiv id match: the record must still be about the same paper (a mistyped id is not)."""
    from rapidfuzz import fuzz

    return fuzz.token_set_ratio(normalise_title(entry_title), normalise_title(record_title)) >= DOI_TITLE_AGREEMENT


def best_title_match(title: str, candidates: list[FetchedPaper], year: int | None = None
                     ) -> tuple[FetchedPaper | None, str]:
    """The candidate that is this title's paper, or None and why not."""
    if not candidates:
        return None, "no paper with a similar title found"
    scored = sorted(((title_score(title, c.title), c) for c in candidates), key=lambda sc: -sc[0])
    accepted = [c for s, c in scored if s >= TITLE_RATIO
                and (year is None or c.year is None or abs(c.year - year) <= 1)]
    if not accepted:
        best_score, best = scored[0]
        return None, (f"closest title found is not the same (similarity {best_score:.0f} < {TITLE_RATIO:.0f}): "
                      f"'{best.title[:80]}'")
    # Among equal titles (a preprint and its journal version), prefer one that has an abstract.
    accepted.sort(key=lambda c: (not c.abstract, -(title_score(title, c.title))))
    return accepted[0], "title"
