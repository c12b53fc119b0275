#!/usr/bin/env python
"""Reproduce the ranking comparison on the dev benchmarks (issue 3): every method x every set.

    .venv/bin/python scripts/research_ranking.py --out out/research_ranking.json

Embeddings (documents, queries, corpus sentences) are computed once and cached under
.cache/research/ (git-ignored); a second run only re-scores. Prints one line per method as it goes,
then the table (nDCG@10, Recall@100, MRR@10, and "+ms": query-time CPU ms added over plain dense
retrieval, i.e. over encoding the query and scanning the vectors; one thread, mean over 50 queries),
a check against the issue's reference figures, paired randomisation tests, and writes everything,
per-query nDCG and the cost of every building block included, as JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from scripts.research.core import SETS, load  # noqa: E402
from scripts.research.methods import Study  # noqa: E402

REFERENCE = {  # the reference nDCG@10 figures, for the side-by-side check
    "BM25 (bm25s, en stopwords, no stemmer) [ref]": {"scifact": 0.667, "csfcube": 0.463, "cisi": 0.349},
    "arxiv-sanity tf-idf [ref]": {"scifact": 0.498, "csfcube": 0.413, "cisi": 0.340},
    "MiniLM flat [ref]": {"scifact": 0.660, "csfcube": 0.401, "cisi": 0.423},
    "RRF k=60 (BM25 no-stem, dense) N=1000 [ref]": {"scifact": 0.693, "csfcube": 0.457, "cisi": 0.416},
}
SEED_3WAY = "zscore(BM25, dense, maxsim) equal weights (seed title + abstract sentences; candidates title + abstract sentences)"
CHOSEN = {  # the defaults (recommender/search/fusion.py); the fallbacks serve an index without sentence vectors
    "free text": "zscore(BM25, dense, maxsim) equal weights, query as one sentence",
    "seed paper": SEED_3WAY,
    "free text, fallback": "zscore fusion alpha_dense=0.5 N=1000",
    "seed paper, fallback": "zscore fusion alpha_dense=0.5 N=1000",
}


def run_set(name: str, quick: bool) -> dict:
    t0 = time.perf_counter()
    d = load(name)
    st = Study(d)
    st.base()
    st.fusion_grid()
    if not quick:
        st.build_cost()
        if d.is_seed:
            st.seed_maxsim()
        else:
            st.prf()
            st.maxsent_free_text()
    print(f"[{name}] done in {time.perf_counter() - t0:.0f}s", flush=True)
    return {"results": st.results, "build_cost": getattr(st, "build", None), "blocks_cpu_ms": st.blocks, "blocks_wall_ms": st.blocks_wall, "n_queries": len(d.qtexts), "n_docs": len(d.ids),
            "seconds": time.perf_counter() - t0}


def paired_p(a: list[float], b: list[float], n: int = 20000, seed: int = 0) -> float:
    """Two-sided paired randomisation (sign-flip) test of mean(a - b) = 0 over queries."""
    diff = np.asarray(a) - np.asarray(b)
    if not diff.any():
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n, len(diff)))
    null = np.abs((signs * diff).mean(axis=1))
    return float((np.sum(null >= abs(diff.mean()) - 1e-12) + 1) / (n + 1))


def table(all_res: dict) -> str:
    names: list[str] = []
    for res in all_res.values():
        names += [n for n in res["results"] if n not in names]
    sets = list(all_res)
    head = f"{'method':88s}" + "".join(f" | {s:^33s}" for s in sets)
    sub = f"{'':88s}" + "".join(f" | {'nDCG@10':>7s} {'R@100':>6s} {'MRR@10':>6s} {'+ms':>8s}" + " " for _ in sets)
    lines = [head, sub, "-" * len(sub)]
    for n in names:
        row = f"{n[:88]:88s}"
        for s in sets:
            r = all_res[s]["results"].get(n)
            row += " | " + (f"{r['ndcg@10']:7.3f} {r['recall@100']:6.3f} {r['mrr@10']:6.3f} {r['added_ms']:8.1f} "
                            if r else f"{'n/a':^33s}")
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--out", type=Path, default=Path("out/research_ranking.json"))
    ap.add_argument("--quick", action="store_true", help="references and BM25/dense fusion only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    all_res = {s: run_set(s, args.quick) for s in args.sets}
    print()
    print(table(all_res))
    print("\nreference check (nDCG@10 measured vs the issue's table):")
    for n, ref in REFERENCE.items():
        print(f"  {n:50s} " + "  ".join(f"{s} {all_res[s]['results'][n]['ndcg@10']:.3f} vs {ref[s]:.3f}"
                                         for s in args.sets if n in all_res[s]["results"]))
    for kind, n in CHOSEN.items():
        print(f"chosen for {kind}: {n}: " + "  ".join(
            f"{s} {all_res[s]['results'][n]['ndcg@10']:.3f}" for s in args.sets if n in all_res[s]["results"]))
    print("\npaired randomisation test, chosen vs each reference (delta nDCG@10, two-sided p):")
    tests = {}
    for kind, n in CHOSEN.items():
        for s in args.sets:
            res = all_res[s]["results"]
            if n not in res or kind.startswith("seed") != (s == "csfcube"):
                continue
            for ref in REFERENCE:
                if ref in res:
                    dlt = res[n]["ndcg@10"] - res[ref]["ndcg@10"]
                    p = paired_p(res[n]["per_query_ndcg"], res[ref]["per_query_ndcg"])
                    tests[f"{s}: {n} vs {ref}"] = {"delta": dlt, "p": p}
                    print(f"  {s:8s} {kind:20s} vs {ref[:45]:45s} {dlt:+.3f}  p={p:.4f}")
    for s in args.sets:  # what the sentence store buys: the default vs its fallback
        kind = "seed paper" if s == "csfcube" else "free text"
        res = all_res[s]["results"]
        a, b = CHOSEN[kind], CHOSEN[f"{kind}, fallback"]
        if a in res and b in res:
            dlt = res[a]["ndcg@10"] - res[b]["ndcg@10"]
            p = paired_p(res[a]["per_query_ndcg"], res[b]["per_query_ndcg"])
            tests[f"{s}: {a} vs {b}"] = {"delta": dlt, "p": p}
            print(f"  {s:8s} {kind:20s} vs its fallback (no max-sim){'':19s} {dlt:+.3f}  p={p:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "seconds": time.perf_counter() - t0,
            "reference_ndcg": REFERENCE, "chosen": CHOSEN,
            "significance": tests}
    args.out.write_text(json.dumps({"meta": meta, "sets": all_res}, indent=1))
    print(f"\nwrote {args.out} ({time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    main()
