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

Naming (issue 12): a researcher names a theme with a noun phrase ("private federated learning"), so the
candidates are the noun phrases of terms.py (one to three words, the last one able to head a noun phrase).
A term's score for a theme: the share of the theme's papers that use it, times a title factor (a term in
every title of the theme weighs 1 + TITLE_WEIGHT; a single word found in no title ABSTRACT_WORD_WEIGHT,
since an abstract's lone word is as often a verb as a topic), times how much more the theme uses it than
the other themes and the candidates left out (share inside minus share outside), times its specificity in
the whole index (the mean idf of its words over the largest idf possible there), times 1 + PHRASE_BONUS
per word beyond the first. A term must be found in MIN_SUPPORT of the theme's papers (all of a smaller
theme); a term made only of the query's words, or found in more than LIST_WIDE_SHARE of a list with
several themes, names nothing. pick_terms then lets a phrase take the place of the words it contains.
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
TERMS = 6  # terms listed with a theme
LIST_WIDE_SHARE = 0.6
MIN_SUPPORT = 2  # a name must be found in at least this many of the theme's papers (all, in a smaller theme)
PHRASE_BONUS = 0.25  # per word beyond the first: "private federated learning" over "federated learning"
TITLE_WEIGHT = 2.0  # a term in every title of the theme weighs three times one of its abstracts only
ABSTRACT_WORD_WEIGHT = 0.5  # a single word found in no title of the theme


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
                         n_terms: int = TERMS, titles: list[str] | None = None,
                         specificity: np.ndarray | None = None, subject: str = "") -> list[list[str]]:
    """Per theme, the noun phrases that name it, best first. Rows 0..len(labels)-1 of `vocab` are the
    picked papers, `titles` their titles; the `background` rows (the candidates left out) and the other
    themes are what a name must set the theme apart from; `specificity` (per vocab term, 0..1) says how
    rare a term is in the whole index. A term made only of the words of `subject` (the query) names
    nothing the list's title does not say already."""
    k = int(labels.max()) + 1 if len(labels) else 0
    if k == 0 or not len(vocab.terms):
        return [[] for _ in range(k)]
    has = (vocab.counts > 0).astype(np.float64).tocsr()
    in_title = np.zeros(has.shape, dtype=np.float64) if titles is None else None
    if titles is not None:
        from scipy.sparse import lil_matrix

        marks = lil_matrix((has.shape[0], has.shape[1]), dtype=np.float64)
        for row, title in enumerate(titles):
            for term in vocab.terms_in(title):
                marks[row, term] = 1.0
        in_title = marks.tocsr()
    words = np.array([len(vocab.stems(t)) for t in range(len(vocab.terms))], dtype=np.float64)
    specific = np.ones(len(vocab.terms)) if specificity is None else np.asarray(specificity, dtype=np.float64)
    picked = np.arange(len(labels))
    list_share = np.asarray(has[picked].mean(axis=0)).ravel()
    list_wide = list_share > LIST_WIDE_SHARE if k > 1 else np.zeros_like(list_share, dtype=bool)
    background_rows = np.arange(background.start, background.stop)
    subject_stems = {stem for t in vocab.terms_in(subject) for stem in vocab.stems(t)} if subject else set()
    said = np.array([bool(subject_stems) and set(vocab.stems(t)) <= subject_stems for t in range(len(vocab.terms))])
    out = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        others = np.r_[np.flatnonzero(labels != c), background_rows]
        holding = np.asarray(has[members].sum(axis=0)).ravel()
        coverage = holding / len(members)
        titled = np.asarray(in_title[members].sum(axis=0)).ravel() / len(members)
        elsewhere = np.asarray(has[others].sum(axis=0)).ravel() / len(others) if len(others) else np.zeros_like(coverage)
        # A title is a noun phrase its authors chose: a term found there names better than one of the
        # abstract, and a single word found only in abstracts is as often a verb as a topic.
        naming = np.where(titled > 0, 1.0 + TITLE_WEIGHT * titled, np.where(words > 1, 1.0, ABSTRACT_WORD_WEIGHT))
        score = coverage * naming * np.maximum(coverage - elsewhere, 0.0) * specific * (1.0 + PHRASE_BONUS * (words - 1))
        score[list_wide | said | (holding < min(MIN_SUPPORT, len(members)))] = 0.0
        ranked = [int(t) for t in np.argsort(-score, kind="stable") if score[t] > 0]
        out.append([vocab.shown(t) for t in pick_terms(vocab, ranked, n_terms, score)])
    return out


def group(vectors: np.ndarray, vocab: Vocabulary, background: range = range(0), titles: list[str] | None = None,
          specificity: np.ndarray | None = None, subject: str = "") -> Grouping:
    """Themes of the picked papers (`vectors`, and rows 0..len-1 of `vocab`)."""
    labels = cluster(vectors)
    return Grouping(labels, characteristic_terms(vocab, labels, background, titles=titles, specificity=specificity,
                                                 subject=subject))


def theme_name(terms: list[str]) -> str:
    """The theme's best phrase; a single word is joined by the next term ("privacy and federated learning")."""
    if not terms:
        return "other papers"
    if " " in terms[0]:
        return terms[0]
    # not a variant of the same word ("defense and defending")
    other = next((t for t in terms[1:] if t[:4] != terms[0][:4]), None)
    return f"{terms[0]} and {other}" if other else terms[0]
