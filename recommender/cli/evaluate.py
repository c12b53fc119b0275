"""`recommender evaluate`: ranking quality on relevance-judged collections, on reading lists, or on your library."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..search.modes import MODES
from .app import app, want_json


def _write(json_out: Optional[Path], data) -> None:
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {json_out}", file=sys.stderr)


@app.command()
def evaluate(
    benchmarks: Optional[List[Path]] = typer.Argument(None, help="Benchmark folders in the BEIR layout (corpus.jsonl, queries.jsonl, qrels.tsv)."),
    mode: str = typer.Option("hybrid", "--mode", help="Comma-separated retrieval modes to compare, e.g. dense,lexical,hybrid."),
    index_root: Path = typer.Option(Path("indexes/eval"), "--index-root", help="Where each collection's index is built or reused."),
    encoder: str = typer.Option("auto", "--encoder", help="Encoder to build with: auto (onnx-int8) | torch | onnx | onnx-int8."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name or folder (default: bundled all-MiniLM-L6-v2)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Build fresh indexes even when up-to-date ones exist."),
    facets: bool = typer.Option(False, "--facets", help="Pass each seed query's facet (CSFCube) to `similar --facet`."),
    lists: bool = typer.Option(False, "--lists", help="Compare reading lists with search (free-text queries) and recommend with similar (seed papers), at nDCG@10."),
    diversity: float = typer.Option(0.3, "--diversity", help="With --lists: the reading lists' diversity."),
    library: Optional[Path] = typer.Option(None, "--library", help="Your library (.bib): hold out each of its papers in the index, recommend from the rest, and see where it comes back."),
    index: str = typer.Option("default", "--index", "-i", help="With --library: the index to recommend from."),
    method: str = typer.Option("centroid,svm,logistic", "--method", help="With --library: comma-separated profile methods to compare."),
    k: int = typer.Option(20, "-k", "--k", help="With --library: Recall@k and MRR@k."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
):
    """nDCG@10, Recall@100 and MRR@10 per collection and retrieval mode (full-corpus ranking, seed left out);
    --lists: reading lists and recommendations against search and similar; --library: leave-one-out on your .bib."""
    want_json(False)
    from ..errors import UsageError

    modes = [m.strip() for m in mode.split(",")]
    if not all(m in MODES for m in modes):
        raise UsageError(f"--mode {mode!r}: give one or more of {', '.join(MODES)}, comma-separated")
    if library is not None:
        if benchmarks:
            raise UsageError("give either benchmark folders or --library, not both")
        from ..evaluate.library import evaluate_library, format_library
        from .core import open_index

        report = evaluate_library(open_index(index), library, methods=tuple(m.strip() for m in method.split(",") if m.strip()),
                                  modes=tuple(modes), k=k)
        print(format_library(report))
        _write(json_out, report.to_dict())
        return
    if not benchmarks:
        raise UsageError("give benchmark folders (BEIR layout), or --library LIBRARY.bib -i INDEX")

    def show(report):
        print(f"{report.name}: {report.papers} papers, index {report.index} "
              f"({'built in %.1fs' % report.build_seconds if report.built else 'reused'})", file=sys.stderr)

    if lists:
        from ..evaluate.lists import evaluate_lists, format_list_quality

        if len(modes) != 1:
            raise UsageError("--lists compares one mode at a time: give one --mode")
        rows = evaluate_lists(benchmarks, index_root=index_root, encoder=encoder, model=model, rebuild=rebuild,
                              diversity=diversity, mode=modes[0], progress=True)
        print(format_list_quality(rows))
        _write(json_out, [r.to_dict() for r in rows])
        return
    from ..evaluate.runner import evaluate as run_evaluation, format_reports

    reports = run_evaluation(benchmarks, modes, index_root=index_root, encoder=encoder, model=model, rebuild=rebuild,
                             use_facets=facets, progress=True, on_result=show)
    print(format_reports(reports))
    _write(json_out, [r.to_dict() for r in reports])
