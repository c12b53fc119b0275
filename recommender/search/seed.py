"""Sentence-level matching ("papers like this one", and free text): pure functions over strings and arrays.

- paper_sentences / split_sentences: what goes into the sentence store at build time: the title as
  one sentence, then the abstract split by a small rule-based splitter (no model, no download).
- maxsim_scores: sentence-level matching as in CSFCube / Aspire (Mysore et al.): for every query
  sentence take its best cosine over a candidate's sentences, then average over query sentences.
  Seed paper: the query sentences are the seed's own stored sentences (title + abstract).
  Free text: the query vector itself, as a 1-row matrix (so: a paper's best sentence's cosine).
- facets (background | method | result): facet_of_sentence (cue words + position),
  facet_by_prototype (nearest of FACET_PROTOTYPES' vectors), facet_sentence_mask, facet_weights.
  On csfcube none of them beat plain max-sim over all seed sentences (see fusion.py's module notes
  and scripts/research_ranking.py); facet_weights (facet 1, others 0.25) was the least harmful.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = [
    "FACETS", "FACET_PROTOTYPES", "paper_sentences", "split_sentences", "maxsim_scores", "facet_of_sentence",
    "facet_of_sentence_by_position", "facet_by_prototype", "facet_sentence_mask", "facet_weights",
]

FACETS = ("background", "method", "result")

# Abbreviations after which a full stop does not end a sentence.
_ABBREV = {
    "e.g", "i.e", "et al", "al", "etc", "fig", "figs", "eq", "eqs", "ref", "refs", "vs", "cf", "resp",
    "approx", "dr", "mr", "mrs", "ms", "prof", "no", "vol", "sec", "tab", "ch", "pp", "st", "jr", "inc", "ltd", "viz",
}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_MIN_CHARS = 12  # fragments shorter than this are glued to the previous sentence


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences; never returns an empty list for non-blank text."""
    text = " ".join((text or "").split())
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        cand = text[start:m.start()].strip()
        # the word before the full stop: an abbreviation or a single initial does not end a sentence
        last = re.search(r"([A-Za-z][A-Za-z.]*)\.[\"')\]]*$", cand)
        if last:
            word = last.group(1).lower().rstrip(".")
            if word in _ABBREV or len(word) == 1:
                continue
        pieces.append(cand)
        start = m.end()
    pieces.append(text[start:].strip())
    out: list[str] = []
    for p in pieces:
        if not p:
            continue
        if out and len(p) < _MIN_CHARS:
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    if len(out) > 1 and len(out[0]) < _MIN_CHARS:
        out[1] = f"{out[0]} {out[1]}"
        out.pop(0)
    return out


def paper_sentences(title: str, abstract: str) -> list[str]:
    """The sentences stored for one paper: its title (when any), then its abstract's sentences."""
    title = (title or "").strip()
    return ([title] if title else []) + split_sentences(abstract)


def maxsim_scores(query_vecs: np.ndarray, sent_vecs: np.ndarray, owner: np.ndarray, n_docs: int | None = None,
                  query_weights: np.ndarray | None = None) -> np.ndarray:
    """Sentence-level matching score of every document.

    query_vecs: (q, d) L2-normalised seed (or query) sentence vectors; sent_vecs: (s, d) L2-normalised
    sentence vectors of the candidates; owner: (s,) the candidate index of each sentence, non-decreasing
    (a candidate's sentences are contiguous). Score of candidate c = weighted mean over query sentences
    of max over c's sentences of the cosine. Candidates with no sentence get -inf.
    Returns float32 (n_docs,) with n_docs = owner.max() + 1 unless given."""
    q = np.asarray(query_vecs, dtype=np.float32)
    s = np.asarray(sent_vecs, dtype=np.float32)
    owner = np.asarray(owner, dtype=np.int64)
    if n_docs is None:
        n_docs = int(owner.max()) + 1 if owner.size else 0
    out = np.full(n_docs, -np.inf, dtype=np.float32)
    if q.shape[0] == 0 or s.shape[0] == 0:
        return out
    if owner.size > 1 and np.any(np.diff(owner) < 0):
        raise ValueError("owner must be non-decreasing: keep each candidate's sentences together")
    sims = q @ s.T  # (q, s)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best = np.maximum.reduceat(sims, starts, axis=1)  # (q, n_present)
    w = np.ones(q.shape[0], dtype=np.float64) if query_weights is None else np.asarray(query_weights, dtype=np.float64)
    if w.shape != (q.shape[0],) or w.sum() <= 0:
        raise ValueError("query_weights needs one non-negative weight per query sentence, not all zero")
    out[owner[starts]] = (w @ best.astype(np.float64) / w.sum()).astype(np.float32)
    return out


# Prototype sentences of each facet (FACETS order); their mean vector is the facet's prototype.
FACET_PROTOTYPES = {
    "background": ("Recently, this problem has attracted a lot of attention, but it remains challenging.",
                   "Existing approaches are limited and the task is important for many applications."),
    "method": ("In this paper we propose a novel model and algorithm based on a new approach.",
               "We present a method that uses a neural network trained on features."),
    "result": ("Experimental results show that our approach significantly outperforms the baselines.",
               "We achieve state-of-the-art accuracy and improve performance by 5%."),
}

# Cue words of the three CSFCube facets (lower-case; matched at word starts).
_CUES = {
    "background": (
        "recent", "recently", "has been", "have been", "has attracted", "has received", "is a ", "are a ", "problem",
        "challeng", "important", "however", "widely", "many ", "traditional", "existing", "previous", "prior work",
        "typically", "often", "increasing", "growing", "popular", "attention", "difficult", "remains", "lack", "limited",
    ),
    "method": (
        "we propose", "we present", "we introduce", "we develop", "we describe", "we design", "we use", "we apply",
        "we formulate", "we define", "we model", "we train", "we extend", "we employ", "in this paper", "this paper",
        "in this work", "this work", "our approach", "our method", "our model", "approach", "method", "algorithm",
        "framework", "architecture", "based on", "technique", "we learn", "we build", "we investigate", "we study",
    ),
    "result": (
        "result", "we show", "show that", "shows that", "demonstrat", "outperform", "improv", "achiev", "accura",
        "experiment", "evaluat", "significant", "state-of-the-art", "state of the art", "better than", "compared",
        "empirical", "find that", "found that", "we observe", "effective", "%", "gains", "f1", "error rate",
    ),
}
_POSITION_WEIGHT = 1.5  # a position prior worth 1.5 cue hits at the ends of the abstract


def facet_of_sentence(sentences: list[str]) -> list[str]:
    """Label each abstract sentence background | method | result by cue words plus a position prior
    (background early, result late, method in between)."""
    n = len(sentences)
    labels: list[str] = []
    for i, sent in enumerate(sentences):
        low = f" {sent.lower()} "
        pos = i / (n - 1) if n > 1 else 0.5
        score = {f: float(sum(1 for cue in cues if cue in low)) for f, cues in _CUES.items()}
        score["background"] += _POSITION_WEIGHT * max(0.0, 1.0 - 2.0 * pos)
        score["result"] += _POSITION_WEIGHT * max(0.0, 2.0 * pos - 1.0)
        score["method"] += _POSITION_WEIGHT * (1.0 - abs(2.0 * pos - 1.0)) * 0.5
        labels.append(max(FACETS, key=lambda f: (score[f], -FACETS.index(f))))
    return labels


def facet_of_sentence_by_position(n: int) -> list[str]:
    """Position only: first third background, last third result, the middle method."""
    out = []
    for i in range(n):
        pos = (i + 0.5) / n
        out.append("background" if pos < 1 / 3 else "result" if pos > 2 / 3 else "method")
    return out


def facet_by_prototype(sent_vecs: np.ndarray, prototype_vecs: np.ndarray) -> list[str]:
    """Label each sentence with the facet whose prototype vector (rows in FACETS order) is nearest."""
    sims = np.asarray(sent_vecs, dtype=np.float32) @ np.asarray(prototype_vecs, dtype=np.float32).T
    return [FACETS[j] for j in sims.argmax(axis=1)]


def facet_sentence_mask(labels: list[str], facet: str | None) -> np.ndarray:
    """Which seed sentences to match for a facet; all of them when facet is None or none carries it."""
    if facet is not None and facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}: choose one of {', '.join(FACETS)}")
    mask = np.array([facet is None or lab == facet for lab in labels], dtype=bool)
    if not mask.any():
        mask[:] = True
    return mask


def facet_weights(labels: list[str], facet: str | None, other: float = 0.25) -> np.ndarray:
    """Soft facet focus, for maxsim_scores(query_weights=...): 1 for the facet's sentences, `other`
    for the rest (all 1 when facet is None or no sentence carries it)."""
    mask = facet_sentence_mask(labels, facet)
    return np.where(mask, 1.0, other if not mask.all() else 1.0)
