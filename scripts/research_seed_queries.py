#!/usr/bin/env python
"""How to query by a seed paper (issue 12): which seed words go to BM25, and how the two runs are fused.

    python scripts/research_seed_queries.py --index indexes/eval/csfcube-auto --bench ../shared/benchmarks/csfcube

Uses the index `recommender evaluate` builds (`indexes/eval/csfcube-auto`). For every seed-paper query
it scores the whole corpus once per variant and prints nDCG@10, Recall@100 and MRR@10 (the protocol of
`recommender evaluate`: full corpus, the seed left out). Variants:

  lexical side   every word         BM25 of the seed's whole "title. abstract" (before issue 12)
                 topT tf*idf        the seed's T words of highest count x idf (Lucene's "more like this"),
                                    each weighted by its count in the seed (the default: T = 50)
                 every word, weight tf*idf     every word, weighted by count x idf
                 top30 bm25 weight, once       the 30 words of highest BM25 weight in the seed, once each
                 every word once    every distinct word once (what the count adds)
  dense side     sent   the normalised mean of the seed's sentence vectors (title + abstract sentences)
                 vec    the seed's stored paper vector
  fusion         equal  z-scores of each run's top 1,000, averaged with equal weights
                 peak   weights proportional to how far each run's top 10 stand out (mean z of its top 10)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from recommender.evaluate.beir import load_beir  # noqa: E402
from recommender.evaluate.metrics import mean_defined, mrr_at_k, ndcg_at_k, recall_at_k  # noqa: E402
from recommender.search import ranking  # noqa: E402
from recommender.search.engine import Recommender  # noqa: E402
from recommender.search.fusion import FUSION_DEPTH, fuse_by_peak, score_fusion  # noqa: E402


def top_run(scores: np.ndarray, exclude: int, depth: int = FUSION_DEPTH):
    scores = scores.astype(np.float32).copy()
    scores[exclude] = -np.inf
    rows = np.argsort(-scores, kind="stable")[:depth]
    rows = rows[np.isfinite(scores[rows])]
    return rows.astype(np.int64), scores[rows]


def fuse(runs, how: str):
    if how == "equal":
        return score_fusion(runs, [1 / len(runs)] * len(runs))
    return fuse_by_peak(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=ROOT / "indexes" / "eval" / "csfcube-auto")
    ap.add_argument("--bench", type=Path, default=ROOT.parent.parent / "shared" / "benchmarks" / "csfcube")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "research_seed_queries.json")
    args = ap.parse_args()
    data = load_beir(args.bench)
    rec = Recommender.open(args.index)
    vectors = np.asarray(rec.vectors, dtype=np.float32)
    judged = [q for q in data.queries if any(g > 0 for g in data.qrels.get(q.id, {}).values())]
    per_variant: dict[str, list[tuple[float, float, float]]] = {}
    for q in judged:
        row = rec.row_of_id[q.seed_paper_id]
        seed = rec.papers[row]
        dense = {"vec": vectors @ vectors[row], "sent": vectors @ rec.seed_vector(seed)}
        terms = ranking.seed_terms(rec, seed.text)
        tf, idf = terms.tf, terms.idf
        k1 = 1.5  # the index's BM25 k1
        lexical = {"every word": rec.lexical.scores(seed.text)}
        for t in (25, 50, 100):
            lexical[f"top{t} tf*idf, weight tf"] = ranking.weighted_bm25(rec, terms.distinctive(t), terms)
        lexical["every word, weight tf*idf"] = ranking.weighted_bm25(rec, {w: tf[w] * idf[w] for w in tf}, terms)
        bm25_weight = {w: idf[w] * tf[w] * (k1 + 1) / (tf[w] + k1) for w in tf}
        top30 = sorted(bm25_weight, key=lambda w: (-bm25_weight[w], w))[:30]
        lexical["top30 bm25 weight, once"] = ranking.weighted_bm25(rec, {w: 1.0 for w in top30}, terms)
        lexical["every word once"] = ranking.weighted_bm25(rec, {w: 1.0 for w in tf}, terms)
        variants = {f"lexical {k}": top_run(v, row) for k, v in lexical.items()}
        variants.update({f"dense {k}": top_run(v, row) for k, v in dense.items()})
        for lk, lv in lexical.items():
            for dk, dv in dense.items():
                hows = ("equal", "peak") if lk in ("every word", f"top{ranking.SEED_TERMS} tf*idf, weight tf") else ("equal",)
                for how in hows:
                    variants[f"{lk} + {dk} ({how})"] = fuse([top_run(lv, row), top_run(dv, row)], how)
        for name, (rows, _) in variants.items():
            ids = [rec.ids[r] for r in rows[:100].tolist()]
            rel = data.qrels[q.id]
            per_variant.setdefault(name, []).append((ndcg_at_k(ids, rel, 10), recall_at_k(ids, rel, 100), mrr_at_k(ids, rel, 10)))
    table = {name: [round(mean_defined(v[i] for v in vals), 4) for i in range(3)] for name, vals in per_variant.items()}
    print(f"{'variant':<48} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7}   ({len(judged)} queries)")
    for name, (ndcg, recall, mrr) in table.items():
        print(f"{name:<48} {ndcg:>8.4f} {recall:>7.4f} {mrr:>7.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"queries": len(judged), "variants": table,
                                    "per_query_ndcg": {n: [v[0] for v in vals] for n, vals in per_variant.items()}},
                                   indent=1), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
