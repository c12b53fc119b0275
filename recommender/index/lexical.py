"""Lexical retrieval with bm25s, saved inside the index folder and covered by its manifest.

Up to SHARD_ROWS papers the index is one bm25s index (lexical/), as it always was. A larger corpus, whose bm25s
index would not fit in memory (~6.4 KB a paper while it is built), is split by row range into shards
(lexical/shard-00000/, ...; lexical/shards.json) built one at a time with the statistics of the whole corpus
(document count, average length and each term's document frequency, from a first pass), so that every paper's
score is the one a single index gives it, bit for bit; a query is scored by every shard and the top rows merged.
"""
from __future__ import annotations

import json
import shutil
from itertools import chain
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
TOKEN_SPOOL = ".tokens"  # the first pass's token ids, inside the lexical folder while it is built


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
                       shard_rows: int = SHARD_ROWS, n_docs: int | None = None) -> dict:
        """Build and save the index of a corpus too large to hold, reading its texts through `chunks()` (an
        iterable of lists of texts, in row order): a first pass tokenises them once, counting the corpus's
        statistics and keeping the token ids on disk (folder/.tokens, removed when done); the shards are then
        built from those ids. Returns the manifest's `lexical` block. `n_docs`, when the caller knows it, spares a
        corpus that fits one shard the first pass."""
        folder.mkdir(parents=True, exist_ok=True)

        def one_index() -> dict:  # a corpus that fits one shard gets the plain index, ranked exactly as it always was
            cls.build([text for chunk in chunks() for text in chunk]).save(folder)
            return dict(LEXICAL_PARAMS)

        if n_docs is not None and n_docs <= shard_rows:
            return one_index()
        spool = folder / TOKEN_SPOOL
        try:
            stats = corpus_statistics(chunks(), spool=spool)
            if stats.n_docs <= shard_rows:
                return one_index()
            bounds = []
            for number, (start, ids, lengths) in enumerate(_spooled_shards(spool, shard_rows)):
                shard = _shard_retriever(ids, lengths, stats)
                shard.save(str(folder / _shard_name(number)), show_progress=False)
                bounds.append([start, start + len(lengths)])
                del shard
        finally:
            shutil.rmtree(spool, ignore_errors=True)
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

    def __init__(self, chunks: Callable[[], Iterable[list[str]]], shard_rows: int | None = None,
                 n_docs: int | None = None):
        self._chunks = chunks
        self._shard_rows = shard_rows
        self._n_docs = n_docs
        self.recipe: dict | None = None

    def save(self, folder: Path) -> None:
        self.recipe = LexicalIndex.build_streamed(self._chunks, folder, shard_rows=self._shard_rows or SHARD_ROWS,
                                                  n_docs=self._n_docs)


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
    def __init__(self, n_docs: int, avg_doc_len: float, tokens: list[str], by_token_id: np.ndarray):
        self.n_docs = n_docs
        self.avg_doc_len = avg_doc_len
        self.tokens = tokens  # the corpus's tokens; a token's id is its position here
        self.by_token_id = by_token_id  # number of documents holding each token, by id

    @property
    def doc_frequencies(self) -> dict[str, int]:
        return dict(zip(self.tokens, self.by_token_id.tolist()))


def corpus_statistics(chunks: Iterable[list[str]], spool: Path | None = None) -> CorpusStatistics:
    """Document count, average length in tokens and document frequencies, computed as bm25s computes them.
    With `spool`, each TOKENIZE_CHUNK texts' token ids and lengths are saved there (part-NNNNNNNN.npz), for
    _spooled_shards."""
    lengths: list[np.ndarray] = []
    vocab: dict[str, int] = {}
    frequencies = np.zeros(0, dtype=np.int64)
    if spool is not None:
        spool.mkdir(parents=True, exist_ok=True)
    parts = 0
    for chunk in chunks:
        for start in range(0, len(chunk), TOKENIZE_CHUNK):
            docs = tokenize(chunk[start:start + TOKENIZE_CHUNK])
            sizes = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
            for token in set(chain.from_iterable(docs)).difference(vocab):
                vocab[token] = len(vocab)
            ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(docs)), dtype=np.int64, count=int(sizes.sum()))
            if len(frequencies) < len(vocab):  # room for the new tokens, doubling so that copies stay few
                frequencies = np.concatenate([frequencies, np.zeros(max(len(vocab), len(frequencies)), np.int64)])
            counts = np.bincount(_distinct_per_doc(ids, sizes), minlength=len(vocab))
            frequencies[:len(counts)] += counts
            lengths.append(sizes)
            if spool is not None:
                np.savez(spool / f"part-{parts:08d}.npz", ids=ids.astype(np.int32), lengths=sizes.astype(np.int32))
            parts += 1
    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    # bm25s takes np.array([len(doc) ...]).mean(): the same int64 array, so the same float, bit for bit
    return CorpusStatistics(len(all_lengths), all_lengths.mean() if len(all_lengths) else 0.0, list(vocab),
                            frequencies[:len(vocab)])


def _distinct_per_doc(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The ids of `ids` (documents of `lengths` tokens, one after another) counted once per document."""
    if not len(ids):
        return ids
    width = int(ids.max()) + 1
    pairs = np.sort(np.repeat(np.arange(len(lengths), dtype=np.int64), lengths) * width + ids)
    distinct = np.empty(len(pairs), dtype=bool)
    distinct[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=distinct[1:])  # a sort, not np.unique: its hashing was 10x slower here
    return pairs[distinct] % width


def _spooled_shards(spool: Path, shard_rows: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first row, token ids, lengths) of each run of shard_rows documents, read back from the spool."""
    ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    held = start = 0
    for part in sorted(spool.glob("part-*.npz")):
        with np.load(part) as saved:
            part_ids, part_lengths = saved["ids"], saved["lengths"]
        offset = 0
        while offset < len(part_lengths):
            take = min(shard_rows - held, len(part_lengths) - offset)
            tokens_before = int(part_lengths[:offset].sum())
            tokens_taken = int(part_lengths[offset:offset + take].sum())
            ids.append(part_ids[tokens_before:tokens_before + tokens_taken])
            lengths.append(part_lengths[offset:offset + take])
            held += take
            offset += take
            if held == shard_rows:
                yield start, np.concatenate(ids), np.concatenate(lengths)
                start += held
                ids, lengths, held = [], [], 0
    if held:
        yield start, np.concatenate(ids), np.concatenate(lengths)


def _shard_name(number: int) -> str:
    return f"shard-{number:05d}"


def _shard_retriever(ids: np.ndarray, lengths: np.ndarray, stats: CorpusStatistics):
    """A bm25s index of one shard (documents of `lengths` tokens whose corpus-wide token ids are `ids`) whose scores
    use the whole corpus's statistics: bm25s.BM25.index, with its document count, average length and document
    frequencies replaced by the corpus's."""
    import logging

    import bm25s
    from bm25s import scoring

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = bm25s.BM25(k1=LEXICAL_PARAMS["k1"], b=LEXICAL_PARAMS["b"], method=LEXICAL_PARAMS["method"])
    present, local = np.unique(ids, return_inverse=True)  # the shard's vocabulary: its own token numbers
    bounds = np.cumsum(lengths)[:-1]
    docs = [doc.tolist() for doc in np.split(local, bounds)]
    shard_frequencies = np.bincount(_distinct_per_doc(local.astype(np.int64), lengths.astype(np.int64)),
                                    minlength=len(present))
    vocab = {stats.tokens[token]: i for i, token in enumerate(present.tolist())}
    idf = scoring._build_idf_array(dict(enumerate(stats.by_token_id[present].tolist())),
                                   stats.n_docs, scoring._select_idf_scorer(retriever.idf_method), dtype=retriever.dtype)
    values, doc_rows, token_cols = scoring._build_scores_and_indices_for_matrix(
        corpus_token_ids=docs, idf_array=idf, avg_doc_len=stats.avg_doc_len,
        doc_frequencies=dict(enumerate(shard_frequencies.tolist())),  # sizes the arrays: the shard's own postings
        k1=retriever.k1, b=retriever.b, delta=retriever.delta, show_progress=False, dtype=retriever.dtype,
        int_dtype=retriever.int_dtype, method=retriever.method, nonoccurrence_array=None)
    data, indices, indptr = retriever._np_csc(data=values, rows=doc_rows, cols=token_cols, shape=(len(docs), len(vocab)))
    retriever.scores = {"data": data.astype(retriever.dtype), "indices": indices, "indptr": indptr, "num_docs": len(docs)}
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
