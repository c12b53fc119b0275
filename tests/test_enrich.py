"""`recommender enrich` on real BibTeX, against recorded arXiv and OpenAlex answers replayed on 127.0.0.1.

The library: a Zotero export excerpt (fairpub), the ChemCrow README's entry, an entry for
10.1073/pnas.1414271111 as a reference manager makes it from the DOI's recorded Crossref record, and a
near miss (the ChemCrow entry with one title word dropped and its eprint removed, made in `library` below).
The replay server knows only the recordings: for any other DOI it gives OpenAlex's recorded 404, for any
other arXiv id arXiv's recorded empty answer, for any other title search the recorded title-search page.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from werkzeug import Response

from fetch_replay import ATOM, JSON, offline_setup, recorded  # noqa: F401  (an autouse fixture)

import recommender.cli  # noqa: F401  (registers the commands)
from recommender.records import Paper

cli_app = importlib.import_module("recommender.cli.app")
DATA = Path(__file__).parent / "data" / "fetch"
NEAR_MISS_TITLE = "Augmenting language models with chemistry tools"





def crossref_entry() -> str:
    """The BibTeX a reference manager writes for a DOI from its Crossref record (here the recorded one)."""
    from recommender.lists.bibtex_export import bibtex_entry

    work = json.loads(recorded("crossref/work_10.1073-pnas.1414271111_jats_abstract.json"))["message"]
    paper = Paper(id=work["DOI"], title=work["title"][0], doi=work["DOI"].lower(),
                  authors=[f"{a['given']} {a['family']}" for a in work["author"]],
                  year=work["issued"]["date-parts"][0][0], venue=work["container-title"][0])
    return bibtex_entry(paper, "makris2014developing")


@pytest.fixture
def library(tmp_path) -> Path:
    chemcrow = (DATA / "chemcrow_readme.bib").read_text(encoding="utf-8")
    near_miss = (chemcrow.replace("bran2023chemcrow", "bran2023nearmiss")
                 .replace("ChemCrow: Augmenting large-language models with chemistry tools", NEAR_MISS_TITLE)
                 .replace("      eprint={2304.05376},\n", ""))
    text = ("% My library, exported from Zotero\n" + (DATA / "fairpub_zotero_excerpt.bib").read_text(encoding="utf-8")
            + "\n" + chemcrow + "\n" + crossref_entry() + "\n" + near_miss)
    path = tmp_path / "library.bib"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def replay(httpserver):
    works = {"/works/https://doi.org/10.1073/pnas.1414271111": "openalex/work_by_doi_10.1073-pnas.1414271111.json"}

    def openalex(request):
        if request.path in works:
            return Response(recorded(works[request.path]), 200, content_type=JSON)
        if request.path.startswith("/works/"):
            return Response(recorded("openalex/error_http404_work_by_unknown_doi.html"), 404, content_type="text/html")
        assert request.args["filter"].startswith("title.search:")
        return Response(recorded("openalex/works_list_filter-title.search_page-based_meta.json"), 200, content_type=JSON)

    def arxiv(request):
        return Response(recorded("arxiv_api/idlist_0000.0000_empty.atom.xml"), 200, content_type=ATOM)

    httpserver.expect_request("/api/query").respond_with_handler(arxiv)
    httpserver.expect_request("/works", method="GET").respond_with_handler(openalex)
    from pytest_httpserver import URIPattern

    class Prefix(URIPattern):
        def match(self, uri: str) -> bool:
            return uri.startswith("/works/")

    httpserver.expect_request(Prefix()).respond_with_handler(openalex)
    return httpserver


def run(capsys, *args):
    code = cli_app.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def enrich(capsys, replay, library, output, *extra):
    return run(capsys, "enrich", library, "-o", output, "--arxiv-endpoint", replay.url_for("/api/query"),
               "--openalex-endpoint", replay.url_for("/"), *extra)


def test_enrich_fills_abstracts_keeps_keys_and_refuses_a_near_miss(replay, library, tmp_path, capsys):
    output = tmp_path / "library.enriched.bib"
    code, out, err = enrich(capsys, replay, library, output, "--json")
    assert code == 0, err
    report = json.loads(out)
    by_key = {e["key"]: e for e in report["entries"]}
    assert by_key["makris2014developing"]["status"] == "filled" and by_key["makris2014developing"]["via"] == "doi"
    assert by_key["bran2023chemcrow"]["status"] == "filled" and by_key["bran2023chemcrow"]["via"] == "title"
    assert by_key["smaldino_natural_2016"]["status"] == "had"
    near = by_key["bran2023nearmiss"]
    assert near["status"] == "missing" and "not the same (similarity 94" in near["reason"]
    assert by_key["wilhite_coercive_2012"]["status"] == "missing"
    assert "OpenAlex does not know DOI 10.1126/science.1212540" in by_key["wilhite_coercive_2012"]["reason"]
    assert report["counts"] == {"filled": 2, "had": 1, "missing": 3}

    from recommender.ingest import read_file

    before = {p.source.rsplit(":", 1)[1]: p for p in read_file(library, "bibtex")[0]}
    after_papers = read_file(output, "bibtex")[0]
    keys_before = [line.split("{", 1)[1].rstrip(",") for line in library.read_text().splitlines() if line.startswith("@")]
    keys_after = [line.split("{", 1)[1].rstrip(",") for line in output.read_text().splitlines() if line.startswith("@")]
    assert keys_after == keys_before  # every key, in order
    assert len(after_papers) == len(before)

    openalex_pnas = json.loads(recorded("openalex/work_by_doi_10.1073-pnas.1414271111.json"))
    filled = {p.title: p for p in after_papers}
    pnas = filled["Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking"]
    words = pnas.abstract.split()
    assert len(words) == sum(len(v) for v in openalex_pnas["abstract_inverted_index"].values())
    chem = filled["ChemCrow: Augmenting large-language models with chemistry tools"]
    listed = json.loads(recorded("openalex/works_list_filter-title.search_page-based_meta.json"))["results"][1]
    assert listed["doi"].endswith("2304.05376") and chem.abstract.split()[:1] == [
        min(listed["abstract_inverted_index"].items(), key=lambda kv: min(kv[1]))[0]]
    assert not filled[NEAR_MISS_TITLE].abstract  # never the other paper's abstract

    # The user's text is untouched outside the entries that were filled: the Zotero part is byte for byte.
    original = library.read_text(encoding="utf-8")
    new = output.read_text(encoding="utf-8")
    zotero = (DATA / "fairpub_zotero_excerpt.bib").read_text(encoding="utf-8")
    assert zotero in new and new.startswith("% My library, exported from Zotero\n")
    near_miss_text = original[original.index("@article{bran2023nearmiss"):]
    assert new.endswith(near_miss_text)
    assert library.read_text(encoding="utf-8") == original  # the library itself is never written


def test_enrich_report_lines_and_jsonl_output(replay, library, tmp_path, capsys):
    output = tmp_path / "enriched.jsonl"
    code, _, err = enrich(capsys, replay, library, output)
    assert code == 0, err
    assert "filled 2 of 5 entries without an abstract (1 by doi, 1 by title); 1 had one already" in err
    assert "not filled: bran2023nearmiss" in err
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 6 and sum(1 for r in records if r.get("abstract")) == 3


def test_enrich_never_overwrites(replay, library, tmp_path, capsys):
    code, _, err = enrich(capsys, replay, library, library)
    assert code == 2 and "exists already" in err
    existing = tmp_path / "other.bib"
    existing.write_text("% mine\n")
    code, _, err = enrich(capsys, replay, library, existing)
    assert code == 2 and "other.bib: exists already; give another -o, or --overwrite" in err
    assert existing.read_text() == "% mine\n"


def test_a_wrong_doi_is_refused_not_attached():
    from recommender.fetch.match import titles_agree

    assert not titles_agree("The natural selection of bad science",
                            "Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking")
    assert titles_agree("Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking.",
                        "Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking")


def test_insert_fields_keeps_the_entry_layout():
    from recommender.fetch.enrich import insert_fields

    multi = "@article{k,\n\ttitle = {T},\n\tyear = {2016},\n}"
    assert insert_fields(multi, [("abstract", "{A}")]) == "@article{k,\n\ttitle = {T},\n\tyear = {2016},\n\tabstract = {A}\n}"
    one_line = "@misc{k, title={T}, year={2024} }"
    assert insert_fields(one_line, [("abstract", "{A}")]) == "@misc{k, title={T}, year={2024}, abstract={A} }"


def test_an_empty_abstract_field_is_filled_where_it_stands():
    from recommender.fetch.enrich import insert_fields

    entry = "@article{k,\n  title = {T},\n  abstract = {},\n  doi = {10.1/x},\n}"
    assert insert_fields(entry, [("abstract", "{A}"), ("doi", "{10.2/y}")]) == \
        "@article{k,\n  title = {T},\n  abstract = {A},\n  doi = {10.1/x},\n}"
