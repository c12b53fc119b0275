"""`--engine ray` writes the index a local build writes: the same vectors.npy and FAISS file, byte for byte, and
the same rankings, on the bundled listing and on 1,000 SciFact abstracts, with the real bundled model on a local
Ray (2 CPUs, loopback only). Skipped when Ray is not installed (scripts/test.sh installs recommender[ray])."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'recommender[ray]' (scripts/test.sh does)")

from recommender.errors import RecommenderError, UsageError  # noqa: E402
from recommender.index.build import build_index  # noqa: E402
from recommender.index.replace import CRASH_ENV  # noqa: E402

pytestmark = pytest.mark.slow
QUERIES = ["backdoor attacks on neural networks", "error correcting codes", "protein folding",
           "vitamin D deficiency and bone density", "gene expression in the developing brain"]


@contextlib.contextmanager
def hard_timeout(seconds: int):
    """Fail the test, instead of hanging the suite, if Ray stops answering."""
    def expire(signum, frame):
        raise TimeoutError(f"the Ray build took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def local_ray():
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    with hard_timeout(120):
        ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def scifact_1000(tmp_path_factory) -> Path:
    from conftest import benchmark_dir

    lines = (benchmark_dir("scifact") / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:1000]
    path = tmp_path_factory.mktemp("scifact1000") / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rankings(index: Path) -> list[list[tuple[str, float]]]:
    from recommender.search.engine import Recommender

    rec = Recommender.open(index)
    return [[(r.paper.id, float(r.score)) for r in rec.search(q, k=10, mode=mode)]
            for q in QUERIES for mode in ("dense", "hybrid")]


def assert_same_index(local: Path, distributed: Path) -> None:
    for name in ("vectors.npy", "vectors.faiss", "ids.json", "papers.jsonl"):
        assert (local / name).read_bytes() == (distributed / name).read_bytes(), name
    assert rankings(local) == rankings(distributed)


@pytest.mark.parametrize("corpus", ["seed", "scifact"])
def test_ray_build_is_the_local_build(local_ray, corpus, seed_listing, scifact_1000, tmp_path):
    source = seed_listing if corpus == "seed" else scifact_1000
    with hard_timeout(600):
        local = build_index([source], tmp_path / "local", progress=False, use_cache=False)
        distributed = build_index([source], tmp_path / "ray", progress=False, engine="ray", staging=tmp_path / "staging")
    assert local.manifest["engine"] == {"name": "local"}
    engine = distributed.manifest["engine"]
    assert engine["name"] == "ray" and engine["checked_rows"] == 16 and engine["resumed_papers"] == 0
    assert engine["shards"] >= 5 and engine["actors_used"] == 2  # every actor got work, not one block to one actor
    assert distributed.embedded == len(distributed.ingest.papers)
    assert_same_index(tmp_path / "local", tmp_path / "ray")


def test_a_streamed_ray_build_is_the_local_build(local_ray, seed_listing, tmp_path):
    """--stream --engine ray: the driver writes the shards from its spool file and assembles the vectors into the
    memory-mapped vectors.npy, holding one shard's texts at a time; the index is the in-memory local build's."""
    with hard_timeout(300):
        build_index([seed_listing], tmp_path / "local", progress=False, use_cache=False)
        streamed = build_index([seed_listing], tmp_path / "ray", progress=False, engine="ray", stream=True,
                               staging=tmp_path / "staging")
        again = build_index([seed_listing], tmp_path / "again", progress=False, engine="ray", stream=True,
                            staging=tmp_path / "staging")
    assert streamed.manifest["engine"]["name"] == "ray" and streamed.embedded == 50
    assert streamed.manifest["engine"]["checked_rows"] == 16
    assert (again.embedded, again.manifest["engine"]["resumed_papers"]) == (0, 50)
    assert not (tmp_path / "ray" / "papers.spool").exists()
    assert_same_index(tmp_path / "local", tmp_path / "ray")
    assert_same_index(tmp_path / "local", tmp_path / "again")


def test_a_rerun_resumes_from_the_staged_shards(local_ray, seed_listing, tmp_path):
    staging = tmp_path / "staging"
    with hard_timeout(300):
        first = build_index([seed_listing], tmp_path / "a", progress=False, engine="ray", staging=staging)
        vector_files = sorted((staging / "vectors").rglob("*.npy"))
        stamps = [p.stat().st_mtime_ns for p in vector_files]
        again = build_index([seed_listing], tmp_path / "b", progress=False, engine="ray", staging=staging)
    assert first.embedded == 50 and (again.embedded, again.reused) == (0, 50)
    assert again.manifest["engine"]["resumed_papers"] == 50
    assert [p.stat().st_mtime_ns for p in vector_files] == stamps  # nothing embedded twice
    assert_same_index(tmp_path / "a", tmp_path / "b")


def test_a_worker_whose_vectors_differ_fails_the_build(local_ray, seed_listing, tmp_path):
    staging = tmp_path / "staging"
    with hard_timeout(300):
        build_index([seed_listing], tmp_path / "index", progress=False, engine="ray", staging=staging)
        before = (tmp_path / "index" / "vectors.npy").read_bytes()
        first = sorted((staging / "vectors").rglob("*.npy"))[0]  # rows 0..: row 0 is always re-encoded
        vectors = np.load(first)
        vectors[0, 0] = np.nextafter(vectors[0, 0], np.float32(2))  # one bit, as another CPU's int8 kernel might
        np.save(first, vectors)
        with pytest.raises(RecommenderError, match=r"row 0 differs from this machine's .*VNNI"):
            build_index([seed_listing], tmp_path / "index", progress=False, engine="ray", staging=staging)
    assert (tmp_path / "index" / "vectors.npy").read_bytes() == before  # the previous index is intact


def test_a_dead_actor_fails_the_build_instead_of_hanging(local_ray, seed_listing, tmp_path, monkeypatch):
    build_index([seed_listing], tmp_path / "index", progress=False)
    before = (tmp_path / "index" / "manifest.json").read_bytes()
    monkeypatch.setenv(CRASH_ENV, "ray-actor")  # every actor SIGKILLs itself on its first shard
    with hard_timeout(240), pytest.raises(RecommenderError, match=r"the Ray embedding failed after 0 of \d+ shards.*rerun"):
        build_index([seed_listing], tmp_path / "index", progress=False, engine="ray", staging=tmp_path / "staging")
    assert (tmp_path / "index" / "manifest.json").read_bytes() == before


def test_a_hanging_pipeline_times_out_saying_so_and_leaves_nothing_running(local_ray, seed_listing, tmp_path,
                                                                           monkeypatch):
    """Actors that no node can place: the pipeline never starts one, and Ray Data's no-progress guard ends it
    after stall_seconds. Nothing of it outlives the error (no thread; the cluster builds the next index)."""
    import threading

    from recommender.embed import load_encoder
    from recommender.records import Paper
    from recommender.scale import ray_engine

    papers = [Paper("a", "one text"), Paper("b", "another")]
    threads = {t.ident for t in threading.enumerate()}
    monkeypatch.setattr(ray_engine, "ACTOR_CPUS", 64.0)
    with hard_timeout(240), pytest.raises(RecommenderError, match=r"no shard finished in 5 s \(0 of \d+ done\)"):
        ray_engine.embed_on_ray(load_encoder(None, "onnx-int8"), papers, staging=tmp_path / "staging", progress=False,
                                stall_seconds=5)
    assert [t.name for t in threading.enumerate() if t.ident not in threads and t.is_alive()] == []
    monkeypatch.setattr(ray_engine, "ACTOR_CPUS", 0.5)
    with hard_timeout(240):
        report = build_index([seed_listing], tmp_path / "index", progress=False, engine="ray", staging=tmp_path / "staging")
    assert report.embedded == 50


def test_engine_options_are_checked_before_any_work(tmp_path, seed_listing):
    with pytest.raises(UsageError, match="--engine ray embeds with the ONNX encoders"):
        build_index([seed_listing], tmp_path / "x", progress=False, engine="ray", encoder="torch")
    with pytest.raises(UsageError, match="go with --engine ray"):
        build_index([seed_listing], tmp_path / "x", progress=False, workers=2)
    with pytest.raises(UsageError, match="--address ray://head:10001: give --staging"):
        build_index([seed_listing], tmp_path / "x", progress=False, engine="ray", address="ray://head:10001")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="which a build did not write"):
        build_index([seed_listing], tmp_path / "x", progress=False, engine="ray", staging=tmp_path / "mine")
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    assert not (tmp_path / "x").exists()


def test_cli_build_with_engine_ray(seed_listing, tmp_path):
    """The real command starts its own local Ray (loopback) and reports the engine in the manifest."""
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.run([sys.executable, "-m", "recommender", "build", str(seed_listing), "--index", str(tmp_path / "i"),
                           "--engine", "ray", "--workers", "2", "--staging", str(tmp_path / "s"), "--json"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["manifest"]["engine"]["name"] == "ray" and out["manifest"]["engine"]["workers"] == 2
    assert out["embedded"] == 50
    info = subprocess.run([sys.executable, "-m", "recommender", "info", "--index", str(tmp_path / "i")],
                          capture_output=True, text=True, timeout=120, env=env).stdout
    assert ", embedded on Ray (2 workers, " in info and "papers resumed)" in info
    bad = subprocess.run([sys.executable, "-m", "recommender", "build", str(seed_listing), "--index", str(tmp_path / "j"),
                          "--engine", "spark"], capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert [line for line in bad.stderr.splitlines() if line.startswith("error:")] == [
        "error: --engine 'spark': choose one of local, ray"]
