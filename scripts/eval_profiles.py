#!/usr/bin/env python
"""Leave-one-out evaluation of multi-seed profiles on CSFCube: centroid vs per-profile SVM vs one seed.

    python scripts/eval_profiles.py                                   # dense, the default index
    python scripts/eval_profiles.py --hybrid --out out/eval_profiles.json

For every CSFCube query, its papers of grade >= 2 are a profile. Each one in turn is held out; the
others are the seeds (at least --min-seeds of them), and we measure where the held-out paper ranks
(Recall@20, and MRR = mean of 1/rank over the whole ranking) among all papers but the seeds, the
query's own paper and the drawn negatives (the same candidates for every method). Methods:

  single (query paper)   the CSFCube query paper alone: the benchmark's own single-seed query
  single (one seed)      one of the profile's seeds alone, averaged over the seeds (a user's one paper)
  centroid, svm, logistic   recommender.lists.methods on all the seeds
  ... +query             ... with the query paper added to the seeds
  ... +neg               ... with --negatives papers the experts judged irrelevant (grade 0) as --unlike

Scores are the dense path's (inner product with the profile direction over the stored vectors: what
a flat FAISS index returns); --hybrid also runs the three through the engine's hybrid ranking
(`rank_profile`, k = --depth; a paper ranked deeper counts as rank infinity). Per method: the mean over
all held-out cases ("micro") and the mean of per-query means ("macro"); paired differences get a 95%
bootstrap interval resampling queries (cases of one query are not independent).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

DEFAULT_INDEX = ROOT / ".cache" / "indexes" / "csfcube"
DEFAULT_BENCH = ROOT.parent / "shared" / "benchmarks" / "csfcube"
BUILD_HINT = ("recommender build {bench}/corpus.jsonl --index {index} --keep-same-titles --encoder onnx")


def load_benchmark(folder: Path) -> tuple[dict[str, dict], dict[str, dict[str, int]]]:
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            queries[q["_id"]] = q
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, grade = line.split("\t")
        qrels[qid][did] = int(grade)
    return queries, qrels


def rank_of(scores: np.ndarray, target: int, excluded: np.ndarray) -> int:
    """1-based rank of `target` among the rows not excluded; ties count against it (pessimistic)."""
    mask = np.ones(len(scores), dtype=bool)
    mask[excluded] = False
    assert mask[target], "the held-out paper is among the excluded rows"
    return int(np.sum(scores[mask] >= scores[target]))


def metrics(rank: float, cutoff: int = 20) -> dict[str, float]:
    return {"recall@20": float(rank <= cutoff), "mrr": 0.0 if not np.isfinite(rank) else 1.0 / rank}


def bootstrap_diff(per_query_a: dict[str, float], per_query_b: dict[str, float], rounds: int = 2000, seed: int = 0):
    """Mean of per-query (a - b), and its 95% bootstrap interval over queries."""
    keys = sorted(per_query_a)
    diffs = np.array([per_query_a[k] - per_query_b[k] for k in keys])
    rng = np.random.default_rng(seed)
    samples = diffs[rng.integers(0, len(diffs), size=(rounds, len(diffs)))].mean(axis=1)
    return float(diffs.mean()), [float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--benchmark", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--min-grade", type=int, default=2)
    parser.add_argument("--min-seeds", type=int, default=2, help="seeds left after holding one out")
    parser.add_argument("--negatives", type=int, default=5, help="grade-0 papers given as --unlike in the +neg runs")
    parser.add_argument("--hybrid", action="store_true", help="also rank centroid and svm through the hybrid path")
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--sensitivity", action="store_true",
                        help="also LogisticRegression, other C values, Rocchio weights (no negatives and +neg)")
    parser.add_argument("--variants", nargs="*", default=None, metavar="NAME",
                        help="with --sensitivity: only these extra variants (e.g. 'logistic C=1')")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "eval_profiles.json")
    args = parser.parse_args()

    from recommender.errors import RecommenderError
    from recommender.lists.methods import centroid_direction, classifier_direction, rank_profile
    from recommender.lists.profile import Profile, Seed
    from recommender.search.engine import Recommender

    if not (args.index / "manifest.json").is_file():
        print(f"no index at {args.index}; build it once with:\n  "
              + BUILD_HINT.format(bench=args.benchmark, index=args.index), file=sys.stderr)
        return 2
    try:
        rec = Recommender.open(args.index)
        vectors = np.asarray(rec.vectors, dtype=np.float32)
    except RecommenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    queries, qrels = load_benchmark(args.benchmark)
    row = rec.row_of_id

    def seed(r: int) -> Seed:
        return Seed(rec.papers[r].title, rec.papers[r].text, vectors[r], "paper", r)

    import recommender.lists.methods as methods

    def rocchio(weight):
        def direction(profile):
            saved, methods.ROCCHIO_NEGATIVE = methods.ROCCHIO_NEGATIVE, weight
            try:
                return centroid_direction(profile)
            finally:
                methods.ROCCHIO_NEGATIVE = saved
        return direction

    main_variants = {"centroid": centroid_direction, "svm": lambda p: classifier_direction(p, vectors, "svm"),
                     "logistic": lambda p: classifier_direction(p, vectors, "logistic")}
    extra_variants = {
        "svm C=0.01": lambda p: classifier_direction(p, vectors, "svm", c=0.01),
        "svm C=1": lambda p: classifier_direction(p, vectors, "svm", c=1.0),
        "logistic C=0.1": lambda p: classifier_direction(p, vectors, "logistic", c=0.1),
        "logistic C=10": lambda p: classifier_direction(p, vectors, "logistic", c=10.0),
        "logistic negshare=0.05": lambda p: classifier_direction(p, vectors, "logistic", negative_share=0.05),
        "logistic negshare=1": lambda p: classifier_direction(p, vectors, "logistic", negative_share=1.0),
        "logistic negshare=4": lambda p: classifier_direction(p, vectors, "logistic", negative_share=4.0),
        "centroid rocchio=0.1": rocchio(0.1),
        "centroid rocchio=0.25": rocchio(0.25),
    }
    if args.variants is not None:
        unknown = set(args.variants) - set(extra_variants)
        if unknown:
            parser.error(f"unknown variants {sorted(unknown)}; choose from {sorted(extra_variants)}")
        extra_variants = {k: v for k, v in extra_variants.items() if k in args.variants}
    per_case: dict[str, list[tuple[str, dict]]] = defaultdict(list)  # method -> [(query id, metrics)]
    timings: dict[str, list[float]] = defaultdict(list)
    cases = 0
    rng = np.random.default_rng(0)
    for qid, query in sorted(queries.items()):
        query_row = row[query["seed_paper_id"]]
        # (one query judges its own paper "identical": it is the query, not something to find)
        relevant = [row[d] for d, g in sorted(qrels[qid].items()) if g >= args.min_grade and d in row and row[d] != query_row]
        if len(relevant) - 1 < args.min_seeds:
            continue
        judged_irrelevant = [row[d] for d, g in sorted(qrels[qid].items()) if g == 0 and d in row]
        negatives = sorted(rng.choice(judged_irrelevant, min(args.negatives, len(judged_irrelevant)), replace=False).tolist())
        for held in relevant:
            cases += 1
            seeds = [r for r in relevant if r != held]
            excluded = np.array(sorted(set(seeds) | {query_row} | set(negatives)), dtype=np.int64)
            ranks: dict[str, float] = {}
            ranks["single (query paper)"] = rank_of(vectors @ vectors[query_row], held, excluded)
            single = [metrics(rank_of(vectors @ vectors[s], held, excluded)) for s in seeds]
            per_case["single (one seed)"].append((qid, {m: statistics.fmean(x[m] for x in single) for m in single[0]}))
            profiles = {
                "": Profile([seed(r) for r in seeds], exclude_rows=frozenset(excluded.tolist())),
                " +query": Profile([seed(r) for r in [query_row, *seeds]], exclude_rows=frozenset(excluded.tolist())),
                " +neg": Profile([seed(r) for r in seeds], [seed(r) for r in negatives], exclude_rows=frozenset(excluded.tolist())),
            }
            for suffix, profile in profiles.items():
                variants = dict(main_variants)
                if args.sensitivity and suffix != " +query":
                    # the negative weights only matter with negatives
                    variants.update({k: v for k, v in extra_variants.items()
                                     if suffix == " +neg" or not ("negshare" in k or "rocchio" in k)})
                for name, direction_of in variants.items():
                    started = time.perf_counter()
                    direction = direction_of(profile)
                    if suffix == "":
                        timings[name].append(time.perf_counter() - started)
                    ranks[name + suffix] = rank_of(vectors @ direction, held, excluded)
                    if args.hybrid and suffix == "" and name in main_variants:
                        results = rank_profile(rec, profile, args.depth, mode="hybrid", direction=direction, explain=False)
                        ids = [r.paper.id for r in results]
                        held_id = rec.ids[held]
                        ranks[f"{name} (hybrid)"] = ids.index(held_id) + 1 if held_id in ids else float("inf")
            for name, rank in ranks.items():
                per_case[name].append((qid, metrics(rank)))
        print(f"{qid}: {len(relevant)} profile papers", file=sys.stderr)

    summary = {}
    per_query_means: dict[str, dict[str, dict[str, float]]] = {}
    for name, rows in per_case.items():
        by_query: dict[str, list[dict]] = defaultdict(list)
        for qid, m in rows:
            by_query[qid].append(m)
        per_query_means[name] = {q: {m: statistics.fmean(x[m] for x in ms) for m in ms[0]} for q, ms in by_query.items()}
        summary[name] = {
            "micro": {m: round(statistics.fmean(x[m] for _, x in rows), 4) for m in rows[0][1]},
            "macro": {m: round(statistics.fmean(v[m] for v in per_query_means[name].values()), 4) for m in rows[0][1]},
        }
    comparisons = {}
    for a, b in (("svm", "centroid"), ("centroid", "single (one seed)"), ("svm", "single (one seed)"),
                 ("centroid", "single (query paper)"), ("svm", "single (query paper)"),
                 ("svm +neg", "svm"), ("centroid +neg", "centroid"), ("svm +neg", "centroid +neg"),
                 ("svm (hybrid)", "svm"), ("centroid (hybrid)", "centroid"),
                 ("logistic", "centroid"), ("logistic", "svm"), ("logistic +neg", "svm +neg"),
                 ("logistic +neg", "centroid +neg"), ("logistic +neg", "logistic"), ("logistic (hybrid)", "logistic"),
                 ("logistic", "single (one seed)"), ("logistic", "single (query paper)")):
        if a in per_query_means and b in per_query_means:
            comparisons[f"{a} - {b}"] = {
                m: dict(zip(("mean", "ci95"), bootstrap_diff({q: v[m] for q, v in per_query_means[a].items()},
                                                             {q: v[m] for q, v in per_query_means[b].items()})))
                for m in ("recall@20", "mrr")}
    speed = {name: {"median_ms": round(1000 * statistics.median(t), 2), "calls": len(t)} for name, t in timings.items()}
    report = {"index": str(args.index), "papers": len(rec), "queries": len({q for q, _ in per_case["svm"]}),
              "held_out_cases": cases, "min_grade": args.min_grade, "min_seeds": args.min_seeds,
              "negatives": args.negatives, "methods": summary, "paired_differences_macro": comparisons,
              "profile_direction_time": speed}

    print(f"CSFCube leave-one-out: {report['queries']} queries, {cases} held-out papers, {len(rec)} candidates")
    print(f"{'method':<24} {'R@20 micro':>10} {'MRR micro':>10} {'R@20 macro':>11} {'MRR macro':>10}")
    for name, s in summary.items():
        print(f"{name:<24} {s['micro']['recall@20']:>10.3f} {s['micro']['mrr']:>10.3f} "
              f"{s['macro']['recall@20']:>11.3f} {s['macro']['mrr']:>10.3f}")
    print("\npaired differences (macro, 95% bootstrap CI over queries)")
    for name, c in comparisons.items():
        print(f"  {name:<40} R@20 {c['recall@20']['mean']:+.3f} [{c['recall@20']['ci95'][0]:+.3f}, {c['recall@20']['ci95'][1]:+.3f}]"
              f"   MRR {c['mrr']['mean']:+.3f} [{c['mrr']['ci95'][0]:+.3f}, {c['mrr']['ci95'][1]:+.3f}]")
    print("\nprofile direction, median per call: " + ", ".join(f"{k} {v['median_ms']} ms" for k, v in speed.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
