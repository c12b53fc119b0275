"""Every result says why it is there (issue 12): its rank in each retriever's run, the words it shares with
the query or seed, what it is closest to; in the API, in --json and, with --why, in the table. Real bundled
model on the bundled 50-paper listing."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from recommender.lists import reading_list, recommend
from recommender.search.ranking import SEED_TERMS, SeedTerms, query_terms, seed_terms

QUERY = "backdoor attacks on neural networks"
KO = "KO codes"


def run(*args):
    env = {**os.environ, "COLUMNS": "400"}  # one line per why, whatever the terminal
    proc = subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def stems(text: str) -> set[str]:
    return set(query_terms(text)[0])


# --- what `why` holds ----------------------------------------------------------------------------
def test_search_why_ranks_are_the_retrievers_own_rankings(seed_rec):
    results = seed_rec.search(QUERY, 10)
    dense = [r.paper.id for r in seed_rec.search(QUERY, 50, mode="dense")]
    lexical = [r.paper.id for r in seed_rec.search(QUERY, 50, mode="lexical")]
    for r in results:
        assert r.why["ranks"]["dense"] == dense.index(r.paper.id) + 1
        expected = lexical.index(r.paper.id) + 1 if r.paper.id in lexical else None
        assert r.why["ranks"]["lexical"] == expected


def test_a_paper_outside_a_run_says_whether_it_shares_no_word_or_ranked_below_the_depth(seed_rec):
    from recommender.search.ranking import Ranking
    from recommender.search.why import _unranked

    scores = seed_rec.lexical.scores(QUERY)
    outside = [r for r in seed_rec.search(QUERY, 50) if r.why["ranks"]["lexical"] is None]
    assert outside  # papers found by meaning alone
    for r in outside:
        assert r.why["unranked"] == {"lexical": "no word in common"}
        assert scores[seed_rec.row_of_id[r.paper.id]] == 0
    assert all(not r.why["unranked"] for r in seed_rec.search(QUERY, 50) if r.why["ranks"]["lexical"])
    full = Ranking(np.arange(200), np.ones(200), {"dense": (np.arange(200), np.ones(200)),
                                                  "lexical": (np.arange(200), np.ones(200))}, depth=200)
    assert _unranked("dense", full, set()) == "below its top 200"
    assert _unranked("lexical", full, {7}) == "below its top 199"  # ranks leave the seed out; so does the depth
    from recommender.display import why_line
    from recommender.records import Result

    shown = why_line(Result(1, 0.5, outside[0].paper, why=outside[0].why))
    assert shown.startswith("why: dense #") and ", lexical: no word in common; no shared words" in shown


def test_search_why_words_are_the_query_words_in_the_paper_and_the_cosine_is_the_dense_score(seed_rec):
    results = seed_rec.search(QUERY, 5)
    vector = seed_rec.encode_query(QUERY)
    assert results[0].why["shared_words"][:1] == ["backdoor"]
    for r in results:
        assert r.why["shared_words"], r.paper.title
        for word in r.why["shared_words"]:
            assert word in QUERY.split() and stems(word) <= stems(r.paper.text)
        closest = r.why["closest_to"]
        assert closest["kind"] == "query" and closest["label"] == QUERY
        row = seed_rec.row_of_id[r.paper.id]
        assert closest["cosine"] == pytest.approx(float(np.asarray(seed_rec.vectors[row]) @ vector), abs=1e-3)


def test_a_dense_ranking_has_only_a_dense_rank(seed_rec):
    results = seed_rec.search(QUERY, 5, mode="dense")
    assert [r.why["ranks"] for r in results] == [{"dense": n} for n in range(1, 6)]


def test_similar_why_leaves_the_seed_out_of_the_ranks_and_names_it(seed_rec):
    seed_id = seed_rec.papers[seed_rec.resolve(KO)].id
    results = seed_rec.similar(KO, 5)
    lexical = [r.paper.id for r in seed_rec.similar(KO, 49, mode="lexical")]
    for r in results:
        assert r.why["ranks"]["lexical"] == lexical.index(r.paper.id) + 1  # the seed itself (lexical #1) not counted
        assert r.why["closest_to"]["id"] == seed_id and r.why["closest_to"]["kind"] == "paper"
    seed_text = seed_rec.papers[seed_rec.resolve(KO)].text
    for word in results[0].why["shared_words"]:
        assert stems(word) <= stems(seed_text) and stems(word) <= stems(results[0].paper.text)


def test_recommend_and_reading_lists_name_the_closest_seed(seed_rec):
    seeds = [KO, "Label Poisoning is All You Need"]
    ids = {seed_rec.papers[seed_rec.resolve(s)].id for s in seeds}
    for item in recommend(seed_rec, seeds, k=6) + reading_list(seed_rec, like=seeds, n=6).items:
        closest = item.why["closest_to"]
        assert closest["id"] in ids and set(item.why["ranks"]) == {"dense", "lexical"}
        row = seed_rec.row_of_id[item.paper.id]
        other = [i for i in ids if i != closest["id"]][0]
        cosines = {i: float(np.asarray(seed_rec.vectors[row]) @ np.asarray(seed_rec.vectors[seed_rec.row_of_id[i]]))
                   for i in ids}
        assert cosines[closest["id"]] >= cosines[other] - 1e-6
        assert closest["cosine"] == pytest.approx(cosines[closest["id"]], abs=1e-3)


# --- the seed's distinctive words ---------------------------------------------------------------
def test_distinctive_words_are_the_highest_count_times_idf_weighted_by_count():
    terms = SeedTerms(tf={"code": 3, "polar": 2, "learn": 4, "rare": 1},
                      idf={"code": 2.0, "polar": 4.0, "learn": 0.5, "rare": 5.0},
                      written={"code": "codes", "polar": "polar", "learn": "learning", "rare": "rare"})
    assert terms.distinctive(3) == {"polar": 2.0, "code": 3.0, "rare": 1.0}  # 8, 6, 5 beat learn's 2


def test_a_seed_queries_bm25_with_its_distinctive_words_only(seed_rec):
    """A whole abstract as a BM25 query weighs every common word; the seed's lexical run uses its
    SEED_TERMS words of highest count x idf (document frequencies counted here from the scores)."""
    seed = max(seed_rec.papers, key=lambda p: len(stems(p.text)))
    assert len(stems(seed.text)) > SEED_TERMS  # the choice drops words
    terms = seed_terms(seed_rec, seed.text)
    n = len(seed_rec)
    for stem in list(terms.tf)[:10]:
        df = int(np.count_nonzero(seed_rec.lexical.scores(terms.written[stem])))
        assert terms.idf[stem] == pytest.approx(np.log(1 + (n - df + 0.5) / (df + 0.5)))
    chosen = terms.distinctive()
    assert len(chosen) == SEED_TERMS
    weight = {s: terms.tf[s] * terms.idf[s] for s in terms.tf}
    assert min(weight[s] for s in chosen) >= max(weight[s] for s in terms.tf if s not in chosen)
    ranking = seed_rec._candidates(seed_rec.paper_query(seed_rec.row_of_id[seed.id], "lexical"), "lexical", 50)
    assert ranking.terms == chosen


def test_a_paper_sharing_only_common_words_with_the_seed_gets_no_lexical_score(seed_rec):
    """The issue's word-overlap accident: with the whole abstract as the BM25 query, a paper that shares only
    words like "approach", "based" and "between" with the seed scored; with the seed's distinctive words it does not."""
    seed = seed_rec.papers[seed_rec.resolve("MAUVE Scores for Generative Models: Theory and Practice")]
    other = seed_rec.papers[seed_rec.resolve("Bring Your Own Algorithm for Optimal Differentially Private Stochastic")]
    common = stems(seed.text) & stems(other.text)
    assert {"approach", "base", "between"} <= common
    assert float(seed_rec.lexical.scores(seed.text)[seed_rec.row_of_id[other.id]]) > 0  # the whole abstract matches it
    assert other.id not in [r.paper.id for r in seed_rec.similar(seed.id, 49, mode="lexical")]


# --- the command line ----------------------------------------------------------------------------
def _why_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("why:")]


@pytest.mark.parametrize("args", [
    ["search", QUERY, "-k", "4"],
    ["similar", KO, "-k", "4"],
    ["recommend", "--like", KO, "--like", "Label Poisoning is All You Need", "-k", "4"],
    ["reading-list", "--query", "privacy in machine learning", "-n", "4"],
])
def test_why_on_every_verb_shows_ranks_words_and_closest(seed_index, args):
    out = run(*args, "--index", seed_index, "--why")
    lines = _why_lines(out)
    assert len(lines) == 4, out
    for line in lines:
        assert line.startswith("why: dense #") and ", lexical " in line and "closest to " in line
    plain = run(*args, "--index", seed_index)
    assert not _why_lines(plain)


def test_json_carries_why_for_search_similar_recommend_and_reading_lists(seed_index):
    searched = json.loads(run("search", QUERY, "-i", seed_index, "-k", "3", "--json"))["results"]
    similar = json.loads(run("similar", KO, "-i", seed_index, "-k", "3", "--json"))["results"]
    recommended = json.loads(run("recommend", "--like", KO, "-i", seed_index, "-k", "3", "--json"))["results"]
    listed = json.loads(run("reading-list", "--query", QUERY, "-i", seed_index, "-n", "3", "--json"))["items"]
    assert [r["id"] for r in recommended] == [r["id"] for r in similar]  # one ranking path
    for result in searched + similar + recommended + listed:
        why = result["why"]
        assert set(why) >= {"ranks", "shared_words", "closest_to"}
        assert isinstance(why["ranks"]["dense"], int) and why["closest_to"]["label"]
