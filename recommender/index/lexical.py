"""Lexical retrieval with bm25s, saved inside the index folder and covered by its manifest.

Up to SHARD_ROWS papers the index is one bm25s index (lexical/), as it always was. A larger corpus, whose bm25s
index would not fit in memory (~6.4 KB a paper while it is built), is split by row range into shards
(lexical/shard-00000/, ...; lexical/shards.json) built one at a time with the statistics of the whole corpus
(document count, average length and each term's document frequency, from a first pass), so that every paper's
score is the one a single index gives it, bit for bit; a query is scored by every shard and the top rows merged.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

# bm25s defaults (k1=1.5, b=0.75, Lucene idf), English stop words and the Snowball English stemmer:
# the settings whose scores the project's reference BM25 figures were measured with.
LEXICAL_PARAMS = {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": "en", "stemmer": "english"}


# Papers per lexical shard: building one holds ~6.4 KB a paper (measured at 100K), so ~3.2 GB at 500K.
SHARD_ROWS = 500_000
SHARDS_FILE = "shards.json"
TOKENIZE_CHUNK = 10_000  # texts tokenised at a time while streaming


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer(LEXICAL_PARAMS["stemmer"])


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts, stopwords=LEXICAL_PARAMS["stopwords"], stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    def __init__(self, retriever, n_docs: int):
        self._retriever = retriever
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import logging

        import bm25s

        # bm25s sets its logger to DEBUG on import, so once anything configures logging (the ONNX export
        # does) every build printed "DEBUG:bm25s:Building index from tokens". Its warnings still show.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever = bm25s.BM25(k1=LEXICAL_PARAMS["k1"], b=LEXICAL_PARAMS["b"], method=LEXICAL_PARAMS["method"])
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def build_streamed(cls, chunks: Callable[[], Iterable[list[str]]], folder: Path, *,
                       shard_rows: int = SHARD_ROWS) -> dict:
        """Build and save the index of a corpus too large to hold, reading its texts twice through `chunks()`
        (an iterable of lists of texts, in row order). Returns the manifest's `lexical` block."""
        folder.mkdir(parents=True, exist_ok=True)
        stats = corpus_statistics(chunks())
        if stats.n_docs <= shard_rows:  # one shard is the plain index, ranked exactly as it always was
            cls.build([text for chunk in chunks() for text in chunk]).save(folder)
            return dict(LEXICAL_PARAMS)
        bounds = []
        for number, (start, texts) in enumerate(_rows_in_shards(chunks(), shard_rows)):
            shard = _shard_retriever(tokenize(texts), stats)
            shard.save(str(folder / _shard_name(number)), show_progress=False)
            bounds.append([start, start + len(texts)])
            del shard
        (folder / SHARDS_FILE).write_text(json.dumps({"rows": bounds, "n_docs": stats.n_docs,
                                                      "avg_doc_len": stats.avg_doc_len}), encoding="utf-8")
        return {**LEXICAL_PARAMS, "shards": len(bounds), "shard_rows": shard_rows, "statistics": "whole corpus"}

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int, mmap: bool = True) -> "LexicalIndex":
        if (folder / SHARDS_FILE).is_file():
            return ShardedLexicalIndex.load(folder, n_docs, mmap=mmap)
        bm25s = _import_bm25s_for_queries()
        retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0)
        return cls(retriever, n_docs)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document for `text` (zeros when no query term is in the vocabulary)."""
        tokens = tokenize([text])[0]
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def top(self, text: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(text)
        return top_n(scores, n)


class StreamedLexical:
    """For storage.write_index_files: builds the index as it saves it, from texts read twice in chunks; its
    `recipe` (the manifest's lexical block) is known once saved."""

    def __init__(self, chunks: Callable[[], Iterable[list[str]]], shard_rows: int | None = None):
        self._chunks = chunks
        self._shard_rows = shard_rows
        self.recipe: dict | None = None

    def save(self, folder: Path) -> None:
        self.recipe = LexicalIndex.build_streamed(self._chunks, folder, shard_rows=self._shard_rows or SHARD_ROWS)


class ShardedLexicalIndex:
    """Shards by row range, scored with the whole corpus's statistics: the scores of one index, shard by shard."""

    def __init__(self, shards: list[tuple[int, LexicalIndex]], n_docs: int):
        self._shards = shards  # (first row, index)
        self.n_docs = n_docs

    @classmethod
    def load(cls, folder: Path, n_docs: int, mmap: bool = True) -> "ShardedLexicalIndex":
        bounds = json.loads((folder / SHARDS_FILE).read_text(encoding="utf-8"))["rows"]
        return cls([(start, LexicalIndex.load(folder / _shard_name(i), end - start, mmap=mmap))
                    for i, (start, end) in enumerate(bounds)], n_docs)

    def scores(self, text: str) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        for start, shard in self._shards:
            out[start:start + shard.n_docs] = shard.scores(text)
        return out

    def top(self, text: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each shard's n best, merged: the same rows and scores (ties by row) as one index's top n."""
        rows, scores = [], []
        for start, shard in self._shards:
            shard_rows, shard_scores = shard.top(text, n)
            rows.append(shard_rows + start)
            scores.append(shard_scores)
        rows_all, scores_all = np.concatenate(rows), np.concatenate(scores)
        order = np.lexsort((rows_all, -scores_all))[:min(n, self.n_docs)]
        return rows_all[order].astype(np.int64), scores_all[order].astype(np.float32)


class CorpusStatistics:
    def __init__(self, n_docs: int, avg_doc_len: float, doc_frequencies: Counter):
        self.n_docs = n_docs
        self.avg_doc_len = avg_doc_len
        self.doc_frequencies = doc_frequencies


def corpus_statistics(chunks: Iterable[list[str]]) -> CorpusStatistics:
    """Document count, average length in tokens and document frequencies, computed as bm25s computes them."""
    lengths: list[np.ndarray] = []
    frequencies: Counter = Counter()
    for chunk in chunks:
        for start in range(0, len(chunk), TOKENIZE_CHUNK):
            docs = tokenize(chunk[start:start + TOKENIZE_CHUNK])
            lengths.append(np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs)))
            for doc in docs:
                frequencies.update(set(doc))
    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    # bm25s takes np.array([len(doc) ...]).mean(): the same int64 array, so the same float, bit for bit
    return CorpusStatistics(len(all_lengths), all_lengths.mean() if len(all_lengths) else 0.0, frequencies)


def _rows_in_shards(chunks: Iterable[list[str]], shard_rows: int) -> Iterator[tuple[int, list[str]]]:
    pending: list[str] = []
    start = 0
    for chunk in chunks:
        pending.extend(chunk)
        while len(pending) >= shard_rows:
            yield start, pending[:shard_rows]
            start += shard_rows
            pending = pending[shard_rows:]
    if pending:
        yield start, pending


def _shard_name(number: int) -> str:
    return f"shard-{number:05d}"


def _shard_retriever(docs: list[list[str]], stats: CorpusStatistics):
    """A bm25s index of one shard whose scores use the whole corpus's statistics (bm25s.BM25.index, with its
    document count, average length and document frequencies replaced by the corpus's)."""
    import logging

    import bm25s
    from bm25s import scoring

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = bm25s.BM25(k1=LEXICAL_PARAMS["k1"], b=LEXICAL_PARAMS["b"], method=LEXICAL_PARAMS["method"])
    vocab = {token: i for i, token in enumerate(bm25s.get_unique_tokens(docs, show_progress=False))}
    ids = [[vocab[token] for token in doc] for doc in docs]
    shard_frequencies = scoring._calculate_doc_freqs(ids, list(vocab.values()), show_progress=False)
    idf = scoring._build_idf_array({vocab[t]: stats.doc_frequencies[t] for t in vocab}, stats.n_docs,
                                   scoring._select_idf_scorer(retriever.idf_method), dtype=retriever.dtype)
    values, doc_rows, token_cols = scoring._build_scores_and_indices_for_matrix(
        corpus_token_ids=ids, idf_array=idf, avg_doc_len=stats.avg_doc_len,
        doc_frequencies=shard_frequencies,  # sizes the arrays: the shard's own postings
        k1=retriever.k1, b=retriever.b, delta=retriever.delta, show_progress=False, dtype=retriever.dtype,
        int_dtype=retriever.int_dtype, method=retriever.method, nonoccurrence_array=None)
    data, indices, indptr = retriever._np_csc(data=values, rows=doc_rows, cols=token_cols, shape=(len(ids), len(vocab)))
    retriever.scores = {"data": data.astype(retriever.dtype), "indices": indices, "indptr": indptr, "num_docs": len(ids)}
    if "" not in vocab:
        vocab[""] = max(vocab.values(), default=-1) + 1  # as bm25s's index(create_empty_token=True)
    retriever.vocab_dict = vocab
    retriever.unique_token_ids_set = set(vocab.values())
    retriever.nonoccurrence_array = None
    return retriever


def _import_bm25s_for_queries():
    """bm25s, imported without scipy.sparse and tqdm when nothing has loaded them yet (a cold CLI query).

    bm25s treats both as optional (it builds and scores with numpy by default, identical scores), and
    they are most of its import time: 0.15 s of CPU out of a ~0.9 s cold `recommender search`."""
    import os
    import sys

    if "bm25s" in sys.modules or "scipy.sparse" in sys.modules:
        import bm25s

        return bm25s
    saved_tqdm = os.environ.get("DISABLE_TQDM")
    os.environ["DISABLE_TQDM"] = "1"  # read once, at import: bm25s's bars stay off (we never show them)
    sys.modules["scipy.sparse"] = None  # `import scipy.sparse` raises ImportError, which bm25s catches
    try:
        import bm25s
    finally:
        del sys.modules["scipy.sparse"]
        if saved_tqdm is None:
            del os.environ["DISABLE_TQDM"]
        else:
            os.environ["DISABLE_TQDM"] = saved_tqdm
    return bm25s


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and scores of the n highest scores, best first (ties broken by row for stable output)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if n < len(scores):
        # Every row above the n-th score, then the lowest rows among those equal to it: argpartition alone picks
        # any of the tied rows, so a tie at the cut (all zeros, for a query matching few papers) could change
        # with the layout of the array (and did differ between one index and its shards).
        kth = -np.partition(-scores, n - 1)[n - 1]
        above = np.flatnonzero(scores > kth)
        part = np.concatenate([above, np.flatnonzero(scores == kth)[:n - len(above)]])
    else:
        part = np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    rows = part[order].astype(np.int64)
    return rows, scores[rows].astype(np.float32)
