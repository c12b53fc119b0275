"""Load test of `recommender serve`: N concurrent clients for S seconds on loopback against a 5K-paper index.

    .venv/bin/python scripts/load_test.py --out out/load_test.json

Builds (once) an index of the first 5000 SciFact papers under .cache/indexes/, starts the server in a
subprocess on 127.0.0.1, asks every request of a fixed pool once in turn to learn its answer, then has
the clients replay that pool concurrently. A request fails when its status is not 200, when it times
out, or when its answer (the ids returned) differs from the sequential one: concurrency must not change
results. Prints p50/p90/p99 latency, requests per second and errors, per endpoint and overall.
The load generator shares the machine's cores with the server: the figures are a floor.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "benchmarks" / "scifact"
MAX_CLIENTS = 200  # bounded: this is a loopback test, not a flood
MAX_SECONDS = 600
# What a researcher's session does: mostly searches, then "more like this", opening a paper, recommendations.
MIX = {"search": 0.5, "similar": 0.2, "paper": 0.1, "recommend": 0.15, "reading-list": 0.05}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus.jsonl", help="JSON Lines corpus (BEIR layout).")
    parser.add_argument("--queries", type=Path, default=BENCH / "queries.jsonl", help="JSON Lines queries (BEIR layout).")
    parser.add_argument("--papers", type=int, default=5000, help="Index the first N papers of the corpus.")
    parser.add_argument("--index", type=Path, help="Where the index lies (default: .cache/indexes/scifact-N for --papers N).")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--pool", type=int, default=300, help="Distinct requests the clients replay.")
    parser.add_argument("--timeout", type=float, default=30.0, help="Seconds before a request counts as failed.")
    parser.add_argument("--threads", type=int, help="The server's --threads (default: its own).")
    parser.add_argument("--only", choices=list(MIX), help="Send only this kind of request (default: the mix).")
    parser.add_argument("--out", type=Path, help="Write the figures here as JSON.")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--clients 1..{MAX_CLIENTS} and --seconds 1..{MAX_SECONDS}")
    if args.papers < 3:
        parser.error("--papers must be at least 3 (a recommendation likes two papers and dislikes a third)")
    args.index = args.index or ROOT / ".cache" / "indexes" / f"scifact-{args.papers}"
    return args


def ensure_index(args) -> None:
    """The index of the first --papers lines of the corpus, built once and reused while it matches."""
    from recommender.errors import RecommenderError
    from recommender.index.build import build_index
    from recommender.search.engine import Recommender

    try:
        if len(Recommender.open(args.index)) > 0 and _tag_file(args).read_text() == _source_tag(args):
            return
    except (RecommenderError, OSError):
        pass
    if not args.corpus.is_file():
        sys.exit(f"error: {args.corpus}: no corpus; pass --corpus FILE.jsonl")
    part = args.index.with_name(args.index.name + ".corpus.jsonl")
    part.parent.mkdir(parents=True, exist_ok=True)
    with open(args.corpus, encoding="utf-8") as src, open(part, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= args.papers:
                break
            dst.write(line)
    print(f"building {args.index} from the first {args.papers} papers of {args.corpus}", file=sys.stderr)
    build_index([part], args.index, progress=True, dedup_titles=False)
    _tag_file(args).write_text(_source_tag(args))


def _tag_file(args) -> Path:
    return args.index.with_name(args.index.name + ".built-from")


def _source_tag(args) -> str:
    return f"{args.corpus.resolve()}:{args.papers}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index: Path, log: Path, threads: int | None) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "recommender", "serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command + (["--threads", str(threads)] if threads else []),
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < 300:
        if proc.poll() is not None:
            sys.exit(f"error: the server exited ({proc.returncode}): {log.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                print(f"server up at {url} in {time.monotonic() - started:.1f}s", file=sys.stderr)
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.kill()
    sys.exit(f"error: the server did not answer within 300 s: {log.read_text()}")


def request_pool(args, ids: list[str]) -> list[dict]:
    """A fixed, seeded mix of requests: the same pool every run."""
    rng = random.Random(0)
    queries = [json.loads(line)["text"] for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = [args.only] * args.pool if args.only else rng.choices(list(MIX), weights=list(MIX.values()), k=args.pool)
    pool = []
    for kind in kinds:
        if kind == "search":
            pool.append({"kind": kind, "method": "GET", "path": "/api/search",
                         "params": {"q": rng.choice(queries), "k": 10, "mode": rng.choice(["hybrid", "hybrid", "dense", "lexical"])}})
        elif kind == "similar":
            pool.append({"kind": kind, "method": "GET", "path": "/api/similar", "params": {"paper": rng.choice(ids), "k": 10}})
        elif kind == "paper":
            pool.append({"kind": kind, "method": "GET", "path": f"/api/papers/{rng.choice(ids)}"})
        elif kind == "recommend":
            liked_then_disliked = rng.sample(ids, 3)  # three different papers: none is both liked and disliked
            pool.append({"kind": kind, "method": "POST", "path": "/api/recommend",
                         "json": {"like": liked_then_disliked[:2], "unlike": liked_then_disliked[2:], "k": 10}})
        else:
            pool.append({"kind": kind, "method": "POST", "path": "/api/reading-list",
                         "json": {"query": rng.choice(queries), "like": rng.sample(ids, 1), "n": 10}})
    return pool


def answer_of(body: dict) -> list[str] | str:
    """The ids a response gives, in order (and a reading list's theme names, which the clustering decides)."""
    if "items" in body:
        return [(i["id"], i["theme"]) for i in body["items"]]
    return [r["id"] for r in body["results"]] if "results" in body else body["id"]


async def learn_answers(url: str, pool: list[dict]) -> list:
    """Each request of the pool once, one at a time: its answer, and its latency with no other client."""
    import httpx

    alone = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for item in pool:
            started = time.perf_counter()
            response = await client.request(item["method"], item["path"], params=item.get("params"), json=item.get("json"))
            if response.status_code != 200:  # a request of the pool itself is wrong: say which, and stop
                sys.exit(f"error: {item['method']} {item['path']} {item.get('params') or item.get('json')} answered "
                         f"{response.status_code} before any load: {response.text[:300]}")
            item["answer"] = answer_of(response.json())
            alone.append((item["kind"], time.perf_counter() - started, "ok", started))
    return alone


async def client_loop(url: str, pool: list[dict], seed: int, deadline: float, timeout: float, records: list) -> None:
    import httpx

    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        while time.perf_counter() < deadline:
            item = rng.choice(pool)
            started = time.perf_counter()
            outcome = "ok"
            try:
                response = await client.request(item["method"], item["path"], params=item.get("params"), json=item.get("json"))
                if response.status_code != 200:
                    outcome = f"status {response.status_code}"
                elif answer_of(response.json()) != item["answer"]:
                    outcome = "different answer"
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            records.append((item["kind"], time.perf_counter() - started, outcome, started))


def summarise(records: list, seconds: float) -> dict:
    def figures(rows) -> dict:
        latencies = np.array([r[1] for r in rows]) * 1000
        return {"requests": len(rows), "errors": sum(r[2] != "ok" for r in rows),
                "requests_per_s": round(len(rows) / seconds, 1),
                "p50_ms": round(float(np.percentile(latencies, 50)), 1), "p90_ms": round(float(np.percentile(latencies, 90)), 1),
                "p99_ms": round(float(np.percentile(latencies, 99)), 1), "max_ms": round(float(latencies.max()), 1)}

    out = {"all": figures(records)}
    for kind in MIX:
        rows = [r for r in records if r[0] == kind]
        if rows:
            out[kind] = figures(rows)
    errors: dict[str, int] = {}
    for r in records:
        if r[2] != "ok":
            errors[r[2]] = errors.get(r[2], 0) + 1
    out["errors_by_kind"] = errors
    return out


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main() -> None:
    args = parse_args()
    ensure_index(args)
    from recommender.search.engine import Recommender

    ids = Recommender.open(args.index).ids
    log = args.index.with_name(args.index.name + ".server.log")
    proc, url = start_server(args.index, log, args.threads)
    try:
        pool = request_pool(args, ids)
        alone = asyncio.run(learn_answers(url, pool))
        records: list = []
        deadline = time.perf_counter() + args.seconds
        started = time.perf_counter()

        async def run_clients():
            await asyncio.gather(*(client_loop(url, pool, seed, deadline, args.timeout, records) for seed in range(args.clients)))

        asyncio.run(run_clients())
        elapsed = time.perf_counter() - started  # the last requests end after the deadline
        import httpx

        healthy = httpx.get(f"{url}/api/health", timeout=10).status_code == 200
        rss = peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {
        "index": str(args.index), "papers": len(ids), "clients": args.clients, "server_threads": args.threads or "default",
        "seconds": round(elapsed, 2),
        "pool": len(pool), "mix": {args.only: 1.0} if args.only else MIX, "server_healthy_after": healthy, "server_peak_rss_mib": rss,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min_after": round(os.getloadavg()[0], 2)},  # other jobs sharing the cores
        **summarise(records, elapsed),
        "one_client": {k: v for k, v in summarise(alone, sum(r[1] for r in alone)).items() if k != "errors_by_kind"},
    }
    rows = [("all", result["all"])] + [(kind, result[kind]) for kind in MIX if kind in result]
    print(f"{len(ids)} papers, {args.clients} clients, {elapsed:.1f}s on loopback; server peak RSS {rss} MiB, "
          f"healthy after: {healthy}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'endpoint':<10} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    for name, f in rows:
        print(f"{name:<10} {f['requests']:>8} {f['requests_per_s']:>7} {f['p50_ms']:>8} {f['p90_ms']:>8} "
              f"{f['p99_ms']:>8} {f['max_ms']:>8} {f['errors']:>6}")
    print("one client at a time (the same requests, before the load): p50 / p99 ms")
    for name, f in result["one_client"].items():
        print(f"  {name:<12} {f['p50_ms']:>8} / {f['p99_ms']:<8} ({f['requests']} requests)")
    if result["errors_by_kind"]:
        print(f"errors: {result['errors_by_kind']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    if result["all"]["errors"] or not healthy:
        sys.exit(1)


if __name__ == "__main__":
    main()
