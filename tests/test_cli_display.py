"""What the tables and messages of the real `recommender` command show: ids, whole titles, what the score is,
papers without abstracts, the seeds a recommendation resolved to, a library's entries, the demo's follow-ups."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.display import NO_ABSTRACT_NOTE, Section, results_table, surname
from recommender.records import Paper, Result

DATA = Path(__file__).resolve().parent / "data" / "ingest"
LIBRARY = DATA / "library.bib"  # real-world BibTeX: 6 entries, of which 2 cannot be read (no title; broken braces)


def run(*args, env=None, cwd=None, check_ok=True):
    proc = subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, cwd=cwd)
    if check_ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def table_rows(stdout: str) -> dict[str, str]:
    """Table rows by the id in their id column (the 4th)."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[0].isdigit():
            rows[parts[3]] = line
    return rows


@pytest.fixture(scope="module")
def library_index(tmp_path_factory, seed_listing):
    """The bundled listing and a real BibTeX library in one index: three of the library's papers have no abstract."""
    from recommender.index.build import build_index

    folder = tmp_path_factory.mktemp("indexes") / "with_library"
    build_index([seed_listing, LIBRARY], folder, progress=False)
    return folder


# --- ids and titles --------------------------------------------------------------------------------------------
def test_search_table_shows_each_papers_id_and_whole_title(seed_index):
    found = json.loads(run("search", "privacy", "--index", seed_index, "-k", "8", "--json").stdout)["results"]
    table = run("search", "privacy", "--index", seed_index, "-k", "8").stdout  # a pipe: nothing is cut
    rows = table_rows(table)
    assert list(rows) == [r["id"] for r in found]
    assert any(len(r["title"]) > 75 for r in found)  # the old table cut these at ~75 characters
    for r in found:
        assert r["title"] in rows[r["id"]]
    assert "…" not in table


def test_ids_in_the_table_are_the_ones_remove_takes(seed_index, tmp_path):
    index = tmp_path / "copy"
    shutil.copytree(seed_index, index)
    first = next(iter(table_rows(run("search", "backdoor attacks", "--index", index, "-k", "1").stdout)))
    run("remove", first, "--index", index)
    assert first not in table_rows(run("search", "backdoor attacks", "--index", index, "-k", "5").stdout)


def test_titles_are_cut_to_the_terminal_width(seed_index):
    table = run("search", "privacy", "--index", seed_index, "-k", "8", env={"COLUMNS": "100"}).stdout
    rows = list(table_rows(table).values())
    assert rows and all(len(row) <= 100 for row in rows)
    assert any("…" in row for row in rows)


def test_a_narrow_table_keeps_every_column_within_the_width():
    papers = [Paper(f"2310.0{i}", "A study of " + "very " * 20 + f"long titles {i}", "Abstract.",
                    ["Ada Lovelace", "Charles Babbage", "Alan Turing"]) for i in range(3)]
    results = [Result(i + 1, 1.0 / (i + 1), p) for i, p in enumerate(papers)]
    for width in (72, 100, 160):
        lines = results_table(results, width=width).splitlines()
        assert all(len(line) <= width for line in lines[1:4]), (width, lines)
        assert all(p.id in line for p, line in zip(papers, lines[1:4]))
    wide = results_table(results, width=None).splitlines()
    assert all(p.title in line for p, line in zip(papers, wide[1:4]))


# --- authors: one rule in every table ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("S Ashwin Hebbar", "Hebbar"),
    ("Da Yu", "Yu"),
    ("Johannes Diderik van der Waals", "van der Waals"),
    ("Martin Luther King Jr.", "King"),
    ("Müller, Jörg", "Müller"),
    ("Plato", "Plato"),
])
def test_surname(name, expected):
    assert surname(name) == expected


def test_authors_read_the_same_in_search_and_list_tables(seed_index):
    similar = table_rows(run("similar", "KO codes", "--index", seed_index, "-k", "4").stdout)
    recommended = table_rows(run("recommend", "--like", "KO codes", "--index", seed_index, "-k", "4").stdout)
    reading = table_rows(run("reading-list", "--like", "KO codes", "--index", seed_index, "-n", "4").stdout)
    shared = set(similar) & set(recommended) & set(reading)
    assert shared
    for paper_id in shared:
        # the authors column: what follows the title, after two spaces at least
        cells = {re.split(r"\s{2,}", rows[paper_id].strip())[-1] for rows in (similar, recommended, reading)}
        assert len(cells) == 1, cells
        assert re.fullmatch(r"[^,]+(, [^,]+)?( et al\.)?", cells.pop())


# --- what the score is --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, words", [("hybrid", "z-scored BM25 and cosine"), ("dense", "cosine similarity"),
                                         ("lexical", "BM25")])
def test_search_table_says_what_the_score_is(seed_index, mode, words):
    last = run("search", "privacy", "--index", seed_index, "-k", "3", "--mode", mode).stdout.splitlines()[-1]
    assert last.startswith("score: ") and words in last


def test_list_tables_say_what_the_score_is(seed_index):
    last = run("recommend", "--like", "KO codes", "--like", "DeepPolar", "--index", seed_index, "-k", "3").stdout
    assert last.splitlines()[-1].startswith("score: mean of the z-scored BM25 and cosine scores against the mean "
                                            "of the seeds")
    last = run("recommend", "--like", "KO codes", "--like", "DeepPolar", "--index", seed_index, "-k", "3",
               "--mode", "dense").stdout
    assert last.splitlines()[-1].startswith("score: cosine similarity to the mean of the seeds")
    last = run("recommend", "--like", "KO codes", "--unlike", "CRISP", "--index", seed_index, "-k", "3").stdout
    assert "logistic regression" in last.splitlines()[-1]
    last = run("reading-list", "-q", "privacy", "--index", seed_index, "-n", "3", "--mode", "dense").stdout
    assert last.splitlines()[-1].startswith("score: cosine similarity to the query")
    assert last.splitlines()[-1].endswith("# is the reading order")


# --- papers without abstracts -------------------------------------------------------------------------------------
def test_papers_without_abstract_are_marked_in_table_and_json(library_index):
    found = json.loads(run("search", "BERT language model pre-training", "--index", library_index, "-k", "6",
                           "--json").stdout)["results"]
    without = {r["id"] for r in found if r["has_abstract"] is False}
    assert without and len(without) < len(found)
    table = run("search", "BERT language model pre-training", "--index", library_index, "-k", "6").stdout
    rows = table_rows(table)
    for paper_id, row in rows.items():
        title = next(r["title"] for r in found if r["id"] == paper_id)
        assert (f"* {title}" in row) == (paper_id in without), row
    assert table.splitlines()[-1].endswith(NO_ABSTRACT_NOTE)


def test_info_counts_papers_matched_on_titles_alone(library_index, seed_index):
    manifest = json.loads(run("info", "--index", library_index, "--json").stdout)
    without = manifest["counts"]["without_abstract"]
    assert without > 0
    assert f"abstracts:  {without} papers without one, matched on their titles alone" in run(
        "info", "--index", library_index).stdout
    assert "abstracts:  every paper has one" in run("info", "--index", seed_index).stdout


def test_info_shows_when_the_index_was_last_updated(library_index, tmp_path):
    index = tmp_path / "copy"
    shutil.copytree(library_index, index)
    assert "updated:" not in run("info", "--index", index).stdout
    paper_id = next(iter(table_rows(run("search", "polar codes", "--index", index, "-k", "1").stdout)))
    run("remove", paper_id, "--index", index)
    manifest = json.loads(run("info", "--index", index, "--json").stdout)
    assert f"updated:    {manifest['updated']}" in run("info", "--index", index).stdout
    assert manifest["updated"] != manifest["created"]


# --- similar, recommend, reading-list -----------------------------------------------------------------------------
def test_similar_to_an_abstract_alone_names_it(seed_index, tmp_path):
    abstract = tmp_path / "abstract.txt"
    abstract.write_text("We design neural network decoders for polar and Reed-Muller codes over noisy channels.",
                        encoding="utf-8")
    out = run("similar", "--abstract", f"@{abstract}", "--index", seed_index, "-k", "3").stdout
    first = out.splitlines()[0]
    assert first.startswith("papers like: ") and "None" not in first
    assert str(abstract) in first and "We design neural network decoders" in first


def test_recommend_says_which_papers_the_seeds_are(seed_index):
    proc = run("recommend", "--like", "KO codes", "--like", "DeepPolar", "--unlike", "CRISP", "--index", seed_index,
               "-k", "3", "--json")
    seeds = json.loads(proc.stdout)["seeds"]
    titles = {side: [p["title"] for p in seeds[side]] for side in ("like", "unlike")}
    assert [t.split(":")[0] for t in titles["like"]] == ["KO codes", "DeepPolar"]
    assert titles["unlike"][0].startswith("CRISP")
    table = run("recommend", "--like", "KO codes", "--like", "DeepPolar", "--unlike", "CRISP", "--index", seed_index,
                "-k", "3")
    said = [line for line in table.stderr.splitlines() if line.startswith("seed ")]
    expected = [f"seed --{side}: {p['id']}  {p['title']}" for side in ("like", "unlike") for p in seeds[side]]
    assert said == expected
    assert not {p["id"] for p in seeds["like"] + seeds["unlike"]} & set(table_rows(table.stdout))


def test_recommend_unknown_seed_does_not_offer_options_it_lacks(seed_index):
    proc = run("recommend", "--like", "Quantum chromodynamics on the lattice at finite density", "--index", seed_index,
               check_ok=False)
    assert proc.returncode == 4
    assert "--title" not in proc.stderr and "--abstract" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Quantum chromodynamics" in proc.stderr


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_reading_list_from_a_library_reports_its_entries_on_stderr(library_index, fmt):
    data = json.loads(run("reading-list", "--bib", LIBRARY, "--index", library_index, "-n", "3", "--json").stdout)
    library = data["query"]["library"]
    assert library["skipped"]  # the real export has two unreadable entries
    proc = run("reading-list", "--bib", LIBRARY, "--index", library_index, "-n", "3", "--format", fmt)
    lines = proc.stderr.splitlines()
    summary = next(line for line in lines if line.startswith("seed --bib: "))
    assert f"{library['entries']} entries; {library['in_index']} in the index" in summary
    assert f"{library['entries'] - library['in_index']} outside it" in summary
    assert f"{len(library['skipped'])} skipped" in summary
    for skipped in library["skipped"]:
        assert f"  {skipped}" in lines
    assert "seed --bib" not in proc.stdout


def test_batch_search_without_json_prints_tables(scifact_slice, tmp_path):
    run("build", scifact_slice / "corpus.jsonl", "--index", tmp_path / "sf")
    proc = run("search", "--queries", scifact_slice / "queries.jsonl", "--index", tmp_path / "sf", "-k", "2")
    first_query = json.loads((scifact_slice / "queries.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert proc.stdout.startswith(f"query {first_query['_id']}: {first_query['text']}\n")
    assert not any(line.startswith("{") for line in proc.stdout.splitlines())
    assert proc.stdout.rstrip().splitlines()[-1].startswith("score: ")


# --- the demo -----------------------------------------------------------------------------------------------------
def test_demo_commands_name_the_index_it_built(tmp_path):
    index = tmp_path / "demo index"
    proc = run("demo", "--index", index, cwd=tmp_path)
    commands = [line for line in proc.stdout.splitlines() if line.startswith("$ recommender")]
    assert len(commands) == 2
    quoted = f"--index '{index}'"
    assert all(command.endswith(quoted) for command in commands), commands
    assert quoted in proc.stdout.splitlines()[-1]
    assert not (tmp_path / "indexes").exists()


def test_reading_list_table_groups_by_theme_in_reading_order():
    papers = [Paper(f"p{i}", f"Paper {i}", "" if i == 2 else "Some abstract.", [f"Author {i}"]) for i in range(3)]
    sections = [Section("theme 1: a", [Result(2, 0.5, papers[0], "why 0"), Result(1, 0.9, papers[1], "why 1")]),
                Section("theme 2: b", [Result(3, 0.1, papers[2], "why 2")])]
    lines = results_table(sections, number_by_position=True, legend="score: test").splitlines()
    assert [line.split()[0] for line in lines if line[:3].strip().isdigit()] == ["1", "2", "3"]
    assert lines[1] == "-- theme 1: a" and "-- theme 2: b" in lines
    assert lines[-1] == f"score: test; {NO_ABSTRACT_NOTE}"
