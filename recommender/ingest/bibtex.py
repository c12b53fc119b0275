"""BibTeX corpora as Zotero, JabRef or Google Scholar export them, read with bibtexparser (2.x).

A broken entry can make a parser lose it, or the entries after it, without a word; so the entries
are first found here by scanning for '@type{' lines and parsed one at a time: each one the parser
cannot read is reported as skipped, with its line.
"""
from __future__ import annotations

import logging
import re

import bibtexparser

from ..records import Paper, SkippedRecord
from .fields import clean_text
from .ids import normalise_arxiv_id, normalise_doi
from .latex import latex_to_text

_BLOCK_START = re.compile(r"^\s*@\s*(?P<type>[A-Za-z]+)\s*[{(]\s*(?P<key>[^,\s]*)")
_NOT_ENTRIES = {"string", "preamble", "comment"}
_YEAR = re.compile(r"\b(\d{4})\b")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]+(\S+)", re.I)  # Google Scholar: journal = {arXiv preprint arXiv:2310.09639}
BROKEN_ENTRY = ("the BibTeX parser could not read this entry (unbalanced braces or quotes, or a missing comma "
                "between fields?); fix or remove it")


def _split_top_level(text: str, separator: re.Pattern) -> list[str]:
    """Split where `separator` matches outside braces: '{Barnes and Noble} and Smith' is two names."""
    parts, depth, start, pos = [], 0, 0, 0
    while pos < len(text):
        char = text[pos]
        depth += char == "{"
        depth -= char == "}"
        match = separator.match(text, pos) if depth == 0 else None
        if match and match.end() > pos:
            parts.append(text[start:pos])
            start = pos = match.end()
            continue
        pos += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_authors(value: str) -> tuple[list[str], bool]:
    """'Devlin, Jacob and Ming-Wei Chang and others' -> (['Jacob Devlin', 'Ming-Wei Chang'], True)."""
    names, truncated = [], False
    for name in _split_top_level(clean_text(value), re.compile(r"\s+and\s+", re.I)):
        if name.lower() == "others":
            truncated = True
            continue
        parts = _split_top_level(name, re.compile(r","))
        if len(parts) == 2:  # Last, First
            parts = [parts[1], parts[0]]
        elif len(parts) >= 3:  # Last, Jr, First
            parts = [parts[2], parts[0], parts[1]]
        names.append(latex_to_text(" ".join(parts)))
    return [n for n in names if n], truncated


def _find_blocks(text: str) -> tuple[list[tuple[int, str, str]], str]:
    """(line, key, text) of every entry, and the @string definitions that entries may refer to."""
    lines = text.splitlines(keepends=True)
    starts = [(i, m) for i, line in enumerate(lines) if (m := _BLOCK_START.match(line))]
    entries, strings = [], []
    for n, (i, match) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        block = "".join(lines[i:end])
        kind = match["type"].lower()
        if kind == "string":
            strings.append(block)
        elif kind not in _NOT_ENTRIES:
            entries.append((i + 1, match["key"], block))
    return entries, "".join(strings)


def _parse_entry(block: str) -> dict[str, str] | None:
    """Fields of the one entry in `block` (lower-case names), or None if the parser cannot read it."""
    library = bibtexparser.parse_string(block)
    if library.failed_blocks or len(library.entries) != 1:
        return None
    return {field.key.lower(): str(field.value) for field in library.entries[0].fields}


def _parse_entries(text: str) -> list[tuple[int, str, dict[str, str] | None]]:
    """(line, key, fields or None if unreadable) for every entry. Each entry is parsed on its own
    (bibtexparser 2 is fast enough), so a broken one cannot swallow the entries after it."""
    blocks, strings = _find_blocks(text)
    # The parser logs each entry it cannot read; those entries are reported in the skipped list instead.
    parser_log = logging.getLogger("bibtexparser")
    level = parser_log.level
    parser_log.setLevel(logging.CRITICAL)
    try:
        return [(line, key, _parse_entry(strings + block)) for line, key, block in blocks]
    finally:
        parser_log.setLevel(level)


def _arxiv_id(fields: dict[str, str]) -> str | None:
    for name in ("eprint", "arxivid", "arxiv", "arxiv_id"):
        found = normalise_arxiv_id(fields.get(name))
        if found:
            return found
    for name in ("url", "journal", "note", "howpublished"):
        text = fields.get(name, "")
        candidates = [text] + [m.group(1).rstrip("}.,;)") for m in _ARXIV_IN_TEXT.finditer(text)]
        found = next((arxiv for arxiv in map(normalise_arxiv_id, candidates) if arxiv), None)
        if found:
            return found
    return None


def _paper(key: str, fields: dict[str, str], source: str) -> Paper:
    authors, truncated = parse_authors(fields.get("author", ""))
    date = fields.get("date", "").strip()
    year_match = _YEAR.search(fields.get("year", "") or date)
    arxiv_id = _arxiv_id(fields)
    doi = normalise_doi(fields.get("doi"))
    venue = latex_to_text(fields.get("journal") or fields.get("booktitle") or "") or None
    return Paper(
        id=arxiv_id or doi or key,
        title=latex_to_text(fields["title"]),
        abstract=latex_to_text(fields.get("abstract", "")),
        authors=authors,
        authors_truncated=truncated,
        year=int(year_match.group(1)) if year_match else None,
        date=date if _ISO_DATE.match(date) else None,
        categories=[clean_text(fields["primaryclass"])] if fields.get("primaryclass") else [],
        doi=doi,
        arxiv_id=arxiv_id,
        url=clean_text(fields.get("url")) or None,
        venue=venue,
        source=source,
    )


def read_bibtex(text: str, name: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a BibTeX file; unreadable entries and entries without a title are skipped with their line."""
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    for line, key, fields in _parse_entries(text):
        source = f"{name}:{line}"
        label = f"entry '{key}'" if key else "entry"
        if fields is None:
            skipped.append(SkippedRecord(source, f"{label}: {BROKEN_ENTRY}"))
        elif not latex_to_text(fields.get("title", "")):
            skipped.append(SkippedRecord(source, f"{label}: no title"))
        else:
            papers.append(_paper(key, fields, source))
    return papers, skipped
