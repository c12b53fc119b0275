"""`recommender feed`: a day's real arXiv announcements (recorded RSS, replayed on 127.0.0.1) ranked by a library."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from werkzeug import Response

from fetch_replay import offline_setup, recorded  # noqa: F401  (an autouse fixture)

import recommender.cli  # noqa: F401  (registers the commands)

cli_app = importlib.import_module("recommender.cli.app")
LIBRARY = Path(__file__).parent / "data" / "ingest" / "library.bib"  # transformers, BERT: natural language processing
RSS = "arxiv_rss/LARGE_rss2_2024-11-28_all-archives_1504-items.xml"





@pytest.fixture
def rss(httpserver):
    feed = recorded(RSS)
    from pytest_httpserver import URIPattern

    class Feeds(URIPattern):
        def match(self, uri: str) -> bool:
            return uri.startswith("/rss/")

    httpserver.expect_request(Feeds()).respond_with_handler(
        lambda request: Response(feed, 200, content_type="application/rss+xml; charset=utf-8"))
    return httpserver


def run(capsys, *args):
    code = cli_app.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_library_topic_first_and_nothing_shown_twice(rss, tmp_path, capsys):
    state = tmp_path / "feed-state.json"
    common = ["--library", LIBRARY, "-n", "5", "--state", state]
    code, out, err = run(capsys, "feed", "--category", "cs.CL", "--category", "astro-ph.HE",
                         "--endpoint", rss.url_for("/rss/"), "--format", "json", *common)
    assert code == 0, err
    assert rss.log[0][0].path == "/rss/cs.CL+astro-ph.HE"
    day1 = json.loads(out)
    assert day1["new_papers"] > 60 and day1["already_shown"] == 0
    items = day1["items"]
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5]
    # The library is about language models: today's computation-and-language papers come first, no astrophysics.
    assert all("cs.CL" in i["categories"] for i in items), [i["categories"] for i in items]
    assert all(i["reason"].startswith("closest to") and "(your library)" in i["reason"] for i in items)
    assert items[0]["score"] >= items[-1]["score"]
    shown = json.loads(state.read_text())["shown"]
    assert sorted(next(iter(shown.values()))) == sorted(i["id"] for i in items)
    assert f"shown papers remembered in {state}" in err

    # The next run (here offline, from a corpus of the same announcements) shows none of yesterday's papers.
    corpus = tmp_path / "today.jsonl"
    code, _, err = run(capsys, "fetch", "arxiv-rss", "--category", "cs.CL", "--category", "astro-ph.HE",
                       "--endpoint", rss.url_for("/rss/"), "-o", corpus)
    assert code == 0, err
    code, out, err = run(capsys, "feed", "--from", corpus, "--format", "json", *common)
    assert code == 0, err
    day2 = json.loads(out)
    assert day2["already_shown"] == 5 and len(day2["items"]) == 5
    assert not {i["id"] for i in day2["items"]} & {i["id"] for i in items}
    assert all("cs.CL" in i["categories"] for i in day2["items"])


def test_markdown_and_html_digests(rss, tmp_path, capsys):
    for fmt, marker in (("markdown", "# New papers for you, "), ("html", "<!DOCTYPE html>")):
        out_file = tmp_path / f"digest.{fmt}"
        code, _, err = run(capsys, "feed", "--category", "cs.CL", "--endpoint", rss.url_for("/rss/"), "--library",
                           LIBRARY, "-n", "3", "--format", fmt, "-o", out_file, "--no-state")
        assert code == 0, err
        text = out_file.read_text()
        assert text.startswith(marker)
        assert text.count("Why:") == 3 and "https://arxiv.org/abs/" in text
    assert "<ol" in text and "<script" not in text


def test_feed_needs_a_profile_and_a_source(tmp_path, capsys):
    code, _, err = run(capsys, "feed", "--category", "cs.CL", "--no-state", "--endpoint", "http://127.0.0.1:9/rss/")
    assert code == 2 and "feed needs a profile: --library LIBRARY.bib, --like PAPER or --query TEXT" in err
    code, _, err = run(capsys, "feed", "--library", LIBRARY, "--no-state")
    assert code == 2 and "feed needs --category (e.g. cs.LG) to fetch new papers, or --from FILE" in err
    bad_state = tmp_path / "state.json"
    bad_state.write_text("[1, 2]")
    corpus = tmp_path / "x.jsonl"
    corpus.write_text('{"id": "a", "title": "A paper"}\n')
    code, _, err = run(capsys, "feed", "--library", LIBRARY, "--from", corpus, "--state", bad_state)
    assert code == 2 and "not a feed state file" in err and bad_state.read_text() == "[1, 2]"
