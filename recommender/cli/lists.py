"""recommend (a profile of several papers) and reading-list (an ordered, themed, explained list)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, want_json
from .core import (AuthorOption, CategoryOption, ExcludeOption, IndexOption, WhyOption, YearFrom, YearTo,
                   check_mode_option,
                   make_filters, open_index)
from ..search.modes import DEFAULT_MODE
from .output import results_text, score_legend, table_width

LikeOption = typer.Option(None, "--like", help="A paper you want more of: id, arXiv id, DOI or title (repeatable; @FILE reads one a line).")
UnlikeOption = typer.Option(None, "--unlike", help="A paper you want less of (repeatable; @FILE reads one a line).")
QueryOption = typer.Option(None, "--query", "-q", help="What you are looking for, in your own words.")
BibOption = typer.Option(None, "--bib", help="Your library (.bib): its papers are the seeds, and none is recommended back.")
MethodOption = typer.Option("auto", "--method", help="How the seeds are combined: auto | centroid | svm | logistic (auto: centroid, or logistic when there are --unlike papers; measured on CSFCube).")
ModeOption = typer.Option(None, "--mode", help="dense | lexical | hybrid (default: dense for papers, hybrid for a text alone).")
FormatOption = typer.Option("table", "--format", "-f", help="table | markdown | bibtex | json | csv.")
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file instead of the terminal.")
JsonOption = typer.Option(False, "--json", help="The same as --format json.")
CLASSIFIERS = {"svm": "a linear SVM", "logistic": "a logistic regression"}


def _emit(text: str, output: Optional[Path]) -> None:
    if output is None:
        print(text.rstrip("\n"))
        return
    from ..errors import InputError

    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write the list ({exc.strerror or type(exc).__name__})") from exc
    print(f"wrote {output}", file=sys.stderr)


def _format(fmt: str, as_json: bool) -> str:
    from ..errors import UsageError
    from ..lists.export import FORMATS, check_format

    if not as_json and not (fmt or "").strip():
        raise UsageError(f"--format {fmt!r}: choose one of {' | '.join(FORMATS)}")
    fmt = check_format("json" if as_json else fmt)
    want_json(fmt == "json")
    return fmt


def _check_method(method: str) -> str:
    from ..errors import UsageError
    from ..lists.methods import METHODS

    if method not in METHODS:
        raise UsageError(f"--method {method!r}: choose one of {' | '.join(METHODS)}")
    return method


def _paper_ref(rec, paper_id: str) -> dict:
    row = rec.row_of_id.get(paper_id)
    return {"id": paper_id, "title": rec.papers[row].title if row is not None else None}


def seeds_of(rec, made_from: dict) -> dict:
    """What the profile was made from, with the papers the references resolved to."""
    seeds = {"like": [_paper_ref(rec, i) for i in made_from.get("like", [])],
             "unlike": [_paper_ref(rec, i) for i in made_from.get("unlike", [])],
             "query": made_from.get("text"), "bib": made_from.get("bib")}
    if "library" in made_from:
        seeds["library"] = made_from["library"]
    return seeds


def print_seeds(seeds: dict) -> None:
    """The seeds as resolved, on stderr (stdout holds the list itself)."""
    for side in ("like", "unlike"):
        for paper in seeds[side]:
            print(f"seed --{side}: {paper['id']}  {paper['title']}", file=sys.stderr)
    if seeds["query"]:
        print(f"seed --query: {seeds['query']}", file=sys.stderr)
    library = seeds.get("library")
    if library:
        outside = library["entries"] - library["in_index"]
        print(f"seed --bib: {seeds['bib']}: {library['entries']} entries; {library['in_index']} in the index "
              f"(never recommended back), {outside} outside it (seeds by their title and abstract); "
              f"{len(library['skipped'])} skipped{':' if library['skipped'] else ''}", file=sys.stderr)
        for line in library["skipped"]:
            print(f"  {line}", file=sys.stderr)


def profile_target(profile, method: str) -> str:
    """What a profile's score is measured against, for the legend."""
    from ..lists.methods import choose_method

    if len(profile.attractors) == 1 and not profile.negatives:
        return "the seed paper" if profile.positives else "the query"
    chosen = choose_method(method, profile)
    if chosen == "centroid":
        return "the mean of the seeds" + (" minus half the disliked papers' mean" if profile.negatives else "")
    return f"the direction {CLASSIFIERS.get(chosen, chosen)} learned from the seeds"


@app.command()
def recommend(
    like: Optional[List[str]] = LikeOption,
    unlike: Optional[List[str]] = UnlikeOption,
    query: Optional[str] = QueryOption,
    bib: Optional[Path] = BibOption,
    index: str = IndexOption,
    k: int = typer.Option(10, "-k", "--k", help="How many papers to return."),
    method: str = MethodOption,
    mode: Optional[str] = ModeOption,
    fmt: str = FormatOption,
    as_json: bool = JsonOption,
    output: Optional[Path] = OutputOption,
    year_from: Optional[int] = YearFrom,
    year_to: Optional[int] = YearTo,
    category: Optional[List[str]] = CategoryOption,
    author: Optional[List[str]] = AuthorOption,
    exclude: Optional[List[str]] = ExcludeOption,
    why: bool = WhyOption,
):
    """Papers for a profile: several papers you like, some you do not, and/or a text."""
    fmt = _format(fmt, as_json)
    mode, method = check_mode_option(mode, optional=True), _check_method(method)
    from ..lists import export
    from ..lists.methods import rank_profile
    from ..lists.reading import load_profile

    filters = make_filters(year_from, year_to, category, author, exclude)
    rec = open_index(index)
    profile, made_from = load_profile(rec, query=query, like=like or [], unlike=unlike or [], bib=bib)
    results = rank_profile(rec, profile, k, method=method, mode=mode, filters=filters)
    seeds = seeds_of(rec, made_from)
    if fmt == "json":
        _emit(json.dumps({"seeds": seeds, "results": [r.to_dict() for r in results]}, ensure_ascii=False, indent=2), output)
        return
    print_seeds(seeds)
    if fmt == "table":
        _emit(results_text(results, score_legend(mode or DEFAULT_MODE, profile_target(profile, method)), why=why), output)
        return
    _emit(export(results, fmt), output)


@app.command("reading-list")
def reading_list(
    query: Optional[str] = QueryOption,
    like: Optional[List[str]] = LikeOption,
    unlike: Optional[List[str]] = UnlikeOption,
    bib: Optional[Path] = BibOption,
    index: str = IndexOption,
    n: int = typer.Option(20, "-n", "--n", help="How many papers the list holds."),
    diversity: float = typer.Option(0.3, "--diversity", help="0 = the most relevant only ... 1 = as varied as possible."),
    method: str = MethodOption,
    mode: Optional[str] = ModeOption,
    fmt: str = FormatOption,
    as_json: bool = JsonOption,
    output: Optional[Path] = OutputOption,
    year_from: Optional[int] = YearFrom,
    year_to: Optional[int] = YearTo,
    category: Optional[List[str]] = CategoryOption,
    author: Optional[List[str]] = AuthorOption,
    exclude: Optional[List[str]] = ExcludeOption,
    why: bool = WhyOption,
):
    """A list to read in order: grouped into named themes, each paper with the reason it is there.
    With --bib, what your library is missing (--format bibtex gives entries ready to paste)."""
    fmt = _format(fmt, as_json)
    mode, method = check_mode_option(mode, optional=True), _check_method(method)
    from ..lists import export
    from ..lists.export import to_table
    from ..lists.reading import build_reading_list, load_profile

    filters = make_filters(year_from, year_to, category, author, exclude)
    rec = open_index(index)
    profile, made_from = load_profile(rec, query=query, like=like or [], unlike=unlike or [], bib=bib)
    reading = build_reading_list(rec, profile, made_from, n=n, diversity=diversity, method=method, mode=mode,
                                 filters=filters)
    if fmt == "json":
        _emit(export(reading, fmt), output)
        return
    print_seeds(seeds_of(rec, made_from))
    if fmt == "table":
        legend = score_legend(mode or DEFAULT_MODE, profile_target(profile, method)) + "; # is the reading order"
        _emit(to_table(reading, width=table_width(), legend=legend, why=why), output)
        return
    _emit(export(reading, fmt), output)
