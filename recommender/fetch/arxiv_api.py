"""The arXiv API (export.arxiv.org/api/query): Atom pages of a search, a category and date range, or an id list.

arXiv's terms of use: one request every 3 seconds, a descriptive User-Agent, no more than needed
(https://info.arxiv.org/help/api/tou.html). The feed is parsed with feedparser, by namespace, so the
current and the legacy Atom layouts read the same.
"""
from __future__ import annotations

import re
import xml.sax
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ..ingest.ids import normalise_arxiv_id, normalise_doi
from .errors import ServerRefused, Transient
from .http import HttpClient
from .record import FetchedPaper, iso_date, one_line

DEFAULT_ENDPOINT = "https://export.arxiv.org/api/query"
ENDPOINT_VARIABLE = "RECOMMENDER_ARXIV_ENDPOINT"
MIN_INTERVAL = 3.0  # seconds between requests, arXiv's published limit
PAGE_SIZE = 100  # arXiv serves up to 2000 a page, but large pages time out more often
IDS_PER_REQUEST = 100
_VERSION = re.compile(r"v(\d+)$")


@dataclass
class Page:
    papers: list[FetchedPaper]
    total: int


def client(contact: str | None = None, use_cache: bool = True) -> HttpClient:
    return HttpClient("arXiv API", min_interval=MIN_INTERVAL, contact=contact, use_cache=use_cache)


def search_query(query: str | None, categories: list[str], since: str | None, until: str | None) -> str:
    """arXiv's search_query: the words (all: unless the user gave a field prefix), the categories
    (any of them), the submission date range; joined with AND."""
    parts: list[str] = []
    if query:
        parts.append(query if re.match(r"^\s*\(?\s*(ti|au|abs|co|jr|cat|rn|id|all|submittedDate):", query)
                     else f"all:{query}")
    if categories:
        cats = " OR ".join(f"cat:{c}" for c in categories)
        parts.append(f"({cats})" if len(categories) > 1 else cats)
    if since or until:
        start = (since or "1991-01-01").replace("-", "") + "0000"
        end = (until or "2999-12-31").replace("-", "") + "2359"
        parts.append(f"submittedDate:[{start} TO {end}]")
    return " AND ".join(parts)


def parse_page(response: httpx.Response) -> Page:
    """One Atom page; an error feed (HTTP 400) becomes ServerRefused, a cut or garbled body Transient."""
    import feedparser

    feed = feedparser.parse(response.content)
    if feed.bozo and isinstance(feed.get("bozo_exception"), xml.sax.SAXException):
        raise Transient(f"arXiv API sent an incomplete page ({feed.bozo_exception}); the body was cut")
    errors = [e for e in feed.entries if "/api/errors" in e.get("id", "")]
    if errors:
        raise ServerRefused(f"arXiv API refused the request: {one_line(errors[0].get('summary'))}")
    if response.status_code != 200:
        raise ServerRefused(f"arXiv API answered HTTP {response.status_code} to {response.request.url}")
    if "opensearch_totalresults" not in feed.feed:
        raise Transient("arXiv API sent a page without opensearch:totalResults (not an arXiv Atom feed)")
    return Page([paper_from_entry(e) for e in feed.entries], int(feed.feed["opensearch_totalresults"]))


def paper_from_entry(entry) -> FetchedPaper:
    versioned = entry.id.rsplit("/abs/", 1)[-1]
    arxiv_id = normalise_arxiv_id(versioned) or versioned
    version = _VERSION.search(versioned)
    links = {}
    for link in entry.get("links", []):
        if link.get("title") == "pdf":
            links["pdf"] = link["href"]
        elif link.get("title") == "doi":
            links["doi"] = link["href"]
        elif link.get("rel") == "alternate":
            links["abs"] = link["href"]
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    categories = [t["term"] for t in entry.get("tags", []) if t.get("term")]
    if primary and primary in categories:  # primary first: the filters and the feed read the first as the main one
        categories = [primary] + [c for c in categories if c != primary]
    published, updated = iso_date(entry.get("published")), iso_date(entry.get("updated"))
    latest = int(version.group(1)) if version else 1
    versions = [{"version": "v1", "date": published}] if published else []
    if latest > 1 and updated:
        versions.append({"version": f"v{latest}", "date": updated})
    return FetchedPaper(
        id=arxiv_id, arxiv_id=arxiv_id, title=one_line(entry.get("title")), abstract=one_line(entry.get("summary")),
        authors=[one_line(a.get("name")) for a in entry.get("authors", []) if a.get("name")],
        categories=categories, date=published, updated=updated,
        doi=normalise_doi(entry.get("arxiv_doi")), versions=versions,
        url=f"https://arxiv.org/abs/{arxiv_id}", links=links,
        venue=one_line(entry.get("arxiv_journal_ref")) or None, comment=one_line(entry.get("arxiv_comment")) or None,
        fetched_from="arxiv-api",
    )


def search(http: HttpClient, endpoint: str, query: str, *, max_results: int | None, page_size: int = PAGE_SIZE,
           start: int = 0, sort_by: str = "submittedDate") -> Iterator[FetchedPaper]:
    """Every paper of a search, page by page (each page advances by what it held: arXiv may send fewer)."""
    seen = 0
    while max_results is None or seen < max_results:
        wanted = page_size if max_results is None else min(page_size, max_results - seen)
        params = {"search_query": query, "start": start, "max_results": wanted, "sortBy": sort_by,
                  "sortOrder": "descending"}
        page = http.get(endpoint, params, parse_page)
        if not page.papers:
            if start < page.total:
                # arXiv sometimes answers a page inside the results with no entries: the next try usually has them.
                page = http.get(endpoint, params, _non_empty(start))
            if not page.papers:
                return
        for paper in page.papers:
            if max_results is not None and seen >= max_results:
                return
            seen += 1
            yield paper
        start += len(page.papers)
        if start >= page.total:
            return


def _non_empty(start: int):
    def parse(response: httpx.Response) -> Page:
        page = parse_page(response)
        if not page.papers and start < page.total:
            raise Transient(f"arXiv API sent an empty page at start={start} of {page.total}")
        return page
    return parse


def by_ids(http: HttpClient, endpoint: str, ids: list[str], *, batch: int = IDS_PER_REQUEST) -> Iterator[FetchedPaper]:
    """The papers of an id list, `batch` ids a request. arXiv drops unknown ids silently."""
    for first in range(0, len(ids), batch):
        chunk = ids[first:first + batch]
        params = {"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)}
        yield from http.get(endpoint, params, parse_page).papers
