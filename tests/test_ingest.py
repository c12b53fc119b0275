"""Corpus readers: the listing format, JSON Lines, CSV, BibTeX, ids, duplicates and bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from recommender.errors import InputError
from recommender.ingest.fields import RecordError
from recommender.ingest import (
    FORMATS,
    detect_format,
    normalise_arxiv_id,
    normalise_doi,
    normalise_title,
    read_corpus,
    split_title_and_authors,
    stable_id,
)

DATA = Path(__file__).parent / "data" / "ingest"
SEED_LISTING = Path(__file__).parents[1] / "recommender" / "data" / "seed_listing.txt"

HEADER = "LGOct 14, 2023Code"
TITLE_LINE = "A Paper TitleAlice Smith, Bob Jones"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_id(report):
    return {paper.id: paper for paper in report.papers}


def assert_one_line_naming(exc: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- the listing format -------------------------------------------------------------------------

def test_seed_listing_matches_hand_checked_expectations():
    expected = json.loads((DATA / "seed_listing_expected.json").read_text(encoding="utf-8"))
    report = read_corpus(SEED_LISTING)
    assert report.skipped == [] and report.duplicates == []
    assert len(report.papers) == len(expected) == 50
    for want, paper in zip(expected, report.papers):
        got = {
            "line": int(paper.source.rsplit(":", 1)[1]), "category": paper.categories[0], "date": paper.date,
            "year": paper.year, "code": paper.has_code, "title": paper.title, "authors": paper.authors,
            "truncated": paper.authors_truncated, "affiliations": paper.affiliations,
        }
        assert got == want
        assert paper.source == f"seed_listing.txt:{want['line']}"
        assert paper.categories == [want["category"]]
        assert paper.abstract and paper.id == stable_id(None, None, None, paper.title)
    assert report.without_abstract == 0


@pytest.mark.parametrize("line, title, first_author", [
    ("Quality Not Quantity: On the Interaction between Dataset Design and Robustness of CLIPThao Nguyen, "
     "Gabriel Ilharco, Mitchell Wortsman et al.",
     "Quality Not Quantity: On the Interaction between Dataset Design and Robustness of CLIP", "Thao Nguyen"),
    ("DP-PCA: Statistically Optimal and Differentially Private PCAXiyang Liu, Weihao Kong, Prateek Jain et al.",
     "DP-PCA: Statistically Optimal and Differentially Private PCA", "Xiyang Liu"),
    ("Spurious Rewards: Rethinking Training Signals in RLVRRulin Shao, Shuyue Stella Li, Rui Xin et al.",
     "Spurious Rewards: Rethinking Training Signals in RLVR", "Rulin Shao"),
    ("CRISP: Curriculum based Sequential Neural Decoders for Polar Code FamilyS Ashwin Hebbar, Viraj Nadkarni, "
     "Ashok Vardhan Makkuva et al.",
     "CRISP: Curriculum based Sequential Neural Decoders for Polar Code Family", "S Ashwin Hebbar"),
    ("Why Is Public Pretraining Necessary for Private Model Training?Arun Ganesh, Mahdi Haghifam, Milad Nasr et al.",
     "Why Is Public Pretraining Necessary for Private Model Training?", "Arun Ganesh"),
    ("Randomization Techniques to Mitigate the Risk of Copyright InfringementWei-Ning Chen, Peter Kairouz, "
     "Sewoong Oh et al.",
     "Randomization Techniques to Mitigate the Risk of Copyright Infringement", "Wei-Ning Chen"),
    ("Label Poisoning is All You NeedRishi D. Jha, Jonathan Hayase, Sewoong Oh · uw",
     "Label Poisoning is All You Need", "Rishi D. Jha"),
])
def test_tricky_title_author_splits(line, title, first_author):
    got_title, authors, _, _ = split_title_and_authors(line)
    assert got_title == title
    assert authors[0] == first_author


@pytest.mark.parametrize("line, title, authors", [
    ("Scaling DataCompSamir Gadre, Alex Fang", "Scaling DataComp", ["Samir Gadre", "Alex Fang"]),
    ("Convolutional NetworksYann LeCun", "Convolutional Networks", ["Yann LeCun"]),
    ("A Study of GPT-4Alice McKenzie, Bob DiMaggio", "A Study of GPT-4", ["Alice McKenzie", "Bob DiMaggio"]),
    ("Lists, Commas, and TitlesAda Lovelace, Alan Turing", "Lists, Commas, and Titles", ["Ada Lovelace", "Alan Turing"]),
])
def test_split_keeps_camel_case_titles_and_surname_particles(line, title, authors):
    assert split_title_and_authors(line)[:2] == (title, authors)


def test_split_reads_et_al_and_affiliations():
    assert split_title_and_authors("Some TitleAda Lovelace et al. · uw, cmu") == (
        "Some Title", ["Ada Lovelace"], True, ["uw", "cmu"])


def test_listing_year_missing_is_left_unknown(tmp_path):
    path = write(tmp_path, "l.txt", f"CLFeb 3\n{TITLE_LINE}\nAbstract.\n")
    paper = read_corpus(path).papers[0]
    assert (paper.year, paper.date, paper.has_code, paper.categories) == (None, "--02-03", False, ["CL"])


def test_listing_tolerates_blank_lines_and_no_final_newline(tmp_path):
    text = f"\n\n{HEADER}\n{TITLE_LINE}\nFirst abstract.\n\n\nITAug 29, 2021Code\nAnother OneCarol White\nSecond abstract."
    report = read_corpus(write(tmp_path, "l.txt", text))
    assert [p.title for p in report.papers] == ["A Paper Title", "Another One"]
    assert [p.source for p in report.papers] == ["l.txt:3", "l.txt:8"]
    assert report.papers[1].abstract == "Second abstract." and report.skipped == []


def test_listing_bad_blocks_are_skipped_and_reading_resumes(tmp_path):
    text = "\n".join([
        "stray line", "another stray line",                            # 1-2: no header
        HEADER, TITLE_LINE, "Kept abstract.",                          # 3-5: fine
        "LGFeb 30, 2023", "Impossible DateAda Lovelace", "Abstract.",  # 6-8: no such date
        "LGMar 1, 2023",                                               # 9: header, then another header
        "LGMar 2, 2023", "all lowercase no split here", "Abstract.",   # 10-12: cannot split
        "CVApr 27, 2023", "Last One StandingDan Brown", "Kept too.",   # 13-15: fine
    ])
    report = read_corpus(write(tmp_path, "l.txt", text))
    assert [p.title for p in report.papers] == ["A Paper Title", "Last One Standing"]
    skipped = {s.source: s.reason for s in report.skipped}
    assert list(skipped) == ["l.txt:1", "l.txt:6", "l.txt:9", "l.txt:10"]
    assert "header line" in skipped["l.txt:1"]
    assert "no such date" in skipped["l.txt:6"]
    assert "no title line" in skipped["l.txt:9"]
    assert "where the title ends" in skipped["l.txt:10"]


# --- JSON Lines ---------------------------------------------------------------------------------

def test_scifact_slice_reads_beir_layout():
    lines = (DATA / "scifact_head.jsonl").read_text(encoding="utf-8").splitlines()
    report = read_corpus(DATA / "scifact_head.jsonl")
    assert len(report.papers) == 20 and report.skipped == []
    for number, (line, paper) in enumerate(zip(lines, report.papers), start=1):
        record = json.loads(line)
        assert paper.id == record["_id"]
        assert paper.title == record["title"].strip()
        assert paper.abstract == " ".join(record["text"].split())
        assert paper.source == f"scifact_head.jsonl:{number}"
    assert report.papers[0].id == "4983"


def test_jsonl_field_name_variants():
    report = read_corpus(DATA / "papers.jsonl")
    papers = by_id(report)
    assert list(papers) == ["p1", "123", "1412.6980", "1810.04805", "10.5555/2627435.2670313"]
    p1 = papers["p1"]
    assert (p1.authors, p1.year, p1.categories, p1.venue) == (["Ashish Vaswani", "Noam Shazeer"], 2017,
                                                              ["cs.CL", "cs.LG"], "NeurIPS")
    resnet = papers["123"]  # a JSON integer id is kept, as a string
    assert resnet.abstract.startswith("Deeper neural networks")  # "summary"
    assert resnet.authors == ["Kaiming He", "Xiangyu Zhang"]  # [{name}]
    assert (resnet.date, resnet.year) == ("2015-12-10", 2015)  # "published", an ISO timestamp
    assert resnet.categories == ["cs.CV", "cs.LG"] and resnet.doi == "10.1109/cvpr.2016.90"
    adam = papers["1412.6980"]  # no id: the arXiv id from the url, version dropped
    assert adam.authors == ["Diederik P. Kingma", "Jimmy Ba"] and adam.abstract.startswith("We introduce Adam")
    assert adam.url == "https://arxiv.org/abs/1412.6980v9" and adam.date == "2014-12-22"
    bert = papers["1810.04805"]  # arXiv id wins over the DOI
    assert bert.authors == ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee"] and bert.authors_truncated
    assert bert.doi == "10.18653/v1/n19-1423" and bert.abstract == ""
    dropout = papers["10.5555/2627435.2670313"]  # capitalised field names; the DOI as id
    assert dropout.year == 2014 and dropout.abstract.startswith("Deep neural nets")
    assert report.without_abstract == 1


def test_arxiv_metadata_snapshot_shape():
    papers = by_id(read_corpus(DATA / "arxiv_snapshot.jsonl"))
    assert list(papers) == ["0704.0001", "2310.09639", "math/0102001"]
    first = papers["0704.0001"]
    assert first.arxiv_id == "0704.0001"
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert (first.date, first.year) == ("2007-04-02", 2007)  # first version, not the last update
    assert first.categories == ["hep-ph"] and first.doi == "10.1103/physrevd.76.013009"
    assert first.abstract.startswith("A fully differential") and "\n" not in first.abstract
    dpzero = papers["2310.09639"]
    assert dpzero.arxiv_id == "2310.09639" and dpzero.categories == ["cs.LG", "cs.CR"]
    assert dpzero.authors[-1] == "Niao He" and dpzero.year == 2023
    old = papers["math/0102001"]
    assert old.arxiv_id == "math/0102001" and old.authors == ["A. Author", "B. Writer"]
    assert (old.year, old.date) == (2001, "2001-02-01")  # no versions: the update date


def test_json_array_file():
    report = read_corpus(DATA / "papers.json")
    assert [(p.id, p.source) for p in report.papers] == [("a1", "papers.json:2"), ("a2", "papers.json:3")]
    assert report.papers[1].authors == ["Ada Lovelace"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("papers.json:9", "expected a JSON object, found a string"), ("papers.json:10", "no title")]


def test_malformed_json_lines_are_skipped_with_line_numbers(tmp_path):
    text = '{"id": "a", "title": "Good one"}\n{"id": "b", "title": \n[1, 2]\n\n{"id": "c", "title": "Good two"}\n'
    report = read_corpus(write(tmp_path, "c.jsonl", text))
    assert [p.id for p in report.papers] == ["a", "c"]
    assert [s.source for s in report.skipped] == ["c.jsonl:2", "c.jsonl:3", "c.jsonl:3"]  # each item of [1, 2]
    assert "invalid JSON" in report.skipped[0].reason
    assert report.skipped[1].reason == "item 1 of the array on this line: expected a JSON object, found a number"


def test_broken_json_array_names_the_line(tmp_path):
    path = write(tmp_path, "a.json", '[\n{"title": "x"},\n{"title": oops}\n]')
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, f"{path}:3", "invalid JSON")


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_reads_fields_and_skips_bad_rows():
    report = read_corpus(DATA / "papers.csv")
    papers = by_id(report)
    assert list(papers) == ["c1", "c2", "c3", "c6"]
    assert papers["c1"].authors == ["Ilya Sutskever", "Oriol Vinyals", "Quoc V. Le"]
    assert papers["c1"].categories == ["cs.CL", "cs.LG"] and papers["c1"].year == 2014
    assert papers["c1"].abstract == "Deep Neural Networks (DNNs) are powerful models, and they work well."
    assert papers["c2"].authors == ["Dzmitry Bahdanau", "Kyunghyun Cho", "Yoshua Bengio"]
    assert papers["c2"].categories == ["cs.CL", "stat.ML"] and papers["c2"].doi is None
    assert papers["c3"].authors == ["Jeffrey Pennington", "Richard Socher", "Christopher D. Manning"]
    six = papers["c6"]
    assert six.title == 'A title with a "quoted" word, and a comma'
    assert six.authors == ["Geoffrey Hinton", "Yann LeCun"] and six.abstract == "Multi-line abstract in one cell."
    assert six.source == "papers.csv:8"
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("papers.csv:5", "3 fields where the header (line 1) has 7"), ("papers.csv:6", "no title")]


def test_zotero_csv_export():
    paper = read_corpus(DATA / "zotero.csv").papers[0]
    assert paper.id == "10.1038/nature14539" and paper.title == "Deep learning"
    assert paper.authors == ["Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton"]
    assert (paper.year, paper.date, paper.venue) == (2015, "2015-05-28", "Nature")
    assert paper.abstract.startswith("Deep learning allows")


def test_csv_with_semicolons_as_separator(tmp_path):
    path = write(tmp_path, "s.csv", "title;authors;year\nA European Export;Ada Lovelace and Alan Turing;1950\n")
    paper = read_corpus(path).papers[0]
    assert (paper.title, paper.authors, paper.year) == ("A European Export", ["Ada Lovelace", "Alan Turing"], 1950)
    assert paper.id == stable_id(None, None, None, "A European Export")


def test_csv_without_title_column(tmp_path):
    path = write(tmp_path, "n.csv", "name,abstract\nx,y\n")
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, f"{path}:1", "'title' column")


# --- BibTeX -------------------------------------------------------------------------------------

def test_bibtex_fields_accents_and_ids():
    report = read_corpus(DATA / "library.bib")
    papers = by_id(report)
    # The citation key is the id (and the key), the arXiv id and DOI are aliases.
    assert list(papers) == ["vaswani2017attention", "muller2020uber", "devlin2018bert", "broken2019", "keyonly1999"]
    assert [p.key for p in report.papers] == list(papers)
    assert [(p.arxiv_id, p.doi) for p in report.papers] == [
        ("1706.03762", None), (None, "10.1000/abc.123"), ("1810.04805", None), (None, None), (None, None)]
    attention = papers["vaswani2017attention"]  # eprint + archivePrefix
    assert attention.title == "Attention is All you Need"
    assert attention.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"] and attention.authors_truncated
    assert attention.venue == "Advances in Neural Information Processing Systems"  # an @string macro
    assert (attention.year, attention.categories, attention.source) == (2017, ["cs.CL"], "library.bib:4")
    uber = papers["muller2020uber"]  # the DOI, normalised
    assert uber.title == "Über die BERT-Modelle: Café & Straße — a Çase Study"
    assert uber.authors == ["Jörg Müller", "François Gañán", "Barnes and Noble"]
    assert uber.abstract == "We improve accuracy by 5% on α-tasks – see Section 2."
    assert (uber.venue, uber.year, uber.doi) == ("Journal of NLP", 2020, "10.1000/abc.123")
    scholar = papers["devlin2018bert"]  # Google Scholar: the arXiv id only in the journal field
    assert scholar.arxiv_id == "1810.04805" and scholar.authors[0] == "Jacob Devlin"
    assert papers["keyonly1999"].authors == ["Richard O. Duda", "Peter E. Hart", "David G. Stork"]
    assert report.without_abstract == 4


def test_bibtex_entries_without_title_or_with_a_missing_brace_are_reported():
    report = read_corpus(DATA / "library.bib")
    assert [(s.source, s.reason) for s in report.skipped] == [("library.bib:32", "entry 'notitle2021': no title")]
    # A value whose '}' is missing at the end of its line, the next line starting a field, is read up to there.
    broken = by_id(report)["broken2019"]
    assert (broken.title, broken.authors, broken.year) == ("An entry with unbalanced braces", ["Else Someone"], 2019)
    assert [(w.source, w.reason) for w in report.warnings] == [
        ("library.bib:37", "entry 'broken2019': field 'title' at line 38 lacks its closing '}'; "
                           "read up to the end of line 38")]


def test_broken_bibtex_entry_at_end_of_file(tmp_path):
    text = "@article{good, title={Good}, year={2020}}\n@article{bad,\n  title = {Never closed,\n  year = 2021\n"
    report = read_corpus(write(tmp_path, "b.bib", text))
    assert [p.id for p in report.papers] == ["good"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("b.bib:2", "entry 'bad': the '{' that opens field 'title' at line 3 is not closed before the end of the "
                    "file; fix or remove it")]


# --- ids and normalisation ----------------------------------------------------------------------

def test_normalisation():
    assert normalise_title("  Über-Modelle: A  STUDY, of {BERT}! ") == "uber modelle a study of bert"
    assert normalise_title("Naïve Bayes") == normalise_title("naive bayes")
    assert normalise_arxiv_id("arXiv:2310.09639v2") == "2310.09639"
    assert normalise_arxiv_id("https://arxiv.org/abs/2310.09639") == "2310.09639"
    assert normalise_arxiv_id("https://arxiv.org/pdf/math/0102001v1.pdf") == "math/0102001"
    assert normalise_arxiv_id("4983") is None and normalise_arxiv_id(None) is None
    assert normalise_doi("https://doi.org/10.1000/ABC") == "10.1000/abc"
    assert normalise_doi("doi:10.1000/x") == "10.1000/x" and normalise_doi("not a doi") is None


def test_stable_id_order():
    assert stable_id(" A-1 ", "2310.09639", "10.1/x", "T") == " A-1 "  # given ids are kept exactly
    assert stable_id(123, None, None, "T") == "123"
    assert stable_id(None, "2310.09639", "10.1/x", "T") == "2310.09639"
    assert stable_id(None, None, "10.1/x", "T") == "10.1/x"
    hashed = stable_id(None, None, None, "Attention Is All You Need")
    assert hashed.startswith("t:") and len(hashed) == 14
    assert hashed == stable_id("", None, None, "attention is all you need!")


# --- duplicates -----------------------------------------------------------------------------------

def test_duplicates_by_id_and_by_title_are_kept_once(tmp_path):
    first = write(tmp_path, "one.jsonl", "\n".join([
        '{"id": "x1", "title": "Attention Is All You Need", "abstract": "Transformers."}',
        '{"id": "x1", "title": "Attention is all you need."}',
        '{"id": "x1", "title": "Something else entirely"}',
    ]))
    second = write(tmp_path, "two.csv", "id,title\nz9,\"attention is all you need!!\"\n")
    report = read_corpus([first, second])
    # The same id with a different title is another paper: kept under a new id, and said so.
    assert [p.id for p in report.papers] == ["x1", "x1-2"]
    assert report.papers[1].title == "Something else entirely"
    assert [(w.source, w.reason) for w in report.warnings] == [
        ("one.jsonl:3", "id 'x1' is already the id of another title (one.jsonl:1); this paper is kept as 'x1-2'")]
    assert report.files == [str(first), str(second)]
    reasons = {d.source: d.reason for d in report.duplicates}
    assert list(reasons) == ["one.jsonl:2", "two.csv:2"]
    assert "'x1'" in reasons["one.jsonl:2"] and "same id and title" in reasons["one.jsonl:2"]
    assert "'x1'" in reasons["two.csv:2"] and "same title" in reasons["two.csv:2"]


def test_same_generic_title_with_different_abstracts_is_two_papers(tmp_path):
    # SciFact and CISI hold several different papers titled "Summary" or "Documentation".
    path = write(tmp_path, "g.jsonl", "\n".join([
        '{"id": "1", "title": "Summary", "abstract": "Steroid receptor RNA activator augments transactivation."}',
        '{"id": "2", "title": "Summary", "abstract": "Glomerular basement membrane and podocalyxin are essential."}',
        '{"id": "3", "title": "summary.", "abstract": "Steroid receptor RNA activator augments transactivation!"}',
    ]))
    report = read_corpus(path)
    assert [p.id for p in report.papers] == ["1", "2"]
    assert [d.source for d in report.duplicates] == ["g.jsonl:3"]
    assert [p.id for p in read_corpus(path, dedup_titles=False).papers] == ["1", "2", "3"]


def test_same_paper_across_formats(tmp_path):
    bib = write(tmp_path, "a.bib", "@article{k, title={{DPZero}: Private Fine-Tuning of Language Models "
                                   "without Backpropagation}, eprint={2310.09639}, archivePrefix={arXiv}}\n")
    report = read_corpus([SEED_LISTING, DATA / "arxiv_snapshot.jsonl", bib])
    assert len(report.papers) == 50 + 2  # DPZero is in all three files
    assert len(report.duplicates) == 2
    assert all("seed_listing.txt:10" in d.reason or "'2310.09639'" in d.reason for d in report.duplicates)


# --- format detection ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("a.jsonl", "jsonl"), ("a.JSON", "jsonl"), ("a.ndjson", "jsonl"), ("a.csv", "csv"),
    ("a.bib", "bibtex"), ("a.bibtex", "bibtex"), ("a.txt", "listing"),
])
def test_detect_format_from_extension(name, expected):
    assert detect_format(name) == expected


@pytest.mark.parametrize("text, expected", [
    ('\n  {"title": "x"}\n', "jsonl"),
    ("% exported\n@article{k, title={x}}\n", "bibtex"),
    ("ID,Title,Year\n1,x,2020\n", "csv"),
    (f"{HEADER}\n{TITLE_LINE}\nAbstract.\n", "listing"),
])
def test_detect_format_from_content(tmp_path, text, expected):
    path = write(tmp_path, "corpus.dat", text)
    assert detect_format(path) == expected
    assert read_corpus(path).papers


def test_formats_constant():
    assert FORMATS == ("listing", "jsonl", "csv", "bibtex")


def test_explicit_format_overrides_extension(tmp_path):
    path = write(tmp_path, "papers.txt", '{"title": "Plain JSON in a .txt"}\n')
    assert read_corpus(path, format="jsonl").papers[0].title == "Plain JSON in a .txt"


# --- bad input ------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        read_corpus(tmp_path / "nope.jsonl")
    assert_one_line_naming(exc, "nope.jsonl", "no such file")


def test_directory(tmp_path):
    with pytest.raises(InputError) as exc:
        read_corpus(tmp_path)
    assert_one_line_naming(exc, str(tmp_path), "directory")


@pytest.mark.parametrize("text", ["", "  \n\n\t\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, "empty.jsonl", text)
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, str(path), "empty")


def test_unknown_format_name(tmp_path):
    path = write(tmp_path, "a.jsonl", '{"title": "x"}\n')
    with pytest.raises(InputError) as exc:
        read_corpus(path, format="xml")
    assert_one_line_naming(exc, "xml", "listing", "bibtex")


def test_undetectable_format(tmp_path):
    path = write(tmp_path, "notes.dat", "just some notes\nnothing to see\n")
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, str(path), "cannot tell the format", "--format listing|jsonl|csv|bibtex")


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"title": "fine"}\n{"title": "also fine"}\n{"title": "Caf\xe9"}\n')
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, f"{path}:3", "UTF-8", "re-save")


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("title,year\nWith a BOM,2020\n".encode("utf-8-sig"))
    assert read_corpus(path).papers[0].title == "With a BOM"


def test_all_records_bad(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"abstract": "no title"}\nnot json\n')
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, str(path), "2 record(s) skipped", "bad.jsonl:1", "no title")


def test_wrong_format_reads_nothing(tmp_path):
    with pytest.raises(InputError) as exc:
        read_corpus(DATA / "papers.csv", format="listing")
    assert_one_line_naming(exc, "papers.csv", "as listing", "--format")


def test_bibtex_with_only_bad_entries(tmp_path):
    path = write(tmp_path, "b.bib", "@misc{a, author={X}}\n@article{b, title={open\n")
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, str(path), "b.bib:1", "no title")


def test_no_files():
    with pytest.raises(InputError):
        read_corpus([])


def test_copied_seed_file_reads_the_same(tmp_path):
    # The listing is found by content too, whatever the file is called.
    copy = tmp_path / "my_papers"
    shutil.copy(SEED_LISTING, copy)
    assert [p.title for p in read_corpus(copy).papers] == [p.title for p in read_corpus(SEED_LISTING).papers]


def test_txt_file_holding_another_format_is_read_by_its_content(tmp_path):
    path = write(tmp_path, "export.txt", '{"title": "JSON saved as text"}\n')
    assert detect_format(path) == "jsonl"
    assert read_corpus(path).papers[0].title == "JSON saved as text"


# --- nothing dropped or invented (issue 10) -------------------------------------------------------

def test_jsonl_whose_first_line_is_an_array_reads_every_line(tmp_path):
    # The first line used to be taken for the whole file: every later line was dropped.
    path = write(tmp_path, "a.jsonl", '[{"id": "a", "title": "First"}, {"id": "b", "title": "Second"}]\n'
                                      '{"id": "c", "title": "Third"}\n{"id": "d", "title": "Fourth"}\n')
    report = read_corpus(path)
    assert [(p.id, p.source) for p in report.papers] == [("a", "a.jsonl:1"), ("b", "a.jsonl:1"), ("c", "a.jsonl:2"),
                                                         ("d", "a.jsonl:3")]
    assert report.skipped == []


def test_a_pretty_printed_array_followed_by_more_json_is_an_error_not_a_silent_drop(tmp_path):
    path = write(tmp_path, "a.json", '[\n  {"title": "One"}\n]\n{"title": "Two"}\n')
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    assert_one_line_naming(exc, f"{path}:4", "more JSON after the end of the document")


def test_wrong_json_types_are_never_stored_as_repr(tmp_path):
    path = write(tmp_path, "t.jsonl", "\n".join([
        '{"id": "a", "title": ["A title in a list"], "authors": {"name": "Ada"}, "year": "abc"}',
        '{"id": "b", "title": ["Two", "titles"]}',
        '{"id": "c", "title": {"text": "nested"}}',
        '{"id": ["c"], "title": "Id as a list", "abstract": 12, "categories": [1, "cs.LG"], "doi": "n/a"}',
        '{"id": "e", "title": "Year as a float", "year": 2019.0, "authors": ["Ada Lovelace", 7, null]}',
    ]))
    report = read_corpus(path)
    papers = by_id(report)
    a = papers["a"]  # a one-element list (Crossref writes titles so) is unwrapped
    assert (a.title, a.authors, a.year) == ("A title in a list", [], None)
    id_as_list = report.papers[1]
    assert id_as_list.id == stable_id(None, None, None, "Id as a list")
    assert (id_as_list.abstract, id_as_list.categories, id_as_list.doi) == ("12", ["cs.LG"], None)
    assert (papers["e"].year, papers["e"].authors) == (2019, ["Ada Lovelace"])
    assert all("{" not in p.title and "[" not in p.title for p in report.papers)
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("t.jsonl:2", "'title' is a list, not text"), ("t.jsonl:3", "'title' is an object, not text")]
    assert [(w.source, w.reason) for w in report.warnings] == [
        ("t.jsonl:1", "'authors' is an object, not a list or text; left empty"),
        ("t.jsonl:1", "'year' 'abc' is not a year; left unknown"),
        ("t.jsonl:4", "'id' is a list, not text or a whole number; the id falls back to the arXiv id, DOI or title"),
        ("t.jsonl:4", "'doi' 'n/a' is not a DOI; ignored"),
        ("t.jsonl:4", "'categories' holds a number, not text; 1 such item(s) left out"),
        ("t.jsonl:5", "'authors' item 2 is a number, not a name; 1 such item(s) left out"),
    ]


def test_a_listing_block_missing_its_title_line_is_skipped_not_invented(tmp_path):
    # Without its title line, a block read its abstract as the title and sentence pieces as "authors".
    lines = SEED_LISTING.read_text(encoding="utf-8").splitlines()
    title_line = lines.index(next(line for line in lines if line.startswith("DPZero")))
    path = write(tmp_path, "l.txt", "\n".join(lines[:title_line] + lines[title_line + 1:]) + "\n")
    report = read_corpus(path)
    assert len(report.papers) == 49
    assert "DPZero" not in " ".join(p.title for p in report.papers)
    assert all(len(p.title) < 200 for p in report.papers)
    header = f"l.txt:{title_line}"
    assert [(s.source, s.reason) for s in report.skipped] == [
        (header, "the line after the header reads like an abstract (992 characters before the authors): "
                 "is its title line missing?")]


def test_a_title_line_ending_in_a_sentence_is_not_split_into_authors():
    with pytest.raises(RecordError) as exc:
        split_title_and_authors("Short titleWe show that the method, which is simple, works well in practice")
    assert "is not a name" in str(exc.value)


@pytest.mark.parametrize("given, expected", [
    ("2603.10877v1", "2603.10877"), ("arXiv:2603.10877v2", "2603.10877"),
    ("http://arxiv.org/abs/2603.10877v1", "2603.10877"), ("hep-th/9901001v3", "hep-th/9901001"),
    ("4983", "4983"), ("W2741809807", "W2741809807"),
])
def test_a_given_arxiv_id_is_version_less(given, expected):
    assert stable_id(given, None, None, "T") == expected
