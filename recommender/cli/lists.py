"""recommend (a profile of several papers) and reading-list (an ordered, themed, explained list)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, want_json
from .core import (AuthorOption, CategoryOption, ExcludeOption, IndexOption, WhyOption, YearFrom, YearTo,
                   make_filters, open_index)

LikeOption = typer.Option(None, "--like", help="A paper you want more of: id, arXiv id, DOI or title (repeatable; @FILE reads one a line).")
UnlikeOption = typer.Option(None, "--unlike", help="A paper you want less of (repeatable; @FILE reads one a line).")
QueryOption = typer.Option(None, "--query", "-q", help="What you are looking for, in your own words.")
BibOption = typer.Option(None, "--bib", help="Your library (.bib): its papers are the seeds, and none is recommended back.")
MethodOption = typer.Option("auto", "--method", help="How the seeds are combined: auto | centroid | svm | logistic (auto: centroid, or logistic when there are --unlike papers; measured on CSFCube).")
ModeOption = typer.Option(None, "--mode", help="dense | lexical | hybrid (default), as for search.")
FormatOption = typer.Option("table", "--format", "-f", help="table | markdown | bibtex | json | csv.")
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file instead of the terminal.")
JsonOption = typer.Option(False, "--json", help="The same as --format json.")


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
    from ..lists.export import check_format

    fmt = check_format("json" if as_json else fmt)
    want_json(fmt == "json")
    return fmt


def _render(items, fmt: str, why: bool) -> str:
    """The list in its format; --why adds each paper's why to the table (JSON always carries it)."""
    from ..lists import export

    if why and fmt == "table":
        from .why import reading_list_with_why

        return reading_list_with_why(items)
    return export(items, fmt)


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
    from ..lists import export, recommend as recommend_papers

    filters = make_filters(year_from, year_to, category, author, exclude)
    rec = open_index(index)
    results = recommend_papers(rec, like or [], unlike or [], query, k, method=method, filters=filters, mode=mode, bib=bib)
    _emit(_render(results, fmt, why), output)


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
    from ..lists import export, reading_list as make_reading_list

    filters = make_filters(year_from, year_to, category, author, exclude)
    rec = open_index(index)
    reading = make_reading_list(rec, query=query, like=like or [], unlike=unlike or [], bib=bib, n=n,
                                diversity=diversity, filters=filters, method=method, mode=mode)
    _emit(_render(reading, fmt, why), output)
