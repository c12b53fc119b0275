"""The embedding cache: unchanged texts are never embedded twice, and a bad cache never breaks a build."""
from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pytest

from recommender.embed import ModelRef
from recommender.embed import cache as cache_module
from recommender.embed.cache import EmbeddingCache, embed_with_cache, text_key


class FakeEncoder:
    """Deterministic vectors from a hash of the text; remembers every text it was asked to encode."""

    dim = 8

    def __init__(self, kind: str = "fake", fingerprint: str = "f" * 16, fail_after: int | None = None):
        self.kind = kind
        self.recipe = kind
        self.model = ModelRef("fake-model", "/nowhere", fingerprint)
        self.calls: list[list[str]] = []
        self.fail_after = fail_after

    def encode(self, texts, *, batch_size=64, progress=False):
        if self.fail_after is not None and sum(len(c) for c in self.calls) + len(texts) > self.fail_after:
            raise KeyboardInterrupt  # as if the user stopped the build here
        self.calls.append(list(texts))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[: 4 * self.dim], dtype=np.uint8)[: self.dim] for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim) + 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


TEXTS = [f"paper {i}: " + "words " * (i % 7) for i in range(40)]


def test_second_pass_embeds_nothing_and_returns_the_same_vectors(tmp_path):
    path = tmp_path / "cache.sqlite"
    encoder = FakeEncoder()
    first, computed = embed_with_cache(encoder, TEXTS, cache_path=path)
    assert computed == len(TEXTS)
    again = FakeEncoder()
    second, computed = embed_with_cache(again, TEXTS, cache_path=path)
    assert computed == 0 and again.calls == []
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, FakeEncoder().encode(TEXTS))


def test_only_new_or_changed_texts_are_embedded(tmp_path):
    path = tmp_path / "cache.sqlite"
    embed_with_cache(FakeEncoder(), TEXTS, cache_path=path)
    changed = TEXTS[:-1] + ["a changed abstract", "a new paper"]
    encoder = FakeEncoder()
    vectors, computed = embed_with_cache(encoder, changed, cache_path=path)
    assert computed == 2
    assert sorted(encoder.encoded) == ["a changed abstract", "a new paper"]
    np.testing.assert_array_equal(vectors, FakeEncoder().encode(changed))


def test_repeated_texts_are_embedded_once(tmp_path):
    encoder = FakeEncoder()
    vectors, computed = embed_with_cache(encoder, ["same", "other", "same"], cache_path=tmp_path / "c.sqlite")
    assert computed == 2 and sorted(encoder.encoded) == ["other", "same"]
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_use_cache_false_neither_reads_nor_writes(tmp_path):
    path = tmp_path / "cache.sqlite"
    embed_with_cache(FakeEncoder(), TEXTS, cache_path=path)
    encoder = FakeEncoder()
    _, computed = embed_with_cache(encoder, TEXTS + ["fresh"], use_cache=False, cache_path=path)
    assert computed == len(TEXTS) + 1
    cache = EmbeddingCache(FakeEncoder(), path)
    assert len(cache) == len(TEXTS)  # "fresh" was not stored
    cache.close()


def test_each_model_and_encoder_kind_has_its_own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOMMENDER_CACHE_DIR", str(tmp_path))
    embed_with_cache(FakeEncoder(kind="onnx"), TEXTS)
    other_kind = FakeEncoder(kind="onnx-int8")
    assert embed_with_cache(other_kind, TEXTS)[1] == len(TEXTS)
    other_model = FakeEncoder(kind="onnx", fingerprint="0" * 16)
    assert embed_with_cache(other_model, TEXTS)[1] == len(TEXTS)
    assert embed_with_cache(FakeEncoder(kind="onnx"), TEXTS)[1] == 0
    assert len(list((tmp_path / "embeddings").glob("*.sqlite"))) == 3


def test_texts_go_to_the_encoder_longest_first_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "CHUNK", 8)
    encoder = FakeEncoder()
    texts = [("x" * ((i * 37) % 50)) + str(i) for i in range(30)]
    embed_with_cache(encoder, texts, cache_path=tmp_path / "c.sqlite")
    assert [len(c) for c in encoder.calls] == [8, 8, 8, 6]
    lengths = [len(t) for t in encoder.encoded]
    assert lengths == sorted(lengths, reverse=True)  # neighbours share a length, so batches carry little padding


def test_an_interrupted_embedding_keeps_the_chunks_it_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "CHUNK", 10)
    path = tmp_path / "cache.sqlite"
    with pytest.raises(KeyboardInterrupt):
        embed_with_cache(FakeEncoder(fail_after=25), TEXTS, cache_path=path)
    encoder = FakeEncoder()
    vectors, computed = embed_with_cache(encoder, TEXTS, cache_path=path)
    assert computed == len(TEXTS) - 20  # two chunks of 10 were stored before the interruption
    np.testing.assert_array_equal(vectors, FakeEncoder().encode(TEXTS))


def test_an_unreadable_cache_file_is_bypassed_with_a_warning(tmp_path, capsys):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    vectors, computed = embed_with_cache(FakeEncoder(), TEXTS, cache_path=path)
    assert computed == len(TEXTS)
    np.testing.assert_array_equal(vectors, FakeEncoder().encode(TEXTS))
    err = capsys.readouterr().err
    assert "warning: the embedding cache" in err and str(path) in err and "Traceback" not in err


def test_a_stored_vector_of_the_wrong_size_is_recomputed(tmp_path):
    path = tmp_path / "cache.sqlite"
    embed_with_cache(FakeEncoder(), TEXTS, cache_path=path)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE vectors SET vector = ? WHERE key = ?", (b"\x00" * 12, text_key(TEXTS[3])))
    db.close()
    encoder = FakeEncoder()
    vectors, computed = embed_with_cache(encoder, TEXTS, cache_path=path)
    assert computed == 1 and encoder.encoded == [TEXTS[3]]
    np.testing.assert_array_equal(vectors, FakeEncoder().encode(TEXTS))


def test_rebuilding_an_unchanged_corpus_embeds_nothing(seed_listing, tmp_path):
    """End to end with the real model: the second build of the same listing takes every vector from the cache."""
    from recommender.index.build import build_index
    from recommender.index.storage import load_vectors

    cache_path = tmp_path / "cache.sqlite"
    first = build_index([seed_listing], tmp_path / "a", progress=False, cache_path=cache_path)
    second = build_index([seed_listing], tmp_path / "b", progress=False, cache_path=cache_path)
    assert (first.embedded, first.reused) == (50, 0)
    assert (second.embedded, second.reused) == (0, 50)
    np.testing.assert_array_equal(load_vectors(tmp_path / "a"), load_vectors(tmp_path / "b"))
