#!/usr/bin/env python
"""Encoder speed and agreement: torch vs ONNX fp32 vs ONNX int8, side by side in one run.

    python scripts/encoder_speed.py --out out/encoder_speed.json            # 300 SciFact abstracts
    python scripts/encoder_speed.py --n 100 --batch-sizes 32 --repeats 1    # a quick look

Throughput is papers/s on the same texts (title + ". " + abstract, as recommender.records.Paper
embeds them), median of --repeats runs; the encoders take turns within each repeat so that load
from other processes falls on all of them alike. Agreement is the cosine of each encoder's vectors
to torch's (mean and min). Cold time is a fresh process doing import + load + encode one query
(the export already made), median of --cold-repeats.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

KINDS = ("torch", "onnx", "onnx-int8")
COLD = """
import sys, time
t0 = time.perf_counter()
from recommender.embed import load_encoder
encoder = load_encoder({model!r}, {kind!r})
t1 = time.perf_counter()
encoder.encode(["effects of vitamin D supplementation on fracture risk"])
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, 'torch' in sys.modules)
"""


def default_corpus() -> Path:
    for base in (ROOT / "shared", ROOT.parent / "shared"):
        path = base / "benchmarks" / "scifact" / "corpus.jsonl"
        if path.is_file():
            return path
    return ROOT / "shared" / "benchmarks" / "scifact" / "corpus.jsonl"


def load_texts(path: Path, n: int) -> list[str]:
    texts = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            title, abstract = doc.get("title", "").strip(), doc.get("text", "").strip()
            texts.append(f"{title}. {abstract}" if title else abstract)
            if len(texts) == n:
                break
    return texts


def cold_start(model: str | None, kind: str, repeats: int) -> dict:
    runs = []
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", COLD.format(model=model, kind=kind)], capture_output=True,
                              text=True, env=env, cwd=ROOT, check=True)
        wall = time.perf_counter() - start
        load, encode, torch_loaded = done.stdout.split()
        runs.append({"wall_s": wall, "import_load_s": float(load), "encode_s": float(encode), "torch_imported": torch_loaded == "True"})
    return {
        "repeats": repeats,
        "process_wall_s": statistics.median(r["wall_s"] for r in runs),
        "import_load_encode_s": statistics.median(r["import_load_s"] + r["encode_s"] for r in runs),
        "encode_one_query_s": statistics.median(r["encode_s"] for r in runs),
        "torch_imported": any(r["torch_imported"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=default_corpus(), help="BEIR corpus.jsonl (default: SciFact)")
    parser.add_argument("--n", type=int, default=300, help="abstracts to embed")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--model", default=None, help="model name or folder (default: the bundled MiniLM)")
    parser.add_argument("--cold-repeats", type=int, default=3, help="fresh processes per ONNX kind (torch: 1); 0 skips")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()

    from recommender.embed import load_encoder, resolve_model

    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    texts = load_texts(args.corpus, args.n)
    model = resolve_model(args.model)
    encoders = {}
    for kind in args.kinds:
        start = time.perf_counter()
        encoders[kind] = load_encoder(model, kind)
        encoders[kind].encode(texts[:8])  # warm up (first-run allocations)
        print(f"loaded {kind} in {time.perf_counter() - start:.2f} s (warm process)", file=sys.stderr)

    timings: dict[str, dict[int, list[float]]] = {k: {b: [] for b in args.batch_sizes} for k in args.kinds}
    cpu_times: dict[str, dict[int, list[float]]] = {k: {b: [] for b in args.batch_sizes} for k in args.kinds}
    vectors: dict[str, np.ndarray] = {}
    for batch_size in args.batch_sizes:
        for repeat in range(args.repeats):
            for kind, encoder in encoders.items():
                start, cpu = time.perf_counter(), time.process_time()
                out = encoder.encode(texts, batch_size=batch_size)
                timings[kind][batch_size].append(time.perf_counter() - start)
                cpu_times[kind][batch_size].append(time.process_time() - cpu)
                vectors.setdefault(kind, out)
            print(f"batch {batch_size} repeat {repeat + 1}/{args.repeats}: "
                  + ", ".join(f"{k} {len(texts) / timings[k][batch_size][-1]:.1f}/s" for k in encoders), file=sys.stderr)

    result = {
        "texts": len(texts),
        "corpus": str(args.corpus),
        "model": model.name,
        "fingerprint": model.fingerprint,
        "cpu_threads": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average_1m": load_at_start,
        "python": platform.python_version(),
        "repeats": args.repeats,
        "papers_per_s": {k: {str(b): len(texts) / statistics.median(t) for b, t in by_batch.items()} for k, by_batch in timings.items()},
        # CPU seconds of this process (all its threads): less sensitive to other jobs than wall time
        "papers_per_cpu_s": {k: {str(b): len(texts) / statistics.median(t) for b, t in by_batch.items()} for k, by_batch in cpu_times.items()},
        "load_average_1m_end": None,
        "cosine_to_torch": {},
        "cold": {},
    }
    result["load_average_1m_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if "torch" in vectors:
        for kind, v in vectors.items():
            cos = np.sum(v * vectors["torch"], axis=1)
            result["cosine_to_torch"][kind] = {"mean": float(cos.mean()), "min": float(cos.min())}
    if args.cold_repeats > 0:
        for kind in args.kinds:
            result["cold"][kind] = cold_start(args.model, kind, 1 if kind == "torch" else args.cold_repeats)

    print(f"{len(texts)} abstracts, median of {args.repeats}, papers/s wall  (1-min load avg {result['load_average_1m']:.1f} at start, "
          f"{result['load_average_1m_end']:.1f} at end, {result['cpu_threads']} cores)")
    print(f"{'encoder':<10}" + "".join(f"{'bs ' + str(b):>9}" for b in args.batch_sizes) + "   cos mean    cos min")
    for kind in args.kinds:
        row = "".join(f"{result['papers_per_s'][kind][str(b)]:9.1f}" for b in args.batch_sizes)
        cos = result["cosine_to_torch"].get(kind)
        row += f"   {cos['mean']:.6f}   {cos['min']:.6f}" if cos else ""
        print(f"{kind:<10}{row}")
    print("papers per CPU-second (all threads of this process):")
    for kind in args.kinds:
        print(f"{kind:<10}" + "".join(f"{result['papers_per_cpu_s'][kind][str(b)]:9.1f}" for b in args.batch_sizes))
    for kind, cold in result["cold"].items():
        print(f"cold {kind:<10} import+load+encode 1 query {cold['import_load_encode_s']:.2f} s "
              f"(whole process {cold['process_wall_s']:.2f} s, torch imported: {cold['torch_imported']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
