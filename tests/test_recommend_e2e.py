"""End to end with the real bundled model on the bundled listing: build, search, similar, filters."""
from __future__ import annotations

import pytest

from recommender.errors import PaperNotFound, UsageError
from recommender.search.filters import Filters

# Four papers of the listing are about backdoor attacks; "Label Poisoning" says so in its abstract.
BACKDOOR_TITLES = {
    "Label Poisoning is All You Need",
    "Few-shot Backdoor Attacks via Neural Tangent Kernels",
    "Towards a Defense Against Federated Backdoor Attacks Under Continuous Training",
    "SPECTRE: Defending Against Backdoor Attacks Using Robust Statistics",
}
CODING_TITLES = {
    "CRISP: Curriculum based Sequential Neural Decoders for Polar Code Family",
    "Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes",
    "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning",
}


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_backdoor_query_finds_the_backdoor_papers_first(seed_rec, mode):
    results = seed_rec.search("backdoor attacks", 4, mode=mode)
    assert {r.paper.title for r in results} == BACKDOOR_TITLES


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_similar_to_ko_codes_ranks_polar_and_reed_muller_first(seed_rec, mode):
    results = seed_rec.similar("KO codes", 3, mode=mode)
    assert {r.paper.title for r in results} == CODING_TITLES


def test_similar_leaves_the_seed_out_and_ranks_in_order(seed_rec):
    seed_row = seed_rec.resolve("KO codes")
    results = seed_rec.similar(seed_rec.ids[seed_row], 49)
    assert seed_rec.ids[seed_row] not in {r.paper.id for r in results}
    assert len(results) == 49
    assert [r.rank for r in results] == list(range(1, 50))
    assert all(a.score >= b.score for a, b in zip(results, results[1:]))


def test_paper_outside_the_index_by_title_and_abstract(seed_rec):
    results = seed_rec.similar_to_text(
        "Neural decoders for error-correcting codes",
        "We learn decoders for polar and Reed-Muller codes with neural networks over noisy channels.", 3)
    assert {r.paper.title for r in results} & CODING_TITLES


def test_filters_restrict_every_result(seed_rec):
    by_year = seed_rec.search("privacy", 50, filters=Filters(year_from=2024, year_to=2025))
    assert by_year and all(r.paper.year is not None and 2024 <= r.paper.year <= 2025 for r in by_year)
    assert len(by_year) < 50
    by_category = seed_rec.search("privacy", 50, filters=Filters(categories=["CR"]))
    assert by_category and all("CR" in r.paper.categories for r in by_category)
    by_author = seed_rec.search("language models", 50, filters=Filters(authors=["hayase"]))
    assert by_author and all(any("Hayase" in a for a in r.paper.authors) for r in by_author)
    top = seed_rec.search("backdoor attacks", 1)[0].paper.id
    assert top not in {r.paper.id for r in seed_rec.search("backdoor attacks", 5, filters=Filters(exclude=[top]))}


def test_papers_are_found_by_id_exact_title_and_close_title(seed_rec):
    row = seed_rec.resolve("KO codes")
    paper = seed_rec.papers[row]
    assert seed_rec.resolve(paper.id) == row
    assert seed_rec.resolve(paper.title.upper()) == row
    assert seed_rec.resolve("KO codes: inventing nonlinear encoding and decoding for reliable wireless comunication") == row


def test_ambiguous_and_unknown_papers_are_errors_that_say_what_to_do(seed_rec):
    with pytest.raises(PaperNotFound, match="several papers"):
        seed_rec.resolve("Private")
    with pytest.raises(PaperNotFound, match="no paper"):
        seed_rec.resolve("Quantum chromodynamics on the lattice at finite density")


@pytest.mark.parametrize("k", [0, -3])
def test_k_must_be_positive(seed_rec, k):
    with pytest.raises(UsageError, match="-k"):
        seed_rec.search("privacy", k)
