"""Pseudo-relevance feedback for free-text queries: RM3-style BM25 expansion and dense Rocchio."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from scripts.research.lexical import BM25


class TermStats:
    """Doc-term counts of a BM25 index (same tokenizer), for feedback term selection."""

    def __init__(self, bm: BM25, docs: list[str]):
        import bm25s

        toks = bm25s.tokenize(docs, stopwords=bm.stopwords, stemmer=bm.stem, show_progress=False)
        inv = {i: t for t, i in toks.vocab.items()}
        self.terms = [inv[i] for i in range(len(inv))]
        rows = np.repeat(np.arange(len(toks.ids)), [len(x) for x in toks.ids])
        cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in toks.ids])
        m = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(docs), len(inv)))
        m.sum_duplicates()
        lens = np.asarray(m.sum(axis=1)).ravel()
        self.p_w_d = sp.diags(1.0 / np.maximum(lens, 1)) @ m  # P(w|d), rows sum to 1
        self.df = np.asarray((m > 0).sum(axis=0)).ravel()
        self.n_docs = len(docs)


def rm3_weights(stats: TermStats, query_tokens: list[str], fb_rows: np.ndarray, fb_scores: np.ndarray,
                n_terms: int = 10, orig_weight: float = 0.5) -> dict[str, float]:
    """Query term weights: orig_weight * uniform(query) + (1-orig_weight) * top-n_terms of P(w|R).

    P(w|R) = sum_d P(w|d) * P(d|q), P(d|q) proportional to exp(z-scored feedback score)."""
    if len(fb_rows) == 0 or not query_tokens:
        return {t: 1.0 for t in query_tokens}
    z = (fb_scores - fb_scores.mean()) / (fb_scores.std() + 1e-9)
    pd = np.exp(z - z.max())
    pd /= pd.sum()
    pwr = np.asarray(stats.p_w_d[fb_rows].T @ pd).ravel()
    pwr[stats.df < 2] = 0  # ignore terms unique to one document
    top = np.argsort(-pwr)[:n_terms]
    top = top[pwr[top] > 0]
    exp = pwr[top] / pwr[top].sum() if len(top) else pwr[top]
    w: dict[str, float] = {}
    for t in query_tokens:
        w[t] = w.get(t, 0.0) + orig_weight / len(query_tokens)
    for i, p in zip(top, exp):
        w[stats.terms[i]] = w.get(stats.terms[i], 0.0) + (1.0 - orig_weight) * float(p)
    return w


def rocchio(query_vec: np.ndarray, doc_vecs: np.ndarray, fb_rows: np.ndarray, beta: float = 0.5) -> np.ndarray:
    """q' = normalise(q + beta * mean of the feedback documents' vectors)."""
    if len(fb_rows) == 0:
        return query_vec
    v = query_vec + beta * doc_vecs[fb_rows].mean(axis=0)
    return (v / np.linalg.norm(v)).astype(np.float32)
