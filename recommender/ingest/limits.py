"""Limits that keep reading bounded on hostile input, set far above anything a real paper reaches.

A record over MAX_RECORD_BYTES is skipped; a field over its length is cut and the cut reported, so
what happens later (LaTeX decoding, tokenizing, embedding) works on bounded text.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..records import Paper

MIB = 1024 * 1024
# One record (a JSON line, a BibTeX entry, a CSV row, a listing block). Real ones are a few KB; the
# largest lines of the arXiv snapshot (papers with 3,000+ authors) stay well under it.
MAX_RECORD_BYTES = 1 * MIB
# Files read whole (BibTeX, CSV, listing, a JSON array). A 100,000-entry Zotero library with
# abstracts is about 150 MB. JSON Lines files are read a line at a time and have no size limit.
MAX_FILE_BYTES = 512 * MIB
# arXiv caps abstracts at 1,920 characters; the longest in SciFact, CSFCube and CISI is 10,000.
MAX_ABSTRACT_CHARS = 20_000
# Titles, names, venues, ids and URLs; the longest benchmark title has 300 characters.
MAX_FIELD_CHARS = 2_000
# The longest real author lists (LHC collaborations) have about 5,000 names.
MAX_AUTHORS = 10_000
MAX_LIST_ITEMS = 1_000  # categories, affiliations
# A file whose records keep failing is most likely not a corpus: stop after this many in a row.
MAX_BAD_RECORDS_IN_A_ROW = 1_000

Warn = Callable[[str], None]


def clip(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters before costly work (LaTeX decoding) on it."""
    return text if len(text) <= limit else text[:limit]


def _cut_text(value: str | None, limit: int, name: str, warn: Warn) -> str | None:
    if value is None or len(value) <= limit:
        return value
    warn(f"{name} cut to its first {limit:,} characters")
    return value[:limit]


def _cut_list(values: list[str], limit: int, name: str, warn: Warn) -> list[str]:
    if len(values) > limit:
        warn(f"{len(values):,} {name} cut to the first {limit:,}")
        values = values[:limit]
    return [_cut_text(v, MAX_FIELD_CHARS, f"an item of {name}", warn) or "" for v in values]


def bound_paper(paper: Paper, warn: Warn) -> Paper:
    """The paper with every field within its limit; each cut is reported through `warn`."""
    authors = _cut_list(paper.authors, MAX_AUTHORS, "authors", warn)
    return replace(
        paper,
        id=_cut_text(paper.id, MAX_FIELD_CHARS, "id", warn) or paper.id,
        key=_cut_text(paper.key, MAX_FIELD_CHARS, "key", warn),
        title=_cut_text(paper.title, MAX_FIELD_CHARS, "title", warn) or paper.title,
        abstract=_cut_text(paper.abstract, MAX_ABSTRACT_CHARS, "abstract", warn) or "",
        authors=authors,
        authors_truncated=paper.authors_truncated or len(authors) < len(paper.authors),
        categories=_cut_list(paper.categories, MAX_LIST_ITEMS, "categories", warn),
        affiliations=_cut_list(paper.affiliations, MAX_LIST_ITEMS, "affiliations", warn),
        doi=_cut_text(paper.doi, MAX_FIELD_CHARS, "doi", warn),
        arxiv_id=_cut_text(paper.arxiv_id, MAX_FIELD_CHARS, "arxiv_id", warn),
        url=_cut_text(paper.url, MAX_FIELD_CHARS, "url", warn),
        venue=_cut_text(paper.venue, MAX_FIELD_CHARS, "venue", warn),
    )


def size_text(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} bytes"
