"""Reading paper corpora: the listing format, JSON Lines, CSV and BibTeX.

    report = read_corpus(["papers.jsonl", "library.bib"])   # format per file, from its name or content
    report.papers, report.skipped, report.duplicates, report.warnings

A record that cannot be read is skipped and reported, never fatal; a record read with a change (a
field cut to its limit, a repeated BibTeX field, a renamed id) is kept and reported as a warning; a
file that cannot be read at all raises InputError with a one-line message naming the file (and line)
and what to do. Only regular files are read, with bounded memory (see limits.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError
from ..records import IngestReport, Paper, SkippedRecord
from .bibtex import read_bibtex
from .csv_format import read_csv
from .files import FORMAT_CHOICES, FORMATS, FileProblem, check_file, check_format, detect_format, read_text
from .ids import normalise_arxiv_id, normalise_doi, normalise_title, stable_id
from .jsonl import read_jsonl, read_jsonl_file
from .listing import read_listing, split_title_and_authors
from .merge import Merger

__all__ = [
    "FORMATS", "detect_format", "read_corpus", "read_file", "normalise_title", "normalise_arxiv_id",
    "normalise_doi", "stable_id", "split_title_and_authors",
]

# Each reader takes (text, file name for sources, warnings list) and returns (papers, skipped records).
READERS = {"listing": read_listing, "jsonl": read_jsonl, "csv": read_csv, "bibtex": read_bibtex}


def read_file(path: str | Path, format: str | None = None, warnings: list[SkippedRecord] | None = None,
              into=None) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers and skipped records of one file, not yet deduplicated; records read with a change are
    added to `warnings`. `into` (anything with `append(paper)` and a length: a streamed build's merger) takes
    the papers instead of a list, JSON Lines ones as each is read, and is returned in the list's place."""
    path = Path(path)
    if format is not None:
        check_format(format, path)
    check_file(path)
    chosen = format or detect_format(path)
    warnings = warnings if warnings is not None else []
    try:
        if chosen == "jsonl":  # read a line at a time: a JSON Lines file has no size limit
            papers, skipped = read_jsonl_file(path, path.name, warnings, into=into)
        else:
            papers, skipped = READERS[chosen](read_text(path), path.name, warnings)
            if into is not None:
                for paper in papers:
                    into.append(paper)
                papers = into
    except FileProblem as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise InputError(f"{where}: {exc}") from None
    if not papers:
        found = f"{len(skipped)} record(s) skipped, the first at {skipped[0].source}: {skipped[0].reason}" if skipped \
            else "no record found"
        raise InputError(f"{path}: no paper could be read as {chosen} ({found}); fix the file, "
                         f"or pass --format {FORMAT_CHOICES} if it is another format")
    return papers, skipped


def read_corpus(paths: str | Path | Iterable[str | Path], format: str | None = None,
                dedup_titles: bool = True) -> IngestReport:
    """Read the files in order and keep each paper once (see merge.py): the same id, arXiv id or DOI
    with a matching title, or (unless dedup_titles is False) the same title with nothing telling the
    two apart, is one paper; different papers sharing an identifier are all kept and reported."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    report = IngestReport(papers=[])
    merger = Merger(report, dedup_titles)
    for path in paths:
        papers, skipped = read_file(path, format, report.warnings)
        report.files.append(str(path))
        report.skipped.extend(skipped)
        for paper in papers:
            merger.add(paper)
    if not report.files:
        raise InputError("no corpus file given; pass at least one file")
    report.without_abstract = sum(1 for paper in report.papers if not paper.abstract.strip())
    return report
