"""The readers on small excerpts of real exports (Mendeley, Zotero BibTeX/BibLaTeX/CSV, JabRef, EndNote,
Google Scholar, Web of Science, IEEEtran, arXiv snapshot and API); provenance in tests/data/README.md.

Each test names the defect it guards: a real paper lost, a citation key thrown away, an entry
skipped for a wrong reason, an @string not expanded, fields lost after a brace mistake.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from recommender.ingest import read_corpus

REAL = Path(__file__).parent / "data" / "real"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


def by_id(report):
    return {paper.id: paper for paper in report.papers}


def reasons(records):
    return [(r.source, r.reason) for r in records]


def test_mendeley_bogus_arxiv_id_loses_no_paper():
    # Mendeley wrote eprint = {arXiv:1011.1669v3} on unrelated entries; the Science paper used to be
    # dropped as a "duplicate" of the other one.
    report = read_corpus(REAL / "mendeley.bib")
    papers = by_id(report)
    assert list(papers) == ["Varier2011", "Bash2015", "Richiardi2015"]
    science = papers["Richiardi2015"]
    assert science.title == "Correlated gene expression supports synchronous activity in brain networks"
    assert (science.key, science.arxiv_id, science.doi, science.year) == (
        "Richiardi2015", "1011.1669", "10.1126/science.1255905", 2015)
    assert science.abstract.startswith("During rest, brain activity is synchronized")
    assert len(science.authors) == 129 and science.authors[0] == "Jonas Richiardi"
    assert report.duplicates == []
    assert reasons(report.warnings) == [
        ("mendeley.bib:41", "shares the arXiv id 1011.1669 with 'Bash2015' (mendeley.bib:24) but not its title: "
                            "both kept; check that record's identifiers")]


def test_a_key_shared_by_two_works_keeps_both():
    # An EndNote/Mendeley library gives the key RN111 to a BMJ Open paper and to a dictionary entry.
    report = read_corpus(REAL / "endnote_duplicate_keys.bib")
    assert [(p.id, p.key, p.title[:40]) for p in report.papers] == [
        ("RN1", "RN1", "The clinical usefulness of prognostic pr"),
        ("RN111", "RN111", "The use of the reverse shock index to id"),
        ("RN111-2", "RN111", "Trauma"),
        ("Courvoisier2011", "Courvoisier2011", "Performance of logistic regression model"),
    ]
    assert reasons(report.warnings) == [
        ("endnote_duplicate_keys.bib:35", "id 'RN111' is already the id of another title "
                                          "(endnote_duplicate_keys.bib:21); this paper is kept as 'RN111-2'")]
    assert reasons(report.skipped) == [("endnote_duplicate_keys.bib:1", "entry 'RN114': no title")]
    assert by_id(report)["RN111"].doi == "10.1136/bmjopen-2016-011072"


def test_zotero_repeated_field_is_read_with_one_warning():
    # Zotero writes one `annote` field per note; these entries were skipped as "unbalanced braces".
    report = read_corpus(REAL / "zotero_review_papers.bib")
    papers = by_id(report)
    assert list(papers) == ["tewari_state_2020", "xie_neural_2021", "tewari_advances_2021", "toschi2023relight",
                            "tancik2023nerfstudio", "wallingford2023neural"]
    assert report.skipped == []
    assert reasons(report.warnings) == [
        (f"zotero_review_papers.bib:{line}", f"entry '{key}': repeated field 'annote' (2 times): the first value is kept")
        for line, key in ((2, "tewari_state_2020"), (17, "xie_neural_2021"), (32, "tewari_advances_2021"))]
    state = papers["tewari_state_2020"]
    assert state.title == "State of the Art on Neural Rendering" and state.venue == "Computer Graphics Forum"
    assert (len(state.authors), state.authors[-1], state.year) == (19, "Michael Zollhöfer", 2020)
    assert state.abstract.startswith("Efﬁcient rendering of photo-realistic virtual worlds")
    assert papers["tewari_advances_2021"].arxiv_id == "2111.05849"  # from journal = {arXiv:2111.05849 [cs]}
    relight = papers["toschi2023relight"]  # arXiv's own BibTeX export
    assert (relight.arxiv_id, relight.categories) == ("2304.10448", ["cs.CV"])
    nerfstudio = papers["tancik2023nerfstudio"]  # Google Scholar: "and others", the arXiv id in `journal`
    assert nerfstudio.authors_truncated and nerfstudio.arxiv_id == "2302.04264"


def test_string_macros_joined_with_hash_are_expanded():
    # IEEEtran's example file: title = IEEE_M_PCOM # ", Special Issue on Wireless {ATM}".
    report = read_corpus(REAL / "ieee_strings.bib")
    papers = by_id(report)
    assert papers["IEEEexample:periodical"].title == "IEEE Personal Commun. Mag., Special Issue on Wireless ATM"
    assert papers["IEEEexample:article_typical"].venue == "IEEE Electron Device Lett."
    assert papers["IEEEexample:article_typical"].title == \
        "A Novel Ultrathin Elevated Channel Low-temperature Poly-Si TFT"
    assert papers["IEEEexample:articledualmonths"].venue == "IEEE Trans. Ind. Appl."
    assert report.warnings == [] and report.skipped == []  # month = sep # "/" # oct: BibTeX's own months


def test_extra_brace_in_a_title_loses_no_field():
    # Web of Science export: `Title = {{3D} ... Synthesis}},` closed the entry early, so year, journal
    # and DOI were dropped without a word; its Journal also lacks a '}'.
    report = read_corpus(REAL / "wos_extra_brace.bib")
    wang = by_id(report)["Wang2019x"]
    assert wang.title == "3D Auto-Context-Based Locality Adaptive Multi-Modality GANs for PET Synthesis"
    assert (wang.year, wang.doi, wang.venue) == (2019, "10.1109/tmi.2018.2884053", "IEEE Transactions on Medical Imaging")
    assert len(wang.authors) == 10 and wang.authors[-1] == "Dinggang Shen"
    assert reasons(report.warnings) == [
        ("wos_extra_brace.bib:1", "entry 'Wang2019x': an extra '}' at line 6 closed the entry before its last fields; "
                                  "it was ignored"),
        ("wos_extra_brace.bib:1", "entry 'Wang2019x': field 'journal' at line 8 lacks its closing '}'; "
                                  "read up to the end of line 8"),
    ]
    assert by_id(report)["arjovsky2017"].year == 2017  # the entry after it is whole


def test_missing_brace_or_comma_is_read_and_reported_and_a_broken_entry_says_why():
    report = read_corpus(REAL / "missing_brace.bib")
    weng = by_id(report)["weng2023ngdf"]  # title={Neural Grasp Distance Fields for Robot Manipulation,
    assert weng.title == "Neural Grasp Distance Fields for Robot Manipulation"
    assert (weng.authors[0], weng.year) == ("Thomas Weng", 2023)
    assert reasons(report.warnings) == [("missing_brace.bib:1", "entry 'weng2023ngdf': field 'title' at line 2 "
                                                                "lacks its closing '}'; read up to the end of line 2")]
    report = read_corpus(REAL / "missing_comma_and_brace.bib")
    assert [p.id for p in report.papers] == ["choi2023CVPR", "wan2023ndrf"]
    assert by_id(report)["choi2023CVPR"].year == 2023
    assert reasons(report.warnings) == [("missing_comma_and_brace.bib:1", "entry 'choi2023CVPR': a ',' is missing "
                                                                          "before line 5; read as the next field")]
    assert reasons(report.skipped) == [
        ("missing_comma_and_brace.bib:10", "entry 'Liu23NeUDF': expected '=' after field name 'yu-tao' at line 11, "
                                           "found 'a'; fix or remove it")]


def test_jabref_library_keys_and_biblatex_fields():
    report = read_corpus(REAL / "jabref_chocolate.bib")
    assert len(report.papers) == 15 and report.skipped == [] and report.warnings == []
    assert report.papers[0].id == report.papers[0].key == "Corti_2009"
    corti = report.papers[0]
    assert (corti.venue, corti.year, corti.doi) == ("Circulation", 2009, "10.1161/circulationaha.108.827022")
    fulton = by_id(report)["Fulton_1969"]  # eprint is a PDF link, not an arXiv id: no alias, no warning
    assert (fulton.title, fulton.arxiv_id) == ("Effect of Chocolate on Acne Vulgaris", None)


def test_hand_kept_scholar_and_arxiv_entries():
    report = read_corpus(REAL / "scholar_custom.bib")
    papers = by_id(report)
    # The key on the line after the brace used to give the id '' (empty).
    assert list(papers) == ["Baker2020Emergent", "silver2017mastering", "schrittwiser2020mastering"]
    assert papers["Baker2020Emergent"].title == "Emergent Tool Use From Multi-Agent Autocurricula"
    assert (papers["silver2017mastering"].arxiv_id, papers["silver2017mastering"].categories) == ("1712.01815",
                                                                                                   ["cs.AI"])
    assert papers["schrittwiser2020mastering"].doi == "10.1038/s41586-020-03051-4"  # written DOI = {...}
    assert report.warnings == []  # the `\cmg{...}` after the first entry is a comment


def test_the_same_paper_in_two_zotero_exports_is_kept_once():
    report = read_corpus([REAL / "zotero_biblatex_nerf.bib", REAL / "zotero_bibtex_nerf.bib"])
    assert [(p.id, p.arxiv_id, p.doi) for p in report.papers] == [
        ("mildenhall_nerf_2020", "2003.08934", "10.48550/arxiv.2003.08934")]
    assert reasons(report.duplicates) == [
        ("zotero_bibtex_nerf.bib:1", "duplicate of 'mildenhall_nerf_2020' from zotero_biblatex_nerf.bib:1 "
                                     "(same id and title); the first one is kept")]


def test_zotero_csv_export():
    report = read_corpus(REAL / "zotero_my_library.csv")
    assert [(p.id, p.year) for p in report.papers] == [
        ("10.1145/2665970.2665974", 2014), ("10.1145/3209978.3210000", 2018), ("10.1145/3014812.3014867", 2017)]
    first = report.papers[0]
    assert first.title == "Entity Linking for Biomedical Literature" and first.key is None
    assert first.authors[:2] == ["Jin Guang Zheng", "Daniel Howsmon"] and len(first.authors) == 7
    assert first.abstract.startswith("The Entity Linking (EL) task links entity mentions")
    assert report.warnings == []


def test_arxiv_snapshot_lines():
    lines = (REAL / "arxiv_snapshot_head.jsonl").read_text(encoding="utf-8").splitlines()
    report = read_corpus(REAL / "arxiv_snapshot_head.jsonl")
    assert [p.id for p in report.papers] == [json.loads(line)["id"] for line in lines]
    assert all(p.id == p.arxiv_id for p in report.papers)
    first = report.papers[0]
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert (first.date, first.doi) == ("2007-04-02", "10.1103/physrevd.76.013009")
    assert by_id(report)["0704.0009"].authors[5] == "Neal J. Evans II"  # the suffix of authors_parsed
    assert report.warnings == [] and report.skipped == []


def _arxiv_api_records(atom: Path, id_form: str) -> list[dict]:
    """The entries of a real arXiv API response as an arXiv API client writes them to JSON Lines."""
    feed = ET.parse(atom).getroot()
    records = []
    for entry in feed.iter(f"{ATOM}entry"):
        entry_id = entry.findtext(f"{ATOM}id")  # http://arxiv.org/abs/1707.08567v1
        doi = entry.findtext(f"{ARXIV}doi")
        records.append({
            "id": entry_id if id_form == "url" else entry_id.rsplit("/abs/", 1)[1],  # or the short id 1707.08567v1
            "title": entry.findtext(f"{ATOM}title"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "authors": [author.findtext(f"{ATOM}name") for author in entry.iter(f"{ATOM}author")],
            "published": entry.findtext(f"{ATOM}published"),
            "categories": [c.get("term") for c in entry.iter(f"{ATOM}category")],
            **({"doi": doi} if doi else {}),
        })
    return records


@pytest.mark.parametrize("id_form", ["url", "short"])
def test_arxiv_api_ids_with_versions(tmp_path, id_form):
    atom = REAL / "search_q-testing_start0_max10.atom.xml"
    records = _arxiv_api_records(atom, id_form)
    path = tmp_path / "arxiv_api.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = read_corpus(path)
    assert len(report.papers) == len(records) == 10
    # The file's own id is an arXiv id with a version: the paper's id is the version-less arXiv id.
    assert [p.id for p in report.papers] == [p.arxiv_id for p in report.papers] == [
        "2202.12139", "2405.13786", "2005.14124", "2204.08348", "2302.03287", "1202.4527", "2503.05378",
        "1205.1866", "2502.07719", "1812.11470"]
    assert sum(1 for p in report.papers if p.doi) == sum(1 for r in records if "doi" in r) == 6
    assert report.papers[0].title == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing " \
                                     "Techniques"
    assert report.papers[0].date == "2022-02-24"


def test_build_and_similar_by_citation_key_on_real_exports(tmp_path):
    # End to end with the real model: the Mendeley paper once lost is indexed under its citation key,
    # `similar KEY` finds it, and what was read with a change is in the build report.
    import subprocess
    import sys

    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc

    index = tmp_path / "index"
    proc = run("build", REAL / "mendeley.bib", REAL / "zotero_review_papers.bib", "--index", index, "--json")
    built = json.loads(proc.stdout)
    assert built["manifest"]["counts"]["papers"] == 9 and built["skipped"] == [] and built["duplicates"] == []
    assert [w["source"] for w in built["warnings"]] == [
        "mendeley.bib:41", "zotero_review_papers.bib:2", "zotero_review_papers.bib:17", "zotero_review_papers.bib:32"]
    assert "warning: 4 flagged records:" in proc.stderr
    similar = json.loads(run("similar", "Richiardi2015", "--index", index, "-k", "3", "--json").stdout)
    assert similar["query"]["id"] == "Richiardi2015"
    assert similar["query"]["title"] == "Correlated gene expression supports synchronous activity in brain networks"
    assert len(similar["results"]) == 3 and "Richiardi2015" not in [r["id"] for r in similar["results"]]
