"""BibTeX corpora as Mendeley, Zotero, JabRef or Google Scholar export them.

An entry's id is its citation key (kept as Paper.key for export too); its arXiv id and DOI are kept
as aliases (arxiv_id, doi). Entries that cannot be read are skipped with the reason and their line;
mistakes that lose nothing (a repeated field, an extra '}', an undefined @string) are read and
reported as warnings.
"""
from __future__ import annotations

import re

from ..records import Paper, SkippedRecord
from .bibtex_syntax import Broken, Entry, parse
from .fields import clean_text
from .ids import normalise_arxiv_id, normalise_doi, stable_id
from .latex import latex_to_text
from .limits import MAX_ABSTRACT_CHARS, MAX_FIELD_CHARS, Warn, bound_paper, clip

_YEAR = re.compile(r"\b(\d{4})\b")
_BRACES = re.compile(r"[{}]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]+(\S+)", re.I)  # Google Scholar: journal = {arXiv preprint arXiv:2310.09639}
_ARXIV_FIELDS = ("eprint", "arxivid", "arxiv", "arxiv_id")
_USED_FIELDS = ("title", "author", "abstract", "year", "date", "journal", "journaltitle", "booktitle", "doi", "url",
                *_ARXIV_FIELDS)


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
        names.append(latex_to_text(clip(" ".join(parts), 2 * MAX_FIELD_CHARS)))
    return [n for n in names if n], truncated


def _text(fields: dict[str, str], name: str, warn: Warn, limit: int = MAX_FIELD_CHARS) -> str:
    # Cut before decoding (pylatexenc needs seconds for a megabyte of markup), and say so.
    raw = fields.get(name, "")
    if len(raw) <= 2 * limit:
        return latex_to_text(raw)
    warn(f"{name} of {len(raw):,} characters cut: its first {2 * limit:,} were read")
    return latex_to_text(raw[:2 * limit])[:limit]


def _arxiv_id(fields: dict[str, str], warn: Warn) -> str | None:
    for name in _ARXIV_FIELDS:
        value = _identifier(fields, name)
        if not value:
            continue
        found = normalise_arxiv_id(value)
        if found:
            return found
        if value and (name != "eprint" or fields.get("archiveprefix", "").lower() == "arxiv"):
            warn(f"'{name}' {value[:60]!r} is not an arXiv id; ignored")
    for name in ("url", "journal", "note", "howpublished"):
        text = clip(fields.get(name, ""), MAX_FIELD_CHARS)
        if not text:
            continue
        candidates = [text] + [m.group(1).rstrip("}.,;)") for m in _ARXIV_IN_TEXT.finditer(text)]
        found = next((arxiv for arxiv in map(normalise_arxiv_id, candidates) if arxiv), None)
        if found:
            return found
    return None


def _identifier(fields: dict[str, str], name: str) -> str:
    """An id-like field without the braces some exports put around it (Web of Science: {{10.1109/...}})."""
    return clean_text(_BRACES.sub("", clip(fields.get(name, ""), MAX_FIELD_CHARS)))


def _doi(fields: dict[str, str], warn: Warn) -> str | None:
    value = _identifier(fields, "doi")
    found = normalise_doi(value)
    if value and found is None:
        warn(f"'doi' {value[:60]!r} is not a DOI; ignored")
    return found


def _year(fields: dict[str, str], date: str, warn: Warn) -> int | None:
    year = clean_text(clip(fields.get("year", ""), MAX_FIELD_CHARS))
    found = _YEAR.search(year or date)
    if (year or date) and not found:
        warn(f"'{'year' if year else 'date'}' {(year or date)[:40]!r} is not a year; left unknown")
    return int(found.group(1)) if found else None


def _paper(entry: Entry, title: str, source: str, warn: Warn) -> Paper:
    fields = entry.fields
    authors, truncated = parse_authors(fields.get("author", ""))
    date = clean_text(clip(fields.get("date", ""), MAX_FIELD_CHARS))
    arxiv_id = _arxiv_id(fields, warn)
    doi = _doi(fields, warn)
    paper = Paper(
        id=entry.key or stable_id(None, arxiv_id, doi, title),
        key=entry.key or None,
        title=title,
        abstract=_text(fields, "abstract", warn, MAX_ABSTRACT_CHARS),
        authors=authors,
        authors_truncated=truncated,
        year=_year(fields, date, warn),
        date=date if _ISO_DATE.match(date) else None,
        categories=[clean_text(fields["primaryclass"])] if clean_text(fields.get("primaryclass")) else [],
        doi=doi,
        arxiv_id=arxiv_id,
        url=_identifier(fields, "url") or None,
        venue=next((_text(fields, name, warn) for name in ("journal", "journaltitle", "booktitle")
                    if fields.get(name)), None) or None,
        source=source,
    )
    return bound_paper(paper, warn)


def read_bibtex(text: str, name: str, warnings: list[SkippedRecord] | None = None
                ) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a BibTeX file; unreadable entries and entries without a title are skipped with their
    line; what was read around a mistake is added to `warnings`."""
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    warnings = warnings if warnings is not None else []
    for item in parse(text):
        source = f"{name}:{item.line}"
        label = f"entry '{item.key}'" if item.key else "entry"
        if isinstance(item, Broken) and item.kind == "string":
            warnings.append(SkippedRecord(source, f"@string definition not read ({item.reason}); entries that use "
                                                  "it keep its name as written"))
            continue
        if isinstance(item, Broken):
            skipped.append(SkippedRecord(source, f"{label}: {item.reason}; fix or remove it"))
            continue
        notes: list[str] = list(item.warnings)
        title = _text(item.fields, "title", notes.append)
        if not title:
            skipped.append(SkippedRecord(source, f"{label}: no title"))
            continue
        for field_name, macros in item.undefined.items():
            if field_name in _USED_FIELDS:
                notes.append(f"@string {', '.join(repr(m) for m in macros)} in field '{field_name}' is not defined "
                             "in this file; kept as written")
        paper = _paper(item, title, source, notes.append)
        warnings.extend(SkippedRecord(source, f"{label}: {note}") for note in notes)
        papers.append(paper)
    return papers, skipped
