"""Ranking the index for a profile: a centroid of the seeds, or a linear classifier trained per profile.

Both reduce the profile to one direction in embedding space, and a paper's score is its inner product
with that direction; so the ranking goes through the engine's own `rank` (FAISS, the lexical side,
filters, excluded rows) like any other query.

- centroid (Rocchio): mean of the liked papers (and the query, weighted as much as all of them
  together), minus ROCCHIO_NEGATIVE times the mean of the disliked papers.
- svm (arxiv-sanity-lite): a LinearSVC separating the liked papers from every other paper of the index
  (a random sample on big indexes), disliked papers weighted up; its weight vector is the direction.

`scripts/eval_profiles.py` compares them by leave-one-out on CSFCube; DEFAULT_METHOD is the winner.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..records import Result
from ..search.engine import Query, check_k, check_mode
from .profile import Profile

METHODS = ("auto", "centroid", "svm")
DEFAULT_METHOD = "svm"  # leave-one-out on CSFCube, see the README's "Reading lists" section
DEFAULT_MODE = "dense"  # the profile's lexical text is several abstracts long: BM25 on it adds noise (same evaluation)
ROCCHIO_NEGATIVE = 0.5  # weight of the disliked papers' mean, against 1 for the liked side
SVM_C = 0.1  # arxiv-sanity-lite's order of magnitude: a strongly regularised, smooth ranking
SVM_NEGATIVE_WEIGHT = 5.0  # an explicit --unlike counts as much as five unlabelled papers
SVM_MAX_BACKGROUND = 20_000  # unlabelled papers the classifier trains on; more only costs time
RANDOM_STATE = 0


def check_method(method: str | None) -> str:
    method = method or "auto"
    if method not in METHODS:
        raise UsageError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    return DEFAULT_METHOD if method == "auto" else method


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def centroid_direction(profile: Profile) -> np.ndarray:
    parts = []
    if profile.positives:
        parts.append(_unit(np.mean([s.vector for s in profile.positives], axis=0)))
    if profile.query is not None:
        parts.append(profile.query.vector)
    direction = _unit(np.sum(parts, axis=0))
    if profile.negatives:
        direction = direction - ROCCHIO_NEGATIVE * _unit(np.mean([s.vector for s in profile.negatives], axis=0))
    return _unit(direction)


def svm_direction(profile: Profile, vectors: np.ndarray, *, classifier: str = "svm", c: float = SVM_C,
                  negative_weight: float = SVM_NEGATIVE_WEIGHT) -> np.ndarray:
    """Weight vector of a linear classifier (LinearSVC; "logistic": LogisticRegression, for the
    evaluation's comparison): the profile's positives against the index's other papers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    attractors = profile.attractors
    positive_x = np.stack([s.vector for s in attractors])
    # The query is one vector against many seed papers: weight it as much as all of them together.
    positive_w = np.array([(len(profile.positives) or 1.0) if s.kind == "query" else 1.0 for s in attractors])
    background = np.setdiff1d(np.arange(len(vectors)), np.fromiter(profile.exclude_rows, dtype=np.int64))
    if len(background) > SVM_MAX_BACKGROUND:
        background = np.sort(np.random.default_rng(RANDOM_STATE).choice(background, SVM_MAX_BACKGROUND, replace=False))
    parts_x = [positive_x, np.asarray(vectors[background], dtype=np.float32)]
    parts_w = [positive_w, np.ones(len(background))]
    if profile.negatives:
        parts_x.append(np.stack([s.vector for s in profile.negatives]))
        parts_w.append(np.full(len(profile.negatives), negative_weight))
    x = np.concatenate(parts_x)
    y = np.zeros(len(x), dtype=np.int8)
    y[: len(positive_x)] = 1
    if classifier == "logistic":
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    else:
        clf = LinearSVC(C=c, class_weight="balanced", max_iter=10_000, tol=1e-6)
    clf.fit(x, y, sample_weight=np.concatenate(parts_w))
    return _unit(clf.coef_[0])


def profile_direction(profile: Profile, vectors: np.ndarray, method: str) -> np.ndarray:
    method = check_method(method)
    # With one seed and nothing against it, both methods come down to "papers like this one":
    # the seed's own vector is that query, with no classifier noise.
    if len(profile.attractors) == 1 and not profile.negatives:
        return profile.attractors[0].vector
    return centroid_direction(profile) if method == "centroid" else svm_direction(profile, vectors)


def rank_profile(rec, profile: Profile, k: int, *, method: str = "auto", mode: str | None = None,
                 filters=None, direction: np.ndarray | None = None) -> list[Result]:
    """The k best papers of the index for the profile, seeds left out, filters applied.
    `direction`: the profile's, when the caller has it already (profile_direction)."""
    k = check_k(k)
    only_text = profile.query is not None and not profile.positives and not profile.negatives
    # A text alone is a plain search: the engine's own default mode; a profile of papers ranks by DEFAULT_MODE.
    mode = check_mode(mode or (None if only_text else DEFAULT_MODE))
    if direction is None:
        direction = profile_direction(profile, rec.vectors, method)
    query = Query(direction, profile.lexical_text, "text" if only_text else "paper", profile.exclude_rows,
                  label=profile.describe())
    return rec.rank(query, k, mode=mode, filters=filters)
