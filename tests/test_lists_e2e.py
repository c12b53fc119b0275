"""Reading lists end to end: the real bundled model on the bundled 50-paper listing, API and command."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from recommender.errors import InputError, PaperNotFound, UsageError
from recommender.lists import export, reading_list, recommend
from recommender.lists.diversify import mean_pairwise_similarity
from test_recommend_e2e import BACKDOOR_TITLES, CODING_TITLES

KO = "KO codes: Inventing Nonlinear Encoding and Decoding for Reliable Wireless Communication via Deep-learning"
PRIVACY = "privacy in machine learning"

LIBRARY = """\
@article{makkuva2021ko,
  title = {{KO} codes: Inventing Nonlinear Encoding and Decoding for Reliable Wireless Communication via Deep-learning},
  author = {Makkuva, Ashok Vardhan and Liu, Xiyang and others},
  year = {2021}
}
@misc{hebbar2024deeppolar,
  title = {DeepPolar: inventing nonlinear large-kernel polar codes via deep learning},
  author = {Hebbar, S Ashwin},
  year = 2024
}
@inproceedings{jha2023label,
  title = {Label Poisoning is All You Need},
  author = {Jha, Rishi D.},
  booktitle = {NeurIPS},
  year = {2023}
}
@article{nachmani2018ldpc,
  title = {Neural belief propagation decoders for LDPC codes},
  author = {Nachmani, Eliya},
  abstract = {We learn the weights of belief propagation decoding for low-density parity-check codes with deep
              neural networks over noisy channels.},
  year = {2018}
}
"""
DEEPPOLAR = "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning"
OTHER_CODING = CODING_TITLES - {DEEPPOLAR}  # CRISP and Reed-Muller: coding papers besides KO codes and DeepPolar
LIBRARY_TITLES = {KO, "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning",
                  "Label Poisoning is All You Need"}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = tmp_path_factory.mktemp("library") / "mine.bib"
    path.write_text(LIBRARY, encoding="utf-8")
    return path


def titles(results) -> list[str]:
    return [r.paper.title for r in results]


# --- several seeds -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["centroid", "svm", "logistic"])
def test_two_coding_seeds_bring_the_other_coding_papers_first(seed_rec, method):
    results = recommend(seed_rec, ["KO codes", "DeepPolar"], k=5, method=method)
    assert set(titles(results)[:2]) == OTHER_CODING
    assert not {KO, DEEPPOLAR} & set(titles(results))


@pytest.mark.parametrize("method", ["centroid", "svm", "logistic"])
def test_seeds_from_two_topics_draw_from_both(seed_rec, method):
    top = set(titles(recommend(seed_rec, ["KO codes", "Label Poisoning is All You Need"], k=6, method=method)))
    assert top & CODING_TITLES and top & BACKDOOR_TITLES


FEDERATED = ["Private Federated Learning with Autotuned Compression", "One-shot Empirical Privacy Estimation for Federated Learning"]
DP_PCA = "DP-PCA: Statistically Optimal and Differentially Private PCA"


def test_a_disliked_paper_pushes_its_neighbours_down_the_centroid(seed_rec):
    # DP-PCA's nearest neighbour: a paper of the same authors on private regression.
    neighbour = "Near Optimal Private and Robust Linear Regression"
    before = [t for t in titles(recommend(seed_rec, FEDERATED, k=48, method="centroid")) if t != DP_PCA]
    after = titles(recommend(seed_rec, FEDERATED, ["DP-PCA"], k=47, method="centroid"))
    assert DP_PCA not in after and len(after) == len(before) == 47
    assert after.index(neighbour) > before.index(neighbour)


def test_with_disliked_papers_auto_trains_a_classifier_that_never_returns_them(seed_rec):
    disliked = ["DP-PCA", "Near Optimal Private and Robust Linear Regression"]
    auto = recommend(seed_rec, FEDERATED, disliked, k=46)
    assert titles(auto) == titles(recommend(seed_rec, FEDERATED, disliked, k=46, method="logistic"))
    assert titles(auto) != titles(recommend(seed_rec, FEDERATED, disliked, k=46, method="centroid"))
    assert not {DP_PCA, "Near Optimal Private and Robust Linear Regression"} & set(titles(auto))
    assert titles(recommend(seed_rec, FEDERATED, k=10)) == titles(recommend(seed_rec, FEDERATED, k=10, method="centroid"))


def test_a_query_alone_is_the_core_search_and_a_query_steers_the_seeds(seed_rec):
    assert titles(recommend(seed_rec, [], query="backdoor attacks", k=4)) == titles(seed_rec.search("backdoor attacks", 4))
    like = ["Private Federated Learning with Autotuned Compression"]
    plain = titles(recommend(seed_rec, like, k=48, method="centroid"))
    steered = titles(recommend(seed_rec, like, query="language models", k=48, method="centroid"))
    llm = "Privacy-Preserving Instructions for Aligning Large Language Models"
    assert steered.index(llm) < plain.index(llm)


def test_filters_apply_to_profiles(seed_rec):
    from recommender.search.filters import Filters

    results = recommend(seed_rec, ["KO codes", "DeepPolar"], k=50, filters=Filters(year_from=2024))
    assert results and all(r.paper.year is not None and r.paper.year >= 2024 for r in results)


# --- reading lists -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def privacy_list(seed_rec):
    return reading_list(seed_rec, query=PRIVACY, n=10)


def test_reading_list_is_relevant_themed_ordered_and_explained(seed_rec, privacy_list):
    items = privacy_list.items
    assert len(items) == 10 and len({i.paper.id for i in items}) == 10
    # the list is picked from search's own ranking: it keeps search's best papers
    searched = [r.paper.id for r in seed_rec.search(PRIVACY, 10)]
    assert set(searched[:5]) <= {i.paper.id for i in items}
    assert len(set(searched) & {i.paper.id for i in items}) >= 8
    assert len(privacy_list.themes) >= 2
    assert all(t.name and len(t.terms) >= 3 for t in privacy_list.themes)
    assert len({t.name for t in privacy_list.themes}) == len(privacy_list.themes)
    # the federated-learning privacy papers share a theme, named after them
    federated = [t for t in privacy_list.themes if "Private Federated Learning with Autotuned Compression" in titles(t.items)]
    assert any("federated" in term for term in federated[0].terms)
    # themes by relevance: the first theme holds the most relevant paper
    assert any(i.rank == 1 for i in privacy_list.themes[0].items)
    for theme in privacy_list.themes:  # after the theme's first paper, oldest to newest
        years = [i.paper.year for i in theme.items[1:] if i.paper.year]
        assert years == sorted(years)
    assert all(i.reason.startswith(f'closest to the query "{PRIVACY}" (cosine ') for i in items)
    data = privacy_list.to_dict()
    assert [i["position"] for i in data["items"]] == list(range(1, 11))
    assert [i["id"] for i in data["items"]] == [i.paper.id for i in items]
    assert sum(len(t["ids"]) for t in data["themes"]) == 10


def test_privacy_themes_are_named_by_phrases_found_in_their_own_papers(privacy_list):
    from recommender.lists.terms import Vocabulary, stem_key

    names = [t.name for t in privacy_list.themes]
    assert len(set(names)) == len(names)
    parts = [part for name in names for part in name.split(" and ")]
    assert any(" " in part for part in parts)  # noun phrases, not lists of words
    for theme in privacy_list.themes:
        vocab = Vocabulary([i.paper.text for i in theme.items])
        for part in theme.name.split(" and "):
            term = list(vocab.terms).index(stem_key(part))  # the whole phrase is a term of the theme's papers
            holding = [i for i in range(len(theme.items)) if term in vocab.term_set(i)]
            assert len(holding) >= min(2, len(theme.items)), (theme.name, part)
            assert stem_key(part) not in {stem_key(w) for w in ("privacy", "machine learning", "machine", "learning")}


def test_higher_diversity_lowers_the_mean_pairwise_similarity(seed_rec):
    def spread(diversity):
        reading = reading_list(seed_rec, query=PRIVACY, n=8, diversity=diversity)
        rows = [seed_rec.row_of_id[i.paper.id] for i in reading.items]
        return mean_pairwise_similarity(np.asarray(seed_rec.vectors[rows]))

    assert spread(0.0) > spread(0.7) > spread(0.9)
    assert spread(0.0) >= spread(0.3) - 0.01


def test_no_diversity_gives_search_s_own_ranking(seed_rec):
    """One ranking path (issue 12): without diversity a list is `search`'s top n, scores included."""
    reading = reading_list(seed_rec, query=PRIVACY, n=6, diversity=0.0)
    by_relevance = sorted(reading.items, key=lambda item: item.rank)
    searched = seed_rec.search(PRIVACY, 6)
    assert [i.paper.id for i in by_relevance] == [r.paper.id for r in searched]
    assert [round(i.score, 6) for i in by_relevance] == [round(r.score, 6) for r in searched]
    for mode in ("dense", "lexical"):  # --mode means the same thing for a list as for search
        listed = sorted(reading_list(seed_rec, query=PRIVACY, n=6, diversity=0.0, mode=mode).items, key=lambda i: i.rank)
        assert [i.paper.id for i in listed] == [r.paper.id for r in seed_rec.search(PRIVACY, 6, mode=mode)]


def test_recommend_like_one_paper_is_similar(seed_rec):
    for mode in ("hybrid", "dense", "lexical"):
        recommended = recommend(seed_rec, ["KO codes"], k=8, mode=mode)
        similar = seed_rec.similar("KO codes", 8, mode=mode)
        assert [r.paper.id for r in recommended] == [r.paper.id for r in similar]
        assert [r.why["ranks"] for r in recommended] == [r.why["ranks"] for r in similar]
    assert recommended[0].why["closest_to"]["label"].startswith("KO codes")


def test_reasons_name_the_closest_seed_and_shared_terms(seed_rec):
    reading = reading_list(seed_rec, like=["KO codes", "Label Poisoning is All You Need"], n=6)
    by_title = {i.paper.title: i.reason for i in reading.items}
    assert by_title["Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes"].startswith('closest to "KO codes')
    assert by_title["Few-shot Backdoor Attacks via Neural Tangent Kernels"].startswith('closest to "Label Poisoning')
    assert "shares: " in by_title["Few-shot Backdoor Attacks via Neural Tangent Kernels"]


# --- a library's gaps ----------------------------------------------------------------------------
def test_library_gaps_never_recommend_the_library(seed_rec, library):
    reading = reading_list(seed_rec, bib=library, n=12)
    recommended = set(titles(reading.items))
    assert len(recommended) == 12
    assert not recommended & LIBRARY_TITLES
    assert OTHER_CODING <= set(titles(sorted(reading.items, key=lambda r: r.rank)[:3]))
    assert reading.query["library"]["in_index"] == 3 and reading.query["library"]["entries"] == 4
    # the paper outside the index is a seed too: reasons may name it
    assert all(r.reason.startswith("closest to ") for r in reading.items)
    plain = recommend(seed_rec, [], bib=library, k=47)
    assert not set(titles(plain)) & LIBRARY_TITLES


def test_library_gaps_as_bibtex_parse_back(seed_rec, library):
    import bibtexparser

    from recommender.ingest.bibtex import read_bibtex

    reading = reading_list(seed_rec, bib=library, n=5)
    text = export(reading, "bibtex")
    parsed = bibtexparser.parse_string(text)
    assert not parsed.failed_blocks and len(parsed.entries) == 5
    papers, skipped = read_bibtex(text, "gaps.bib")
    assert not skipped
    assert [p.title for p in papers] == titles(reading.items)
    assert [p.year for p in papers] == [i.paper.year for i in reading.items]
    assert all(p.authors for p in papers)


# --- bad input -----------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_library_errors(seed_rec, tmp_path):
    with pytest.raises(PaperNotFound, match="Quantum chromodynamics"):
        recommend(seed_rec, ["KO codes", "Quantum chromodynamics on the lattice at finite density"])
    with pytest.raises(UsageError, match="seed set is empty"):
        recommend(seed_rec, [])
    with pytest.raises(UsageError, match="all the seeds are negatives"):
        reading_list(seed_rec, unlike=["KO codes"])
    with pytest.raises(UsageError, match="both liked"):
        recommend(seed_rec, ["KO codes"], ["KO codes"])
    empty = tmp_path / "empty.bib"
    empty.write_text("@misc{nokey,\n  author = {Nobody},\n  year = {2020}\n}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no usable BibTeX entry .*no title"):
        reading_list(seed_rec, bib=empty)
    with pytest.raises(InputError, match="no such library file"):
        reading_list(seed_rec, bib=tmp_path / "missing.bib")
    with pytest.raises(UsageError, match="-n"):
        reading_list(seed_rec, query=PRIVACY, n=0)


# --- the command ---------------------------------------------------------------------------------
def run(*args):
    return subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_reading_list_command_markdown_and_csv(seed_index, tmp_path):
    proc = run("reading-list", "--query", PRIVACY, "-n", "6", "--index", seed_index, "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"# Reading list: {PRIVACY}") and "## 1. " in proc.stdout and "*Why:*" in proc.stdout
    out = tmp_path / "list.csv"
    proc = run("reading-list", "--like", "KO codes", "--like", "DeepPolar", "-n", "3", "--index", seed_index,
               "--format", "csv", "--output", out)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3 and {r["title"] for r in rows} >= OTHER_CODING


def test_recommend_command_json_and_library_bibtex(seed_index, library):
    proc = run("recommend", "--like", "KO codes", "--like", "DeepPolar", "--unlike", "CRISP", "-k", "3",
               "--index", seed_index, "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert len(results) == 3 and results[0]["title"] == "Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes"
    proc = run("reading-list", "--bib", library, "-n", "4", "--index", seed_index, "--format", "bibtex")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n@") + proc.stdout.startswith("@") == 4 and "KO codes" not in proc.stdout


@pytest.mark.parametrize("args, code, fragment", [
    (["recommend", "--like", "Quantum chromodynamics on the lattice at finite density"], 4, "no paper"),
    (["recommend"], 2, "seed set is empty"),
    (["reading-list", "--unlike", "KO codes"], 2, "all the seeds are negatives"),
    (["reading-list", "--query", "x", "--diversity", "3"], 2, "--diversity"),
    (["reading-list", "--bib", "EMPTY"], 2, "no usable BibTeX entry"),
])
def test_bad_input_on_the_command_line_is_one_error_line(seed_index, tmp_path, args, code, fragment):
    empty = tmp_path / "empty.bib"
    empty.write_text("@misc{broken, title = {Unclosed\n", encoding="utf-8")
    proc = run(*[str(empty) if a == "EMPTY" else a for a in args], "--index", seed_index)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], proc.stderr
