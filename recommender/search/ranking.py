"""Candidate generation per retrieval mode, and their fusion for the hybrid mode.

Every verb ends here (search, similar, recommend, reading lists): `rank_candidates` returns a `Ranking`,
the fused order plus each retriever's own run, so that a result can say where each retriever put it.

A seed paper (or a profile of several) is not a query a user typed: its abstract shares dozens of
common words with any paper of its field. Its lexical side is therefore its SEED_TERMS most distinctive
words (highest count x idf, as Lucene's "more like this" picks them), each weighted by its count in the
seed, instead of every word of the abstract. scripts/research_seed_queries.py measures it on CSFCube
(nDCG@10, fused with the dense side): every word 0.480, the 50 most distinctive 0.484, the 25 most
distinctive 0.472; weighting the words by idf again, or by their saturated BM25 weight, loses (0.475,
0.408): how often the seed repeats a word is what says it is its topic.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..index.vectors import search_faiss

Run = tuple[np.ndarray, np.ndarray]

SEED_TERMS = 50  # the seed's words that go to BM25: its most distinctive ones (see the module notes)


@dataclass
class Ranking:
    """The fused (or single) ranking and, per retriever, its own run: rows best first with their scores."""

    rows: np.ndarray
    scores: np.ndarray
    runs: dict[str, Run] = field(default_factory=dict)  # "dense", "lexical"
    terms: dict[str, float] = field(default_factory=dict)  # the lexical query's words (stem -> weight)
    words: dict[str, str] = field(default_factory=dict)  # stem -> the word as the query wrote it
    depth: int = 0  # how many rows each run was asked for (a lexical run stops early at papers it scores 0)


def dense_candidates(rec, query, depth: int) -> Run:
    rows, scores = search_faiss(rec.faiss_index, query.vector[None, :], depth)
    keep = rows[0] >= 0
    return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def query_terms(text: str) -> tuple[list[str], dict[str, str]]:
    """The lexical index's tokens of a text (stop words out, stemmed), in order, and stem -> first written form."""
    from ..index.lexical import tokenize

    stems = tokenize([text])[0]
    written: dict[str, str] = {}
    for stem, word in zip(stems, _plain_words(text)):
        written.setdefault(stem, word)
    return stems, written


def _plain_words(text: str) -> list[str]:
    """The same tokens as `query_terms`, unstemmed (bm25s removes stop words before stemming, one for one)."""
    import bm25s

    from ..index.lexical import LEXICAL_PARAMS

    return bm25s.tokenize([text], stopwords=LEXICAL_PARAMS["stopwords"], stemmer=None, return_ids=False,
                          show_progress=False)[0]


@dataclass
class SeedTerms:
    """The indexed words of a seed's text: stem -> count in the seed, stem -> idf over the index, and
    stem -> the word as the seed wrote it."""

    tf: dict[str, int]
    idf: dict[str, float]
    written: dict[str, str]

    def distinctive(self, n: int = SEED_TERMS) -> dict[str, float]:
        """The n words of highest count x idf in the seed, each weighted by its count in the seed
        (ties: alphabetical, for a stable choice)."""
        ranked = sorted(self.tf, key=lambda stem: (-self.tf[stem] * self.idf[stem], stem))[:n]
        return {stem: float(self.tf[stem]) for stem in ranked}


def doc_freqs(rec, stems) -> dict[str, int]:
    """How many papers of the index hold each stem (0 when the index never saw it). Read from the
    lengths of bm25s's posting lists, so that a profile of many papers costs no scoring pass per word;
    counted from the word's scores if that layout is not there."""
    retriever = getattr(rec.lexical, "_retriever", None)
    vocab = getattr(retriever, "vocab_dict", None)
    indptr = (getattr(retriever, "scores", None) or {}).get("indptr") if retriever is not None else None
    out = {}
    for stem in stems:
        if vocab is not None and indptr is not None:
            token = vocab.get(stem)
            out[stem] = 0 if token is None else int(indptr[token + 1] - indptr[token])
        else:
            out[stem] = int(np.count_nonzero(rec.lexical.scores(stem)))
    return out


def seed_terms(rec, text: str) -> SeedTerms:
    stems, written = query_terms(text)
    tf: dict[str, int] = {}
    for stem in stems:
        tf[stem] = tf.get(stem, 0) + 1
    n = len(rec)
    df = doc_freqs(rec, tf)
    kept = {stem: count for stem, count in tf.items() if df[stem] > 0}  # words the index never saw score nothing
    idf = {stem: float(np.log(1.0 + (n - df[stem] + 0.5) / (df[stem] + 0.5))) for stem in kept}  # Lucene's, as bm25s
    return SeedTerms(kept, idf, written)


def weighted_bm25(rec, weights: dict[str, float], terms: SeedTerms) -> np.ndarray:
    """sum over words w of weights[w] * BM25(w, paper), over the whole index."""
    total = np.zeros(len(rec), dtype=np.float32)
    for stem, weight in weights.items():
        total += np.float32(weight) * rec.lexical.scores(terms.written[stem])
    return total


def lexical_candidates(rec, query, depth: int) -> tuple[Run, dict[str, float], dict[str, str]]:
    from ..index.lexical import top_n

    if query.kind == "paper":
        seed = seed_terms(rec, query.text)
        terms, written = seed.distinctive(), seed.written
        rows, scores = top_n(weighted_bm25(rec, terms, seed), depth)
    else:
        rows, scores = rec.lexical.top(query.text, depth)
        stems, written = query_terms(query.text)
        terms = {stem: 1.0 for stem in stems}
    keep = scores > 0
    return (rows[keep], scores[keep]), terms, written


def rank_candidates(rec, query, mode: str, depth: int) -> Ranking:
    if mode == "dense":
        run = dense_candidates(rec, query, depth)
        return Ranking(run[0], run[1], {"dense": run}, depth=depth)
    if mode == "lexical":
        run, terms, written = lexical_candidates(rec, query, depth)
        return Ranking(run[0], run[1], {"lexical": run}, terms, written, depth=depth)
    from .fusion import FUSION_DEPTH, fuse_free_text, fuse_seed

    # Score normalisation is over each retriever's top FUSION_DEPTH, whatever k is, so that a
    # paper's fused score does not depend on how many results were asked for.
    depth = max(depth, min(len(rec), FUSION_DEPTH))
    dense = dense_candidates(rec, query, depth)
    lexical, terms, written = lexical_candidates(rec, query, depth)
    rows, scores = fuse_seed(lexical, dense) if query.kind == "paper" else fuse_free_text(lexical, dense)
    return Ranking(rows, scores, {"dense": dense, "lexical": lexical}, terms, written, depth=depth)
