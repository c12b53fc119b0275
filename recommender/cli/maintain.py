"""`recommender add`, `remove` and `verify`: update an index without rebuilding it, check it byte for byte."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, want_json
from .core import IndexOption, JsonOption


def _report_json(report) -> str:
    return json.dumps({
        "index": str(report.index), "seconds": round(report.seconds, 3), "added": report.added,
        "updated": report.updated, "unchanged": report.unchanged, "removed": report.removed,
        "embedded": report.embedded, "reused": report.reused, "index_rebuilt": report.index_rebuilt,
        "papers": report.manifest["counts"]["papers"],
    }, ensure_ascii=False)


@app.command()
def add(
    corpus: List[Path] = typer.Argument(..., help="Corpus files with new or changed papers: listing .txt, .jsonl, .csv or .bib."),
    index: str = IndexOption,
    format: Optional[str] = typer.Option(None, "--format", help="Force the format: listing | jsonl | csv | bibtex."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Embed the new papers again, ignoring the embedding cache."),
    as_json: bool = JsonOption,
):
    """Add new papers to an index and update changed ones (same id); only those are embedded."""
    want_json(as_json)
    from ..index.update import add_to_index

    report = add_to_index(corpus, index, format=format, progress=not as_json, use_cache=not no_cache)
    ingest = report.ingest
    for label, records in (("skipped", ingest.skipped), ("duplicate", ingest.duplicates), ("flagged", ingest.warnings)):
        if records:
            print(f"warning: {len(records)} {label} records, the first at {records[0].source}: {records[0].reason}",
                  file=sys.stderr)
    if not report.added and not report.updated:
        print(f"{report.index} already holds these {report.unchanged} papers unchanged; nothing to do", file=sys.stderr)
    else:
        print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {report.unchanged}: "
              f"{report.manifest['counts']['papers']} papers in {report.index} in {report.seconds:.1f}s "
              f"({report.embedded} embedded, {report.reused} from the cache)", file=sys.stderr)
    if as_json:
        print(_report_json(report))


@app.command()
def remove(
    ids: List[str] = typer.Argument(..., help="The papers to remove: id (as the tables show it), citation key, arXiv id with or without version, DOI or whole title."),
    index: str = IndexOption,
    as_json: bool = JsonOption,
):
    """Remove papers from an index by id; an unknown id removes nothing and exits non-zero."""
    want_json(as_json)
    from ..index.update import remove_from_index

    report = remove_from_index(ids, index, progress=not as_json)
    print(f"removed {len(report.removed)}: {report.manifest['counts']['papers']} papers left in {report.index} "
          f"in {report.seconds:.1f}s", file=sys.stderr)
    if as_json:
        print(_report_json(report))


@app.command()
def verify(index: str = IndexOption, as_json: bool = JsonOption):
    """Check every byte of an index against its build's checksums, and that its parts agree; exit 3 if not."""
    want_json(as_json)
    from ..errors import IndexLoadError
    from ..index.verify import verify_index

    report = verify_index(index)
    if not report.ok:
        shown = "; ".join(report.problems[:5]) + (f"; and {len(report.problems) - 5} more" if len(report.problems) > 5 else "")
        raise IndexLoadError(f"{report.index}: damaged: {shown}; rebuild it with `recommender build`")
    checked = ("every byte matches the SHA-256 its build recorded" if report.checksums else
               "sizes only: built before checksums were recorded, rebuild it to record them")
    if as_json:
        print(json.dumps({"index": str(report.index), "ok": True, "files": report.files, "bytes": report.bytes,
                          "checksums": report.checksums, "papers": report.papers, "seconds": round(report.seconds, 3)}))
        return
    if not report.checksums:
        print(f"warning: {report.index} has no checksums (built by an older version); sizes and structure checked only",
              file=sys.stderr)
    print(f"{report.index}: OK: {report.files} files, {report.bytes / 2**20:.1f} MB, {checked}; "
          f"{report.papers} papers, their vectors, FAISS, lexical and lookup tables agree ({report.seconds:.1f}s)")
