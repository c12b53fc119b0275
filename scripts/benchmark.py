#!/usr/bin/env python
"""How fast the recommender is at 1K-1M papers, side by side with the obvious implementation, in one run.

    python scripts/benchmark.py                                   # everything: text, cold start, scale to 1M
    python scripts/benchmark.py --sections scale --sizes 1000,10000 --out /tmp/b.json --plot /tmp/b.png
    python scripts/benchmark.py --quality .cache/enc/eval-*.json  # add nDCG@10 per encoder from `recommender evaluate`

Sections (figures are medians over --repeats unless said otherwise):
  text   embedding papers/s per encoder on real abstracts of ../shared/benchmarks (the encoders take
         turns within each repeat, so load from other processes falls on all alike), padding waste of
         our token-budget batches, build papers/s of a 1K-paper index (fp32 and int8, no cache, taking turns
         with the obvious build: sentence-transformers + IndexFlatIP), a rebuild of the unchanged corpus
         with the default encoder, an `add` of 10 papers.
  cold   time to first result of a fresh `recommender search` / `similar` process on the 1K index, and of
         the obvious script (import sentence-transformers, load the model, encode, IndexFlatIP search).
  map    the collection map's layout (recommender.maps.layout, run by every build, add and remove): seconds
         and peak memory of a fresh process laying out N synthetic papers, per --map-sizes; above
         layout.MAX_MAP_PAPERS the build skips it (the manifest says so).
  scale  per corpus size and index type, on synthetic vectors: build time and peak memory, size on disk,
         query latency p50/p99 (cold process and warm, single and batched of 64), recall@10 against
         exact search, peak memory of the query process; the obvious IndexFlatIP read into memory beside it.
  scaleout  (`--sections scaleout`; not in the default run) the Ray engine against the local build on the same
         real papers and cores (--scaleout-papers; overhead and throughput, and that the vectors are equal);
         peak memory of a streamed build of --stream-papers synthetic papers (words drawn from the real
         abstracts; the encoder replaced by a hash-seeded stand-in, since 10M real embeddings take ~93
         core-hours); the sharded lexical index against one bm25s index at --lexical-papers papers: equal
         scores on real queries, and query p50 of each.
Synthetic vectors: real abstract vectors (the three dev collections) as parents; each synthetic paper is
a parent plus Gaussian noise with the real collection's own covariance (scaled by SPREAD), normalised.
At 100K papers a query's nearest neighbours then have cosines 0.79 (top 1) and 0.71 (10th), against
0.69 and 0.58 among the real abstracts: clustered like real embeddings, not uniform noise.
Page cache: files are read after being written, so "cold" is a fresh process, not a cold disk.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# recommender.index.storage sets OMP_WAIT_POLICY=PASSIVE for FAISS when imported; the obvious implementation
# (and the in-process sentence-transformers, imported before it) keeps OpenMP's default.
OWN_WAIT_POLICY = "OMP_WAIT_POLICY" not in os.environ

import numpy as np  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
COLLECTIONS = ("scifact", "csfcube", "cisi")
SPREAD = 0.7
QUERY_TEXT = "defenses against backdoor attacks on neural networks"
TYPES = ("flat", "hnsw", "ivfpq")
QUERY_FIGURES = ("cold_s", "p50_ms", "p99_ms", "batched_ms_per_query", "peak_rss_mb", "private_mb", "file_mb")
OBVIOUS_QUERY = """
import json, sys, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
import faiss
model = SentenceTransformer({model!r}, device="cpu")
index = faiss.read_index({faiss_file!r})
ids = json.load(open({ids_file!r}))
scores, rows = index.search(model.encode([{query!r}], normalize_embeddings=True), 10)
print(json.dumps({{"seconds": time.perf_counter() - t0, "first": ids[rows[0][0]]}}))
"""


def pct(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else None


def memory_mb() -> dict:
    """Peak resident memory of this process (VmHWM; not ru_maxrss, which keeps the parent's size across
    fork + exec), and what it holds now privately (RssAnon) and as mapped files (RssFile: page cache,
    shared with other processes and given back under pressure)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    kb = {name: int(fields[name].split()[0]) for name in ("VmHWM", "RssAnon", "RssFile")}
    return {"peak_rss_mb": kb["VmHWM"] / 1024, "private_mb": kb["RssAnon"] / 1024, "file_mb": kb["RssFile"] / 1024}


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def real_papers(n: int | None = None, seed: int = 0) -> list:
    """Papers of the three dev collections: all of them, or a seeded sample of n."""
    from recommender.ingest import read_corpus

    papers = [p for name in COLLECTIONS for p in read_corpus([BENCHMARKS / name / "corpus.jsonl"], dedup_titles=False).papers]
    if n is None:
        return papers
    rows = np.random.default_rng(seed).choice(len(papers), size=min(n, len(papers)), replace=False)
    return [papers[r] for r in rows]


def write_corpus(path: Path, papers: list, prefix: str) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for i, p in enumerate(papers):
            out.write(json.dumps({"_id": f"{prefix}{i}", "title": p.title, "text": p.abstract}) + "\n")
    return path


def run_child(args: list[str], timeout: float = 7200, obvious: bool = False) -> dict:
    """Run this script (or code) in a fresh process; its last stdout line is JSON.

    The obvious implementation runs with OpenMP's default (spinning) wait policy, as it would anywhere else."""
    env = dict(os.environ)
    if obvious and OWN_WAIT_POLICY:
        env.pop("OMP_WAIT_POLICY", None)
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {args[:3]} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    out = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    out["wall_s"] = time.perf_counter() - started
    out["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


# --- text: encoders, builds, the embedding cache ------------------------------------------------------

def bench_text(args, work: Path) -> dict:
    from sentence_transformers import SentenceTransformer

    from recommender.embed import load_encoder, resolve_model
    from recommender.index.build import DEFAULT_BUILD_ENCODER

    papers = real_papers(args.text_sample, seed=1)
    texts = [p.text for p in papers]
    ref = resolve_model(None)
    obvious = SentenceTransformer(ref.path, device="cpu")
    encoders = {"sentence-transformers (obvious)": lambda t: obvious.encode(t, normalize_embeddings=True)}
    for kind in ("onnx", "onnx-int8"):
        encoder = load_encoder(ref, kind)
        encoders[kind] = encoder.encode
    times: dict[str, list[float]] = {name: [] for name in encoders}
    vectors = {}
    for name, encode in encoders.items():
        encode(texts[:16])  # warm-up: first-call allocations, not steady throughput
    for _ in range(args.text_repeats):
        for name, encode in encoders.items():
            started = time.perf_counter()
            vectors[name] = np.asarray(encode(texts), dtype=np.float32)
            times[name].append(time.perf_counter() - started)
    base = "sentence-transformers (obvious)"
    result = {"texts": len(texts), "repeats": args.text_repeats, "encoders": {}}
    for name in encoders:
        cos = np.sum(vectors[name] * vectors[base], axis=1)
        result["encoders"][name] = {
            "papers_per_s": len(texts) / statistics.median(times[name]),
            "speedup": statistics.median(times[base]) / statistics.median(times[name]),
            "cosine_to_torch_mean": float(cos.mean()), "cosine_to_torch_min": float(cos.min()),
        }
    result["padding"] = padding_waste(load_encoder(ref, "onnx"), texts)
    result["builds"] = bench_builds(papers, work, DEFAULT_BUILD_ENCODER, obvious, args.build_repeats)
    return result


def padding_waste(encoder, texts: list[str], batch: int = 64) -> dict:
    """Share of the tokens fed to the model that are padding: batches of `batch` in corpus order, and
    the encoder's own plan (longest first, at most BATCH_TOKENS padded tokens a batch)."""
    from recommender.embed.onnx_runtime import BATCH_TOKENS, plan_batches

    lengths = np.array([len(ids) for ids in encoder._runtime.tokenize(texts)])

    def waste(batches):
        padded = sum(len(rows) * lengths[rows].max() for rows in batches)
        return 1 - lengths.sum() / padded

    corpus_order = [np.arange(i, min(i + batch, len(lengths))) for i in range(0, len(lengths), batch)]
    plan = plan_batches(lengths, batch, BATCH_TOKENS)
    return {"batch": batch, "batch_tokens": BATCH_TOKENS, "corpus_order": float(waste(corpus_order)),
            "ours": float(waste(plan)), "ours_batches": len(plan), "mean_tokens": float(lengths.mean())}


def bench_builds(papers: list, work: Path, default_kind: str, obvious, repeats: int) -> dict:
    """Whole builds of the same 1K papers (read, embed, FAISS, BM25, write), no embedding cache, taking
    turns `repeats` times: the obvious build (sentence-transformers + IndexFlatIP) and ours per encoder."""
    import faiss

    from recommender.index.build import build_index
    from recommender.index.update import add_to_index

    texts = [p.text for p in papers]
    corpus = write_corpus(work / "corpus-1k.jsonl", papers, "p")

    def obvious_build() -> float:
        started = time.perf_counter()
        vectors = obvious.encode(texts, normalize_embeddings=True)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        faiss.write_index(flat, str(work / "obvious.faiss"))
        return time.perf_counter() - started

    kinds = ("onnx", "onnx-int8")
    seconds: dict[str, list[float]] = {"obvious": [], **{k: [] for k in kinds}}
    for _ in range(repeats):
        seconds["obvious"].append(obvious_build())
        for kind in kinds:
            seconds[kind].append(build_index([corpus], work / f"index-1k-{kind}", encoder=kind, progress=False,
                                             use_cache=False, dedup_titles=False).seconds)
    obvious_s = statistics.median(seconds["obvious"])
    per_kind = {kind: {"s": statistics.median(runs), "runs_s": runs, "papers_per_s": len(texts) / statistics.median(runs),
                       "speedup": obvious_s / statistics.median(runs)} for kind, runs in seconds.items() if kind != "obvious"}
    cache = work / "embedding-cache.sqlite"
    cache.unlink(missing_ok=True)
    first = build_index([corpus], work / "index-1k", progress=False, cache_path=cache, dedup_titles=False)
    again = build_index([corpus], work / "index-1k", progress=False, cache_path=cache, dedup_titles=False)
    extra = write_corpus(work / "extra-10.jsonl", real_papers(10, seed=99), "new")
    (work / "add-cache.sqlite").unlink(missing_ok=True)  # a cold cache: the 10 new papers must be embedded
    added = add_to_index([extra], work / "index-1k", progress=False, cache_path=work / "add-cache.sqlite")
    return {
        "papers": len(texts), "repeats": repeats, "encoder": default_kind,
        "obvious_s": obvious_s, "obvious_runs_s": seconds["obvious"], "obvious_papers_per_s": len(texts) / obvious_s,
        "kinds": per_kind, "speedup": per_kind[default_kind]["speedup"],
        "default_first_build_s": first.seconds, "default_first_build_embedded": first.embedded,
        "rebuild_unchanged_s": again.seconds, "rebuild_unchanged_embedded": again.embedded,
        "add_10_s": added.seconds, "add_10_embedded": added.embedded, "add_10_added": len(added.added),
    }


# --- cold: a fresh process to the first result ----------------------------------------------------------

def bench_cold(args, work: Path) -> dict:
    from recommender.embed import resolve_model
    from recommender.search.engine import Recommender

    index = work / "index-1k"
    if not (index / "manifest.json").is_file():
        raise SystemExit(f"{index}: run the text section first (it builds the 1K index)")
    rec = Recommender.open(index)
    seed_id = rec.ids[0]
    commands = {
        "search (hybrid)": ["-m", "recommender", "search", QUERY_TEXT, "--index", str(index), "-k", "10"],
        "search (dense)": ["-m", "recommender", "search", QUERY_TEXT, "--index", str(index), "-k", "10", "--mode", "dense"],
        "similar": ["-m", "recommender", "similar", seed_id, "--index", str(index), "-k", "10"],
        "obvious (sentence-transformers + IndexFlatIP)": ["-c", OBVIOUS_QUERY.format(
            model=resolve_model(None).path, faiss_file=str(work / "obvious.faiss"),
            ids_file=str(index / "ids.json"), query=QUERY_TEXT)],
    }
    result = {"papers": len(rec), "repeats": args.repeats, "commands": {}}
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for name, command in commands.items():
        run_child(command, obvious=name.startswith("obvious"))  # warm-up: the page cache holds the model files afterwards
    for _ in range(args.repeats):
        for name, command in commands.items():
            runs[name].append(run_child(command, obvious=name.startswith("obvious")))
    for name, done in runs.items():
        result["commands"][name] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in done), "wall_s_min": min(r["wall_s"] for r in done),
            "cpu_s_median": statistics.median(r["cpu_s"] for r in done),
        }
    obvious = result["commands"]["obvious (sentence-transformers + IndexFlatIP)"]["wall_s_median"]
    for entry in result["commands"].values():
        entry["speedup"] = obvious / entry["wall_s_median"]
    result["load_average"] = os.getloadavg()
    return result


# --- scale: synthetic vectors, every index type ----------------------------------------------------------

def synthetic(parents: np.ndarray, n: int, seed: int) -> np.ndarray:
    mean = parents.mean(axis=0)
    _, s, vt = np.linalg.svd(parents - mean, full_matrices=False)
    spread = (SPREAD * s / np.sqrt(len(parents))).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n, parents.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        noise = (rng.standard_normal((m, len(spread)), dtype=np.float32) * spread) @ vt
        x = parents[rng.integers(0, len(parents), m)] + noise
        out[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def parent_vectors() -> np.ndarray:
    """The dev collections' abstracts through the default encoder (from the embedding cache when it has them)."""
    from recommender.embed import load_encoder
    from recommender.embed.cache import embed_with_cache
    from recommender.index.build import DEFAULT_BUILD_ENCODER

    vectors, _ = embed_with_cache(load_encoder(None, DEFAULT_BUILD_ENCODER), [p.text for p in real_papers()], progress=True)
    return vectors


def write_base_index(folder: Path, vectors: np.ndarray) -> None:
    """A complete index folder of synthetic papers ("synthetic paper N"), flat; other types link its files."""
    from recommender.index import storage
    from recommender.index.build import write_index
    from recommender.index.vectors import build_faiss
    from recommender.records import Paper

    from recommender.maps import layout

    layout.MAX_MAP_PAPERS = 0  # the map's layout has its own section ("map"); here it would only add minutes
    papers = [Paper(id=f"s{i}", title=f"synthetic paper {i}") for i in range(len(vectors))]
    index, params = build_faiss(vectors, "flat")
    manifest = {"model": {"name": "synthetic", "fingerprint": "-"}, "dimension": int(vectors.shape[1]),
                "encoder": {"build": "synthetic", "query": "synthetic"}, "index": params,
                "counts": {"papers": len(papers)}, "corpus": []}
    write_index(folder, papers, vectors, index, manifest)
    assert storage.read_manifest(folder)["counts"]["papers"] == len(vectors)


def child_build(folder: str, kind: str) -> None:
    from recommender.index import storage
    from recommender.index.vectors import build_faiss

    vectors = storage.load_vectors(Path(folder))
    started = time.perf_counter()
    index, params = build_faiss(vectors, kind)
    seconds = time.perf_counter() - started
    import faiss

    faiss.write_index(index, str(Path(folder) / "vectors.faiss.new"))
    print(json.dumps({"build_s": seconds, "peak_rss_mb": memory_mb()["peak_rss_mb"], "params": params}))


def child_map(vectors_file: str) -> None:
    from recommender.maps import layout

    vectors = np.load(vectors_file)
    baseline = memory_mb()["peak_rss_mb"]
    started = time.perf_counter()
    coords, block = layout.compute(vectors)
    seconds = time.perf_counter() - started
    print(json.dumps({"layout_s": seconds, "peak_rss_mb": memory_mb()["peak_rss_mb"], "before_mb": baseline,
                      "method": block.get("method"), "skipped": block.get("skipped")}))


def bench_map(args, work: Path) -> dict:
    """The map's layout per size, on synthetic vectors clustered like real abstracts (see `synthetic`)."""
    from recommender.maps import layout

    parents = parent_vectors()
    result = {"limit": layout.MAX_MAP_PAPERS, "sizes": {}}
    for n in args.map_sizes:
        print(f"map: {n} papers", file=sys.stderr, flush=True)
        path = work / f"map-{n}.npy"
        np.save(path, synthetic(parents, n, seed=n))
        result["sizes"][str(n)] = run_child([str(Path(__file__).resolve()), "_map", str(path)])
        path.unlink()
        print(f"  {result['sizes'][str(n)]['layout_s']:.1f} s, peak {result['sizes'][str(n)]['peak_rss_mb']:.0f} MB",
              file=sys.stderr, flush=True)
    result["load_average"] = os.getloadavg()
    return result


def child_query(folder: str, queries_file: str, obvious: bool) -> None:
    """Cold: process start to the first result. Then warm single (p50/p99), batched, and the rows for recall."""
    started = time.perf_counter()
    queries = np.load(queries_file)
    if obvious:
        import faiss

        index = faiss.read_index(str(Path(folder) / "vectors.faiss"))  # all of it into memory

        def single(q):
            return index.search(q[None, :], 10)[1][0]

        def batch(qs):
            return index.search(qs, 10)[1]
    else:
        from recommender.search.engine import Query, Recommender

        rec = Recommender.open(folder)

        def single(q):
            return [r.paper.id for r in rec.rank(Query(q, "", "text"), 10, mode="dense")]

        def batch(qs):
            return rec.faiss_index.search(qs, 10)[0]
    single(queries[0])
    cold_s = time.perf_counter() - started
    lat = []
    for q in queries[1:201]:
        t = time.perf_counter()
        single(q)
        lat.append(time.perf_counter() - t)
    batches = []
    for start in range(0, min(len(queries), 640), 64):
        t = time.perf_counter()
        batch(queries[start:start + 64])
        batches.append((time.perf_counter() - t) / 64)
    rows = np.vstack([batch(queries[s:s + 100]) for s in range(0, len(queries), 100)])
    np.save(str(Path(queries_file).with_suffix(".rows.npy")), rows)
    out = {"cold_s": cold_s, "p50_ms": 1000 * pct(lat, 50), "p99_ms": 1000 * pct(lat, 99),
           "batched_ms_per_query": 1000 * statistics.median(batches), **memory_mb()}
    if not obvious and rec.faiss_index.type != "flat":
        out["sweep"] = sweep(rec, queries, Path(queries_file).with_suffix(".truth.npy"))
    print(json.dumps(out))


def sweep(rec, queries: np.ndarray, truth_file: Path) -> list[dict]:
    """Recall@10 and single-query p50 for other search settings of the same index (how the defaults were tuned)."""
    from recommender.index.vectors import VectorSearcher

    searcher = rec.faiss_index
    truth = np.load(truth_file)
    if searcher.type == "hnsw":
        settings = [{"efSearch": ef} for ef in (16, 32, 64, 128, 256)]
    else:
        settings = [{"nprobe": p, "refine": r} for p in (8, 16, 32, 64) for r in (1, 5, 10, 20)]
    found = []
    for setting in settings:
        trial = VectorSearcher(searcher.index, dict(searcher.params, **setting), rec.vectors)
        rows = trial.search(queries, 10)[0]
        lat = []
        for q in queries[:100]:
            t = time.perf_counter()
            trial.search(q, 10)
            lat.append(time.perf_counter() - t)
        found.append({**setting, "recall_at_10": recall(rows, truth), "p50_ms": 1000 * pct(lat, 50)})
    return found


def recall(rows: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(rows.tolist(), truth.tolist())]))


def bench_scale(args, work: Path) -> dict:
    from recommender.index.vectors import choose_index_type  # first: sets FAISS's OpenMP wait policy

    import faiss

    from recommender.index import integrity

    parents = parent_vectors()
    result = {"spread": SPREAD, "parents": len(parents), "sizes": {}}
    for n in args.sizes:
        print(f"scale: {n} papers", file=sys.stderr, flush=True)
        base = work / f"scale-{n}"
        shutil.rmtree(base, ignore_errors=True)
        vectors = synthetic(parents, n, seed=n)
        queries = synthetic(parents, args.queries, seed=n + 1)
        np.save(work / "queries.npy", queries)
        write_base_index(base / "flat", vectors)
        flat = faiss.read_index(str(base / "flat" / "vectors.faiss"), faiss.IO_FLAG_MMAP_IFC)
        truth = flat.search(queries, 10)[1]
        np.save(work / "queries.truth.npy", truth)
        del flat, vectors
        entry = {"auto": choose_index_type("auto", n), "types": {}}
        for kind in args.types:
            folder = base / kind
            if kind != "flat":
                folder.mkdir()
                for file in (base / "flat").rglob("*"):
                    target = folder / file.relative_to(base / "flat")
                    if file.is_dir():
                        target.mkdir(exist_ok=True)
                    elif file.name not in ("vectors.faiss", "manifest.json"):
                        os.link(file, target)
            built = run_child([__file__, "_build", str(folder), kind])
            os.replace(folder / "vectors.faiss.new", folder / "vectors.faiss")
            if kind != "flat":
                manifest = json.loads((base / "flat" / "manifest.json").read_text())
                manifest["index"] = built["params"]
                manifest.update(integrity.describe(folder))  # sizes and checksums, the new FAISS file's among them
                (folder / "manifest.json").write_text(json.dumps(manifest))
            queried = run_child([__file__, "_query", str(folder), str(work / "queries.npy")])
            rows = np.load(work / "queries.rows.npy")
            entry["types"][kind] = {
                "build_s": built["build_s"], "build_peak_rss_mb": built["peak_rss_mb"], "params": built["params"],
                "faiss_file_mb": (folder / "vectors.faiss").stat().st_size / 2**20, "index_folder_mb": folder_mb(folder),
                "recall_at_10": recall(rows, truth),
                **{k: queried[k] for k in QUERY_FIGURES + ("sweep",) if k in queried},
            }
            print(f"  {kind}: {json.dumps(entry['types'][kind])}", file=sys.stderr, flush=True)
        obvious = run_child([__file__, "_query", str(base / "flat"), str(work / "queries.npy"), "--obvious"], obvious=True)
        entry["obvious"] = {k: obvious[k] for k in QUERY_FIGURES}
        result["sizes"][str(n)] = entry
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return result


# --- report ------------------------------------------------------------------------------------------------

# --- scaleout: the Ray engine, a streamed build, the sharded lexical index -------------------------------

def bench_scaleout(args, work: Path) -> dict:
    out: dict = {}
    if args.scaleout_papers:
        corpus = write_corpus(work / "scaleout-real.jsonl", real_papers(args.scaleout_papers, seed=3), "r")
        builds = {engine: run_child([__file__, "_engine_build", str(corpus), str(work / f"scaleout-{engine}"), engine])
                  for engine in ("local", "ray")}
        same = (work / "scaleout-local" / "vectors.npy").read_bytes() == (work / "scaleout-ray" / "vectors.npy").read_bytes() \
            and (work / "scaleout-local" / "vectors.faiss").read_bytes() == (work / "scaleout-ray" / "vectors.faiss").read_bytes()
        local, ray = builds["local"], builds["ray"]
        out["ray_vs_local"] = {"papers": local["papers"], "cpus": os.cpu_count(), "local": local, "ray": ray,
                               "overhead_s": ray["wall_s"] - local["wall_s"],
                               "throughput_ratio": local["wall_s"] / ray["wall_s"], "identical_vectors_and_faiss": same}
    if args.stream_papers:
        corpus = synthetic_corpus(work / "scaleout-synthetic.jsonl", args.stream_papers)
        out["streamed_build"] = run_child([__file__, "_streamed", str(corpus), str(work / "scaleout-streamed")],
                                          timeout=6 * 3600)
        out["streamed_build"]["corpus_mb"] = corpus.stat().st_size / 2**20
        out.setdefault("streamed_points", {})[str(args.stream_papers)] = out["streamed_build"]
        if not args.keep:
            shutil.rmtree(work / "scaleout-streamed", ignore_errors=True)
    if args.lexical_papers:
        corpus = synthetic_corpus(work / f"scaleout-lexical-{args.lexical_papers}.jsonl", args.lexical_papers)
        out["sharded_lexical"] = run_child([__file__, "_lexical", str(corpus), str(work / "scaleout-lexical"),
                                            str(args.lexical_shard_rows)], timeout=6 * 3600)
    return out


def synthetic_corpus(path: Path, n: int, seed: int = 5) -> Path:
    """n papers whose titles and abstracts are words drawn, with their frequencies, from the real abstracts."""
    if path.is_file() and sum(1 for _ in open(path, "rb")) == n:
        return path
    import re
    from collections import Counter

    counts = Counter(w for p in real_papers() for w in re.findall(r"[A-Za-z][A-Za-z-]+", f"{p.title} {p.abstract}"))
    words = np.array(list(counts))
    weights = np.array(list(counts.values()), dtype=np.float64)
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, n, 10_000):
            size = min(10_000, n - start)
            drawn = words[rng.choice(len(words), size=(size, 170), p=weights)]
            lengths = rng.integers(80, 170, size=size)
            for i in range(size):
                out.write(json.dumps({"id": f"s{start + i}", "title": " ".join(drawn[i, :10]),
                                      "abstract": " ".join(drawn[i, 10:lengths[i]]), "year": 1990 + (start + i) % 35}) + "\n")
    return path


class StandInEncoder:
    """The encoder's interface at a fraction of its cost: a vector seeded by the text's CRC (so equal texts agree)."""

    kind = "onnx-int8"
    dim = 384
    max_tokens = 256
    max_chars = 256 * 32

    def __init__(self, model):
        from recommender.embed import recipe_for

        self.model = model
        self.recipe = recipe_for(self.kind)

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        import zlib

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def child_engine_build(corpus: str, folder: str, engine: str) -> None:
    from recommender.index.build import build_index

    shutil.rmtree(folder, ignore_errors=True)
    staging = Path(folder + "-staging")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    report = build_index([corpus], folder, progress=False, use_cache=False, engine=engine,
                         staging=staging if engine == "ray" else None)
    seconds = time.perf_counter() - started
    shutil.rmtree(staging, ignore_errors=True)
    print(json.dumps({"papers": len(report.ingest.papers), "build_s": seconds,
                      "papers_per_s": len(report.ingest.papers) / seconds, "engine": report.manifest["engine"],
                      "peak_rss_mb": memory_mb()["peak_rss_mb"]}))


def child_streamed(corpus: str, folder: str) -> None:
    import recommender.embed as embed
    from recommender.index.build import build_index

    embed.load_encoder = lambda model=None, kind="torch": StandInEncoder(model)
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    report = build_index([corpus], folder, progress=False, use_cache=False, stream=True)
    print(json.dumps({"papers": len(report.ingest.papers), "build_s": time.perf_counter() - started,
                      "index": report.manifest["index"], "lexical": report.manifest["lexical"],
                      "index_folder_mb": folder_mb(Path(folder)), **memory_mb()}))


def child_lexical(corpus: str, folder: str, shard_rows: str) -> None:
    from recommender.index.lexical import LexicalIndex

    texts = [f"{r['title']}. {r['abstract']}" for r in map(json.loads, open(corpus, encoding="utf-8"))]
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    recipe = LexicalIndex.build_streamed(lambda: (texts[i:i + 100_000] for i in range(0, len(texts), 100_000)),
                                         Path(folder), shard_rows=int(shard_rows))
    sharded_build_s = time.perf_counter() - started
    started = time.perf_counter()
    single = LexicalIndex.build(texts)
    single_build_s = time.perf_counter() - started
    sharded = LexicalIndex.load(Path(folder), len(texts))
    queries = [q["text"] for name in COLLECTIONS for q in map(json.loads, open(BENCHMARKS / name / "queries.jsonl"))][:200]
    equal_scores = equal_top = 0
    times: dict = {"single": [], "sharded": []}
    for query in queries:
        for name, index in (("single", single), ("sharded", sharded)):
            t0 = time.perf_counter()
            index.top(query, 10)
            times[name].append((time.perf_counter() - t0) * 1000)
        equal_scores += bool(np.array_equal(single.scores(query), sharded.scores(query)))
        rows_a, scores_a = single.top(query, 10)
        rows_b, scores_b = sharded.top(query, 10)
        equal_top += bool(np.array_equal(rows_a, rows_b) and np.array_equal(scores_a, scores_b))
    print(json.dumps({"papers": len(texts), "recipe": recipe, "queries": len(queries), "equal_scores": equal_scores,
                      "equal_top10": equal_top, "sharded_build_s": sharded_build_s, "single_build_s": single_build_s,
                      "single_p50_ms": pct(times["single"], 50), "sharded_p50_ms": pct(times["sharded"], 50),
                      "sharded_folder_mb": folder_mb(Path(folder))}))


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results.get("scale", {}).get("sizes", {})
    if not sizes:
        return
    ns = sorted(int(n) for n in sizes)
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(12, 4.5))
    for kind in TYPES:
        have = [n for n in ns if kind in sizes[str(n)]["types"]]
        if have:
            lat.plot(have, [sizes[str(n)]["types"][kind]["p50_ms"] for n in have], "o-", label=f"{kind}: warm p50")
            line, = mem.plot(have, [sizes[str(n)]["types"][kind]["peak_rss_mb"] for n in have], "o-", label=f"{kind}: peak RSS")
            mem.plot(have, [sizes[str(n)]["types"][kind].get("private_mb", np.nan) for n in have], "s:", color=line.get_color(),
                     label=f"{kind}: private (not page cache)")
    lat.plot(ns, [sizes[str(n)]["obvious"]["p50_ms"] for n in ns], "k--", label="obvious IndexFlatIP: warm p50")
    lat.plot(ns, [sizes[str(n)]["obvious"]["cold_s"] * 1000 for n in ns], "k:", label="obvious: cold (load + query)")
    mem.plot(ns, [sizes[str(n)]["obvious"]["peak_rss_mb"] for n in ns], "k--", label="obvious IndexFlatIP: peak RSS")
    mem.plot(ns, [sizes[str(n)]["obvious"].get("private_mb", np.nan) for n in ns], "k:", label="obvious: private")
    lat.axhline(20, color="grey", lw=0.8)
    lat.set(xscale="log", yscale="log", xlabel="papers", ylabel="ms per query (top 10)", title="Query latency (2 cores)")
    mem.set(xscale="log", yscale="log", xlabel="papers", ylabel="peak RSS, MB", title="Memory of a querying process")
    for ax in (lat, mem):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def plot_scaleout(results: dict, path: Path) -> None:
    """Build time of each engine, the streamed build's peak memory, lexical query p50 of one index and of shards."""
    so = results.get("scaleout")
    if not so:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (build, memory, lexical) = plt.subplots(1, 3, figsize=(14, 4))
    if "ray_vs_local" in so:
        r = so["ray_vs_local"]
        build.bar(["local", "ray (local Ray)"], [r["local"]["wall_s"], r["ray"]["wall_s"]], color=["tab:blue", "tab:orange"])
        build.set(ylabel="seconds (whole build, fresh process)",
                  title=f"Build of {r['papers']:,} real papers on {r['cpus']} cores")
    points = sorted(so.get("streamed_points", {}).items(), key=lambda kv: int(kv[0]))
    if points:
        ns = [int(n) for n, _ in points]
        memory.plot(ns, [p["peak_rss_mb"] / 1024 for _, p in points], "o-", label="streamed build: peak RSS")
        memory.plot(ns, [p["private_mb"] / 1024 for _, p in points], "s:", label="private at the end")
    phases = so.get("streamed_by_phase")
    if phases:  # a build measured phase by phase (each phase's own process, on the same data)
        worst = max(phases["phases"], key=lambda p: p["peak_rss_mb"])
        memory.plot([phases["papers"]], [worst["peak_rss_mb"] / 1024], "D", color="tab:red",
                    label=f"{phases['papers']:,}: largest phase ({worst['phase']})")
    if points or phases:
        memory.axhline(16, color="grey", lw=0.8, label="16 GB")
        memory.set(xscale="log", xlabel="papers", ylabel="GB", title="Memory of a streamed build")
        memory.legend(fontsize=8)
    if "sharded_lexical" in so:
        x = so["sharded_lexical"]
        lexical.bar(["one bm25s index", f"{x['recipe'].get('shards', 1)} shards"], [x["single_p50_ms"], x["sharded_p50_ms"]],
                    color=["tab:blue", "tab:green"])
        lexical.set(ylabel="ms per query (top 10), p50",
                    title=f"Lexical at {x['papers']:,} papers: {x['equal_top10']}/{x['queries']} equal")
    for ax in (build, memory, lexical):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def table(results: dict) -> str:
    lines = []
    sizes = results.get("scale", {}).get("sizes", {})
    if sizes:
        lines.append("| papers | index | build s | build peak MB | on disk MB | cold s | warm p50 ms | p99 ms | batched ms/q | recall@10 | query peak MB | private MB |")
        lines.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in sorted(sizes, key=int):
            entry = sizes[n]
            for kind, t in entry["types"].items():
                auto = " (auto)" if kind == entry["auto"] else ""
                lines.append(f"| {int(n):,} | {kind}{auto} | {t['build_s']:.1f} | {t['build_peak_rss_mb']:.0f} | {t['index_folder_mb']:.0f} | "
                             f"{t['cold_s']:.2f} | {t['p50_ms']:.2f} | {t['p99_ms']:.2f} | {t['batched_ms_per_query']:.3f} | "
                             f"{t['recall_at_10']:.3f} | {t['peak_rss_mb']:.0f} | {t.get('private_mb', float('nan')):.0f} |")
            o = entry["obvious"]
            lines.append(f"| {int(n):,} | obvious IndexFlatIP | | | | {o['cold_s']:.2f} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f} | "
                         f"{o['batched_ms_per_query']:.3f} | 1.000 | {o['peak_rss_mb']:.0f} | {o.get('private_mb', float('nan')):.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    children = {"_engine_build": child_engine_build, "_streamed": child_streamed, "_lexical": child_lexical,
                "_map": child_map}
    if argv is None and len(sys.argv) > 1 and sys.argv[1] in children:
        return children[sys.argv[1]](*sys.argv[2:])
    if argv is None and len(sys.argv) > 1 and sys.argv[1] in ("_build", "_query"):
        if sys.argv[1] == "_build":
            return child_build(sys.argv[2], sys.argv[3])
        return child_query(sys.argv[2], sys.argv[3], "--obvious" in sys.argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="text,cold,scale,map",
                        help="comma-separated: text, cold, scale, map, scaleout")
    parser.add_argument("--map-sizes", default="1000,10000,100000", type=lambda s: [int(x) for x in s.split(",")],
                        help="papers laid out by the map section")
    parser.add_argument("--scaleout-papers", type=int, default=1000, help="real papers built by both engines (scaleout)")
    parser.add_argument("--stream-papers", type=int, default=10_000_000, help="synthetic papers of the streamed build (scaleout)")
    parser.add_argument("--lexical-papers", type=int, default=1_000_000, help="synthetic papers, sharded lexical vs one (scaleout)")
    parser.add_argument("--lexical-shard-rows", type=int, default=250_000)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--types", default=",".join(TYPES), type=lambda s: s.split(","))
    parser.add_argument("--queries", type=int, default=1000, help="synthetic queries per size (recall, latency)")
    parser.add_argument("--text-sample", type=int, default=1000, help="real abstracts embedded per encoder")
    parser.add_argument("--text-repeats", type=int, default=2)
    parser.add_argument("--build-repeats", type=int, default=2, help="whole 1K builds per encoder (text section)")
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per command (cold section)")
    parser.add_argument("--quality", nargs="*", type=Path, default=[], help="JSON files written by `recommender evaluate --json`")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "benchmark")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.json")
    parser.add_argument("--plot", type=Path, default=None, help="PNG path (default: --out with .png)")
    parser.add_argument("--merge", action="store_true", help="keep the sections of an existing --out that this run does not redo")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic index folders")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.out.read_text()) if args.merge and args.out.is_file() else {}
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                          "load_average_at_start": os.getloadavg(), "command": " ".join(sys.argv)}
    sections = args.sections.split(",")
    for name, run in (("text", bench_text), ("cold", bench_cold), ("scale", bench_scale), ("map", bench_map),
                      ("scaleout", bench_scaleout)):
        if name in sections:
            started = time.perf_counter()
            previous = results.get(name, {})
            results[name] = run(args, args.workdir)
            if name == "scaleout" and args.merge:  # the parts this run skipped (size 0) stay; so do streamed
                # builds of other sizes, on the memory curve
                results[name] = {**previous, **results[name],
                                 "streamed_points": {**previous.get("streamed_points", {}),
                                                     **results[name].get("streamed_points", {})}}
            results[name]["section_s"] = time.perf_counter() - started
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")  # a long run keeps what it finished
    if args.quality:
        results["quality"] = quality(args.quality)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.plot or args.out.with_suffix(".png"))
    plot_scaleout(results, (args.plot or args.out.with_suffix(".png")).with_name("scaleout.png"))
    print(summary(results))


def quality(files: list[Path]) -> dict:
    """nDCG@10 per collection, mode and encoder from `recommender evaluate --json` files, with deltas to torch."""
    scores: dict = {}
    for file in files:
        for report in json.loads(file.read_text()):
            kind = report["index"].rsplit("-", 1)[-1] if not report["index"].endswith("int8") else "onnx-int8"
            for s in report["scores"]:
                scores.setdefault(report["name"], {}).setdefault(s["mode"], {})[kind] = s["ndcg_at_10"]
    for modes in scores.values():
        for by_kind in modes.values():
            if "torch" in by_kind:
                by_kind.update({f"{k}_delta": round(v - by_kind["torch"], 4) for k, v in list(by_kind.items()) if k != "torch"})
    return scores


def summary(results: dict) -> str:
    out = []
    if "map" in results:
        out.append("map layout (papers: seconds, peak MB of the process):")
        for n, m in sorted(results["map"]["sizes"].items(), key=lambda item: int(item[0])):
            out.append(f"  {int(n):>9,}: {m['layout_s']:8.1f} s  {m['peak_rss_mb']:7.0f} MB  {m.get('method') or m.get('skipped')}")
    if "text" in results:
        t = results["text"]
        out.append(f"embedding {t['texts']} real abstracts (papers/s, cosine to torch):")
        for name, e in t["encoders"].items():
            out.append(f"  {name:34s} {e['papers_per_s']:7.1f}/s  x{e['speedup']:.2f}  cos mean {e['cosine_to_torch_mean']:.4f} min {e['cosine_to_torch_min']:.4f}")
        p, b = t["padding"], t["builds"]
        out.append(f"padding share ({p['mean_tokens']:.0f} tokens a text on average): batches of {p['batch']} in corpus order "
                   f"{p['corpus_order']:.1%}, ours (longest first, <= {p['batch_tokens']} tokens a batch) {p['ours']:.1%}")
        out.append(f"build {b['papers']} papers, no cache (median of {b['repeats']}): obvious {b['obvious_papers_per_s']:.1f}/s; "
                   + "; ".join(f"{k} {v['papers_per_s']:.1f}/s x{v['speedup']:.2f}" for k, v in b["kinds"].items())
                   + f" (default: {b['encoder']})")
        out.append(f"rebuild unchanged {b['rebuild_unchanged_s']:.1f}s embedding {b['rebuild_unchanged_embedded']}; "
                   f"add 10 papers {b['add_10_s']:.1f}s embedding {b['add_10_embedded']}")
    if "cold" in results:
        out.append(f"cold process to first result, {results['cold']['papers']}-paper index (median of {results['cold']['repeats']}):")
        for name, c in results["cold"]["commands"].items():
            out.append(f"  {name:46s} {c['wall_s_median']:.2f}s wall (min {c['wall_s_min']:.2f}, cpu {c['cpu_s_median']:.2f}s)  x{c['speedup']:.1f}")
    if "quality" in results:
        out.append("nDCG@10: " + json.dumps(results["quality"]))
    out.append(table(results))
    return "\n".join(out)


if __name__ == "__main__":
    main()
