"""A streamed build keeps nothing per paper in memory but a few keys, yet reads, deduplicates and reports as
the in-memory build does and writes the same index, byte for byte; IVF-PQ training is sized to its cells.
Real data: the bundled listing, the arXiv snapshot excerpt and real BibTeX/CSV exports (tests/data)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.index.build import build_index
from recommender.ingest import read_corpus
from recommender.scale import stream_ingest
from recommender.scale.stream_ingest import read_corpus_streamed

DATA = Path(__file__).parent / "data"
CORPORA = {
    "listing+snapshot+bib": ["SEED", DATA / "ingest/arxiv_snapshot.jsonl", DATA / "ingest/library.bib"],
    "mendeley (shared bogus arXiv ids)": [DATA / "real/mendeley.bib"],
    "endnote (duplicate keys)": [DATA / "real/endnote_duplicate_keys.bib", DATA / "real/zotero_bibtex_nerf.bib",
                                 DATA / "real/zotero_biblatex_nerf.bib"],
    "zotero csv+bib": [DATA / "real/zotero_my_library.csv", DATA / "real/zotero_review_papers.bib",
                       DATA / "real/arxiv_snapshot_head.jsonl", DATA / "ingest/scifact_head.jsonl"],
}


def corpus(name, seed_listing):
    return [seed_listing if p == "SEED" else p for p in CORPORA[name]]


def as_data(report, papers):
    return ([p.to_dict() for p in papers], [vars(s) for s in report.skipped], [vars(s) for s in report.duplicates],
            [vars(s) for s in report.warnings], report.without_abstract, report.files)


@pytest.mark.parametrize("collide", [False, True], ids=["hashes", "every-key-collides"])
@pytest.mark.parametrize("name", list(CORPORA))
def test_streamed_ingest_reads_exactly_as_read_corpus(name, collide, seed_listing, tmp_path, monkeypatch):
    files = corpus(name, seed_listing)
    expected = read_corpus(files)
    if collide:  # every key in one slot: papers are told apart by reading them back, never by the hash
        monkeypatch.setattr(stream_ingest, "_slot", lambda key: 0)
    streamed = read_corpus_streamed(files, tmp_path / "spool")
    got = as_data(streamed, list(streamed.papers))
    assert got == as_data(expected, expected.papers)
    assert len(streamed.papers) == len(expected.papers) >= 3


def test_the_corpora_exercise_every_merge_rule(seed_listing):
    """The comparison above is not vacuous: duplicates, renamed ids and absorbed identifiers all occur."""
    reports = [read_corpus(corpus(name, seed_listing)) for name in CORPORA]
    duplicates = [d.reason for r in reports for d in r.duplicates]
    warnings = [w.reason for r in reports for w in r.warnings]
    assert any("same id and title" in d for d in duplicates) or any("same arXiv id" in d for d in duplicates)
    assert any(", with this record's" in d for d in duplicates)  # identifiers absorbed into the kept paper
    assert any("this paper is kept as" in w for w in warnings)  # a renamed id
    assert any("but not its title: both kept" in w for w in warnings)


def test_streamed_build_writes_the_same_index(seed_listing, tmp_path):
    files = corpus("listing+snapshot+bib", seed_listing)
    memory = build_index(files, tmp_path / "memory", progress=False)
    streamed = build_index(files, tmp_path / "streamed", progress=False, stream=True)
    names = sorted(p.relative_to(tmp_path / "memory").as_posix() for p in (tmp_path / "memory").rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path / "streamed").as_posix()
                           for p in (tmp_path / "streamed").rglob("*") if p.is_file())  # no spool file left
    for name in names:
        if name != "manifest.json":
            assert (tmp_path / "memory" / name).read_bytes() == (tmp_path / "streamed" / name).read_bytes(), name
    differ = {k for k in memory.manifest if memory.manifest[k] != streamed.manifest.get(k)}
    assert differ <= {"created", "updated", "map"}
    timeless = [{k: v for k, v in report.manifest["map"].items() if k != "seconds"} for report in (memory, streamed)]
    assert timeless[0] == timeless[1] and timeless[0]["file"] == "map.npy"
    assert streamed.embedded + streamed.reused == len(memory.ingest.papers) == 57


def test_streamed_build_with_lexical_shards_ranks_as_one_index(seed_listing, tmp_path, monkeypatch):
    from recommender.index import lexical
    from recommender.search.engine import Recommender

    build_index([seed_listing], tmp_path / "one", progress=False)
    monkeypatch.setattr(lexical, "SHARD_ROWS", 20)
    report = build_index([seed_listing], tmp_path / "sharded", progress=False, stream=True)
    assert report.manifest["lexical"]["shards"] == 3 and report.manifest["lexical"]["statistics"] == "whole corpus"
    assert (tmp_path / "sharded" / "lexical" / "shard-00002").is_dir()
    from recommender.index.verify import verify_index

    assert verify_index(tmp_path / "sharded").problems == []  # checksums cover the shards; verify loads them
    import subprocess
    import sys

    info = subprocess.run([sys.executable, "-m", "recommender", "info", "--index", str(tmp_path / "sharded")],
                          capture_output=True, text=True, timeout=120).stdout
    assert "lexical:    bm25s (lucene, k1 1.5, b 0.75), 3 shards of 20 papers, whole-corpus statistics" in info
    one, sharded = Recommender.open(tmp_path / "one"), Recommender.open(tmp_path / "sharded")
    for query in ("backdoor attacks", "Reed-Muller codes", "private fine-tuning of language models", "dataset design"):
        for mode in ("lexical", "hybrid"):
            expected = [(r.paper.id, r.score) for r in one.search(query, k=10, mode=mode)]
            assert [(r.paper.id, r.score) for r in sharded.search(query, k=10, mode=mode)] == expected
            assert expected


def test_add_and_remove_keep_a_sharded_lexical_index_sharded(seed_listing, tmp_path, monkeypatch):
    """An update of an index above SHARD_ROWS writes its lexical index in shards again (one bm25s index of a
    corpus that large would not fit in memory), and ranks as the same update of a single-index one."""
    from recommender.index import lexical
    from recommender.index.update import add_to_index, remove_from_index
    from recommender.search.engine import Recommender

    extra = corpus("listing+snapshot+bib", seed_listing)[1:]
    build_index([seed_listing], tmp_path / "one", progress=False)
    monkeypatch.setattr(lexical, "SHARD_ROWS", 20)
    build_index([seed_listing], tmp_path / "sharded", progress=False, stream=True)
    added = add_to_index(extra, tmp_path / "sharded", progress=False).added
    grown = json.loads((tmp_path / "sharded" / "manifest.json").read_text())
    assert grown["counts"]["papers"] == 50 + len(added) > 40 and grown["lexical"]["shards"] == 3
    removed = remove_from_index([added[0]], tmp_path / "sharded", progress=False).removed
    assert json.loads((tmp_path / "sharded" / "manifest.json").read_text())["lexical"]["shards"] == 3
    monkeypatch.setattr(lexical, "SHARD_ROWS", 500_000)
    add_to_index(extra, tmp_path / "one", progress=False)
    remove_from_index(removed, tmp_path / "one", progress=False)
    assert "shards" not in json.loads((tmp_path / "one" / "manifest.json").read_text())["lexical"]
    one, sharded = Recommender.open(tmp_path / "one"), Recommender.open(tmp_path / "sharded")
    for query in ("backdoor attacks", "Reed-Muller codes", "private fine-tuning of language models", "dataset design"):
        expected = [(r.paper.id, r.score) for r in one.search(query, k=10, mode="lexical")]
        assert [(r.paper.id, r.score) for r in sharded.search(query, k=10, mode="lexical")] == expected and expected


def test_a_failed_streamed_build_leaves_the_previous_index(seed_listing, tmp_path):
    build_index([seed_listing], tmp_path / "index", progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "index").iterdir() if p.is_file()}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n" * 3, encoding="utf-8")
    from recommender.errors import InputError

    with pytest.raises(InputError, match="bad.jsonl: no paper could be read as jsonl"):
        build_index([seed_listing, bad], tmp_path / "index", progress=False, stream=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "index").iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "index"]  # no temporary folder or spool left


def test_ivfpq_trains_on_enough_points_per_cell_at_any_size():
    from recommender.index.vectors import ivfpq_shape, ivfpq_training_size

    for n in (1_000, 100_000, 1_000_000, 2_700_000, 10_000_000, 50_000_000):
        shape = ivfpq_shape(n)
        size = ivfpq_training_size(n, shape)
        assert size == n or size / shape["nlist"] >= 39, n  # FAISS's minimum; the old 100,000 cap gave 16 at 10M
        assert size == n or size / (1 << shape["nbits"]) >= 39, n
    assert ivfpq_training_size(10_000_000, ivfpq_shape(10_000_000)) == 40 * 6324
    assert ivfpq_training_size(1_000_000, ivfpq_shape(1_000_000)) == 80_000  # unchanged below ~1.5M papers


def test_ivfpq_added_in_pieces_is_the_index_added_at_once(monkeypatch, tmp_path):
    import faiss

    from recommender.index import vectors as vec

    rng = np.random.default_rng(7)
    data = rng.standard_normal((3_000, 384)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    whole, _ = vec.build_faiss(data, "ivfpq")
    monkeypatch.setattr(vec, "IVFPQ_ADD_ROWS", 700)
    mapped = np.lib.format.open_memmap(tmp_path / "v.npy", mode="w+", dtype=np.float32, shape=data.shape)
    mapped[:] = data
    pieces, params = vec.build_faiss(mapped, "ivfpq")  # as a streamed build hands it over
    assert faiss.serialize_index(whole).tobytes() == faiss.serialize_index(pieces).tobytes()
    assert params["trained_on"] == 3_000


def test_cli_build_stream(seed_listing, tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "recommender", "build", str(seed_listing), *map(str, args)],
                              capture_output=True, text=True, timeout=300)

    proc = run("--index", tmp_path / "s", "--stream", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["manifest"]["counts"]["papers"] == 50 and out["embedded"] + out["reused"] == 50
    build_index([seed_listing], tmp_path / "m", progress=False)
    assert (tmp_path / "s" / "papers.jsonl").read_bytes() == (tmp_path / "m" / "papers.jsonl").read_bytes()
    bad = run("--index", tmp_path / "x", "--stream", "--workers", "2")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert [line for line in bad.stderr.splitlines() if line.startswith("error:")] == [
        "error: --address, --workers and --staging go with --engine ray"]
    assert not (tmp_path / "x").exists()
