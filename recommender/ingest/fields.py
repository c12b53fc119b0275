"""Turn one record of named fields (a JSON object, a CSV row) into a Paper.

JSON and CSV share the field names, so they share this mapping. Field names are matched
case-insensitively, with spaces and dashes read as underscores ("Abstract Note" = "abstract_note").
"""
from __future__ import annotations

import email.utils
import re
from typing import Any, Mapping

from ..records import Paper
from .ids import normalise_arxiv_id, normalise_doi, stable_id
from .latex import latex_to_text

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
        if item.get("name"):
            return clean_text(item["name"])
        first = clean_text(item.get("first") or item.get("given") or item.get("firstName"))
        last = clean_text(item.get("last") or item.get("family") or item.get("lastName"))
        return clean_text(f"{first} {last}")
    if isinstance(item, list):  # arXiv's authors_parsed: [last, first, suffix, affiliation...]
        last, first, suffix = ([latex_to_text(str(part)) for part in item] + ["", "", ""])[:3]
        first = re.sub(r"\.\s+-", ".-", first)  # arXiv writes "C.-P." as "C. -P."
        return clean_text(f"{first} {last} {suffix}")
    return latex_to_text(str(item)) if "\\" in str(item) else clean_text(item)


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
    year_match = re.fullmatch(r"(\d{4})(?:\.0+)?", clean_text(year))  # spreadsheets may write 2019.0
    if year_match:
        found_year = int(year_match.group(1))
    return found_year, iso


def pick(record: Mapping[str, Any], field: str) -> Any:
    """The first non-empty value among the aliases of `field`."""
    for name in ALIASES[field]:
        value = record.get(name)
        if value not in (None, "", []):
            return value
    return None


def paper_from_record(raw: Mapping[str, Any], source: str) -> Paper:
    """Build a Paper from a record's fields; raises RecordError if it has no title."""
    record = {field_key(str(k)): v for k, v in raw.items() if k is not None}
    title = clean_text(pick(record, "title"))
    if not title:
        raise RecordError("no title")
    if "authors_parsed" in record and isinstance(record["authors_parsed"], list):
        authors, truncated = split_authors(record["authors_parsed"])
    else:
        authors, truncated = split_authors(pick(record, "authors"))
    date_value = pick(record, "date")
    versions = record.get("versions")
    if date_value is None and isinstance(versions, list) and versions and isinstance(versions[0], dict):
        date_value = versions[0].get("created")  # arXiv snapshot: the first version is the publication
    if date_value is None:
        date_value = record.get("update_date")  # arXiv snapshot without versions: the last update
    year, date = parse_year_and_date(pick(record, "year"), date_value)
    given_id = pick(record, "id")
    url = clean_text(pick(record, "url")) or None
    arxiv_id = (
        normalise_arxiv_id(pick(record, "arxiv_id"))
        or normalise_arxiv_id(given_id)  # the arXiv snapshot's "id" is the arXiv id
        or normalise_arxiv_id(url)
    )
    doi = normalise_doi(pick(record, "doi")) or normalise_doi(url)
    return Paper(
        id=stable_id(given_id, arxiv_id, doi, title),
        title=title,
        abstract=clean_text(pick(record, "abstract")),
        authors=authors,
        authors_truncated=truncated,
        year=year,
        date=date,
        categories=split_categories(pick(record, "categories")),
        doi=doi,
        arxiv_id=arxiv_id,
        url=url,
        venue=clean_text(pick(record, "venue")) or None,
        source=source,
    )
