"""Lexical retrieval with bm25s, saved inside the index folder and covered by its manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# bm25s defaults (k1=1.5, b=0.75, Lucene idf), English stop words and the Snowball English stemmer:
# the settings whose scores the project's reference BM25 figures were measured with.
LEXICAL_PARAMS = {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": "en", "stemmer": "english"}


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

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int, mmap: bool = True) -> "LexicalIndex":
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
    part = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    rows = part[order].astype(np.int64)
    return rows, scores[rows].astype(np.float32)
