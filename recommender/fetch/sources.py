"""`recommender fetch SOURCE`: one request shape for every source, one stream of FetchedPaper out."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UsageError
from ..ingest.ids import normalise_arxiv_id, normalise_doi
from . import arxiv_api, arxiv_oai, arxiv_rss, openalex
from .http import HttpClient
from .options import check_categories, check_date  # noqa: F401  (part of this module's interface)
from .record import FetchedPaper

MODULES = {"arxiv": arxiv_api, "arxiv-oai": arxiv_oai, "arxiv-rss": arxiv_rss, "openalex": openalex}
SOURCES = tuple(MODULES)


@dataclass
class FetchRequest:
    source: str
    query: str | None = None
    categories: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    ids: list[str] = field(default_factory=list)  # arXiv ids or DOIs
    titles: list[str] = field(default_factory=list)  # OpenAlex: titles to look up (a .bib's entries without DOI)
    filters: list[str] = field(default_factory=list)  # OpenAlex filter expressions
    max_results: int | None = None
    endpoint: str | None = None
    contact: str | None = None
    use_cache: bool = True
    include_replaced: bool = False  # arxiv-rss: also new versions of older papers
    skipped: list[str] = field(default_factory=list)  # filled while fetching: "what: why"


def check_source(source: str) -> str:
    if source not in MODULES:
        raise UsageError(f"unknown source '{source}'; choose one of: {', '.join(SOURCES)}")
    return source


def endpoint_for(source: str, given: str | None) -> str:
    """--endpoint, else the source's environment variable, else the public server."""
    module = MODULES[source]
    chosen = given or os.environ.get(module.ENDPOINT_VARIABLE) or module.DEFAULT_ENDPOINT
    if not re.match(r"^https?://", chosen):
        raise UsageError(f"endpoint '{chosen}' must be an http:// or https:// URL")
    return chosen


def read_id_file(path: Path, source: str) -> tuple[list[str], list[str]]:
    """Ids (arXiv ids for arxiv, DOIs for openalex) one a line, or a .bib's DOIs and titles: (ids, titles)."""
    from ..ingest.files import read_text

    text = read_text(Path(path))  # InputError naming the file when it is missing, empty or not text
    if str(path).lower().endswith(".bib"):
        from ..ingest import read_file

        papers, _ = read_file(path, "bibtex")
        ids = [(p.arxiv_id if source.startswith("arxiv") else p.doi) for p in papers]
        titles = [p.title for p, i in zip(papers, ids) if not i and source == "openalex"]
        return [i for i in ids if i], titles
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        normal = normalise_arxiv_id(value) if source.startswith("arxiv") else normalise_doi(value)
        if normal is None:
            kind = "an arXiv id (like 2310.09639)" if source.startswith("arxiv") else "a DOI (like 10.1000/xyz)"
            raise InputError(f"{path}:{number}: '{value}' is not {kind}; fix or remove the line")
        ids.append(normal)
    return list(dict.fromkeys(ids)), []


def check_request(request: FetchRequest) -> None:
    """The argument checks of `papers`, done before anything is fetched or written."""
    if request.source == "arxiv" and not request.ids and not arxiv_api.search_query(
            request.query, request.categories, request.since, request.until):
        raise UsageError("fetch arxiv needs --query, --category, --since or --ids")
    if request.source == "arxiv-oai" and (request.query or request.ids):
        raise UsageError("fetch arxiv-oai harvests by --category and --since/--until only; "
                         "use `fetch arxiv` for --query or --ids")
    if request.source == "arxiv-rss" and not request.categories:
        raise UsageError("fetch arxiv-rss needs --category (the feeds are per category, e.g. cs.LG)")
    if request.source == "openalex":
        if request.categories:
            raise UsageError("OpenAlex has no arXiv categories; use --filter (e.g. topics.id:T10320) or --query")
        if not (request.ids or request.titles or request.query or request.filters or request.since or request.until):
            raise UsageError("fetch openalex needs --query, --filter, --since or --ids")


def make_client(request: FetchRequest) -> HttpClient:
    return MODULES[request.source].client(request.contact, request.use_cache)


def papers(request: FetchRequest, http: HttpClient) -> Iterator[FetchedPaper]:
    """The papers the request asks for, in the source's order, duplicates possible (the sink drops them)."""
    endpoint = endpoint_for(request.source, request.endpoint)
    wanted = [c.lower() for c in request.categories]
    if request.source == "arxiv":
        if request.ids:
            yield from _capped(arxiv_api.by_ids(http, endpoint, request.ids), request.max_results)
            return
        query = arxiv_api.search_query(request.query, request.categories, request.since, request.until)
        if not query:
            raise UsageError("fetch arxiv needs --query, --category, --since or --ids")
        sort = "relevance" if request.query and not (request.categories or request.since) else "submittedDate"
        yield from arxiv_api.search(http, endpoint, query, max_results=request.max_results, sort_by=sort)
    elif request.source == "arxiv-oai":
        if request.query or request.ids:
            raise UsageError("fetch arxiv-oai harvests by --category and --since/--until only; "
                             "use `fetch arxiv` for --query or --ids")
        sets = list(dict.fromkeys(arxiv_oai.set_spec(c) for c in request.categories)) or [None]
        stream = (p for s in sets for p in arxiv_oai.harvest(http, endpoint, set_name=s, since=request.since,
                                                              until=request.until, skipped=request.skipped))
        yield from _capped((p for p in stream if _in_categories(p, wanted)), request.max_results)
    elif request.source == "arxiv-rss":
        if not request.categories:
            raise UsageError("fetch arxiv-rss needs --category (the feeds are per category, e.g. cs.LG)")
        items = http.get(arxiv_rss.feed_url(endpoint, request.categories), None, arxiv_rss.parse_feed)
        kinds = arxiv_rss.NEW_TYPES + (("replace", "replace-cross") if request.include_replaced else ())
        chosen = (p for p, kind in items if kind in kinds and _in_categories(p, wanted)
                  and (request.since is None or (p.date or "") >= request.since))
        yield from _capped(chosen, request.max_results)
    else:
        yield from _openalex(request, http, endpoint)


def _openalex(request: FetchRequest, http: HttpClient, endpoint: str) -> Iterator[FetchedPaper]:
    if request.categories:
        raise UsageError("OpenAlex has no arXiv categories; use --filter (e.g. topics.id:T10320) or --query")
    if request.ids or request.titles:
        def by_list() -> Iterator[FetchedPaper]:
            for doi in request.ids:
                work = openalex.work_by_doi(http, endpoint, doi, request.contact)
                if work is None:
                    request.skipped.append(f"{doi}: OpenAlex does not know this DOI")
                else:
                    yield work
            from .match import best_title_match

            for title in request.titles:
                found, why = best_title_match(title, openalex.works_by_title(http, endpoint, title, request.contact))
                if found is None:
                    request.skipped.append(f"'{title[:60]}': {why}")
                else:
                    yield found
        yield from _capped(by_list(), request.max_results)
        return
    filters = list(request.filters)
    if request.since:
        filters.append(f"from_publication_date:{request.since}")
    if request.until:
        filters.append(f"to_publication_date:{request.until}")
    if not request.query and not filters:
        raise UsageError("fetch openalex needs --query, --filter, --since or --ids")
    yield from openalex.list_works(http, endpoint, search=request.query, filters=filters,
                                   max_results=request.max_results, contact=request.contact)


def _in_categories(paper: FetchedPaper, wanted: list[str]) -> bool:
    return not wanted or any(c.lower() in wanted for c in paper.categories)


def _capped(stream: Iterator[FetchedPaper], max_results: int | None) -> Iterator[FetchedPaper]:
    for count, paper in enumerate(stream):
        if max_results is not None and count >= max_results:
            return
        yield paper
