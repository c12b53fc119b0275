"""Evaluate retrieval modes on relevance-judged collections (BEIR layout), side by side in one run."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError
from ..index import storage
from .beir import load_beir
from .metrics import mean_defined, mrr_at_k, ndcg_at_k, recall_at_k

DEPTH = 100  # Recall@100 needs the top 100


@dataclass
class ModeScores:
    mode: str
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int  # queries with at least one relevant paper (the ones averaged)
    ms_per_query: float


@dataclass
class CollectionReport:
    name: str
    path: str
    papers: int
    index: str
    built: bool  # False when an up-to-date index was reused
    build_seconds: float
    scores: list[ModeScores] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(benchmarks: list[str | Path], modes: list[str], *, index_root: str | Path, encoder: str = "auto",
             model: str | None = None, rebuild: bool = False, use_facets: bool = False, progress: bool = False,
             on_result=None) -> list[CollectionReport]:
    from ..search.engine import check_mode

    for mode in modes:
        check_mode(mode)
    reports = []
    for folder in map(Path, benchmarks):
        data = load_beir(folder)
        rec, built, seconds, index = _index_for(folder, index_root, encoder, model, rebuild, progress)
        report = CollectionReport(data.name, str(folder), len(rec), str(index), built, round(seconds, 2))
        judged = [q for q in data.queries if any(g > 0 for g in data.qrels.get(q.id, {}).values())]
        for mode in modes:
            report.scores.append(_score_mode(rec, judged, data.qrels, mode, use_facets))
        if on_result:
            on_result(report)
        reports.append(report)
    return reports


def _index_for(folder: Path, index_root, encoder, model, rebuild, progress):
    """Reuse an index of this corpus when its manifest says it was built from the same bytes with the same settings."""
    from ..embed import check_recipe
    from ..index.build import build_index
    from ..search.engine import Recommender

    corpus = folder / "corpus.jsonl"
    if not corpus.is_file():
        raise InputError(f"{folder}: no corpus.jsonl; a benchmark folder holds corpus.jsonl, queries.jsonl and qrels.tsv")
    index = Path(index_root) / f"{folder.name}-{encoder}"
    if not rebuild and (index / storage.MANIFEST).is_file():
        try:
            rec = Recommender.open(index, model=model)
            same_corpus = [c["sha256"] for c in rec.manifest["corpus"]] == [storage.sha256_file(corpus)]
            built = rec.manifest["encoder"]
            check_recipe(index, built.get("build_recipe"), built["build"])  # raises for vectors of another recipe
            if same_corpus and (encoder == "auto" or built["build"] == encoder):
                return rec, False, 0.0, index
        except Exception:
            pass  # any doubt about the old index: build a fresh one
    started = time.perf_counter()
    build_index([corpus], index, model=model, encoder=encoder, progress=progress, dedup_titles=False)
    return Recommender.open(index), True, time.perf_counter() - started, index


def _score_mode(rec, queries, qrels, mode: str, use_facets: bool) -> ModeScores:
    from ..search.batch import BatchQuery, run_queries

    batch = [BatchQuery(q.id, q.text, q.seed_paper_id, q.facet if use_facets else None) for q in queries]
    started = time.perf_counter()
    ranked = {qid: [r.paper.id for r in results] for qid, results in run_queries(rec, batch, k=DEPTH, mode=mode, explain=False)}
    elapsed = time.perf_counter() - started
    return ModeScores(
        mode=mode,
        ndcg_at_10=round(mean_defined(ndcg_at_k(ranked[q.id], qrels[q.id], 10) for q in queries), 4),
        recall_at_100=round(mean_defined(recall_at_k(ranked[q.id], qrels[q.id], 100) for q in queries), 4),
        mrr_at_10=round(mean_defined(mrr_at_k(ranked[q.id], qrels[q.id], 10) for q in queries), 4),
        queries=len(queries),
        ms_per_query=round(1000 * elapsed / max(1, len(queries)), 2),
    )


def format_reports(reports: list[CollectionReport]) -> str:
    lines = [f"{'collection':<12} {'mode':<10} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'queries':>7} {'ms/q':>7}"]
    for report in reports:
        for s in report.scores:
            lines.append(f"{report.name:<12} {s.mode:<10} {s.ndcg_at_10:>8.4f} {s.recall_at_100:>7.4f} "
                         f"{s.mrr_at_10:>7.4f} {s.queries:>7} {s.ms_per_query:>7.1f}")
    return "\n".join(lines)
