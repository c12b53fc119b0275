"""Ranking the index for a profile: a centroid of the seeds, or a linear classifier trained per profile.

Both reduce the profile to one direction in embedding space, and a paper's score is its inner product
with that direction; so the ranking goes through the engine's own `rank` (FAISS, the lexical side,
filters, excluded rows) like any other query.

- centroid (Rocchio): mean of the liked papers (and the query, weighted as much as all of them
  together), minus ROCCHIO_NEGATIVE times the mean of the disliked papers.
- svm (arxiv-sanity-lite) and logistic: a linear classifier (LinearSVC, LogisticRegression) separating
  the liked papers from every other paper of the index (a random sample on big indexes), classes
  balanced, disliked papers weighted up; its weight vector is the direction.

`scripts/eval_profiles.py` compares them by leave-one-out on CSFCube (README, "Reading lists"; macro
means over 23 queries). Without negatives the three are within noise of each other on Recall@20
(centroid 0.644, svm 0.635, logistic 0.647); on MRR logistic leads (0.285, against 0.261 and 0.260;
+0.025 over svm with a 95% interval above zero, +0.024 over the centroid with one spanning zero),
while the centroid costs 0.1 ms a profile against 110 ms (svm) and 450 ms (logistic). With disliked
papers the classifiers hold their level (logistic: Recall@20 0.664, MRR 0.280) and Rocchio's
subtraction loses (MRR 0.213): the papers a reader rejects are near the topic, and moving away from
their mean moves away from the topic too. So "auto" is the centroid for liked papers alone, and
logistic as soon as there are disliked ones. (Logistic regression, at scikit-learn's default C, was
added to the comparison after svm and centroid were measured on these same queries: read its lead
with that in mind.) The gain that disliked papers bring is small at best on CSFCube (see
NEGATIVE_SHARE): their sure effect is that they themselves are never recommended.

Every profile ranks through the same path as `search` and `similar` (issue 12): the direction is the
dense side, the seeds' text (its most distinctive words) the lexical side, fused the same way; `--mode`
means what it means for `search`. A profile of one paper of the index is exactly `similar PAPER`, and a
text alone exactly `search TEXT`.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..records import Result
from ..search.engine import Query, check_k, check_mode
from .profile import Profile

METHODS = ("auto", "centroid", "svm", "logistic")
DEFAULT_METHOD = "auto"  # centroid without --unlike, logistic with (see above)
ROCCHIO_NEGATIVE = 0.5  # weight of the disliked papers' mean, against 1 for the liked side
CLASSIFIER_C = {"svm": 0.1, "logistic": 1.0}  # svm: arxiv-sanity-lite's order (0.01 and 1 measured worse); logistic: default
# A disliked paper weighs this share of a liked one (see classifier_direction). On CSFCube, with the
# experts' irrelevant papers as dislikes, 0.05 did best; 0.25, 1 and 4 did worse and worse (the
# rejected papers lie near the topic, so pushing hard away from them leaves the topic too).
NEGATIVE_SHARE = 0.05
MAX_BACKGROUND = 20_000  # unlabelled papers the classifier trains on; more only costs time
RANDOM_STATE = 0


def check_method(method: str | None) -> str:
    method = method or DEFAULT_METHOD
    if method not in METHODS:
        raise UsageError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    return method


def choose_method(method: str | None, profile: Profile) -> str:
    """"centroid" or "svm": what "auto" means for this profile (see above)."""
    method = check_method(method)
    if method == "auto":
        return "logistic" if profile.negatives else "centroid"
    return method


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


def classifier_direction(profile: Profile, vectors: np.ndarray, kind: str = "logistic", *, c: float | None = None,
                         negative_share: float | None = None) -> np.ndarray:
    """Weight vector of a linear classifier ("svm": LinearSVC, "logistic": LogisticRegression): the
    profile's positives against the index's other papers. A disliked paper weighs `negative_share`
    (NEGATIVE_SHARE) of a liked one, whatever the size of the index: with balanced classes a liked
    paper weighs as much as (other papers / liked papers) unlabelled ones, so a fixed weight would
    vanish on a big index."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    attractors = profile.attractors
    positive_x = np.stack([s.vector for s in attractors])
    # The query is one vector against many seed papers: weight it as much as all of them together.
    positive_w = np.array([(len(profile.positives) or 1.0) if s.kind == "query" else 1.0 for s in attractors])
    background = np.setdiff1d(np.arange(len(vectors)), np.fromiter(profile.exclude_rows, dtype=np.int64))
    if len(background) > MAX_BACKGROUND:
        background = np.sort(np.random.default_rng(RANDOM_STATE).choice(background, MAX_BACKGROUND, replace=False))
    parts_x = [positive_x, np.asarray(vectors[background], dtype=np.float32)]
    parts_w = [positive_w, np.ones(len(background))]
    if profile.negatives:
        share = NEGATIVE_SHARE if negative_share is None else negative_share
        negatives_in_class = len(background) + len(profile.negatives)
        parts_x.append(np.stack([s.vector for s in profile.negatives]))
        parts_w.append(np.full(len(profile.negatives), share * negatives_in_class / len(positive_x)))
    x = np.concatenate(parts_x)
    y = np.zeros(len(x), dtype=np.int8)
    y[: len(positive_x)] = 1
    c = CLASSIFIER_C[kind] if c is None else c
    if kind == "logistic":
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    else:
        clf = LinearSVC(C=c, class_weight="balanced", max_iter=10_000)
    clf.fit(x, y, sample_weight=np.concatenate(parts_w))
    return _unit(clf.coef_[0])


def profile_direction(profile: Profile, vectors: np.ndarray, method: str) -> np.ndarray:
    method = choose_method(method, profile)
    # With one seed and nothing against it, both methods come down to "papers like this one":
    # the seed's own vector is that query, with no classifier noise.
    if len(profile.attractors) == 1 and not profile.negatives:
        return profile.attractors[0].vector
    return centroid_direction(profile) if method == "centroid" else classifier_direction(profile, vectors, method)


def profile_query(rec, profile: Profile, mode: str, direction: np.ndarray) -> Query:
    """What the engine ranks for a profile. One paper of the index alone is `similar`'s own query; a
    text alone is `search`'s; anything else ranks by the profile's direction and the seeds' words."""
    if profile.query is not None and not profile.positives and not profile.negatives:
        return Query(profile.query.vector, profile.query.text, "text", profile.exclude_rows, label=profile.query.label)
    if (profile.query is None and not profile.negatives and len(profile.positives) == 1
            and profile.positives[0].row is not None):
        query = rec.paper_query(profile.positives[0].row, mode)
        query.exclude_rows = profile.exclude_rows
        return query
    return Query(direction, profile.lexical_text, "paper", profile.exclude_rows, label=profile.describe())


def rank_profile(rec, profile: Profile, k: int, *, method: str = "auto", mode: str | None = None,
                 filters=None, direction: np.ndarray | None = None, explain: bool = True) -> list[Result]:
    """The k best papers of the index for the profile, seeds left out, filters applied, ranked as
    `search` ranks (the engine's mode by default). `direction`: the profile's, when the caller has it
    already (profile_direction)."""
    k = check_k(k)
    mode = check_mode(mode)
    if direction is None:
        direction = profile_direction(profile, rec.vectors, method)
    return rec.rank(profile_query(rec, profile, mode, direction), k, mode=mode, filters=filters, explain=explain)
