"""Grouping a list into themes and naming each by its characteristic terms.

Clustering: the list's vectors minus their mean, L2-normalised again (every paper of a list shares its
topic; without it, that shared direction dominates the cosines and hides what sets the papers apart),
grouped by agglomerative clustering with Ward linkage (deterministic, no k-means restarts; on unit
vectors Euclidean distance orders pairs as cosine does; unlike average linkage it does not split off
single outliers). The number of themes: among 2..MAX_THEMES splits where every theme has at least
MIN_THEME_SIZE papers, the cosine silhouette picks; splits within SILHOUETTE_TOLERANCE of the best one
count as ties (silhouettes of ten-odd papers differ by noise at that scale), and the tie with the most
themes wins, since a reader is better served by themes of a few papers than by two halves. A list
whose best split is weak (silhouette under MIN_SILHOUETTE) or that is too short stays one theme.

Naming: class-based TF-IDF (c-TF-IDF, as BERTopic does): a term's frequency inside a theme's titles
and abstracts times log(1 + average words per class / the term's frequency over all classes), where
the classes are the themes plus the candidates that were not picked (so the words every candidate
shares, like the query's own, do not name every theme). It is further weighted by the share of the
theme's papers that use the term, so that one verbose abstract does not name its theme. When the list
has several themes, a term found in more than LIST_WIDE_SHARE of its papers is the list's subject
(the query's own words, say), shared by the themes, and does not name any of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .terms import Vocabulary, pick_terms

MAX_THEMES = 6
MIN_SILHOUETTE = 0.05
MIN_PAPERS_TO_SPLIT = 4
MIN_THEME_SIZE = 2
SILHOUETTE_TOLERANCE = 0.02
NAME_TERMS = 3  # terms in a theme's name
TERMS = 6  # terms listed with a theme
LIST_WIDE_SHARE = 0.6


@dataclass
class Grouping:
    labels: np.ndarray  # theme number of each paper
    terms: list[list[str]]  # per theme, its characteristic terms, best first


def cluster(vectors: np.ndarray, max_themes: int = MAX_THEMES) -> np.ndarray:
    """Theme number (0..k-1) of each row."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    if n < MIN_PAPERS_TO_SPLIT:
        return np.zeros(n, dtype=np.int64)
    centred = np.asarray(vectors, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    centred = centred / np.where(norms > 0, norms, 1.0)
    splits: list[tuple[float, int, np.ndarray]] = []
    for k in range(2, min(max_themes, n // MIN_THEME_SIZE) + 1):
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(centred)
        if np.bincount(labels).min() < MIN_THEME_SIZE:
            continue
        splits.append((float(silhouette_score(centred, labels, metric="cosine")), k, labels))
    if not splits or max(s for s, _, _ in splits) < MIN_SILHOUETTE:
        return np.zeros(n, dtype=np.int64)
    best = max(s for s, _, _ in splits)
    return max((split for split in splits if split[0] >= best - SILHOUETTE_TOLERANCE), key=lambda split: split[1])[2]


def characteristic_terms(vocab: Vocabulary, labels: np.ndarray, background: range = range(0),
                         n_terms: int = TERMS) -> list[list[str]]:
    """Per theme, its terms by c-TF-IDF. Rows 0..len(labels)-1 of `vocab` are the picked papers;
    the `background` rows (the candidates left out) make one more class."""
    k = int(labels.max()) + 1 if len(labels) else 0
    counts = vocab.counts
    per_class = [np.asarray(counts[np.flatnonzero(labels == c)].sum(axis=0)).ravel() for c in range(k)]
    if len(background):
        per_class.append(np.asarray(counts[background.start:background.stop].sum(axis=0)).ravel())
    class_counts = np.array(per_class, dtype=np.float64)
    words_per_class = class_counts.sum(axis=1, keepdims=True)
    tf = class_counts / np.maximum(words_per_class, 1.0)
    idf = np.log(1.0 + words_per_class.mean() / np.maximum(class_counts.sum(axis=0), 1.0))
    list_share = np.asarray((counts[: len(labels)] > 0).mean(axis=0)).ravel()
    list_wide = list_share > LIST_WIDE_SHARE if k > 1 else np.zeros_like(list_share, dtype=bool)
    out = []
    for c in range(k):
        members = counts[np.flatnonzero(labels == c)]
        share = np.asarray((members > 0).sum(axis=0)).ravel() / max(members.shape[0], 1)
        score = np.where(list_wide, 0.0, tf[c] * idf * share)
        ranked = [int(t) for t in np.argsort(-score, kind="stable") if score[t] > 0]
        out.append([vocab.shown(t) for t in pick_terms(vocab, ranked, n_terms, score)])
    return out


def group(vectors: np.ndarray, vocab: Vocabulary, background: range = range(0)) -> Grouping:
    """Themes of the picked papers (`vectors`, and rows 0..len-1 of `vocab`)."""
    labels = cluster(vectors)
    return Grouping(labels, characteristic_terms(vocab, labels, background))


def theme_name(terms: list[str]) -> str:
    return ", ".join(terms[:NAME_TERMS]) if terms else "other papers"
