"""OpenAlex works (api.openalex.org): by DOI, by title, by a search or a filter, with cursor paging.

The polite pool: a `mailto` parameter (RECOMMENDER_CONTACT or --mailto) gets steadier service; requests are
spaced 0.1 s apart (OpenAlex allows 10 a second) and a 429 waits for its Retry-After. The abstract comes
as an inverted index (word -> positions) and is rebuilt in order; the referenced works are kept.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..ingest.ids import normalise_arxiv_id, normalise_doi
from .errors import ServerRefused, Transient
from .http import HttpClient
from .record import FetchedPaper, iso_date, one_line

DEFAULT_ENDPOINT = "https://api.openalex.org"
ENDPOINT_VARIABLE = "RECOMMENDER_OPENALEX_ENDPOINT"
MIN_INTERVAL = 0.1
PER_PAGE = 200  # OpenAlex's largest page
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)


@dataclass
class ListPage:
    papers: list[FetchedPaper]
    next_cursor: str | None
    count: int


def client(contact: str | None = None, use_cache: bool = True) -> HttpClient:
    return HttpClient("OpenAlex", min_interval=MIN_INTERVAL, contact=contact, use_cache=use_cache)


def polite(params: dict[str, Any], contact: str | None) -> dict[str, Any]:
    contact = contact or os.environ.get("RECOMMENDER_CONTACT")
    return {**params, "mailto": contact} if contact else params


def abstract_from_inverted_index(index: dict[str, list[int]] | None) -> str:
    """{'Hypoxia': [0], 'is': [1, 7], ...} -> 'Hypoxia is ...'."""
    if not index:
        return ""
    placed = sorted((position, word) for word, positions in index.items() for position in positions)
    return one_line(" ".join(word for _, word in placed))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise Transient("OpenAlex sent a body that is not complete JSON; the body was cut") from None


def _refused(response: httpx.Response) -> ServerRefused:
    try:
        body = response.json()
        detail = body.get("message") or body.get("error") or ""
    except ValueError:
        detail = ""
    detail = one_line(str(detail))[:300]
    return ServerRefused(f"OpenAlex answered HTTP {response.status_code} to {response.request.url.path}"
                         + (f": {detail}" if detail else ""))


def paper_from_work(work: dict[str, Any]) -> FetchedPaper:
    doi = normalise_doi(work.get("doi"))
    arxiv_id = None
    if doi and _ARXIV_DOI.match(doi):
        arxiv_id = normalise_arxiv_id(_ARXIV_DOI.match(doi).group(1))
    for location in work.get("locations") or []:
        arxiv_id = arxiv_id or normalise_arxiv_id((location or {}).get("landing_page_url"))
    openalex_id = (work.get("id") or "").rsplit("/", 1)[-1] or None
    source = ((work.get("primary_location") or {}).get("source") or {})
    links = {"openalex": work["id"]} if work.get("id") else {}
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    if arxiv_id:
        links["abs"] = f"https://arxiv.org/abs/{arxiv_id}"
    topics = [t.get("display_name") for t in (work.get("topics") or [])[:3] if t.get("display_name")]
    return FetchedPaper(
        id=arxiv_id or doi or openalex_id or "", arxiv_id=arxiv_id, doi=doi, openalex_id=openalex_id,
        title=one_line(work.get("title") or work.get("display_name")),
        abstract=abstract_from_inverted_index(work.get("abstract_inverted_index")),
        authors=[one_line((a.get("author") or {}).get("display_name")) for a in work.get("authorships") or []
                 if (a.get("author") or {}).get("display_name")],
        categories=topics, date=iso_date(work.get("publication_date")), updated=iso_date(work.get("updated_date")),
        url=links.get("abs") or links.get("doi") or work.get("id"), links=links,
        venue=one_line(source.get("display_name")) or None,
        referenced_works=[w.rsplit("/", 1)[-1] for w in work.get("referenced_works") or []],
        fetched_from="openalex",
    )


def parse_work(response: httpx.Response) -> FetchedPaper | None:
    """A single work; None when OpenAlex does not know it (its 404 is an HTML page, not JSON)."""
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise _refused(response)
    work = _json(response)
    if not isinstance(work, dict) or "id" not in work:
        raise Transient("OpenAlex sent a work without an id (not an OpenAlex answer)")
    return paper_from_work(work)


def parse_list(response: httpx.Response) -> ListPage:
    if response.status_code != 200:
        raise _refused(response)
    body = _json(response)
    if not isinstance(body, dict) or "results" not in body:
        raise Transient("OpenAlex sent a list without results (not an OpenAlex answer)")
    meta = body.get("meta") or {}
    return ListPage([paper_from_work(w) for w in body["results"]], meta.get("next_cursor"), int(meta.get("count") or 0))


def work_by_doi(http: HttpClient, endpoint: str, doi: str, contact: str | None = None) -> FetchedPaper | None:
    url = f"{endpoint.rstrip('/')}/works/https://doi.org/{quote(doi, safe='')}"
    return http.get(url, polite({}, contact) or None, parse_work)


def works_by_title(http: HttpClient, endpoint: str, title: str, contact: str | None = None) -> list[FetchedPaper]:
    """Candidates for a title (OpenAlex's title.search); the caller decides whether one is the paper."""
    words = re.sub(r"[,:|!]+", " ", title)  # the filter syntax's separators cannot appear in the value
    params = polite({"filter": f"title.search:{one_line(words)}"}, contact)
    return http.get(f"{endpoint.rstrip('/')}/works", params, parse_list).papers


def list_works(http: HttpClient, endpoint: str, *, search: str | None, filters: list[str], max_results: int | None,
               contact: str | None = None, per_page: int = PER_PAGE) -> Iterator[FetchedPaper]:
    """Every work of a search and/or filter, by cursor paging until next_cursor is null or a page is empty."""
    params: dict[str, Any] = {"per_page": per_page if max_results is None else min(per_page, max_results),
                              "cursor": "*"}
    if search:
        params["search"] = search
    if filters:
        params["filter"] = ",".join(filters)
    params = polite(params, contact)
    seen = 0
    while True:
        page = http.get(f"{endpoint.rstrip('/')}/works", params, parse_list)
        for paper in page.papers:
            if max_results is not None and seen >= max_results:
                return
            seen += 1
            yield paper
        if not page.papers or not page.next_cursor:
            return
        params = {**params, "cursor": page.next_cursor}
