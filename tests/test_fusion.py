"""Pure-logic tests of the fusion functions (recommender/search/fusion.py) and the seed-paper
helpers (recommender/search/seed.py). Hand arithmetic in the comments."""
import numpy as np
import pytest

from recommender.search import fusion as F
from recommender.search import seed as S


def run(rows, scores):
    return np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32)


# ---- RRF ----------------------------------------------------------------------------------------

def test_rrf_hand_computed_and_both_beats_one():
    # A ranks 1, 2; B ranks 1, 3. k = 60:
    #   row 1: 1/61 + 1/61 = 0.0327869 ; row 2: 1/62 = 0.0161290 ; row 3: 1/62 = 0.0161290
    rows, scores = F.rrf([run([1, 2], [0.9, 0.1]), run([1, 3], [5.0, 4.0])], k=60)
    assert rows.tolist() == [1, 2, 3]  # 2 and 3 tie; the lower row comes first
    assert scores.tolist() == pytest.approx([2 / 61, 1 / 62, 1 / 62], rel=1e-6)


def test_rrf_found_by_both_at_rank_2_beats_found_by_one_at_rank_1():
    # x: 1/61 = 0.01639 (A only) ; y: 1/62 + 1/62 = 0.03226 (both, rank 2) ; z: 1/61 (B only)
    rows, _ = F.rrf([run([10, 20], [2.0, 1.0]), run([30, 20], [2.0, 1.0])])
    assert rows[0] == 20


def test_rrf_uses_ranks_not_scores_and_weights():
    a = run([1, 2, 3], [3.0, 2.0, 1.0])
    b = run([3, 2, 1], [1000.0, 1.0, 0.5])
    # equal weights: row 1 and row 3 both 1/61 + 1/63, row 2 2/62 = 0.032258 < 1/61 + 1/63 = 0.032266
    rows, _ = F.rrf([a, b])
    assert rows.tolist() == [1, 3, 2]
    # weight 0 on A: B's order alone
    rows, _ = F.rrf([a, b], weights=[0.0, 1.0])
    assert rows.tolist() == [3, 2, 1]
    # the input order of a run does not matter, only its scores
    shuffled = run([3, 1, 2], [1.0, 3.0, 2.0])
    assert F.rrf([shuffled, b])[0].tolist() == [1, 3, 2]


# ---- normalised score fusion -------------------------------------------------------------------

def test_normalize_minmax_and_zscore():
    assert F.normalize(np.array([3.0, 2.0, 1.0]), "minmax").tolist() == pytest.approx([1.0, 0.5, 0.0])
    # mean 2, population std sqrt(2/3) = 0.8164966 -> (1/0.8165, 0, -1/0.8165) = (1.2247449, 0, -1.2247449)
    assert F.normalize(np.array([3.0, 2.0, 1.0]), "zscore").tolist() == pytest.approx([1.2247449, 0.0, -1.2247449], abs=1e-6)
    assert F.normalize(np.array([4.0, 4.0]), "zscore").tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        F.normalize(np.array([1.0]), "rank")


def test_score_fusion_minmax_hand_computed():
    # A: rows 10, 11, 12 scores 3, 2, 1 -> minmax 1, 0.5, 0 ; B: rows 12, 13 scores 5, 1 -> 1, 0
    # missing rows take the run's minimum (0). Weights 0.5 / 0.5:
    #   10: .5*1 + .5*0 = 0.5 ; 11: .5*.5 + 0 = 0.25 ; 12: .5*0 + .5*1 = 0.5 ; 13: 0 + .5*0 = 0
    rows, scores = F.score_fusion([run([10, 11, 12], [3, 2, 1]), run([12, 13], [5, 1])], [0.5, 0.5], "minmax")
    assert rows.tolist() == [10, 12, 11, 13]
    assert scores.tolist() == pytest.approx([0.5, 0.5, 0.25, 0.0])


def test_score_fusion_zscore_hand_computed():
    # A: rows 1, 2, 3 scores 3, 2, 1 -> z = 1.2247, 0, -1.2247 ; B: rows 2, 3, 4 scores 10, 0, -10 -> same z
    #   1: .5*1.2247 + .5*min_B(-1.2247) = 0      ; 2: .5*0 + .5*1.2247 = 0.6124
    #   3: .5*-1.2247 + .5*0 = -0.6124             ; 4: .5*min_A(-1.2247) + .5*-1.2247 = -1.2247
    rows, scores = F.score_fusion([run([1, 2, 3], [3, 2, 1]), run([2, 3, 4], [10, 0, -10])], [0.5, 0.5], "zscore")
    assert rows.tolist() == [2, 1, 3, 4]
    assert scores.tolist() == pytest.approx([0.6123724, 0.0, -0.6123724, -1.2247449], abs=1e-6)


def test_maxsim_run_can_promote_a_paper_the_other_runs_rank_low():
    # free text, 3 runs: row 9 is last for BM25 and dense but first by far for max-sim.
    lex = run([1, 2, 3, 9], [4.0, 3.0, 2.0, 1.0])
    den = run([1, 2, 3, 9], [0.8, 0.7, 0.6, 0.5])
    ms = run([9, 1, 2, 3], [0.95, 0.41, 0.40, 0.39])
    # z: lex/den (1, 2, 3, 9) -> (1.342, 0.447, -0.447, -1.342); ms (9, 1, 2, 3) -> (1.731, -0.535, -0.577, -0.619)
    #   1: (1.342 + 1.342 - 0.535)/3 = 0.716 ; 2: (0.447 + 0.447 - 0.577)/3 = 0.106
    #   9: (-1.342 - 1.342 + 1.731)/3 = -0.317 ; 3: (-0.447 - 0.447 - 0.619)/3 = -0.504
    rows, scores = F.fuse_free_text(lex, den, ms)
    assert rows.tolist() == [1, 2, 9, 3]  # 9 climbs from last to third, above 3
    assert scores.tolist() == pytest.approx([0.716, 0.106, -0.317, -0.504], abs=1e-3)
    assert F.fuse_free_text(lex, den)[0].tolist() == [1, 2, 3, 9]  # without max-sim it stays last


def test_score_fusion_found_by_both_beats_found_by_one():
    rng = np.random.default_rng(0)
    lex_rows = np.arange(0, 100)  # BM25-like: skewed scores, row i at rank i + 1
    den_rows = np.r_[4, np.arange(100, 199)]  # dense: row 4 (BM25 rank 5) on top, the rest unseen by BM25
    lex = (lex_rows, np.sort(rng.gamma(2.0, 3.0, 100))[::-1].astype(np.float32))
    den = (den_rows, np.sort(rng.uniform(0.2, 0.8, 100))[::-1].astype(np.float32))
    for fuse in (F.fuse_free_text, F.fuse_seed, lambda a, b: F.rrf([a, b])):
        rows, _ = fuse(lex, den)
        assert rows[0] == 4  # top of one run and high in the other beats the top of one run alone
        # a doc found by both at ranks (r_lex, r_dense) = (5, 1) also beats the dense-only doc at rank 2
        assert rows.tolist().index(4) < rows.tolist().index(100)
    # symmetric case: row 7 at rank 8 in both runs beats every row found at rank >= 8 by one run only
    den2 = (np.r_[np.arange(200, 207), 7, np.arange(207, 299)], den[1])
    for fuse in (F.fuse_free_text, F.fuse_seed, lambda a, b: F.rrf([a, b])):
        rows = fuse(lex, den2)[0].tolist()
        single_late = [r for r in lex_rows[8:]] + list(range(207, 299))
        assert all(rows.index(7) < rows.index(r) for r in single_late)


def test_score_fusion_is_invariant_to_affine_rescaling_of_a_run():
    a = run([1, 2, 3, 4], [9.0, 7.0, 3.0, 1.0])
    b = run([4, 3, 5, 6], [0.9, 0.8, 0.3, 0.1])
    b2 = (b[0], b[1] * 100 + 7)  # cosine vs raw BM25 scale must not matter
    for norm in ("minmax", "zscore"):
        r1 = F.score_fusion([a, b], [0.4, 0.6], norm)
        r2 = F.score_fusion([a, b2], [0.4, 0.6], norm)
        assert r1[0].tolist() == r2[0].tolist()
        assert r1[1] == pytest.approx(r2[1], abs=1e-5)


def test_weights_move_the_ranking():
    a = run([1, 2], [1.0, 0.0])
    b = run([2, 1], [1.0, 0.0])
    assert F.score_fusion([a, b], [0.9, 0.1], "minmax")[0].tolist() == [1, 2]
    assert F.score_fusion([a, b], [0.1, 0.9], "minmax")[0].tolist() == [2, 1]


def test_output_is_sorted_union_without_duplicates():
    rng = np.random.default_rng(1)
    a = (rng.choice(1000, 200, replace=False).astype(np.int64), rng.normal(size=200).astype(np.float32))
    b = (rng.choice(1000, 300, replace=False).astype(np.int64), rng.normal(size=300).astype(np.float32))
    for rows, scores in (F.rrf([a, b]), F.score_fusion([a, b], [0.5, 0.5]), F.fuse_free_text(a, b), F.fuse_seed(a, b)):
        assert rows.dtype == np.int64 and scores.dtype == np.float32
        assert set(rows.tolist()) == set(a[0].tolist()) | set(b[0].tolist())
        assert len(set(rows.tolist())) == len(rows)
        assert np.all(np.diff(scores) <= 0)


def test_fuse_seed_three_runs_and_fallback():
    lex = run([1, 2, 3], [9.0, 5.0, 1.0])
    den = run([2, 1, 4], [0.9, 0.5, 0.4])
    ms = run([2, 4, 1], [0.8, 0.7, 0.1])
    # z-scores: lex (1, 2, 3) -> (1.2247, 0, -1.2247) [mean 5, std 3.266]; den (2, 1, 4) -> (1.3887, -0.4629, -0.9258)
    # [mean 0.6, std 0.2160]; ms (2, 4, 1) -> (0.8627, 0.5392, -1.4018) [mean 0.5333, std 0.3091];
    # absent rows take the run's minimum. Equal weights (sum / 3):
    #   2: (0 + 1.3887 + 0.8627)/3 = 0.7505 ; 1: (1.2247 - 0.4629 - 1.4018)/3 = -0.2133
    #   4: (-1.2247 - 0.9258 + 0.5392)/3 = -0.5371 ; 3: (-1.2247 - 0.9258 - 1.4018)/3 = -1.1841
    rows, scores = F.fuse_seed(lex, den, ms)
    assert rows.tolist() == [2, 1, 4, 3]
    assert scores.tolist() == pytest.approx([0.7505, -0.2133, -0.5371, -1.1841], abs=2e-4)
    # the free-text rule is the same equal-weight average
    assert F.fuse_free_text(lex, den, ms)[0].tolist() == [2, 1, 4, 3]
    # without the sentence run: BM25 and dense at 0.5 each
    #   2: (0 + 1.3887)/2 = 0.6944 ; 1: (1.2247 - 0.4629)/2 = 0.3809 ; 3: (-1.2247 - 0.9258)/2 = -1.0753
    #   4: (-1.2247 - 0.9258)/2 = -1.0753 (tie with 3: the lower row first)
    rows, scores = F.fuse_seed(lex, den)
    assert rows.tolist() == [2, 1, 3, 4]
    assert scores.tolist() == pytest.approx([0.6944, 0.3809, -1.0753, -1.0753], abs=2e-4)
    assert F.fuse_free_text(lex, den)[0].tolist() == rows.tolist()


def test_empty_run_and_bad_input():
    a = run([3, 1], [2.0, 1.0])
    empty = run([], [])
    assert F.score_fusion([a, empty], [0.5, 0.5])[0].tolist() == [3, 1]
    assert F.rrf([empty, a])[0].tolist() == [3, 1]
    with pytest.raises(ValueError):
        F.rrf([run([1, 1], [1.0, 0.5])])  # a row twice
    with pytest.raises(ValueError):
        F.score_fusion([a], [0.5, 0.5])  # one weight per run
    with pytest.raises(ValueError):
        F.rrf([(np.array([1, 2]), np.array([1.0]))])


def test_constants_are_sane():
    for w, n in ((F.FREE_TEXT_WEIGHTS, 3), (F.SEED_WEIGHTS, 3), (F.FALLBACK_WEIGHTS, 2)):
        assert len(w) == n and sum(w) == pytest.approx(1.0) and min(w) > 0
    assert F.FUSION_NORM in ("minmax", "zscore") and F.FUSION_DEPTH >= 100 and F.RRF_K > 0


# ---- seed-paper helpers ------------------------------------------------------------------------

def test_split_sentences_keeps_abbreviations_and_numbers():
    text = "We study X, e.g. graphs, as in Smith et al. 2019. Accuracy rises to 3.5% (Fig. 2). Does it? Yes, it does."
    assert S.split_sentences(text) == [
        "We study X, e.g. graphs, as in Smith et al. 2019.",
        "Accuracy rises to 3.5% (Fig. 2). Does it?",  # "Does it?" (8 chars < 12) is glued to the previous one
        "Yes, it does.",
    ]
    assert S.split_sentences("  ") == []
    assert S.split_sentences("no final stop") == ["no final stop"]


def test_maxsim_hand_computed():
    q = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)  # two seed sentences
    s = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0.6, 0.8, 0]], dtype=np.float32)
    owner = np.array([0, 0, 1, 1])
    # doc 0: q1 best 1.0 (s0), q2 best 0.0 -> mean 0.5 ; doc 1: q1 best 0.6 (s3), q2 best 1.0 (s2) -> 0.8
    # doc 2 has no sentence -> -inf
    out = S.maxsim_scores(q, s, owner, n_docs=3)
    assert out[:2].tolist() == pytest.approx([0.5, 0.8])
    assert out[2] == -np.inf
    # weights 3:1 on the seed sentences: doc 0 -> (3*1 + 0)/4 = 0.75 ; doc 1 -> (3*0.6 + 1)/4 = 0.7
    out = S.maxsim_scores(q, s, owner, n_docs=3, query_weights=np.array([3.0, 1.0]))
    assert out[:2].tolist() == pytest.approx([0.75, 0.7])
    with pytest.raises(ValueError):
        S.maxsim_scores(q, s, np.array([1, 1, 0, 0]))  # a document's sentences must be contiguous


def test_maxsim_equals_cosine_for_one_sentence_each():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(5, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    out = S.maxsim_scores(v[:1], v, np.arange(5))
    assert out == pytest.approx(v @ v[0], abs=1e-6)


def test_facets():
    sents = [
        "Recently, parsing has attracted attention, but it remains a challenging problem.",
        "In this paper we propose a novel algorithm based on dynamic programming.",
        "Experimental results show that our approach outperforms the baselines by 5%.",
    ]
    assert S.facet_of_sentence(sents) == ["background", "method", "result"]
    assert S.facet_of_sentence_by_position(3) == ["background", "method", "result"]
    assert S.facet_sentence_mask(["background", "method"], "method").tolist() == [False, True]
    assert S.facet_sentence_mask(["background", "method"], "result").tolist() == [True, True]  # none: keep all
    assert S.facet_sentence_mask(["background"], None).tolist() == [True]
    with pytest.raises(ValueError):
        S.facet_sentence_mask(["method"], "objective")
    protos = np.eye(3, dtype=np.float32)
    assert S.facet_by_prototype(np.array([[0, 0.9, 0.1]], np.float32), protos) == ["method"]


def test_paper_sentences_and_facet_weights():
    assert S.paper_sentences(" A title ", "First sentence here. Second sentence here.") == [
        "A title", "First sentence here.", "Second sentence here."]
    assert S.paper_sentences("", "Only an abstract sentence.") == ["Only an abstract sentence."]
    assert S.paper_sentences("Just a title", "") == ["Just a title"]
    assert S.facet_weights(["background", "method", "result"], "method").tolist() == [0.25, 1.0, 0.25]
    assert S.facet_weights(["background", "method"], "result").tolist() == [1.0, 1.0]  # nobody carries it
    assert S.facet_weights(["background"], None).tolist() == [1.0]
    assert set(S.FACET_PROTOTYPES) == set(S.FACETS)
