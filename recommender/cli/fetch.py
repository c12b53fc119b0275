"""fetch (papers from arXiv or OpenAlex), enrich (abstracts into a .bib) and feed (a daily digest)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, want_json

QueryOption = typer.Option(None, "--query", "-q", help="Words to search for (arXiv: all fields unless prefixed, e.g. ti:...).")
CategoryOption = typer.Option(None, "--category", help="An arXiv category, e.g. cs.LG (repeatable).")
SinceOption = typer.Option(None, "--since", help="Only papers from this date on (YYYY-MM-DD).")
EndpointOption = typer.Option(None, "--endpoint", help="Another server for the source (a mirror, a test server); "
                              "also RECOMMENDER_ARXIV_ENDPOINT, RECOMMENDER_ARXIV_OAI_ENDPOINT, "
                              "RECOMMENDER_ARXIV_RSS_ENDPOINT, RECOMMENDER_OPENALEX_ENDPOINT.")
MailtoOption = typer.Option(None, "--mailto", help="Your e-mail, sent to OpenAlex (its polite pool) and in the "
                            "User-Agent; also RECOMMENDER_CONTACT.")
NoCacheOption = typer.Option(False, "--no-cache", help="Do not use the on-disk HTTP cache.")
JsonOption = typer.Option(False, "--json", help="Print the report (or errors) as JSON.")


def _progress(enabled: bool, total: Optional[int], label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit=" papers", disable=not enabled, file=sys.stderr, leave=False)


def _cap(max_results: Optional[int]) -> Optional[int]:
    from ..errors import UsageError

    if max_results is not None and max_results < 1:
        raise UsageError(f"--max must be 1 or more, got {max_results}")
    return max_results


@app.command()
def fetch(
    source: str = typer.Argument(..., help="arxiv | arxiv-oai | arxiv-rss | openalex"),
    query: Optional[str] = QueryOption,
    category: Optional[List[str]] = CategoryOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = typer.Option(None, "--until", help="Only papers up to this date (YYYY-MM-DD)."),
    ids: Optional[Path] = typer.Option(None, "--ids", help="A file of arXiv ids or DOIs (one a line), or a .bib (its DOIs, arXiv ids; OpenAlex also its titles)."),
    filter_: Optional[List[str]] = typer.Option(None, "--filter", help="OpenAlex filter, e.g. topics.id:T10320 (repeatable)."),
    max_results: Optional[int] = typer.Option(None, "--max", help="Stop after this many papers."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The JSONL corpus to write (a rerun resumes it)."),
    index: Optional[str] = typer.Option(None, "--index", "-i", help="Add the papers to this index (built if new)."),
    endpoint: Optional[str] = EndpointOption,
    mailto: Optional[str] = MailtoOption,
    no_cache: bool = NoCacheOption,
    as_json: bool = JsonOption,
):
    """Papers from arXiv (API, OAI-PMH, daily RSS) or OpenAlex, as a JSONL corpus or straight into an index."""
    from ..errors import UsageError
    from ..fetch.options import need_network_packages

    want_json(as_json)
    need_network_packages()
    from ..fetch.sink import JsonlSink
    from ..fetch.sources import (FetchRequest, check_categories, check_date, check_source, make_client, papers,
                                 read_id_file)

    source = check_source(source)
    if (output is None) == (index is None):
        raise UsageError("give one of -o FILE.jsonl (a corpus) or --index NAME (add to an index)")
    request = FetchRequest(source, query=query, categories=check_categories(list(category or [])),
                           since=check_date(since, "--since"), until=check_date(until, "--until"),
                           filters=list(filter_ or []), max_results=_cap(max_results), endpoint=endpoint,
                           contact=mailto, use_cache=not no_cache)
    if ids is not None:
        if query or category or since or until:
            raise UsageError("--ids fetches exactly those papers; leave out --query, --category, --since and --until")
        request.ids, request.titles = read_id_file(ids, source)
    if filter_ and source != "openalex":
        raise UsageError("--filter is for openalex; for arXiv put fields in --query (e.g. ti:..., au:...)")
    from ..fetch.sources import check_request, endpoint_for

    check_request(request)
    endpoint_for(source, endpoint)  # a malformed --endpoint is an argument error, before anything is written
    target = output if output is not None else _staging_file(index)
    with make_client(request) as http, JsonlSink(target) as sink, \
            _progress(sys.stderr.isatty() and not as_json, max_results, f"fetching from {source}") as bar:
        for paper in papers(request, http):
            if sink.add(paper):
                bar.update(1)
    stats = http.stats
    report = {"source": source, "written": sink.written, "resumed": sink.resumed, "duplicates": sink.duplicates,
              "skipped": request.skipped, "requests": stats.requests, "from_cache": stats.from_cache,
              "retries": stats.retries, "output": str(target)}
    if index is not None:
        report["index"] = _add_to_index(target, index)
        target.unlink(missing_ok=True)
    _report(report, as_json)


def _staging_file(index: str) -> Path:
    """Where the papers for --index gather first: in the tool's own cache folder (nothing is written beside
    the user's folders), one file per index, resumed by a rerun and removed once indexed."""
    import hashlib

    from ..fetch.options import cache_root
    from ..index import storage

    folder = storage.index_dir(index).expanduser().resolve()
    name = hashlib.sha1(str(folder).encode()).hexdigest()[:12]
    staging = cache_root() / "fetch" / f"{folder.name}-{name}.jsonl"
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def _add_to_index(corpus: Path, index: str) -> dict:
    from ..index import storage
    from ..index.build import build_index
    from ..index.update import add_to_index

    if not corpus.exists() or corpus.stat().st_size == 0:
        return {"added": 0, "note": "nothing fetched, index left as it was"}
    folder = storage.index_dir(index)
    if (folder / "manifest.json").exists():
        update = add_to_index([corpus], index, progress=False)
        return {"path": str(update.index), "added": len(update.added), "updated": len(update.updated),
                "unchanged": update.unchanged}
    built = build_index([corpus], index, progress=False)
    return {"path": str(built.index), "added": built.manifest["counts"]["papers"], "built": True}


def _report(report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    line = (f"fetched {report['written']} new papers from {report['source']} into {report['output']}"
            + (f" ({report['resumed']} already there from an earlier run)" if report["resumed"] else "")
            + f"; {report['requests']} requests, {report['from_cache']} answered from the cache, "
            f"{report['retries']} retries")
    print(line, file=sys.stderr)
    if "index" in report:
        print(f"index: {report['index']}", file=sys.stderr)
    for item in report["skipped"][:20]:
        print(f"  skipped {item}", file=sys.stderr)
    if len(report["skipped"]) > 20:
        print(f"  ... and {len(report['skipped']) - 20} more skipped", file=sys.stderr)


@app.command()
def enrich(
    library: Path = typer.Argument(..., help="Your .bib library."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The new file: .bib (your entries, abstracts added) or .jsonl. Default: LIBRARY.enriched.bib beside it."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the output file if it exists."),
    arxiv_endpoint: Optional[str] = typer.Option(None, "--arxiv-endpoint", help="Another arXiv API server (also RECOMMENDER_ARXIV_ENDPOINT)."),
    openalex_endpoint: Optional[str] = typer.Option(None, "--openalex-endpoint", help="Another OpenAlex server (also RECOMMENDER_OPENALEX_ENDPOINT)."),
    mailto: Optional[str] = MailtoOption,
    no_cache: bool = NoCacheOption,
    as_json: bool = JsonOption,
):
    """Fill in the missing abstracts (and DOIs, arXiv ids) of a .bib from arXiv and OpenAlex; write a new file."""
    from ..errors import InputError
    from ..fetch.options import need_network_packages

    want_json(as_json)
    need_network_packages()
    from ..fetch import arxiv_api, openalex
    from ..fetch.enrich import Services, enrich_library, write_output
    from ..fetch.sources import endpoint_for

    if not library.is_file():
        raise InputError(f"{library}: no such file; give your .bib library")
    output = output or library.with_name(f"{library.stem}.enriched.bib")
    if output.exists() and not overwrite:
        raise InputError(f"{output}: exists already; give another -o, or --overwrite to replace it")
    with arxiv_api.client(mailto, not no_cache) as arxiv_http, openalex.client(mailto, not no_cache) as openalex_http:
        services = Services(arxiv_http, openalex_http, endpoint_for("arxiv", arxiv_endpoint),
                            endpoint_for("openalex", openalex_endpoint), mailto)
        report = enrich_library(library, services)
    write_output(report, output)
    counts = report.counts()
    if as_json:
        print(json.dumps(dict(report.to_json(), output=str(output))))
        return
    wanted = counts["filled"] + counts["missing"]
    vias = [o.via for o in report.outcomes if o.status == "filled"]
    how = ", ".join(f"{vias.count(via)} by {via}" for via in ("doi", "arxiv", "title") if via in vias)
    print(f"filled {counts['filled']} of {wanted} entries without an abstract" + (f" ({how})" if how else "")
          + f"; {counts['had']} had one already; wrote {output}", file=sys.stderr)
    for o in report.outcomes:
        if o.status == "missing":
            print(f"  not filled: {o.key or 'entry'} (line {o.line}): {o.reason}", file=sys.stderr)


@app.command()
def feed(
    library: Optional[Path] = typer.Option(None, "--library", help="Your .bib library: the profile."),
    like: Optional[List[str]] = typer.Option(None, "--like", help="A paper you want more of, among the new papers (repeatable)."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="What you want to read about, in your own words (part of the profile)."),
    from_: Optional[List[Path]] = typer.Option(None, "--from", help="Read the new papers from this corpus file (offline; repeatable) instead of fetching."),
    source: str = typer.Option("arxiv-rss", "--source", help="Where to fetch new papers: arxiv-rss (today's announcements) | arxiv (API, with --since)."),
    category: Optional[List[str]] = CategoryOption,
    since: Optional[str] = SinceOption,
    n: int = typer.Option(20, "-n", "--n", help="How many papers the digest holds."),
    fmt: str = typer.Option("markdown", "--format", "-f", help="markdown | html (an e-mail digest) | json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the digest to this file."),
    state: Optional[Path] = typer.Option(None, "--state", help="The state file of papers already shown (default: ~/.cache/recommender/feed/state.json, or under RECOMMENDER_CACHE_DIR)."),
    no_state: bool = typer.Option(False, "--no-state", help="Neither skip nor remember shown papers."),
    endpoint: Optional[str] = EndpointOption,
    max_results: Optional[int] = typer.Option(2000, "--max", help="Fetch at most this many new papers."),
    mailto: Optional[str] = MailtoOption,
    no_cache: bool = NoCacheOption,
):
    """New papers ranked by your library or liked papers, as Markdown, HTML or JSON; never the same paper twice."""
    from ..errors import UsageError
    from ..fetch.feed import FORMATS, FeedState, build_feed, render, select_new, state_path
    from ..fetch.options import check_categories, check_date

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    want_json(fmt == "json")
    if n < 1 or n > 500:
        raise UsageError(f"-n must be a number of papers from 1 to 500, got {n}")
    since = check_date(since, "--since")
    categories = check_categories(list(category or []))
    if not library and not like and not query:
        raise UsageError("feed needs a profile: --library LIBRARY.bib, --like PAPER or --query TEXT")
    if library is not None and not library.is_file():
        from ..errors import InputError

        raise InputError(f"{library}: no such library file; give a .bib file")
    if from_:
        from ..ingest import read_corpus

        new = read_corpus(list(from_)).papers
    else:
        new = _fetch_new(source, categories, since, endpoint, _cap(max_results), mailto, not no_cache)
    new = select_new(new, since, categories)
    feed_state = None if no_state else FeedState.load(state or state_path())
    result = build_feed(new, library=library, like=list(like or []), query=query, n=n, state=feed_state)
    text = render(result, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    where = f"; shown papers remembered in {result.state_file}" if result.state_file else ""
    print(f"{len(result.items)} papers picked from {result.new_papers} new"
          + (f" ({result.already_shown} shown before)" if result.already_shown else "") + where, file=sys.stderr)


def _fetch_new(source: str, categories: list[str], since: Optional[str], endpoint: Optional[str],
               max_results: Optional[int], mailto: Optional[str], use_cache: bool) -> list:
    from ..errors import UsageError
    from ..fetch.options import need_network_packages
    from ..records import Paper

    if source not in ("arxiv-rss", "arxiv"):
        raise UsageError(f"--source must be arxiv-rss or arxiv, got '{source}'")
    if not categories:
        raise UsageError("feed needs --category (e.g. cs.LG) to fetch new papers, or --from FILE to read them")
    if source == "arxiv" and since is None:
        from datetime import date, timedelta

        since = (date.today() - timedelta(days=1)).isoformat()
    need_network_packages()
    from ..fetch.sources import FetchRequest, make_client, papers

    request = FetchRequest(source, categories=categories, since=since, max_results=max_results, endpoint=endpoint,
                           contact=mailto, use_cache=use_cache)
    with make_client(request) as http:
        fetched = list(papers(request, http))
    unique = {p.id: p for p in reversed(fetched)}
    return [Paper.from_dict(p.to_json()) for p in fetched if unique.get(p.id) is p]
