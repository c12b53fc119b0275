"""Paper references: the one rule by which every verb finds a paper the user names.

A reference is an id or citation key as the corpus gave it, an arXiv id (with or without its version,
an `arXiv:` prefix, or as an abs/pdf/html URL), a DOI in any usual spelling (`doi:`, https://doi.org/,
dx.doi.org, any case), or a title. `normalise_ref` reduces each of these to one key; `alias_keys` gives
the keys a stored paper answers to. The index writes these keys at build time (aliases.lookup.npy),
and `similar`, `recommend`, `remove`, `add` and the HTTP API look references up through `resolve`,
so a reference that finds a paper for one verb finds it for all of them.

This module sits beside `records` (below the index): the index uses it when it writes, the search
layer when it reads.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import unquote

from .errors import PaperNotFound
from .records import Paper

# New-style arXiv ids (2007 on): YYMM.NNNN(N); old style: archive[.SUBJ]/YYMMNNN. Either may carry vN.
_ARXIV_VERSIONED = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})v\d+$")
_ARXIV_URL = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/")
_ARXIV_PREFIX = re.compile(r"^arxiv\s*:\s*")
_DOI_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:dx\.)?doi\.org/")
_DOI_PREFIX = re.compile(r"^doi\s*:\s*")
_NOT_WORD = re.compile(r"[\W_]+")

# How close a title must come to the best fuzzy match, and how far ahead of the next, to be taken.
TITLE_MIN_RATIO = 0.6
TITLE_TIE_MARGIN = 0.02
HOW_TO_NAME = "give its id, arXiv id, DOI or title (`recommender search` finds it by words)"


def fold(text: str) -> str:
    """Lowercase without accents, for forgiving comparisons."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def normalise_title(text: str) -> str:
    """A title reduced to its words: accents, case and punctuation dropped; letters of every script kept."""
    return _NOT_WORD.sub(" ", fold(text)).strip()


def normalise_ref(text: str) -> str:
    """The key of a reference: the same for every usual spelling of one id, arXiv id, DOI or title."""
    text = fold(text).strip("<> \t")
    if _DOI_URL.match(text):
        return unquote(_DOI_URL.sub("", text)).rstrip("/")
    if _DOI_PREFIX.match(text):
        return _DOI_PREFIX.sub("", text)
    if _ARXIV_URL.match(text) or _ARXIV_PREFIX.match(text):
        text = _ARXIV_PREFIX.sub("", _ARXIV_URL.sub("", text)).rstrip("/")
        text = text[:-4] if text.endswith(".pdf") else text
    found = _ARXIV_VERSIONED.match(text)
    if found:
        return found.group(1)
    return normalise_title(text) if " " in text else text


def alias_keys(paper: Paper) -> list[str]:
    """The keys `resolve` finds a paper by: its id, citation key, arXiv id, DOI and title."""
    values = (paper.id, paper.key, paper.arxiv_id, paper.doi, paper.title)
    return list(dict.fromkeys(key for key in (normalise_ref(v) for v in values if v) if key))


def identity_keys(paper: Paper) -> list[str]:
    """The keys that make two records the same paper: id, arXiv id (any version) and DOI. Not the title
    (distinct papers share titles) nor the citation key (two libraries may reuse one)."""
    values = (paper.id, paper.arxiv_id, paper.doi)
    return list(dict.fromkeys(key for key in (normalise_ref(v) for v in values if v) if key))


class Aliases(dict):
    """alias key -> first row, and the keys that more than one paper answers to."""

    def __init__(self, papers: Iterable[Paper]):
        super().__init__()
        self.shared: dict[str, list[int]] = {}
        for row, paper in enumerate(papers):
            for key in alias_keys(paper):
                first = self.setdefault(key, row)
                if first != row:
                    self.shared.setdefault(key, [first]).append(row)


def find(ref: str, row_of_id: Mapping[str, int], aliases: Mapping[str, int]) -> int | None:
    """The row of a paper named exactly (id as written, else any alias key); None when none is."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if ref in row_of_id:
        return row_of_id[ref]
    return aliases.get(normalise_ref(ref))


def find_paper(paper: Paper, row_of_id: Mapping[str, int], aliases: Mapping[str, int]) -> int | None:
    """The row of the stored copy of `paper` (a record from elsewhere, e.g. a .bib entry), or None: the
    first of its id, citation key, arXiv id, DOI or title that is stored."""
    if paper.id in row_of_id:
        return row_of_id[paper.id]
    return next((aliases[key] for key in alias_keys(paper) if key in aliases), None)


def resolve(ref: str, papers: Sequence[Paper], row_of_id: Mapping[str, int], aliases: Mapping[str, int], *,
            fuzzy: bool = True) -> int:
    """The row of the paper `ref` names. `fuzzy`: fall back on the closest title (what a user remembers of
    it); without it the title must match whole (after normalisation). PaperNotFound says what to give."""
    ref = (ref or "").strip()
    if not ref:
        raise PaperNotFound(f"no paper given: {HOW_TO_NAME}")
    if ref not in row_of_id:
        shared = getattr(aliases, "shared", {}).get(normalise_ref(ref))
        if shared:
            raise _several(ref, papers, shared)
    row = find(ref, row_of_id, aliases)
    if row is not None:
        return row
    if not fuzzy:
        raise PaperNotFound(f"no paper in this index matches {ref!r}; {HOW_TO_NAME}")
    return closest_title(ref, papers)


def closest_title(ref: str, papers: Sequence[Paper]) -> int:
    wanted = normalise_title(ref)
    scored = []
    for row, paper in enumerate(papers):
        title = normalise_title(paper.title or "")
        if not title:
            continue
        # A title that contains the reference (or the reverse) is a strong hint; otherwise fuzzy ratio.
        contains = len(wanted) >= 4 and (wanted in title or title in wanted)
        ratio = difflib.SequenceMatcher(None, wanted, title).ratio()
        scored.append((max(ratio, 0.9 if contains else 0.0), row))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < TITLE_MIN_RATIO:
        raise PaperNotFound(f"no paper in this index matches {ref!r}; {HOW_TO_NAME}")
    close = [row for score, row in scored if score >= scored[0][0] - TITLE_TIE_MARGIN]
    if len(close) > 1:
        raise _several(ref, papers, close)
    return scored[0][1]


def _several(ref: str, papers: Sequence[Paper], rows: list[int]) -> PaperNotFound:
    options = "; ".join(f"{papers[r].id} ({papers[r].title[:60]})" for r in rows[:5])
    error = PaperNotFound(f"{ref!r} matches several papers: {options}; give one of these ids")
    error.rows = rows
    return error


def resolve_each(wanted: Iterable[str], papers: Sequence[Paper], *, fuzzy: bool = False) -> dict[str, int | None]:
    """ref -> row for each reference over papers held in memory (None when nothing matches); a reference
    that names several papers raises PaperNotFound."""
    row_of_id = {paper.id: row for row, paper in reversed(list(enumerate(papers)))}
    aliases = Aliases(papers)
    rows: dict[str, int | None] = {}
    for ref in wanted:
        try:
            rows[ref] = resolve(ref, papers, row_of_id, aliases, fuzzy=fuzzy)
        except PaperNotFound as exc:
            if getattr(exc, "rows", None):  # ambiguous, not unknown
                raise
            rows[ref] = None
    return rows


class SamePaper:
    """Which stored row a new record is a version of: the same id, else the same arXiv id (any version)
    or DOI. `add` updates that row instead of appending a second copy of the paper (`carry_identifiers`)."""

    def __init__(self, papers: Iterable[Paper]):
        self._by_id: dict[str, int] = {}
        self._by_key: dict[str, int] = {}
        for row, paper in enumerate(papers):
            self.note(paper, row)

    def note(self, paper: Paper, row: int) -> None:
        self._by_id.setdefault(paper.id, row)
        for key in identity_keys(paper):
            self._by_key.setdefault(key, row)

    def find(self, paper: Paper) -> int | None:
        if paper.id in self._by_id:
            return self._by_id[paper.id]
        return next((self._by_key[key] for key in identity_keys(paper) if key in self._by_key), None)


def carry_identifiers(stored: Paper, new: Paper) -> Paper:
    """`new`, the record that replaces `stored`, with the identifiers it lacks (arXiv id, DOI, citation key)
    taken from `stored`: every reference that found the paper before the update still finds it."""
    return replace(new, arxiv_id=new.arxiv_id or stored.arxiv_id, doi=new.doi or stored.doi, key=new.key or stored.key)
