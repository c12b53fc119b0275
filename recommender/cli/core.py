"""build, search, similar, info and demo."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..search.modes import MODES
from .app import app, want_json
from .output import results_json, results_text, score_legend

IndexOption = typer.Option("default", "--index", "-i", help="Index folder, or a bare name for indexes/NAME.")
KOption = typer.Option(10, "-k", "--k", help="How many papers to return.")
ModeOption = typer.Option("hybrid", "--mode", help="dense | lexical | hybrid (default).")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
YearFrom = typer.Option(None, "--year-from", help="Only papers from this year on.")
YearTo = typer.Option(None, "--year-to", help="Only papers up to this year.")
CategoryOption = typer.Option(None, "--category", help="Only papers of this category (repeatable; LG matches cs.LG).")
AuthorOption = typer.Option(None, "--author", help="Only papers with an author whose name contains this (repeatable).")
ExcludeOption = typer.Option(None, "--exclude", help="Leave out these paper ids (repeatable, or comma-separated).")
WhyOption = typer.Option(False, "--why", help="Under each result, why it is there: its dense and lexical ranks, shared words, closest query or seed (--json always has it).")




def check_mode_option(mode: str | None, *, optional: bool = False) -> str | None:
    """--mode as given, checked before anything is loaded: an empty or unknown mode is an error, not the default."""
    from ..errors import UsageError

    if mode is None and optional:
        return None
    if mode not in MODES:
        raise UsageError(f"--mode {mode!r}: choose one of {' | '.join(MODES)}")
    return mode


def make_filters(year_from, year_to, category, author, exclude):
    from ..search.filters import Filters

    excluded = [part.strip() for item in (exclude or []) for part in item.split(",") if part.strip()]
    return Filters(year_from=year_from, year_to=year_to, categories=list(category or []),
                   authors=list(author or []), exclude=excluded)


def open_index(index: str, model: Optional[str] = None):
    from ..search.engine import Recommender

    return Recommender.open(index, model=model)


def print_build_report(report) -> None:
    ingest = report.ingest
    counts = report.manifest["counts"]
    print(f"indexed {counts['papers']} papers into {report.index} in {report.seconds:.1f}s "
          f"({report.embedded} embedded, {report.reused} from the cache)", file=sys.stderr)
    if ingest.without_abstract:
        print(f"warning: {ingest.without_abstract} papers have no abstract and are indexed on their title", file=sys.stderr)
    for label, records in (("skipped", ingest.skipped), ("duplicate", ingest.duplicates), ("flagged", ingest.warnings)):
        if records:
            print(f"warning: {len(records)} {label} records:", file=sys.stderr)
            for rec in records[:20]:
                print(f"  {rec.source}: {rec.reason}", file=sys.stderr)
            if len(records) > 20:
                print(f"  ... and {len(records) - 20} more", file=sys.stderr)


@app.command()
def build(
    corpus: List[Path] = typer.Argument(..., help="Corpus files: listing .txt, .jsonl, .csv or .bib."),
    index: str = IndexOption,
    format: Optional[str] = typer.Option(None, "--format", help="Force the format: listing | jsonl | csv | bibtex."),
    model: Optional[str] = typer.Option(None, "--model", help="A sentence-transformers model name or folder (default: bundled all-MiniLM-L6-v2)."),
    encoder: str = typer.Option("auto", "--encoder", help="auto (onnx-int8) | torch | onnx | onnx-int8."),
    index_type: str = typer.Option("auto", "--index-type", help="auto | flat | hnsw | ivfpq."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Embed everything again, ignoring the embedding cache."),
    keep_same_titles: bool = typer.Option(False, "--keep-same-titles", help="Keep papers whose title and abstract repeat another's under a different id (benchmarks judge them separately)."),
    engine: str = typer.Option("local", "--engine", help="local | ray (embed on a Ray cluster; pip install 'recommender[ray]')."),
    address: Optional[str] = typer.Option(None, "--address", help="With --engine ray: auto | ray://HOST:PORT (default: a local Ray)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="With --engine ray: embedding actors (default: one a CPU)."),
    staging: Optional[Path] = typer.Option(None, "--staging", help="With --engine ray: a folder every worker reads and writes (shards; resumable)."),
    stream: Optional[bool] = typer.Option(None, "--stream/--no-stream", help="Keep papers and vectors on disk while building (default: when the corpus files exceed 512 MB)."),
    as_json: bool = JsonOption,
):
    """Read corpus files, embed the papers and write an index folder."""
    want_json(as_json)
    from ..index.build import build_index

    report = build_index(corpus, index, format=format, model=model, encoder=encoder, index_type=index_type,
                         progress=True, use_cache=not no_cache, dedup_titles=not keep_same_titles, engine=engine,
                         address=address, workers=workers, staging=staging, stream=stream)
    print_build_report(report)
    if as_json:
        print(json.dumps({"index": str(report.index), "seconds": round(report.seconds, 3), "embedded": report.embedded,
                          "reused": report.reused, "skipped": [vars(s) for s in report.ingest.skipped],
                          "duplicates": [vars(s) for s in report.ingest.duplicates],
                          "warnings": [vars(s) for s in report.ingest.warnings], "manifest": report.manifest}))


@app.command()
def search(
    text: Optional[str] = typer.Argument(None, help="What you are looking for, in your own words."),
    index: str = IndexOption,
    k: int = KOption,
    mode: str = ModeOption,
    queries: Optional[Path] = typer.Option(None, "--queries", help="A queries .jsonl file (BEIR layout) to run in batch."),
    as_json: bool = JsonOption,
    year_from: Optional[int] = YearFrom,
    year_to: Optional[int] = YearTo,
    category: Optional[List[str]] = CategoryOption,
    author: Optional[List[str]] = AuthorOption,
    exclude: Optional[List[str]] = ExcludeOption,
    model: Optional[str] = typer.Option(None, "--model", help="Fail unless the index was built with this model."),
    why: bool = WhyOption,
):
    """The papers nearest to a text (or, with --queries, to every query of a file)."""
    want_json(as_json)
    from ..errors import UsageError

    mode = check_mode_option(mode)
    filters = make_filters(year_from, year_to, category, author, exclude)
    if queries is not None:
        if text:
            raise UsageError("give either a query TEXT or --queries FILE, not both")
        run_batch(queries, index, model, k, mode, filters, as_json, why)
        return
    if not text or not text.strip():
        raise UsageError("the query is empty: give some words to search for, or --queries FILE")
    rec = open_index(index, model)
    results = rec.search(text, k, mode=mode, filters=filters)
    print(results_json(text, results, mode=mode) if as_json else results_text(results, score_legend(mode), why=why))


def run_batch(queries: Path, index: str, model: Optional[str], k: int, mode: str, filters, as_json: bool,
              why: bool = False) -> None:
    """One JSON line per query with --json; otherwise a table per query under a line naming it."""
    from ..search.batch import read_queries, run_queries

    rec = open_index(index, model)
    batch, skipped = read_queries(queries)
    for line in skipped:
        print(f"warning: skipped {line.source}: {line.reason}", file=sys.stderr)
    asked = {q.id: (f"papers like {q.seed_paper_id}" if q.seed_paper_id else q.text) for q in batch}
    for number, (query_id, results) in enumerate(run_queries(rec, batch, k=k, mode=mode, filters=filters), 1):
        if as_json:
            print(json.dumps({"query_id": query_id, "results": [r.to_dict() for r in results]}, ensure_ascii=False))
            continue
        last = number == len(batch)
        print(f"{'' if number == 1 else chr(10)}query {query_id}: {asked[query_id]}")
        print(results_text(results, score_legend(mode) if last else None, why=why))


@app.command()
def similar(
    paper: Optional[str] = typer.Argument(None, help="A paper of the index: id, arXiv id, DOI or title."),
    index: str = IndexOption,
    k: int = KOption,
    mode: str = ModeOption,
    title: Optional[str] = typer.Option(None, "--title", help="A paper outside the index: its title."),
    abstract: Optional[str] = typer.Option(None, "--abstract", help="... and its abstract (or @FILE to read it from a file)."),
    as_json: bool = JsonOption,
    year_from: Optional[int] = YearFrom,
    year_to: Optional[int] = YearTo,
    category: Optional[List[str]] = CategoryOption,
    author: Optional[List[str]] = AuthorOption,
    exclude: Optional[List[str]] = ExcludeOption,
    model: Optional[str] = typer.Option(None, "--model", help="Fail unless the index was built with this model."),
    why: bool = WhyOption,
):
    """The papers nearest to a paper (the paper itself left out)."""
    want_json(as_json)
    from ..display import clip
    from ..errors import InputError, PaperNotFound, UsageError

    mode = check_mode_option(mode)
    filters = make_filters(year_from, year_to, category, author, exclude)
    if paper and (title or abstract):
        raise UsageError("give either PAPER or --title/--abstract, not both")
    if not paper and not (title or abstract):
        raise UsageError("give a PAPER (id, arXiv id, DOI or title), or --title and/or --abstract for a paper outside the index")
    abstract_file = None
    if abstract and abstract.startswith("@"):
        abstract_file = Path(abstract[1:])
        try:
            abstract = abstract_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{abstract_file}: cannot read the abstract file ({exc.__class__.__name__}); give a UTF-8 text file") from exc
    rec = open_index(index, model)
    if paper:
        try:
            seed = rec.papers[rec.resolve(paper)]
        except PaperNotFound as exc:
            if "--title" not in str(exc):
                raise PaperNotFound(f"{exc}; for a paper outside the index, pass --title and/or --abstract") from exc
            raise
        results = rec.similar(paper, k, mode=mode, filters=filters)
        label = {"id": seed.id, "title": seed.title}
        shown = f"{seed.title} (id {seed.id})"
    else:
        results = rec.similar_to_text(title or "", abstract or "", k, mode=mode, filters=filters)
        label = {"title": title, "abstract": abstract}
        shown = title or (f"the abstract in {abstract_file}" if abstract_file else "the abstract given")
        if not title:
            shown += f' ("{clip(" ".join(abstract.split()), 60)}", no title)'
    if as_json:
        print(results_json(label, results, mode=mode))
    else:
        print(f"papers like: {shown}")
        print(results_text(results, score_legend(mode, "the paper"), why=why))


@app.command()
def info(index: str = IndexOption, as_json: bool = JsonOption):
    """What an index holds and how it was built."""
    want_json(as_json)
    rec = open_index(index)
    data = rec.info()
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    counts = data["counts"]
    print(f"index:      {data['path']}")
    print(f"papers:     {counts['papers']} (skipped {counts['skipped']}, duplicates {counts['duplicates']})")
    without = counts["without_abstract"]
    print(f"abstracts:  {without} paper{'s' * (without != 1)} without one, matched on {'their titles' if without != 1 else 'its title'} alone"
          if without else "abstracts:  every paper has one")
    print(f"model:      {data['model']['name']} (fingerprint {data['model']['fingerprint']}, dim {data['dimension']})")
    print(f"encoders:   build {data['encoder']['build']}, query {data['encoder']['query']} "
          f"(agreement min cosine {data['encoder']['query_agreement_min_cosine']})")
    print(f"vectors:    {data['index']['type']} ({data['index'].get('metric', 'inner_product')})")
    lexical = data.get("lexical") or {}
    if lexical:
        layout = (f"{lexical['shards']} shards of {lexical['shard_rows']:,} papers, whole-corpus statistics"
                  if lexical.get("shards") else "one index")
        print(f"lexical:    {lexical.get('library', 'bm25s')} ({lexical.get('method')}, k1 {lexical.get('k1')}, "
              f"b {lexical.get('b')}), {layout}")
    engine = data.get("engine") or {}
    on_ray = (f", embedded on Ray ({engine.get('workers')} workers, {engine.get('shards')} shards, "
              f"{engine.get('resumed_papers', 0)} papers resumed)") if engine.get("name") == "ray" else ""
    print(f"built:      {data['created']} by recommender {data['package_version']} (format {data['format_version']}){on_ray}")
    if data.get("updated") and data["updated"] != data.get("created"):
        print(f"updated:    {data['updated']} (add/remove)")
    for item in data["corpus"]:
        print(f"corpus:     {item['path']} ({item['papers']} papers, sha256 {item['sha256'][:12]})")


@app.command()
def demo(index: str = typer.Option("default", "--index", "-i", help="Where to build the demo index.")):
    """Build an index of the bundled listing (50 papers) and show a search and a 'more like this'."""
    import shlex
    from importlib import resources

    from ..index.build import build_index
    from ..index.storage import index_dir

    listing = Path(str(resources.files("recommender.data") / "seed_listing.txt"))
    report = build_index([listing], index, progress=True)
    print_build_report(report)
    rec = open_index(index)
    # The commands shown run as they are: they name the index unless it is the default one.
    on_index = "" if index == "default" else f" --index {shlex.quote(index)}"
    query = "backdoor attacks on neural networks"
    print(f'\n$ recommender search "{query}" -k 5{on_index}')
    print(results_text(rec.search(query, 5), score_legend("hybrid")))
    seed = "KO codes"
    print(f'\n$ recommender similar "{seed}" -k 5{on_index}')
    print(results_text(rec.similar(seed, 5), score_legend("hybrid", "the paper")))
    print(f"\nindex: {index_dir(index)} — try `recommender search \"your topic\"{on_index}` or `recommender --help`")
