"""Lexical retrievers: BM25 through bm25s (full-corpus score vectors) and arxiv-sanity tf-idf."""
from __future__ import annotations

import numpy as np


def _stemmer(name):
    if not name:
        return None
    import Stemmer

    return Stemmer.Stemmer(name).stemWords


class BM25:
    """bm25s with a fixed tokenizer; scores(texts) -> (len(texts), n_docs) float32."""

    def __init__(self, docs: list[str], *, k1=1.5, b=0.75, method="lucene", stopwords="en", stemmer="english"):
        import bm25s

        self._bm25s = bm25s
        self.stopwords = stopwords
        self.stem = _stemmer(stemmer)
        toks = bm25s.tokenize(docs, stopwords=stopwords, stemmer=self.stem, show_progress=False)
        self.vocab = toks.vocab
        self.model = bm25s.BM25(k1=k1, b=b, method=method)
        self.model.index(toks, show_progress=False)
        self.n_docs = len(docs)

    def query_tokens(self, text: str) -> list[str]:
        toks = self._bm25s.tokenize([text], stopwords=self.stopwords, stemmer=self.stem, return_ids=False, show_progress=False)[0]
        return [t for t in toks if t in self.vocab]

    def score_tokens(self, tokens: list[str], weights: dict[str, float] | None = None) -> np.ndarray:
        if not tokens:
            return np.zeros(self.n_docs, dtype=np.float32)
        if weights is None:
            return np.asarray(self.model.get_scores(tokens), dtype=np.float32)
        out = np.zeros(self.n_docs, dtype=np.float32)
        for t, w in weights.items():
            if t in self.vocab:
                out += w * np.asarray(self.model.get_scores([t]), dtype=np.float32)
        return out

    def scores(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.score_tokens(self.query_tokens(t)) for t in texts]) if texts else np.zeros((0, self.n_docs), np.float32)


def arxiv_sanity_tfidf(docs: list[str], queries: list[str]) -> np.ndarray:
    """karpathy/arxiv-sanity-lite's vectoriser (compute.py); cosine of l2-normalised tf-idf rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    v = TfidfVectorizer(input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
                        lowercase=True, analyzer="word", stop_words="english",
                        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                        max_df=0.1, min_df=5)
    X = v.fit_transform(docs)
    Q = v.transform(queries)
    return np.asarray((Q @ X.T).todense(), dtype=np.float32)
