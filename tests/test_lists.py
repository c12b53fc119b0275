"""Reading lists, pure logic: MMR, profile directions, themes, order, term picking, exports.

Vectors here are small hand-made arrays (no model); the end-to-end tests with the real model are in
test_lists_e2e.py.
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from recommender.errors import InputError, UsageError
from recommender.lists.diversify import check_diversity, mean_pairwise_similarity, mmr
from recommender.lists.export import check_format, export
from recommender.lists.methods import centroid_direction, check_method, choose_method, classifier_direction
from recommender.lists.model import ReadingList, Theme
from recommender.lists.order import reading_order
from recommender.lists.profile import Profile, Seed, expand_refs
from recommender.lists.terms import Vocabulary, phrases, pick_terms
from recommender.lists.themes import characteristic_terms, cluster, theme_name
from recommender.records import Paper, Result


def unit(*rows) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def seed(vector, kind="paper", label="s") -> Seed:
    return Seed(label, label, np.asarray(vector, dtype=np.float32), kind)


# --- maximal marginal relevance ------------------------------------------------------------------
def test_mmr_without_diversity_keeps_the_relevance_order():
    scores = np.array([0.9, 0.5, 0.8, 0.1])
    vectors = unit([1, 0], [0, 1], [1, 0.01], [0.5, 0.5])
    assert mmr(scores, vectors, 3, 0.0) == [0, 2, 1]


def test_mmr_skips_a_near_copy_of_a_pick():
    scores = np.array([0.9, 0.89, 0.5])
    vectors = unit([1, 0], [1, 0.001], [0, 1])  # 1 repeats 0; 2 is different and less relevant
    assert mmr(scores, vectors, 2, 0.0) == [0, 1]
    assert mmr(scores, vectors, 2, 0.5) == [0, 2]


def test_more_diversity_lowers_the_mean_pairwise_similarity():
    rng = np.random.default_rng(1)
    centre = rng.normal(size=16)
    near = centre + 0.3 * rng.normal(size=(20, 16))  # a tight group, the most relevant
    far = rng.normal(size=(20, 16))
    vectors = np.vstack([near, far])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = np.r_[np.linspace(1.0, 0.8, 20), np.linspace(0.7, 0.5, 20)]
    similarity = [mean_pairwise_similarity(vectors[mmr(scores, vectors, 8, d)]) for d in (0.0, 0.5, 0.9)]
    assert similarity[0] > similarity[1] > similarity[2]


def test_mean_pairwise_similarity_of_known_vectors():
    assert mean_pairwise_similarity(unit([1, 0], [0, 1])) == pytest.approx(0.0)
    assert mean_pairwise_similarity(unit([1, 0], [1, 0], [0, 1])) == pytest.approx(1 / 3)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "lots"])
def test_diversity_out_of_range_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="--diversity"):
        check_diversity(bad)


# --- profile directions --------------------------------------------------------------------------
def test_centroid_is_the_mean_direction_and_negatives_push_it_away():
    positives = [seed([1, 0, 0]), seed([0, 1, 0])]
    plain = centroid_direction(Profile(positives))
    assert plain == pytest.approx(unit([1, 1, 0])[0], abs=1e-6)
    negative = seed(unit([1, 0, 1])[0])
    against = centroid_direction(Profile(positives, [negative]))
    assert float(against @ negative.vector) < float(plain @ negative.vector)
    assert float(np.linalg.norm(against)) == pytest.approx(1.0)


def test_a_query_weighs_as_much_as_all_the_seed_papers():
    profile = Profile([seed([1, 0]), seed([1, 0]), seed([1, 0])], query=seed([0, 1], "query"))
    assert centroid_direction(profile) == pytest.approx(unit([1, 1])[0], abs=1e-6)


def _two_topics(rng, n=60, dim=8):
    a = rng.normal(size=dim) * 3
    b = rng.normal(size=dim) * 3
    vectors = np.vstack([a + rng.normal(size=(n, dim)), b + rng.normal(size=(n, dim))])
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["svm", "logistic"])
def test_a_classifier_ranks_the_seeds_topic_above_the_other(kind):
    vectors = _two_topics(np.random.default_rng(0))
    profile = Profile([seed(vectors[i]) for i in range(3)], exclude_rows=frozenset(range(3)))
    scores = vectors @ classifier_direction(profile, vectors, kind)
    assert scores[3:60].min() > scores[60:].max()


@pytest.mark.parametrize("kind", ["svm", "logistic"])
def test_an_explicit_negative_lowers_its_neighbours_under_a_classifier(kind):
    vectors = _two_topics(np.random.default_rng(0))
    positives = [seed(vectors[i]) for i in range(3)]
    # Dislike one paper of the seeds' own topic: papers near it must lose ground against the rest.
    disliked = 30
    near = np.argsort(-(vectors[3:60] @ vectors[disliked]))[:5] + 3
    near = near[near != disliked][:4]
    without = vectors @ classifier_direction(Profile(positives, exclude_rows=frozenset(range(3))), vectors, kind)
    with_neg = vectors @ classifier_direction(Profile(positives, [seed(vectors[disliked])],
                                                      exclude_rows=frozenset([0, 1, 2, disliked])), vectors, kind)

    def percentile(scores, rows):
        return np.mean([np.mean(scores[3:60] < scores[r]) for r in rows])

    assert percentile(with_neg, near) < percentile(without, near)


def test_auto_is_the_centroid_for_liked_papers_and_the_svm_with_disliked_ones():
    liked = Profile([seed([1, 0]), seed([0, 1])])
    assert choose_method("auto", liked) == choose_method(None, liked) == "centroid"
    assert choose_method("auto", Profile(liked.positives, [seed([1, 1])])) == "logistic"
    assert choose_method("svm", liked) == "svm"
    with pytest.raises(UsageError, match="--method"):
        check_method("knn")


def test_paper_references_from_a_file(tmp_path):
    listing = tmp_path / "seeds.txt"
    listing.write_text("# my seeds\n2301.00001\n\nKO codes\n", encoding="utf-8")
    assert expand_refs(["DeepPolar", f"@{listing}"]) == ["DeepPolar", "2301.00001", "KO codes"]
    with pytest.raises(InputError, match="missing.txt"):
        expand_refs([f"@{tmp_path / 'missing.txt'}"])


# --- themes and order ----------------------------------------------------------------------------
def test_two_separate_groups_make_two_themes_and_tiny_lists_one():
    vectors = _two_topics(np.random.default_rng(3), n=5)
    labels = cluster(vectors)
    assert len(set(labels[:5].tolist())) == 1 and len(set(labels[5:].tolist())) == 1
    assert labels[0] != labels[5]
    assert cluster(vectors[:3]).tolist() == [0, 0, 0]


TEXTS = [
    "Federated learning with secure aggregation across mobile clients.",
    "Communication-efficient federated learning for clients with little bandwidth.",
    "Personalised federated learning: clients fine-tune a shared model.",
    "Large language models memorise their training data; language models leak it.",
    "Tokenizers of large language models reveal what the language models saw.",
    "Aligning language models with instructions written by people.",
]


def test_themes_are_named_by_their_characteristic_phrases():
    vocab = Vocabulary(TEXTS)
    terms = characteristic_terms(vocab, np.array([0, 0, 0, 1, 1, 1]))
    assert "federated learning" in terms[0][:2]
    assert "language models" in terms[1][:2]
    assert not {"federated", "learning"} & set(terms[0])  # the phrase replaced its words
    assert not set(terms[0]) & set(terms[1])


def test_theme_names_are_noun_phrases_of_the_theme_s_titles_not_the_query_s_words():
    titles = ["Private federated learning with secure aggregation", "Federated learning on a bandwidth budget",
              "Personalised federated learning", "Memorisation in large language models",
              "What tokenizers of language models reveal", "Aligning language models with instructions"]
    texts = [f"{title}. {text}" for title, text in zip(titles, TEXTS)]
    vocab = Vocabulary(texts)
    labels = np.array([0, 0, 0, 1, 1, 1])
    terms = characteristic_terms(vocab, labels, titles=titles)
    assert [theme_name(t) for t in terms] == ["federated learning", "language models"]
    # the query's own words name nothing; adjectives and adverbs never end a name
    terms = characteristic_terms(vocab, labels, titles=titles, subject="federated learning and language models")
    assert not {"federated learning", "language models", "federated", "learning", "language", "models"} & {
        term for t in terms for term in t}
    assert not any(term.endswith(("private", "large", "efficient")) for t in terms for term in t)


def test_noun_phrases_end_on_a_noun():
    found = phrases("Differentially private stochastic minimax optimization for federated learning, provably.")
    assert {"stochastic minimax optimization", "minimax optimization", "federated learning"} <= set(found)
    assert not {"differentially private", "private", "provably", "stochastic"} & set(found)


def test_a_phrase_takes_the_place_of_its_word_only_when_it_scores_nearly_as_well():
    vocab = Vocabulary(["graph learning models", "graph learning", "graph nets"])
    index = {vocab.terms[i]: i for i in range(len(vocab.terms))}
    deep, phrase, nets = index["graph"], index["graph learn"], index["net"]
    scores = np.zeros(len(vocab.terms))
    scores[[deep, phrase, nets]] = [1.0, 0.6, 0.5]
    assert pick_terms(vocab, [deep, phrase, nets], 2, scores) == [phrase, nets]
    scores[phrase] = 0.2
    assert pick_terms(vocab, [deep, nets, phrase], 2, scores) == [deep, nets]


def test_a_phrase_takes_the_place_of_both_words_it_joins():
    vocab = Vocabulary(["polar codes decoding", "polar codes", "decoding codes"])
    index = {vocab.terms[i]: i for i in range(len(vocab.terms))}
    polar, codes, phrase = index["polar"], index["code"], index["polar code"]
    scores = np.zeros(len(vocab.terms))
    scores[[polar, codes, phrase]] = [1.0, 0.9, 0.7]
    assert pick_terms(vocab, [polar, codes, phrase], 3, scores) == [phrase]


def test_reading_order_puts_the_central_paper_first_then_oldest_to_newest():
    # theme 0: positions 0, 2, 3; position 3 is central (between the other two)
    vectors = unit([1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0])
    labels = np.array([0, 1, 0, 0])
    years = [2024, 2020, 2019, None]
    assert reading_order(labels, years, vectors) == [[3, 2, 0], [1]]


# --- exports -------------------------------------------------------------------------------------
def _paper(i, **extra) -> Paper:
    base = dict(id=f"p{i}", title=f"Paper {i} on privacy", authors=["Ana Müller", "Bo Li"], year=2020 + i)
    base.update(extra)
    return Paper(**base)


@pytest.fixture
def reading() -> ReadingList:
    items = [
        Result(2, 0.8, _paper(1, arxiv_id="2301.00001", categories=["cs.LG"]), "closest to the query \"x\" (cosine 0.80)"),
        Result(1, 0.9, _paper(2, title="Privacy & 100% _safety_ for {all}", doi="10.1/abc", authors_truncated=True),
               "closest to \"Paper 1\" (cosine 0.70); shares: privacy"),
        Result(3, 0.7, _paper(3, title="Is Paper 3 needed?", authors=["Zoë Ångström"], year=None, url="https://x.org/a_b?c=1%20"),
               None),
    ]
    return ReadingList({"text": "privacy", "like": [], "unlike": [], "bib": None},
                       [Theme("privacy, secure", ["privacy", "secure"], items[:2]), Theme("other", ["other"], items[2:])],
                       "privacy")


def test_bibtex_parses_back_with_every_field(reading):
    import bibtexparser

    from recommender.ingest.bibtex import read_bibtex

    text = export(reading, "bibtex")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert len(library.entries) == 3
    assert len({e.key for e in library.entries}) == 3
    first = {f.key: f.value for f in library.entries[0].fields}
    assert first["eprint"] == "2301.00001" and first["archivePrefix"] == "arXiv" and first["primaryClass"] == "cs.LG"
    assert library.entries[0].key == "muller2021paper"
    papers, skipped = read_bibtex(text, "export.bib")  # the project's own reader, LaTeX decoded
    assert not skipped
    assert [p.title for p in papers] == [i.paper.title for i in reading.items]
    assert papers[0].authors == ["Ana Müller", "Bo Li"]
    assert papers[1].authors_truncated and papers[1].doi == "10.1/abc" and papers[1].year == 2022
    assert papers[2].authors == ["Zoë Ångström"] and papers[2].year is None and papers[2].url == "https://x.org/a_b?c=1%20"
    assert "author = {Ana Müller and Bo Li" in text  # UTF-8, as written: Biber and BibTeX read it


def test_markdown_has_theme_headings_authors_years_links_and_reasons(reading):
    text = export(reading, "markdown")
    assert text.startswith("# Reading list: privacy")
    assert "## 1. privacy, secure" in text and "## 2. other" in text
    assert "[arXiv:2301.00001](https://arxiv.org/abs/2301.00001)" in text
    assert "[doi:10.1/abc](https://doi.org/10.1/abc)" in text
    assert "Ana Müller, Bo Li et al. (2022)" in text
    assert "*Why:* closest to" in text
    assert text.index("Paper 1 on privacy") < text.index("Privacy &") < text.index("Paper 3")
    assert "3. **Is Paper 3 needed?** Zoë Ångström. <https://x.org/a_b?c=1%20>" in text  # no "?." after a title
    assert "\\_safety\\_" in text  # markup characters in titles are escaped


def test_csv_and_json_carry_positions_themes_and_reasons(reading):
    rows = list(csv.DictReader(io.StringIO(export(reading, "csv"))))
    assert [r["position"] for r in rows] == ["1", "2", "3"]
    assert [r["theme"] for r in rows] == ["privacy, secure", "privacy, secure", "other"]
    assert rows[1]["title"] == "Privacy & 100% _safety_ for {all}" and rows[1]["authors"] == "Ana Müller; Bo Li"
    data = json.loads(export(reading, "json"))
    assert data == reading.to_dict()
    assert data["themes"][0] == {"name": "privacy, secure", "terms": ["privacy", "secure"], "ids": ["p1", "p2"]}
    assert [(i["position"], i["theme"], i["rank"]) for i in data["items"]] == [
        (1, "privacy, secure", 2), (2, "privacy, secure", 1), (3, "other", 3)]
    assert data["items"][0]["reason"].startswith("closest to")


def test_a_plain_result_list_exports_too(reading):
    results = reading.items
    assert json.loads(export(results, "json"))["results"][0]["id"] == "p1"
    assert "Paper 3" in export(results, "table")
    assert "##" not in export(results, "markdown") and export(results, "markdown").startswith("# Recommended papers")
    assert export([], "table") == "no results"


def test_unknown_format_is_a_usage_error():
    assert check_format("md") == "markdown"
    with pytest.raises(UsageError, match="--format 'pdf'"):
        check_format("pdf")


# --- a library matched to the index ----------------------------------------------------------------
class _Index:
    """Just what matching a library needs: papers by row, and rows by id."""

    def __init__(self, papers):
        self.papers = papers
        self.row_of_id = {p.id: row for row, p in enumerate(papers)}

    def find_paper(self, paper):  # what Recommender.find_paper does, over papers in memory
        from recommender import refs

        return refs.find_paper(paper, self.row_of_id, refs.Aliases(self.papers))


def test_library_entries_match_the_index_by_arxiv_id_doi_title_or_id(tmp_path):
    from recommender.lists.bib import read_library

    index = _Index([
        Paper(id="2310.09639", title="An arXiv paper", arxiv_id="2310.09639"),
        Paper(id="10.1000/xyz", title="A journal paper", doi="10.1000/xyz"),
        Paper(id="t:abc", title="Stochastic Optimization on Matrices"),
        Paper(id="w1", title="Known by id"),
    ])
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{a, title={Renamed in the library}, journal={arXiv preprint arXiv:2310.09639v2}}\n"
        "@article{b, title={Another title}, doi={https://doi.org/10.1000/XYZ}}\n"
        "@article{c, title={Stochastic optimization on {M}atrices}}\n"
        "@article{w1, title={Some title}}\n"
        "@article{d, title={Not in the index}, abstract={Something else entirely.}}\n"
        "@article{e, author={No Title}}\n", encoding="utf-8")
    library = read_library(index, bib)
    assert library.rows == [0, 1, 2, 3]
    assert [p.title for p in library.outside] == ["Not in the index"]
    assert len(library) == 5 and len(library.skipped) == 1 and "no title" in library.skipped[0]
