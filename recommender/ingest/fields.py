"""Turn one record of named fields (a JSON object, a CSV row) into a Paper.

JSON and CSV share the field names, so they share this mapping. Field names are matched
case-insensitively, with spaces and dashes read as underscores ("Abstract Note" = "abstract_note").
"""
from __future__ import annotations

import email.utils
import re
from typing import Any, Mapping

from collections.abc import Callable

from ..records import Paper
from .ids import normalise_arxiv_id, normalise_doi, stable_id
from .latex import latex_to_text
from .limits import MAX_AUTHORS, MAX_FIELD_CHARS, MAX_LIST_ITEMS, Warn, bound_paper, clip

# Each Paper field and the record fields that may hold it, best first.
# The "publication_year", "abstract_note", "author" and "publication_title" names are Zotero's CSV export.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("_id", "id", "paper_id", "corpus_id"),
    "title": ("title",),
    "abstract": ("abstract", "text", "summary", "abstract_note"),
    "authors": ("authors", "author", "creators"),
    "year": ("year", "publication_year"),
    "date": ("date", "published", "publication_date"),
    "categories": ("categories", "category", "subjects"),
    "doi": ("doi",),
    "arxiv_id": ("arxiv_id", "arxivid", "arxiv", "eprint"),
    "url": ("url", "link", "pdf_url"),
    "venue": ("venue", "journal", "booktitle", "publication_title", "journal_ref"),
}

_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_SPACES = re.compile(r"\s+")
_TRUNCATION_WORDS = ("others", "et al.", "et al")
_TRUNCATION = re.compile(r"(?:,?\s*\bet al\.?|\s+and others)\s*$", re.I)
_YEAR_TEXT = re.compile(r"(\d{4})(?:\.0+)?")  # spreadsheets may write 2019.0


class RecordError(ValueError):
    """One record cannot become a paper; the message is the reason shown in the skipped list."""


def field_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def clean_text(value: Any) -> str:
    """One line of text: arXiv's snapshot wraps titles and abstracts over several lines."""
    if value is None:
        return ""
    return _SPACES.sub(" ", str(value)).strip()


def split_authors(value: Any) -> tuple[list[str], bool]:
    """Author names and whether the list was cut ("et al.", "and others").

    Accepts a list (of names, {name} objects or arXiv's [last, first, suffix]) or one string:
    "A; B" or "Last, First; Last, First" (Zotero), "A and B" or "Last, First and Last, First"
    (BibTeX style), or "A, B and C" / "A, B" (plain lists, arXiv's snapshot).
    """
    if value is None:
        return [], False
    if isinstance(value, list):
        names = [_author_name(item) for item in value]
        kept = [n for n in names if n and n.lower() not in _TRUNCATION_WORDS]
        return kept, len(kept) < len([n for n in names if n])
    text = clean_text(value)
    truncated = bool(_TRUNCATION.search(text))
    text = _TRUNCATION.sub("", text)
    if ";" in text:
        pieces = [_flip_last_first(p) for p in text.split(";")]
    else:
        pieces = re.split(r"\s+and\s+", text)
        if len(pieces) > 1 and all(p.count(",") == 1 for p in pieces):
            pieces = [_flip_last_first(p) for p in pieces]
        else:
            pieces = [name for p in pieces for name in p.split(",")]
    names = [_author_name(p) for p in pieces]
    return [n for n in names if n], truncated


def _flip_last_first(name: str) -> str:
    """'Hinton, Geoffrey E.' -> 'Geoffrey E. Hinton'; other names unchanged."""
    if name.count(",") != 1:
        return name
    last, first = name.split(",")
    return clean_text(f"{first} {last}")


def _author_name(item: Any) -> str:
    if isinstance(item, dict):
        parts = [item.get("name")] if item.get("name") else [
            item.get("first") or item.get("given") or item.get("firstName"),
            item.get("last") or item.get("family") or item.get("lastName")]
        return clean_text(" ".join(clip(part, MAX_FIELD_CHARS) for part in parts if isinstance(part, str)))
    if isinstance(item, list):  # arXiv's authors_parsed: [last, first, suffix, affiliation...]
        parts = [part if isinstance(part, str) else "" for part in item[:3]]
        last, first, suffix = ([latex_to_text(clip(part, MAX_FIELD_CHARS)) for part in parts] + ["", "", ""])[:3]
        first = re.sub(r"\.\s+-", ".-", first)  # arXiv writes "C.-P." as "C. -P."
        return clean_text(f"{first} {last} {suffix}")
    text = clip(str(item), 2 * MAX_FIELD_CHARS)
    return latex_to_text(text) if "\\" in text else clean_text(text)


def split_categories(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [clean_text(v) for v in value if clean_text(v)]
    return [part for part in re.split(r"[;,\s]+", str(value)) if part]


def parse_year_and_date(year: Any, date: Any) -> tuple[int | None, str | None]:
    """Year and ISO date from a 'year' field and/or a date such as '2023-10-14' or '2023-10-14T09:00:00Z'."""
    iso = None
    found_year = None
    match = _ISO_DATE.match(clean_text(date))
    if match:
        found_year = int(match.group(1))
        if match.group(3):
            iso = match.group(0)
    elif clean_text(date):
        parsed = email.utils.parsedate_tz(clean_text(date))  # arXiv's "Mon, 2 Apr 2007 19:18:42 GMT"
        if parsed:
            found_year = parsed[0]
            iso = f"{parsed[0]:04d}-{parsed[1]:02d}-{parsed[2]:02d}"
    year_match = _YEAR_TEXT.fullmatch(clean_text(year))
    if year_match:
        found_year = int(year_match.group(1))
    return found_year, iso


def pick(record: Mapping[str, Any], field: str) -> tuple[str, Any]:
    """The name and value of the first non-empty field among the aliases of `field`."""
    for name in ALIASES[field]:
        value = record.get(name)
        if value not in (None, "", []):
            return name, value
    return ALIASES[field][0], None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text"}.get(type(value), "a number")


class _Fields:
    """Typed access to one record's fields: a value of the wrong JSON type is never turned into text
    by repr; it is left out and reported through `warn` (or, for the title, the record is skipped)."""

    def __init__(self, record: Mapping[str, Any], warn: Warn):
        self.record = record
        self.warn = warn

    def text(self, field: str, required: bool = False) -> str:
        name, value = pick(self.record, field)
        if isinstance(value, list) and len(value) == 1:  # Crossref: "title": ["..."]
            value = value[0]
        if value is None:
            return ""
        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return clean_text(str(value))
        if required:
            raise RecordError(f"'{name}' is {_kind(value)}, not text")
        self.warn(f"'{name}' is {_kind(value)}, not text; left empty")
        return ""

    def authors(self) -> tuple[list[str], bool]:
        parsed = self.record.get("authors_parsed")
        name, value = ("authors_parsed", parsed) if isinstance(parsed, list) and parsed else pick(self.record, "authors")
        if value is None:
            return [], False
        if isinstance(value, list):
            if len(value) > MAX_AUTHORS:
                self.warn(f"{len(value):,} authors cut to the first {MAX_AUTHORS:,}")
            kept = value[:MAX_AUTHORS]
            wrong = [n for n, item in enumerate(kept, start=1) if not isinstance(item, (str, dict, list, type(None)))]
            if wrong:
                self.warn(f"'{name}' item {wrong[0]} is {_kind(kept[wrong[0] - 1])}, not a name; "
                          f"{len(wrong)} such item(s) left out")
            usable = [item for item in kept if isinstance(item, (dict, list))]
            nameless = sum(1 for item in usable if not _author_name(item))
            if nameless:
                self.warn(f"{nameless} item(s) of '{name}' without a name left out")
            authors, truncated = split_authors([item for item in kept if isinstance(item, (str, dict, list))])
            return authors, truncated or len(value) > MAX_AUTHORS
        if isinstance(value, str):
            return split_authors(value)
        self.warn(f"'{name}' is {_kind(value)}, not a list or text; left empty")
        return [], False

    def _scalar(self, name: str, value: Any) -> str | int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
            return value
        self.warn(f"'{name}' is {_kind(value)}, not a year or date; left unknown")
        return None

    def year_and_date(self) -> tuple[int | None, str | None]:
        year_name, year = pick(self.record, "year")
        date_name, date = pick(self.record, "date")
        versions = self.record.get("versions")
        if date is None and isinstance(versions, list) and versions and isinstance(versions[0], dict):
            date_name, date = "versions", versions[0].get("created")  # arXiv snapshot: the first version
        if date is None:
            date_name, date = "update_date", self.record.get("update_date")  # arXiv snapshot without versions
        year, date = self._scalar(year_name, year), self._scalar(date_name, date)
        year_text, date_text = clean_text(year), clean_text(date)
        if year_text and not _YEAR_TEXT.fullmatch(year_text):
            self.warn(f"'{year_name}' {year_text[:40]!r} is not a year; left unknown")
        if date_text and not (_ISO_DATE.match(date_text) or email.utils.parsedate_tz(date_text)):
            self.warn(f"'{date_name}' {date_text[:40]!r} is not a date this reader knows; left unknown")
        return parse_year_and_date(year, date)

    def categories(self) -> list[str]:
        name, value = pick(self.record, "categories")
        if isinstance(value, list):
            wrong = [item for item in value if not isinstance(item, str)]
            if wrong:
                self.warn(f"'{name}' holds {_kind(wrong[0])}, not text; {len(wrong)} such item(s) left out")
            return split_categories([item for item in value[:MAX_LIST_ITEMS + 1] if isinstance(item, str)])
        if value is None or isinstance(value, str):
            return split_categories(value)
        self.warn(f"'{name}' is {_kind(value)}, not a list or text; left empty")
        return []

    def given_id(self) -> str | None:
        name, value = pick(self.record, "id")
        if value is None:
            return None
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return str(value)
        self.warn(f"'{name}' is {_kind(value)}, not text or a whole number; the id falls back to the "
                  "arXiv id, DOI or title")
        return None

    def identifier(self, field: str, normalise: Callable[[object], str | None], what: str) -> str | None:
        name, _ = pick(self.record, field)
        value = self.text(field)
        found = normalise(value) if value else None
        if value and found is None:
            self.warn(f"'{name}' {value[:60]!r} is not {what}; ignored")
        return found


def paper_from_record(raw: Mapping[str, Any], source: str, warn: Warn | None = None) -> Paper:
    """Build a Paper from a record's fields; raises RecordError if it has no title (or a title that
    is not text). Fields of the wrong type are left out and reported through `warn`."""
    warn = warn or (lambda message: None)
    record = {field_key(str(k)): v for k, v in raw.items() if k is not None}
    fields = _Fields(record, warn)
    title = fields.text("title", required=True)
    if not title:
        raise RecordError("no title")
    authors, truncated = fields.authors()
    year, date = fields.year_and_date()
    given_id = fields.given_id()
    url = fields.text("url") or None
    arxiv_id = (
        fields.identifier("arxiv_id", normalise_arxiv_id, "an arXiv id")
        or normalise_arxiv_id(given_id)  # the arXiv snapshot's "id" is the arXiv id
        or normalise_arxiv_id(url)
    )
    doi = fields.identifier("doi", normalise_doi, "a DOI") or normalise_doi(url)
    paper = Paper(
        id=stable_id(given_id, arxiv_id, doi, title),
        title=title,
        abstract=fields.text("abstract"),
        authors=authors,
        authors_truncated=truncated,
        year=year,
        date=date,
        categories=fields.categories(),
        doi=doi,
        arxiv_id=arxiv_id,
        url=url,
        venue=fields.text("venue") or None,
        source=source,
    )
    return bound_paper(paper, warn)
