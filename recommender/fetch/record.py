"""One record shape for every source: what a fetched paper looks like in the JSONL corpus.

The JSONL keys are the ones `recommender.ingest` reads (id, title, abstract, authors, date, categories,
doi, arxiv_id, url, venue); the rest (versions, links, updated, referenced_works, ...) ride along for later use.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

_SPACES = re.compile(r"\s+")


def one_line(text: str | None) -> str:
    """Collapse the hard wrapping of arXiv titles and abstracts."""
    return _SPACES.sub(" ", text or "").strip()


@dataclass
class FetchedPaper:
    id: str  # version-less arXiv id, else DOI, else the source's own id
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    date: str | None = None  # first publication (arXiv v1), ISO YYYY-MM-DD
    updated: str | None = None  # latest version, ISO YYYY-MM-DD
    doi: str | None = None
    arxiv_id: str | None = None
    versions: list[dict[str, str]] = field(default_factory=list)  # [{"version": "v1", "date": "YYYY-MM-DD"}]
    url: str | None = None
    links: dict[str, str] = field(default_factory=dict)  # abs, pdf, doi, openalex
    venue: str | None = None  # journal reference or host venue
    comment: str | None = None
    openalex_id: str | None = None
    referenced_works: list[str] = field(default_factory=list)  # OpenAlex ids (a later citation signal)
    fetched_from: str = ""  # "arxiv-api", "arxiv-oai", "openalex", "arxiv-rss"

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date and self.date[:4].isdigit() else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["year"] = self.year
        return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def iso_date(value: str | None) -> str | None:
    """'2017-07-27T08:18:33Z' -> '2017-07-27'."""
    if not value:
        return None
    match = re.match(r"(\d{4}-\d{2}-\d{2})", value.strip())
    return match.group(1) if match else None
