"""A lexical index split into shards scores every paper exactly as one index does (bit for bit), and a
corpus that fits in one shard gets the plain index it always got. Real texts: SciFact abstracts and queries."""
from __future__ import annotations

import json

import numpy as np
import pytest

from recommender.index.lexical import LEXICAL_PARAMS, LexicalIndex, ShardedLexicalIndex, corpus_statistics


@pytest.fixture(scope="module")
def scifact():
    from conftest import benchmark_dir

    folder = benchmark_dir("scifact")
    docs = [json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:1200]]
    texts = [f"{d['title']}\n{d['text']}" for d in docs]
    queries = [json.loads(line)["text"] for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    return texts, queries


def chunked(texts, size):
    return lambda: (texts[i:i + size] for i in range(0, len(texts), size))


@pytest.mark.parametrize("shard_rows", [1, 97, 500])
def test_shards_score_exactly_as_one_index(scifact, tmp_path, shard_rows):
    texts, queries = scifact
    single = LexicalIndex.build(texts)
    block = LexicalIndex.build_streamed(chunked(texts, 333), tmp_path / "lexical", shard_rows=shard_rows)
    assert block == {**LEXICAL_PARAMS, "shards": -(-len(texts) // shard_rows), "shard_rows": shard_rows,
                     "statistics": "whole corpus"}
    sharded = LexicalIndex.load(tmp_path / "lexical", len(texts))
    assert isinstance(sharded, ShardedLexicalIndex)
    nonzero = 0
    for query in queries + ["", "the of and", "zzzzunknownterm"]:
        expected = single.scores(query)
        assert np.array_equal(sharded.scores(query), expected), query  # bit for bit
        nonzero += int(expected.any())
        for n in (1, 10, 2000):
            rows, scores = single.top(query, n)
            got_rows, got_scores = sharded.top(query, n)
            assert np.array_equal(got_rows, rows) and np.array_equal(got_scores, scores), (query, n)
    assert nonzero >= 50  # the queries do match papers


def test_one_shard_is_the_plain_index(scifact, tmp_path):
    texts, queries = scifact
    LexicalIndex.build(texts).save(tmp_path / "today")
    block = LexicalIndex.build_streamed(chunked(texts, 100), tmp_path / "streamed")
    assert block == LEXICAL_PARAMS
    assert sorted(p.name for p in (tmp_path / "streamed").iterdir()) == sorted(p.name for p in (tmp_path / "today").iterdir())
    for path in (tmp_path / "today").iterdir():
        assert (tmp_path / "streamed" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_corpus_known_to_fit_one_shard_is_tokenised_once(scifact, tmp_path, monkeypatch):
    from recommender.index import lexical

    texts, _ = scifact
    passes = []
    monkeypatch.setattr(lexical, "tokenize", lambda batch, real=lexical.tokenize: passes.append(len(batch)) or real(batch))
    LexicalIndex.build_streamed(chunked(texts, 100), tmp_path / "known", n_docs=len(texts))
    assert sum(passes) == len(texts)  # the plain index's own tokenising, no statistics pass
    passes.clear()
    LexicalIndex.build_streamed(chunked(texts, 100), tmp_path / "unknown")
    assert sum(passes) == 2 * len(texts)
    for path in (tmp_path / "known").iterdir():
        assert path.read_bytes() == (tmp_path / "unknown" / path.name).read_bytes(), path.name


def test_corpus_statistics_are_bm25s_own(scifact):
    texts, _ = scifact
    stats = corpus_statistics(chunked(texts, 250)())
    tokens = stats.tokens
    retriever = LexicalIndex.build(texts)._retriever
    from recommender.index.lexical import tokenize

    docs = tokenize(texts)
    assert stats.n_docs == len(texts) == retriever.scores["num_docs"]
    assert stats.avg_doc_len == np.array([len(d) for d in docs]).mean()
    assert stats.doc_frequencies["cell"] == sum("cell" in set(d) for d in docs) > 10
    from collections import Counter

    expected = Counter(t for d in docs for t in set(d))
    assert stats.doc_frequencies == expected and stats.by_token_id.tolist() == [expected[t] for t in tokens]


@pytest.mark.parametrize("shard_rows", [1, 97, 250, 5000])
def test_the_spooled_token_ids_are_the_tokens_of_each_shard(scifact, tmp_path, shard_rows):
    """The first pass's token ids, read back shard by shard (across the spool's parts), spell each text's tokens."""
    from recommender.index import lexical

    texts, _ = scifact
    lexical.TOKENIZE_CHUNK, saved = 100, lexical.TOKENIZE_CHUNK  # parts of 100 texts: shards cross them
    try:
        tokens = corpus_statistics(chunked(texts, 333)(), spool=tmp_path / "spool").tokens
    finally:
        lexical.TOKENIZE_CHUNK = saved
    docs, starts = [], []
    for start, ids, lengths in lexical._spooled_shards(tmp_path / "spool", shard_rows):
        starts.append(start)
        docs += [[tokens[i] for i in doc] for doc in np.split(ids, np.cumsum(lengths)[:-1])]
    assert docs == lexical.tokenize(texts)
    assert starts == list(range(0, len(texts), shard_rows))
