"""Shared machinery of the ranking research: data, full-corpus score matrices, evaluation."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from recommender.evaluate.beir import BeirSet, load_beir  # noqa: E402
from recommender.evaluate.metrics import mean_defined, mrr_at_k, ndcg_at_k, recall_at_k  # noqa: E402
from recommender.search.seed import paper_sentences  # noqa: E402
from scripts.research.cache import embed_cached  # noqa: E402

BENCH = Path("/work/shared/benchmarks")
SETS = ("scifact", "csfcube", "cisi")


@dataclass
class Data:
    name: str
    bset: BeirSet
    ids: list[str]
    row_of: dict[str, int]
    seed_rows: np.ndarray  # -1 for free-text queries
    qtexts: list[str]  # what a query "says": its text, or the seed's title. abstract
    qrels: list[dict[str, int]]
    facets: list[str | None]
    doc_vecs: np.ndarray | None = None
    query_vecs: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_seed(self) -> bool:
        return bool((self.seed_rows >= 0).any())


def load(name: str, with_vectors: bool = True) -> Data:
    b = load_beir(BENCH / name)
    ids = [p.id for p in b.corpus]
    row_of = {d: i for i, d in enumerate(ids)}
    seed_rows = np.array([row_of[q.seed_paper_id] if q.seed_paper_id else -1 for q in b.queries], dtype=np.int64)
    qtexts = [b.corpus[s].text if s >= 0 else q.text for q, s in zip(b.queries, seed_rows)]
    d = Data(name, b, ids, row_of, seed_rows, qtexts, [b.qrels.get(q.id, {}) for q in b.queries], [q.facet for q in b.queries])
    if with_vectors:
        d.doc_vecs = embed_cached(f"{name}-docs", [p.text for p in b.corpus])
        if d.is_seed:
            d.query_vecs = d.doc_vecs[seed_rows]  # the seed's own vector (title. abstract)
        else:
            d.query_vecs = embed_cached(f"{name}-queries", [q.text for q in b.queries])
    return d


def sentences(d: Data, with_title: bool = True):
    """(sentence vectors, doc-of-sentence int array, is-title bool array) for the whole corpus.

    Always computed with the title as a sentence (one cache file); with_title=False drops those rows."""
    if "sents" not in d.extra:
        texts, owner, is_title = [], [], []
        for i, p in enumerate(d.bset.corpus):
            parts = paper_sentences(p.title, p.abstract)
            texts += parts
            owner += [i] * len(parts)
            is_title += [bool(p.title)] + [False] * (len(parts) - 1) if p.title else [False] * len(parts)
        vecs = embed_cached(f"{d.name}-sents", texts, batch_size=128)
        d.extra["sents"] = (vecs, np.array(owner, dtype=np.int64), np.array(is_title, dtype=bool), texts)
    vecs, owner, is_title, texts = d.extra["sents"]
    if with_title:
        return vecs, owner, is_title, texts
    keep = ~is_title
    # a paper with no abstract keeps its title as its only sentence
    has_other = np.bincount(owner[keep], minlength=len(d.ids)) > 0
    keep |= is_title & ~has_other[owner]
    return vecs[keep], owner[keep], is_title[keep], [t for t, k in zip(texts, keep) if k]


def exclude_seed(scores: np.ndarray, d: Data) -> np.ndarray:
    """Full score matrix (n_queries, n_docs) with each seed's own row set to -inf."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    q = np.nonzero(d.seed_rows >= 0)[0]
    scores[q, d.seed_rows[q]] = -np.inf
    return scores


def topn(scores_row: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-n (rows, scores) of one full score vector, sorted descending; -inf rows dropped."""
    n = min(n, scores_row.shape[0])
    part = np.argpartition(-scores_row, n - 1)[:n]
    part = part[np.argsort(-scores_row[part], kind="stable")]
    part = part[np.isfinite(scores_row[part])]
    return part.astype(np.int64), scores_row[part].astype(np.float32)


def evaluate(rankings: list[np.ndarray], d: Data) -> dict:
    """rankings: per query an int array of corpus rows, best first (seed already excluded)."""
    nd, rc, mr = [], [], []
    for rows, q, seed in zip(rankings, d.qrels, d.seed_rows):
        ranked = [d.ids[r] for r in rows[:100] if r != seed]
        nd.append(ndcg_at_k(ranked, q, 10))
        rc.append(recall_at_k(ranked, q, 100))
        mr.append(mrr_at_k(ranked, q, 10))
    per_q = [x for x in nd if x is not None]
    return {"ndcg@10": mean_defined(nd), "recall@100": mean_defined(rc), "mrr@10": mean_defined(mr), "per_query_ndcg": per_q}


def rank_full(scores: np.ndarray, d: Data, n: int = 100) -> list[np.ndarray]:
    s = exclude_seed(scores, d)
    return [topn(row, n)[0] for row in s]


class one_thread:
    """Run BLAS and torch on one thread: per-query cost without waiting for a second, busy core."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(1)
        self._torch = sys.modules.get("torch")
        if self._torch is not None:
            self._n = self._torch.get_num_threads()
            self._torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        self._limits.restore_original_limits()
        if self._torch is not None:
            self._torch.set_num_threads(self._n)


def median_ms(fn, items, limit: int = 200) -> tuple[float, float]:
    """Per-call cost of fn(item) over (a sample of) items, on one thread: (CPU ms, wall-clock ms).

    CPU ms is the MEAN of time.process_time over the sample (that clock ticks in 4 ms steps here, so
    a per-call median would be 0 or 4); it is the robust figure on a machine shared with other jobs,
    where wall-clock time mostly measures waiting for a core. Wall ms is the per-call median."""
    items = list(items)[:limit]
    with one_thread():
        fn(items[0])
        wall = []
        c0 = time.process_time()
        for it in items:
            t0 = time.perf_counter()
            fn(it)
            wall.append((time.perf_counter() - t0) * 1000)
        cpu = (time.process_time() - c0) * 1000 / len(items)
    return float(cpu), float(np.median(wall))
