"""Do reading lists and recommendations keep the quality of the ranking they come from?

Free-text collections (scifact, cisi): for every judged query, `search TEXT -k 10` against
`reading-list --query TEXT -n 10` at the default diversity. The list is scored in its relevance order
(`Result.rank`, the order its picks had in the ranking); its reading order groups them by theme,
which is a presentation, not a ranking. Seed-paper collections (csfcube): `similar SEED -k 10` against
`recommend --like SEED -k 10`, which must be the same ranking.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .beir import load_beir
from .metrics import mean_defined, ndcg_at_k

KEEP = 0.9  # a list should keep at least this share of search's nDCG@10
LIST_N = 10


@dataclass
class ListQuality:
    collection: str
    kind: str  # "reading-list vs search" or "recommend vs similar"
    queries: int
    baseline_ndcg: float  # search (or similar)
    list_ndcg: float  # reading list by relevance (or recommend)
    kept: float  # list / baseline
    queries_keeping: float  # share of queries whose list keeps >= KEEP of their own baseline
    identical: float | None = None  # recommend vs similar: share of queries with the same top 10, in order
    list_ndcg_reading_order: float | None = None
    diversity: float | None = None
    ms_per_query: float = 0.0
    per_query: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (baseline, list)

    def to_dict(self) -> dict:
        return asdict(self)


def _free_text(rec, name, queries, qrels, diversity: float, mode: str | None) -> ListQuality:
    from ..lists import reading_list

    per_query, reading = {}, {}
    started = time.perf_counter()
    for q in queries:
        searched = [r.paper.id for r in rec.search(q.text, LIST_N, mode=mode)]
        listed = reading_list(rec, query=q.text, n=LIST_N, diversity=diversity, mode=mode)
        by_relevance = [item.paper.id for item in sorted(listed.items, key=lambda item: item.rank)]
        per_query[q.id] = (ndcg_at_k(searched, qrels[q.id], 10), ndcg_at_k(by_relevance, qrels[q.id], 10))
        reading[q.id] = ndcg_at_k([item.paper.id for item in listed.items], qrels[q.id], 10)
    elapsed = time.perf_counter() - started
    return _summary(name, "reading-list vs search", per_query, elapsed,
                    list_ndcg_reading_order=round(mean_defined(reading.values()), 4), diversity=diversity)


def _seeds(rec, name, queries, qrels, mode: str | None) -> ListQuality:
    from ..lists import recommend

    per_query, same = {}, 0
    started = time.perf_counter()
    for q in queries:
        similar = [r.paper.id for r in rec.similar(q.seed_paper_id, LIST_N, mode=mode)]
        recommended = [r.paper.id for r in recommend(rec, [q.seed_paper_id], k=LIST_N, mode=mode)]
        same += similar == recommended
        per_query[q.id] = (ndcg_at_k(similar, qrels[q.id], 10), ndcg_at_k(recommended, qrels[q.id], 10))
    elapsed = time.perf_counter() - started
    return _summary(name, "recommend vs similar", per_query, elapsed, identical=round(same / max(len(queries), 1), 4))


def _summary(name, kind, per_query, elapsed, **extra) -> ListQuality:
    baseline = mean_defined(b for b, _ in per_query.values())
    listed = mean_defined(v for _, v in per_query.values())
    keeping = sum(1 for b, v in per_query.values() if v >= KEEP * b - 1e-12) / max(len(per_query), 1)
    return ListQuality(name, kind, len(per_query), round(baseline, 4), round(listed, 4),
                       round(listed / baseline, 4) if baseline else 1.0, round(keeping, 4),
                       ms_per_query=round(1000 * elapsed / max(len(per_query), 1), 1),
                       per_query={q: (round(b, 4), round(v, 4)) for q, (b, v) in per_query.items()}, **extra)


def evaluate_lists(benchmarks: list[str | Path], *, index_root: str | Path, encoder: str = "auto",
                   model: str | None = None, rebuild: bool = False, diversity: float = 0.3, mode: str | None = None,
                   progress: bool = False, on_result=None) -> list[ListQuality]:
    from .runner import _index_for

    out = []
    for folder in map(Path, benchmarks):
        data = load_beir(folder)
        rec, *_ = _index_for(folder, index_root, encoder, model, rebuild, progress)
        judged = [q for q in data.queries if any(g > 0 for g in data.qrels.get(q.id, {}).values())]
        seeds = [q for q in judged if q.seed_paper_id]
        texts = [q for q in judged if not q.seed_paper_id]
        for part in ([_seeds(rec, data.name, seeds, data.qrels, mode)] if seeds else []) + \
                    ([_free_text(rec, data.name, texts, data.qrels, diversity, mode)] if texts else []):
            if on_result:
                on_result(part)
            out.append(part)
    return out


def format_list_quality(rows: list[ListQuality]) -> str:
    lines = [f"{'collection':<10} {'comparison':<24} {'queries':>7} {'baseline':>8} {'list':>7} {'kept':>6} "
             f"{'>=90%':>6} {'same':>5} {'ms/q':>6}"]
    for r in rows:
        same = f"{r.identical:.2f}" if r.identical is not None else "–"
        lines.append(f"{r.collection:<10} {r.kind:<24} {r.queries:>7} {r.baseline_ndcg:>8.4f} {r.list_ndcg:>7.4f} "
                     f"{r.kept:>6.1%} {r.queries_keeping:>6.1%} {same:>5} {r.ms_per_query:>6.1f}")
    return "\n".join(lines)
