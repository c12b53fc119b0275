"""Index types against exact search, memory-mapped loading, and the query path (no torch, same vectors as the build)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from recommender.errors import UsageError
from recommender.index import storage, vectors as vector_index
from recommender.index.vectors import VectorSearcher, build_faiss, choose_index_type, refill_faiss


def clustered(n: int, dim: int = 96, clusters: int = 40, seed: int = 0, queries: int = 100):
    """Seeded unit vectors around random centres (what embeddings of papers on a few topics look like)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)

    def draw(count):
        x = centres[rng.integers(0, clusters, count)] + 0.35 * rng.standard_normal((count, dim)).astype(np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    return draw(n), draw(queries)


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ data.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found.tolist(), truth.tolist())]))


@pytest.fixture(scope="module")
def data():
    return clustered(3000)


def test_flat_is_exact(data):
    x, q = data
    index, params = build_faiss(x, "flat")
    rows, scores = VectorSearcher(index, params).search(q, 10)
    truth = exact_top(x, q, 10)
    assert recall_at(rows, truth) == 1.0
    np.testing.assert_allclose(scores, np.take_along_axis(q @ x.T, rows, axis=1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_types_find_what_exact_search_finds(data, kind):
    x, q = data
    index, params = build_faiss(x, kind)
    assert params["type"] == kind
    searcher = VectorSearcher(index, params, x)
    rows, scores = searcher.search(q, 10)
    assert recall_at(rows, exact_top(x, q, 10)) >= 0.95
    # scores are true cosines (ivfpq re-scores its candidates exactly), best first
    np.testing.assert_allclose(scores, np.take_along_axis(q @ x.T, rows, axis=1), rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_single_and_batched_queries_agree(data):
    x, q = data
    index, params = build_faiss(x, "ivfpq")
    searcher = VectorSearcher(index, params, x)
    batched, _ = searcher.search(q[:8], 10)
    single = np.vstack([searcher.search(q[i], 10)[0] for i in range(8)])
    np.testing.assert_array_equal(batched, single)


def test_ivfpq_without_refine_is_worse_so_the_refine_step_matters(data):
    x, q = data
    index, params = build_faiss(x, "ivfpq")
    truth = exact_top(x, q, 10)
    raw, _ = VectorSearcher(index, params).search(q, 10)  # no vectors: the quantised scores alone
    refined, _ = VectorSearcher(index, params, x).search(q, 10)
    assert recall_at(refined, truth) > recall_at(raw, truth)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivfpq"])
def test_memory_mapped_load_gives_the_same_results(data, kind, tmp_path):
    import faiss

    x, q = data
    index, params = build_faiss(x, kind)
    before = VectorSearcher(index, params, x).search(q, 10)
    faiss.write_index(index, str(tmp_path / storage.FAISS))
    loaded = storage.load_faiss(tmp_path)  # memory-mapped by default
    after = VectorSearcher(loaded, params, x).search(q, 10)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1], rtol=1e-6)


def test_refilled_ivfpq_keeps_its_training_and_holds_the_new_rows(data):
    x, q = data
    index, params = build_faiss(x, "ivfpq")
    kept = x[500:]
    refilled = refill_faiss(index, kept)
    assert refilled.ntotal == len(kept) and index.ntotal == len(x)  # the original is untouched
    np.testing.assert_array_equal(index.quantizer.reconstruct_n(0, params["nlist"]),
                                  refilled.quantizer.reconstruct_n(0, params["nlist"]))
    rows, _ = VectorSearcher(refilled, params, kept).search(q, 10)
    assert recall_at(rows, exact_top(kept, q, 10)) >= 0.95


def test_auto_is_exact_up_to_the_flat_limit_then_approximate():
    assert choose_index_type("auto", 1_000) == "flat"
    assert choose_index_type("auto", vector_index.FLAT_MAX) == "flat"
    assert choose_index_type("auto", vector_index.FLAT_MAX + 1) == "ivfpq"
    assert choose_index_type("hnsw", 10) == "hnsw"
    with pytest.raises(UsageError, match="--index-type 'annoy': choose one of auto, flat, hnsw, ivfpq"):
        choose_index_type("annoy", 10)


def test_ivfpq_on_a_tiny_corpus_is_a_clear_error(seed_listing, tmp_path, capsys):
    x, _ = clustered(200)
    with pytest.raises(UsageError, match="needs at least 1,000 papers .* use --index-type flat"):
        build_faiss(x, "ivfpq")
    from recommender.cli.app import main

    assert main(["build", str(seed_listing), "--index", str(tmp_path / "i"), "--index-type", "ivfpq"]) == 2
    err = capsys.readouterr().err
    assert "error: --index-type ivfpq needs at least 1,000 papers (this corpus has 50)" in err
    assert "embedding" not in err and not (tmp_path / "i").exists()  # refused before any work


# --- end to end with the real model ------------------------------------------------------------

def test_hnsw_index_of_the_seed_listing_ranks_like_flat(seed_listing, seed_rec, tmp_path):
    from recommender.index.build import build_index
    from recommender.search.engine import Recommender

    build_index([seed_listing], tmp_path / "hnsw", index_type="hnsw", progress=False)
    rec = Recommender.open(tmp_path / "hnsw")
    assert rec.manifest["index"]["type"] == "hnsw" and rec.manifest["index"]["efSearch"] > 0
    for query in ("backdoor attacks on neural networks", "polar codes decoding", "differential privacy"):
        for mode in ("dense", "hybrid"):
            got, want = rec.search(query, 10, mode=mode), seed_rec.search(query, 10, mode=mode)
            assert [r.paper.id for r in got] == [r.paper.id for r in want]
            # FAISS and numpy sum the inner products in different orders: equal to float32 rounding
            np.testing.assert_allclose([r.score for r in got], [r.score for r in want], atol=1e-5)


def test_the_query_encoder_gives_the_vectors_the_index_was_built_with(seed_rec):
    rows = [0, 17, 42]
    fresh = seed_rec.encoder.encode([seed_rec.papers[r].text for r in rows])
    cosines = np.sum(fresh * np.asarray(seed_rec.vectors[rows]), axis=1)
    assert np.all(cosines > 0.9999)
    block = seed_rec.manifest["encoder"]
    assert block["query"] == seed_rec.encoder.kind and block["query_agreement_min_cosine"] >= 0.99


@pytest.mark.slow
def test_an_index_built_with_torch_is_queried_by_onnx_with_the_agreement_recorded(seed_listing, tmp_path):
    from recommender.index.build import build_index
    from recommender.search.engine import Recommender

    build_index([seed_listing], tmp_path / "torch", encoder="torch", progress=False, use_cache=False)
    rec = Recommender.open(tmp_path / "torch")
    block = rec.manifest["encoder"]
    assert (block["build"], block["query"]) == ("torch", "onnx")
    assert 0.99 <= block["query_agreement_min_cosine"] <= 1.0
    fresh = rec.encoder.encode([p.text for p in rec.papers])  # onnx, the query encoder
    measured = float(np.min(np.sum(fresh * np.asarray(rec.vectors), axis=1)))  # against the torch vectors
    assert measured >= 0.99
    assert abs(measured - block["query_agreement_min_cosine"]) < 0.01


def test_a_cli_search_never_imports_torch_or_sentence_transformers(seed_index):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "recommender", "search", "backdoor attacks", "--index", str(seed_index),
         "-k", "3", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(json.loads(proc.stdout)["results"]) == 3
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in imported  # the query really was encoded, in this process
    assert not imported & {"torch", "sentence_transformers", "transformers"}


@pytest.mark.slow
def test_an_ivfpq_index_of_real_abstracts_ranks_like_flat(tmp_path):
    """CISI's 1,460 abstracts: the approximate index returns what exact search returns (dense, top 10)."""
    from conftest import benchmark_dir
    from recommender.index.build import build_index
    from recommender.search.engine import Recommender

    folder = benchmark_dir("cisi")
    corpus = folder / "corpus.jsonl"
    for kind in ("flat", "ivfpq"):
        build_index([corpus], tmp_path / kind, index_type=kind, progress=False, dedup_titles=False)
    flat, approx = Recommender.open(tmp_path / "flat"), Recommender.open(tmp_path / "ivfpq")
    assert approx.manifest["index"]["type"] == "ivfpq"
    queries = [json.loads(line)["text"] for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:20]]
    overlap = [len({r.paper.id for r in approx.search(q, 10, mode="dense")} & {r.paper.id for r in flat.search(q, 10, mode="dense")}) / 10
               for q in queries]
    assert np.mean(overlap) >= 0.95
