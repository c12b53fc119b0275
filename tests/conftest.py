from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


@pytest.fixture(scope="session")
def seed_listing() -> Path:
    return Path(str(resources.files("recommender.data") / "seed_listing.txt"))


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, seed_listing) -> Path:
    """The bundled listing, indexed once per test session with the real bundled model."""
    from recommender.index.build import build_index

    folder = tmp_path_factory.mktemp("indexes") / "seed"
    build_index([seed_listing], folder, progress=False)
    return folder


@pytest.fixture(scope="session")
def seed_rec(seed_index):
    from recommender.search.engine import Recommender

    return Recommender.open(seed_index)


def benchmark_dir(name: str) -> Path:
    folder = BENCHMARKS / name
    if not folder.is_dir():
        pytest.skip(f"benchmark {name} not found at {folder}")
    return folder


@pytest.fixture(scope="session")
def scifact_slice(tmp_path_factory) -> Path:
    """A BEIR-layout slice of SciFact: the queries whose relevant papers all lie in the first 300 papers."""
    source = benchmark_dir("scifact")
    out = tmp_path_factory.mktemp("scifact_slice")
    corpus_lines = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    kept_ids = {json.loads(line)["_id"] for line in corpus_lines}
    qrels = [line.split("\t") for line in (source / "qrels.tsv").read_text().splitlines()[1:]]
    by_query: dict[str, list[str]] = {}
    for qid, did, _ in qrels:
        by_query.setdefault(qid, []).append(did)
    wanted = {q for q, docs in by_query.items() if all(d in kept_ids for d in docs)}
    queries = [line for line in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()
               if json.loads(line)["_id"] in wanted]
    (out / "corpus.jsonl").write_text("\n".join(corpus_lines) + "\n", encoding="utf-8")
    (out / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    (out / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t{s}" + "\n" for q, d, s in qrels if q in wanted), encoding="utf-8")
    return out
