"""Ranking metrics against hand-computed values (the arithmetic is in the comments)."""
import math

import pytest

from recommender.evaluate.metrics import dcg, mean_defined, mrr_at_k, ndcg_at_k, recall_at_k

LOG2_3 = math.log2(3)  # 1.5849625


def test_ndcg_binary_hand_computed():
    # ranking a, b, c with a and c relevant (grade 1, gain 2^1-1 = 1):
    #   DCG  = 1/log2(2) + 0/log2(3) + 1/log2(4) = 1 + 0 + 0.5 = 1.5
    #   IDCG = 1/log2(2) + 1/log2(3)             = 1 + 0.6309298 = 1.6309298
    #   nDCG = 1.5 / 1.6309298 = 0.9197208
    assert ndcg_at_k(["a", "b", "c"], {"a": 1, "c": 1}) == pytest.approx(0.9197208, abs=1e-6)


def test_ndcg_graded_gains_and_ideal_from_all_judged():
    # grades x=1, y=3, w=2 (w is never retrieved), z unjudged. Gains 2^g - 1: x=1, y=7, w=3.
    #   DCG  = 1/log2(2) + 7/log2(3) + 0/log2(4) = 1 + 4.4165083 = 5.4165083
    #   IDCG over ALL judged relevant docs, best first (y, w, x):
    #        = 7/1 + 3/log2(3) + 1/log2(4) = 7 + 1.8927893 + 0.5 = 9.3927893
    #   nDCG = 5.4165083 / 9.3927893 = 0.5766666
    assert ndcg_at_k(["x", "y", "z"], {"x": 1, "y": 3, "w": 2}) == pytest.approx(0.5766666, abs=1e-6)
    # with linear gains it would be (1 + 3/log2 3)/(3 + 2/log2 3 + 1/2) = 0.6912: the exponent matters
    assert ndcg_at_k(["x", "y", "z"], {"x": 1, "y": 3, "w": 2}) != pytest.approx(0.6912, abs=1e-3)


def test_ndcg_unretrieved_relevant_lowers_the_score():
    # only a retrieved, b relevant too: DCG = 1, IDCG = 1 + 1/log2(3) = 1.6309298 -> 0.6131472
    assert ndcg_at_k(["a"], {"a": 1, "b": 1}) == pytest.approx(0.6131472, abs=1e-6)


def test_ndcg_cutoff_and_perfect():
    ranked = [f"d{i}" for i in range(20)]
    assert ndcg_at_k(ranked, {"d10": 1}, k=10) == 0.0  # rank 11 is outside the top 10
    assert ndcg_at_k(ranked, {"d10": 1}, k=11) == pytest.approx(1 / math.log2(12) / 1.0)  # DCG 1/log2(12), IDCG 1
    assert ndcg_at_k(["a", "b"], {"a": 2, "b": 1}) == pytest.approx(1.0)


def test_zero_grades_are_irrelevant_and_no_relevant_gives_none():
    assert ndcg_at_k(["a", "b"], {"a": 0, "b": 0}) is None
    assert recall_at_k(["a"], {"a": 0}) is None
    assert mrr_at_k(["a"], {}) is None
    # a (grade 0) at rank 1, b (grade 1) at rank 2: DCG = 1/log2(3) = 0.6309298, IDCG = 1
    assert ndcg_at_k(["a", "b"], {"a": 0, "b": 1}) == pytest.approx(1 / LOG2_3)


def test_duplicates_count_once():
    # a a b: the second a is dropped, so b is at rank 2: DCG = 1 + 1/log2(3), IDCG the same -> 1.0
    assert ndcg_at_k(["a", "a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    assert recall_at_k(["a", "a"], {"a": 1, "b": 1}, k=2) == 0.5


def test_recall_hand_computed():
    qrels = {"a": 1, "b": 1, "c": 2, "d": 1}
    # top-2 of (a, x, c, b) is (a, x): 1 of 4 relevant -> 0.25; top-3 adds c -> 2/4 = 0.5
    assert recall_at_k(["a", "x", "c", "b"], qrels, k=2) == 0.25
    assert recall_at_k(["a", "x", "c", "b"], qrels, k=3) == 0.5
    assert recall_at_k([], qrels, k=3) == 0.0


def test_mrr_hand_computed():
    assert mrr_at_k(["x", "y", "a"], {"a": 1}) == pytest.approx(1 / 3)  # first relevant at rank 3
    assert mrr_at_k(["x", "a", "b"], {"a": 1, "b": 1}) == 0.5  # only the first relevant counts
    assert mrr_at_k(["x", "y", "a"], {"a": 1}, k=2) == 0.0  # rank 3 is beyond k = 2


def test_dcg_and_mean_defined():
    # grades 3, 0, 1: 7/1 + 0 + 1/log2(4) = 7.5
    assert dcg([3, 0, 1]) == pytest.approx(7.5)
    assert mean_defined([1.0, None, 0.0]) == 0.5
    assert mean_defined([None]) == 0.0


def test_bad_k():
    with pytest.raises(ValueError):
        ndcg_at_k(["a"], {"a": 1}, k=0)


# ---- the BEIR-layout loader (recommender/evaluate/beir.py) -------------------------------------

def _write(folder, corpus, queries, qrels):
    (folder / "corpus.jsonl").write_text(corpus)
    (folder / "queries.jsonl").write_text(queries)
    (folder / "qrels.tsv").write_text(qrels)


def test_beir_loads_seed_queries_and_graded_qrels(tmp_path):
    from recommender.evaluate.beir import load_beir

    _write(tmp_path,
           '{"_id": "p1", "title": "A", "text": "alpha."}\n{"_id": 2, "title": "B", "text": ""}\n',
           '{"_id": "q1", "text": "find alpha"}\n{"_id": "q2_method", "text": "alpha.", "seed_paper_id": "p1", "facet": "method", "title": "A"}\n',
           "query-id\tcorpus-id\tscore\nq1\tp1\t1\nq2_method\t2\t3\nq2_method\tp1\t0\n")
    b = load_beir(tmp_path)
    assert [p.id for p in b.corpus] == ["p1", "2"]  # numeric ids become strings
    assert b.corpus[0].text == "A. alpha." and b.corpus[1].text == "B"
    assert b.queries[1].seed_paper_id == "p1" and b.queries[1].facet == "method" and b.queries[0].seed_paper_id is None
    assert b.qrels == {"q1": {"p1": 1}, "q2_method": {"2": 3, "p1": 0}}


@pytest.mark.parametrize("corpus,queries,qrels,where", [
    ('{"_id": "p1", "title": "A"\n', '{"_id": "q", "text": "x"}\n', "q\tp1\t1\n", "corpus.jsonl:1: not valid JSON"),
    ('{"_id": "p1", "title": "A"}\n{"title": "B"}\n', '{"_id": "q", "text": "x"}\n', "q\tp1\t1\n", "corpus.jsonl:2: missing field '_id'"),
    ('{"_id": "p1", "title": "A"}\n{"_id": "p1", "title": "B"}\n', '{"_id": "q", "text": "x"}\n', "q\tp1\t1\n", "corpus.jsonl:2: duplicate _id"),
    ('{"_id": "p1", "title": "A"}\n', '{"_id": "q", "text": "x"}\n[1]\n', "q\tp1\t1\n", "queries.jsonl:2: expected a JSON object"),
    ('{"_id": "p1", "title": "A"}\n', '{"_id": "q", "text": "x", "seed_paper_id": "nope"}\n', "q\tp1\t1\n", "names seed_paper_id 'nope'"),
    ('{"_id": "p1", "title": "A"}\n', '{"_id": "q", "text": "x"}\n', "query-id\tcorpus-id\tscore\nq p1 1\n", "qrels.tsv:2: expected 3 tab-separated"),
    ('{"_id": "p1", "title": "A"}\n', '{"_id": "q", "text": "x"}\n', "q\tp1\thigh\n", "qrels.tsv:1: score 'high' is not a number"),
])
def test_beir_malformed_files_give_one_line_input_errors(tmp_path, corpus, queries, qrels, where):
    from recommender.errors import InputError
    from recommender.evaluate.beir import load_beir

    _write(tmp_path, corpus, queries, qrels)
    with pytest.raises(InputError) as info:
        load_beir(tmp_path)
    msg = str(info.value)
    assert where in msg and "\n" not in msg and str(tmp_path) in msg


def test_beir_missing_file(tmp_path):
    from recommender.errors import InputError
    from recommender.evaluate.beir import load_beir

    with pytest.raises(InputError, match="corpus.jsonl: file not found"):
        load_beir(tmp_path)
