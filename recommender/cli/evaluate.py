"""`recommender evaluate`: ranking quality on relevance-judged collections."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, want_json
from .core import MODES


@app.command()
def evaluate(
    benchmarks: List[Path] = typer.Argument(..., help="Benchmark folders in the BEIR layout (corpus.jsonl, queries.jsonl, qrels.tsv)."),
    mode: str = typer.Option("hybrid", "--mode", help="Comma-separated retrieval modes to compare, e.g. dense,lexical,hybrid."),
    index_root: Path = typer.Option(Path("indexes/eval"), "--index-root", help="Where each collection's index is built or reused."),
    encoder: str = typer.Option("auto", "--encoder", help="Encoder to build with: auto (onnx-int8) | torch | onnx | onnx-int8."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name or folder (default: bundled all-MiniLM-L6-v2)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Build fresh indexes even when up-to-date ones exist."),
    facets: bool = typer.Option(False, "--facets", help="Pass each seed query's facet (CSFCube) to `similar --facet`."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
):
    """nDCG@10, Recall@100 and MRR@10 per collection and retrieval mode (full-corpus ranking, seed left out)."""
    want_json(False)
    from ..errors import UsageError

    modes = [m.strip() for m in mode.split(",")]
    if not all(m in MODES for m in modes):
        raise UsageError(f"--mode {mode!r}: give one or more of {', '.join(MODES)}, comma-separated")
    from ..evaluate.runner import evaluate as run_evaluation, format_reports

    def show(report):
        print(f"{report.name}: {report.papers} papers, index {report.index} "
              f"({'built in %.1fs' % report.build_seconds if report.built else 'reused'})", file=sys.stderr)

    reports = run_evaluation(benchmarks, modes, index_root=index_root, encoder=encoder, model=model, rebuild=rebuild,
                             use_facets=facets, progress=True, on_result=show)
    print(format_reports(reports))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps([r.to_dict() for r in reports], indent=2) + "\n", encoding="utf-8")
        print(f"wrote {json_out}", file=sys.stderr)
