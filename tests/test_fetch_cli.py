"""`recommender fetch` as a user runs it, against recorded responses replayed on 127.0.0.1."""
from __future__ import annotations

import json
from pathlib import Path

from werkzeug import Response

from fetch_replay import ATOM, JSON, XML, offline_setup, recorded, serve_testing_pages  # noqa: F401  (fixture)

import importlib

import recommender.cli  # noqa: F401  (registers the commands)

cli_app = importlib.import_module("recommender.cli.app")  # the module, not the Typer object of the same name


def run(capsys, *args):
    code = cli_app.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_fetch_arxiv_writes_a_corpus_that_a_rerun_resumes(httpserver, tmp_path, capsys):
    serve_testing_pages(httpserver)
    out_file = tmp_path / "testing.jsonl"
    endpoint = httpserver.url_for("/api/query")
    code, out, err = run(capsys, "fetch", "arxiv", "--query", "testing", "--max", "20", "-o", out_file,
                         "--endpoint", endpoint, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] == 20 and report["resumed"] == 0 and report["requests"] == 2
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len({r["id"] for r in records}) == 20
    assert records[0]["id"] == "2202.12139" and records[0]["versions"][0]["version"] == "v1"
    assert {"title", "abstract", "authors", "categories", "date", "links"} <= set(records[0])
    assert httpserver.log[0][0].args["search_query"] == "all:testing"

    from recommender.ingest import read_corpus

    corpus = read_corpus([out_file])
    assert len(corpus.papers) == 20 and corpus.papers[0].arxiv_id == "2202.12139"
    assert corpus.papers[0].doi == "10.1109/icstw55395.2022.00035" and corpus.papers[0].year == 2022

    # An interruption cut the last line: the rerun drops it, fetches it again (from the cache) and adds nothing twice.
    data = out_file.read_bytes()
    out_file.write_bytes(data[: len(data) - 40])
    code, out, err = run(capsys, "fetch", "arxiv", "--query", "testing", "--max", "20", "-o", out_file,
                         "--endpoint", endpoint, "--json")
    report = json.loads(out)
    assert code == 0 and report["written"] == 1 and report["resumed"] == 19 and report["from_cache"] == 2
    again = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["id"] for r in again] == [r["id"] for r in records]
    assert len(httpserver.log) == 2  # every page of the rerun came from the cache


def test_the_endpoint_comes_from_the_environment(httpserver, tmp_path, capsys, monkeypatch):
    serve_testing_pages(httpserver)
    monkeypatch.setenv("RECOMMENDER_ARXIV_ENDPOINT", httpserver.url_for("/api/query"))
    code, _, err = run(capsys, "fetch", "arxiv", "--query", "testing", "--max", "5", "-o", tmp_path / "a.jsonl")
    assert code == 0, err
    assert "fetched 5 new papers from arxiv" in err
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 5


def test_offline_is_one_line_and_exit_5(tmp_path, capsys, offline_setup):
    code, _, err = run(capsys, "fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-01", "-o",
                       tmp_path / "x.jsonl", "--endpoint", "http://127.0.0.1:9/api/query")
    assert code == 5
    assert one_error_line(err).startswith("error: no network: cannot reach arXiv API")
    assert not (tmp_path / "x.jsonl").exists()  # nothing fetched, nothing written
    # Three tries with jittered back-off (asked of the fake sleep), never closer than arXiv's 3 s, then it gave up:
    # told in seconds, not after a minute of retries.
    assert 2 * 3.0 - 1e-6 <= sum(offline_setup) < 15


def test_a_file_the_tool_did_not_write_is_left_alone(httpserver, tmp_path, capsys):
    serve_testing_pages(httpserver)
    theirs = tmp_path / "notes.jsonl"
    theirs.write_text('{"title": "my own notes"}\n')
    code, _, err = run(capsys, "fetch", "arxiv", "--query", "testing", "-o", theirs, "--endpoint",
                       httpserver.url_for("/api/query"))
    assert code == 2 and "notes.jsonl:1: not a paper written by `recommender fetch`" in one_error_line(err)
    assert theirs.read_text() == '{"title": "my own notes"}\n'
    assert httpserver.log == []


def test_bad_arguments(tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("1707.08567\nabc\n")
    code, _, err = run(capsys, "fetch", "arxiv", "--ids", ids, "-o", tmp_path / "o.jsonl")
    assert code == 2 and "ids.txt:2: 'abc' is not an arXiv id" in one_error_line(err)
    code, _, err = run(capsys, "fetch", "arxiv", "--since", "1 Nov", "-o", tmp_path / "o.jsonl")
    assert code == 2 and "--since must be a date as YYYY-MM-DD" in one_error_line(err)
    code, _, err = run(capsys, "fetch", "crossref", "--query", "x", "-o", tmp_path / "o.jsonl")
    assert code == 2 and "unknown source 'crossref'" in one_error_line(err)
    code, _, err = run(capsys, "fetch", "arxiv", "--query", "x")
    assert code == 2 and "give one of -o FILE.jsonl" in one_error_line(err)
    code, _, err = run(capsys, "fetch", "openalex", "--category", "cs.LG", "-o", tmp_path / "o.jsonl")
    assert code == 2 and "OpenAlex has no arXiv categories" in one_error_line(err)
    code, _, err = run(capsys, "fetch", "arxiv", "--ids", ids, "--query", "x", "-o", tmp_path / "o.jsonl")
    assert code == 2 and "--ids fetches exactly those papers" in one_error_line(err)
    assert not (tmp_path / "o.jsonl").exists()


def test_arxiv_error_feed_exit_2(httpserver, tmp_path, capsys):
    httpserver.expect_request("/api/query").respond_with_data(
        recorded("arxiv_api/error_http400_incorrect_id_format_abc.atom.xml"), 400, content_type=ATOM)
    ids = tmp_path / "ids.txt"
    ids.write_text("1707.08567\n")
    code, _, err = run(capsys, "fetch", "arxiv", "--ids", ids, "-o", tmp_path / "o.jsonl", "--endpoint",
                       httpserver.url_for("/api/query"))
    assert code == 2 and "arXiv API refused the request: incorrect id format for abc" in one_error_line(err)


def test_fetch_openalex_by_doi_list(httpserver, tmp_path, capsys):
    httpserver.expect_request("/works/https://doi.org/10.1073/pnas.1414271111").respond_with_data(
        recorded("openalex/work_by_doi_10.1073-pnas.1414271111.json"), content_type=JSON)
    httpserver.expect_request("/works/https://doi.org/10.1016/j.addr.2015.01.008").respond_with_data(
        recorded("openalex/work_by_doi_10.1016-j.addr.2015.01.008.json"), content_type=JSON)
    httpserver.expect_request("/works/https://doi.org/10.1046/j.1365-2699.2003.00795").respond_with_data(
        recorded("openalex/error_http404_work_by_unknown_doi.html"), 404, content_type="text/html")
    dois = tmp_path / "dois.txt"
    dois.write_text("https://doi.org/10.1073/PNAS.1414271111\n10.1016/j.addr.2015.01.008\n"
                    "# not in OpenAlex:\n10.1046/j.1365-2699.2003.00795\n")
    out_file = tmp_path / "works.jsonl"
    code, out, err = run(capsys, "fetch", "openalex", "--ids", dois, "-o", out_file, "--endpoint",
                         httpserver.url_for("/"), "--mailto", "someone@example.org", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] == 2
    assert report["skipped"] == ["10.1046/j.1365-2699.2003.00795: OpenAlex does not know this DOI"]
    works = {r["doi"]: r for r in map(json.loads, out_file.read_text().splitlines())}
    pnas = works["10.1073/pnas.1414271111"]
    recorded_work = json.loads(recorded("openalex/work_by_doi_10.1073-pnas.1414271111.json"))
    assert len(pnas["referenced_works"]) == 73 and pnas["openalex_id"] == "W2109415576"
    assert len(pnas["abstract"].split()) == sum(len(v) for v in recorded_work["abstract_inverted_index"].values())
    assert all(r.args["mailto"] == "someone@example.org" for r, _ in httpserver.log)


def test_fetch_arxiv_oai_by_category(httpserver, tmp_path, capsys):
    first = recorded("arxiv_oai/listrecords_arXivRaw_2015_TRIMMED_with_resumptionToken.xml")
    httpserver.expect_request("/oai").respond_with_handler(
        lambda request: Response(first if "resumptionToken" not in request.args else
                                 recorded("arxiv_oai/error_NoRecordsMatch_2015.xml"), 200, content_type=XML))
    out_file = tmp_path / "nucl.jsonl"
    code, out, err = run(capsys, "fetch", "arxiv-oai", "--category", "nucl-ex", "--since", "2014-10-01", "-o",
                         out_file, "--endpoint", httpserver.url_for("/oai"), "--json")
    assert code == 0, err
    assert httpserver.log[0][0].args["set"] == "physics:nucl-ex"
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert records and all("nucl-ex" in r["categories"] for r in records)
    assert json.loads(out)["written"] == len(records) < 6


def test_fetch_into_an_index(httpserver, tmp_path, capsys, monkeypatch):
    serve_testing_pages(httpserver)
    from recommender.fetch import options

    monkeypatch.setattr(options, "cache_root", lambda: tmp_path / "cache")  # not the env: the model cache stays
    index = tmp_path / "idx"
    code, out, err = run(capsys, "fetch", "arxiv", "--query", "testing", "--max", "20", "--index", index,
                         "--endpoint", httpserver.url_for("/api/query"), "--json")
    assert code == 0, err
    assert json.loads(out)["index"]["added"] == 20
    code, out, err = run(capsys, "search", "software testing with machine learning", "--index", index, "-k", "3",
                         "--json")
    assert code == 0, err
    assert len(json.loads(out)["results"]) == 3
    assert not [p for p in tmp_path.iterdir() if "fetched" in p.name or p.suffix == ".jsonl"]  # nothing beside it
    assert not list((tmp_path / "cache" / "fetch").glob("*.jsonl"))  # the staging corpus is gone once indexed


def test_fetch_openalex_by_the_titles_of_a_bib(httpserver, tmp_path, capsys):
    """Entries without a DOI are searched by title and kept only when the title is the same paper's."""
    chemcrow = (Path(__file__).parent / "data" / "fetch" / "chemcrow_readme.bib").read_text(encoding="utf-8")
    bib = tmp_path / "mine.bib"
    bib.write_text(chemcrow + "\n" + chemcrow.replace("bran2023chemcrow", "other").replace(
        "ChemCrow: Augmenting large-language models with chemistry tools", "Augmenting language models with chemistry tools"))
    httpserver.expect_request("/works").respond_with_data(
        recorded("openalex/works_list_filter-title.search_page-based_meta.json"), content_type=JSON)
    out_file = tmp_path / "works.jsonl"
    code, out, err = run(capsys, "fetch", "openalex", "--ids", bib, "-o", out_file, "--endpoint",
                         httpserver.url_for("/"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] == 1 and len(report["skipped"]) == 1 and "similarity 94" in report["skipped"][0]
    work = json.loads(out_file.read_text())
    assert work["id"] == "2304.05376" and work["openalex_id"] == "W4365597205"
    assert [r.args["filter"] for r, _ in httpserver.log] == [
        "title.search:ChemCrow Augmenting large-language models with chemistry tools",
        "title.search:Augmenting language models with chemistry tools"]


def test_an_interrupted_harvest_resumes_where_it_stopped(httpserver, tmp_path, capsys):
    """Page 2 keeps failing: the run stops with exit 5 and keeps page 1; the rerun takes page 1 from the cache,
    fetches page 2, and the corpus ends with every paper once."""
    first = recorded("arxiv_oai/listrecords_arXivRaw_2015_TRIMMED_with_resumptionToken.xml")
    last = recorded("arxiv_oai/listrecords_arXiv_set-hep-ex_2017_PROBABLY_TRIMMED.xml")
    busy = recorded("semantic_scholar/error_http429_too_many_requests.json")
    server_up = {"page 2": False}

    def answer(request):
        if "resumptionToken" not in request.args:
            return Response(first, 200, content_type=XML)
        if server_up["page 2"]:
            return Response(last, 200, content_type=XML)
        return Response(busy, 503, {"Retry-After": "5"}, content_type=JSON)

    httpserver.expect_request("/oai").respond_with_handler(answer)
    out_file = tmp_path / "harvest.jsonl"
    args = ["fetch", "arxiv-oai", "--since", "2014-10-01", "-o", out_file, "--endpoint", httpserver.url_for("/oai")]
    code, _, err = run(capsys, *args)
    assert code == 5 and "arXiv OAI-PMH answered HTTP 503, still after 5 tries" in one_error_line(err)
    assert len(out_file.read_text().splitlines()) == 6  # page 1 kept
    server_up["page 2"] = True
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["resumed"] == 6 and report["written"] == 3 and report["from_cache"] == 1
    ids = [json.loads(line)["id"] for line in out_file.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 9


def test_a_server_asking_to_wait_an_hour_is_reported_not_waited_for(httpserver, tmp_path, capsys, offline_setup):
    httpserver.expect_request("/api/query").respond_with_data(
        recorded("semantic_scholar/error_http429_too_many_requests.json"), 429, {"Retry-After": "3600"},
        content_type=JSON)
    code, _, err = run(capsys, "fetch", "arxiv", "--query", "testing", "-o", tmp_path / "o.jsonl", "--endpoint",
                       httpserver.url_for("/api/query"))
    assert code == 5 and "arXiv API asks to wait 3600 s before the next request" in one_error_line(err)
    assert sum(offline_setup) < 60
