"""The fetch layer against recorded arXiv and OpenAlex responses replayed on 127.0.0.1."""
from __future__ import annotations

import json

import pytest
from werkzeug import Response

from fetch_replay import ATOM, JSON, XML, recorded, serve_testing_pages

from recommender.fetch import arxiv_api, arxiv_oai, http, openalex
from recommender.fetch.errors import NetworkError, ServerRefused
from recommender.fetch.http import HttpClient


@pytest.fixture
def waits(monkeypatch):
    """Every wait the client asks for, instead of waiting."""
    asked: list[float] = []
    monkeypatch.setattr(http, "sleep", asked.append)
    return asked


def client(tmp_path, label="test", interval=0.0, use_cache=True, attempts=5):
    return HttpClient(label, min_interval=interval, use_cache=use_cache, cache_file=tmp_path / "cache.sqlite",
                      attempts=attempts)


def test_arxiv_search_pages_through_the_results(httpserver, tmp_path, waits):
    serve_testing_pages(httpserver)
    with client(tmp_path, interval=arxiv_api.MIN_INTERVAL) as http_client:
        papers = list(arxiv_api.search(http_client, httpserver.url_for("/api/query"), "all:testing",
                                       max_results=20, page_size=10, sort_by="relevance"))
    assert len(papers) == 20 and len({p.id for p in papers}) == 20
    starts = [r.args["start"] for r, _ in httpserver.log]
    assert starts == ["0", "10"]
    assert all(r.args["max_results"] == "10" for r, _ in httpserver.log)
    first = papers[0]
    assert first.id == "2202.12139" and first.arxiv_id == "2202.12139"  # version-less
    assert first.doi == "10.1109/icstw55395.2022.00035"
    assert first.categories[0] == "cs.SE" and "cs.LG" in first.categories
    assert first.links["pdf"].endswith("2202.12139v1") and first.date == "2022-02-24"
    assert first.authors[:2] == ["Mohit Kumar Ahuja", "Arnaud Gotlieb"]
    assert sum(1 for p in papers if p.doi) >= 6
    assert "  " not in first.abstract and first.abstract
    # arXiv's terms: the second request waited for the 3 s spacing (asked of the fake sleep).
    assert any(2.5 < w <= 3.0 for w in waits)
    assert "recommender/" in httpserver.log[0][0].headers["User-Agent"]


def test_a_rerun_is_answered_from_the_disk_cache(httpserver, tmp_path, waits):
    serve_testing_pages(httpserver)
    waits_per_run = []
    for _ in range(2):
        before = len(waits)
        with client(tmp_path, interval=arxiv_api.MIN_INTERVAL) as http_client:
            papers = list(arxiv_api.search(http_client, httpserver.url_for("/api/query"), "all:testing",
                                           max_results=20, page_size=10))
        assert len(papers) == 20
        waits_per_run.append(len(waits) - before)
    assert len(httpserver.log) == 2  # the second run never reached the server
    assert http_client.stats.from_cache == 2
    assert waits_per_run == [1, 0]  # answers from the cache are not paced


def test_retry_after_is_obeyed_then_the_page_arrives(httpserver, tmp_path, waits):
    page = recorded("arxiv_api/idlist_1707.08567.atom.xml")
    busy = recorded("semantic_scholar/error_http429_too_many_requests.json")
    answers = [Response(busy, 503, {"Retry-After": "7"}, content_type=JSON),
               Response(busy, 429, {"Retry-After": "2"}, content_type=JSON),
               Response(page, 200, content_type=ATOM)]
    httpserver.expect_request("/api/query").respond_with_handler(lambda request: answers.pop(0))
    with client(tmp_path) as http_client:
        papers = list(arxiv_api.by_ids(http_client, httpserver.url_for("/api/query"), ["1707.08567"]))
    assert [p.id for p in papers] == ["1707.08567"] and len(papers[0].authors) == 34
    assert waits[:2] == [7.0, 2.0]
    assert http_client.stats.retries == 2


def test_a_cut_body_is_fetched_again_and_never_cached(httpserver, tmp_path, waits):
    page = recorded("arxiv_api/search_q-testing_start0_max10.atom.xml")
    answers = [Response(page[: len(page) // 2], 200, content_type=ATOM), Response(page, 200, content_type=ATOM)]
    httpserver.expect_request("/api/query").respond_with_handler(lambda request: answers.pop(0))
    with client(tmp_path) as http_client:
        papers = list(arxiv_api.search(http_client, httpserver.url_for("/api/query"), "all:testing", max_results=10,
                                       page_size=10))
    assert len(papers) == 10 and len(httpserver.log) == 2
    with client(tmp_path) as again:  # the cache holds the whole page, not the cut one
        assert len(list(arxiv_api.search(again, httpserver.url_for("/api/query"), "all:testing", max_results=10,
                                         page_size=10))) == 10
    assert len(httpserver.log) == 2


def test_a_connection_dropped_mid_body_is_retried(httpserver, tmp_path, waits):
    page = recorded("arxiv_api/idlist_1707.08567.atom.xml")
    answers = [Response(page[:1000], 200, {"Content-Length": str(len(page))}, content_type=ATOM),
               Response(page, 200, content_type=ATOM)]
    httpserver.expect_request("/api/query").respond_with_handler(lambda request: answers.pop(0))
    with client(tmp_path) as http_client:
        papers = list(arxiv_api.by_ids(http_client, httpserver.url_for("/api/query"), ["1707.08567"]))
    assert [p.id for p in papers] == ["1707.08567"]
    assert http_client.stats.retries == 1


def test_arxiv_error_feed_is_a_clear_refusal(httpserver, tmp_path, waits):
    httpserver.expect_request("/api/query").respond_with_data(
        recorded("arxiv_api/error_http400_incorrect_id_format_abc.atom.xml"), 400, content_type=ATOM)
    with client(tmp_path) as http_client, pytest.raises(ServerRefused, match="incorrect id format for abc"):
        list(arxiv_api.by_ids(http_client, httpserver.url_for("/api/query"), ["abc"]))


def test_unknown_id_gives_nothing(httpserver, tmp_path, waits):
    httpserver.expect_request("/api/query").respond_with_data(
        recorded("arxiv_api/idlist_0808.05394_1707.08567.atom.xml"), content_type=ATOM)
    with client(tmp_path) as http_client:
        papers = list(arxiv_api.by_ids(http_client, httpserver.url_for("/api/query"), ["0808.05394", "1707.08567"]))
    assert [p.id for p in papers] == ["1707.08567"]


def test_no_network_is_one_line_after_the_retries(tmp_path, waits):
    with client(tmp_path, attempts=3) as http_client, pytest.raises(NetworkError) as caught:
        list(arxiv_api.by_ids(http_client, "http://127.0.0.1:9/api/query", ["1707.08567"]))
    assert str(caught.value).startswith("no network: cannot reach test")
    assert "\n" not in str(caught.value) and len(waits) == 2


def test_oai_follows_the_resumption_token(httpserver, tmp_path, waits):
    first = recorded("arxiv_oai/listrecords_arXivRaw_2015_TRIMMED_with_resumptionToken.xml")
    last = recorded("arxiv_oai/listrecords_arXiv_set-hep-ex_2017_PROBABLY_TRIMMED.xml")

    def answer(request):
        if request.args.get("resumptionToken") == "726959|1001":
            assert set(request.args) == {"verb", "resumptionToken"}
            return Response(last, 200, content_type=XML)
        assert request.args["from"] == "2014-10-01" and request.args["metadataPrefix"] == "arXivRaw"
        return Response(first, 200, content_type=XML)

    httpserver.expect_request("/oai").respond_with_handler(answer)
    skipped: list[str] = []
    with client(tmp_path) as http_client:
        papers = list(arxiv_oai.harvest(http_client, httpserver.url_for("/oai"), set_name=None, since="2014-10-01",
                                        until=None, skipped=skipped))
    assert len(httpserver.log) == 2
    assert len(papers) == 6 + 3 and len({p.id for p in papers}) == 9
    assert skipped == []
    richard = next(p for p in papers if p.id == "0704.0716")
    assert [v["version"] for v in richard.versions] == ["v1", "v2", "v3", "v4"]
    assert richard.date == "2007-04-05" and richard.updated == "2008-11-14"
    shetty = next(p for p in papers if p.id == "0704.0471")
    assert shetty.doi == "10.1103/physrevc.76.024606" and shetty.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert shetty.title.startswith("Density dependence of the symmetry energy and the nuclear equation of state")


def test_oai_errors(httpserver, tmp_path, waits):
    httpserver.expect_request("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "moo"}
                              ).respond_with_data(recorded("arxiv_oai/error_NoRecordsMatch_2015.xml"), content_type=XML)
    httpserver.expect_request("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "cs"}
                              ).respond_with_data(recorded("arxiv_oai/error_BadResumptionToken_2015.xml"), content_type=XML)
    with client(tmp_path) as http_client:
        assert list(arxiv_oai.harvest(http_client, httpserver.url_for("/oai"), set_name="moo", since=None, until=None)) == []
        with pytest.raises(ServerRefused, match="badResumptionToken"):
            list(arxiv_oai.harvest(http_client, httpserver.url_for("/oai"), set_name="cs", since=None, until=None))


def test_oai_set_of_a_category():
    assert arxiv_oai.set_spec("cs.LG") == "cs"
    assert arxiv_oai.set_spec("hep-th") == "physics:hep-th"
    assert arxiv_oai.set_spec("astro-ph.GA") == "physics:astro-ph"


def test_openalex_cursor_paging_to_the_end(httpserver, tmp_path, waits):
    first = recorded("openalex/works_list_cursor-star_page1_next_cursor.json")
    last = recorded("openalex/works_list_cursor_page2_last_next_cursor-null.json")
    next_cursor = json.loads(first)["meta"]["next_cursor"]
    httpserver.expect_request("/works").respond_with_handler(
        lambda request: Response(first if request.args["cursor"] == "*" else last, 200, content_type=JSON))
    with client(tmp_path) as http_client:
        papers = list(openalex.list_works(http_client, httpserver.url_for("/"), search=None,
                                          filters=["openalex:W3045921891|W3046863325"], max_results=None,
                                          contact="someone@example.org"))
    assert [r.args["cursor"] for r, _ in httpserver.log] == ["*", next_cursor]
    assert httpserver.log[0][0].args["mailto"] == "someone@example.org"
    assert len(papers) == 2
    raw = json.loads(first)["results"]
    for paper, work in zip(papers, raw):
        assert paper.referenced_works == [w.rsplit("/", 1)[-1] for w in work["referenced_works"]]
        words = paper.abstract.split()
        for word, positions in list(work["abstract_inverted_index"].items())[:20]:
            assert all(words[p] == word for p in positions)
    assert sorted(len(p.referenced_works) for p in papers) == [6, 37]
    arxiv_one = next(p for p in papers if p.doi == "10.48550/arxiv.2007.14454")
    assert arxiv_one.id == "2007.14454" and arxiv_one.arxiv_id == "2007.14454"


def test_openalex_work_by_doi_and_unknown_doi(httpserver, tmp_path, waits):
    httpserver.expect_request("/works/https://doi.org/10.1073/pnas.1414271111").respond_with_data(
        recorded("openalex/work_by_doi_10.1073-pnas.1414271111.json"), content_type=JSON)
    httpserver.expect_request("/works/https://doi.org/10.1046/j.1365-2699.2003.00795").respond_with_data(
        recorded("openalex/error_http404_work_by_unknown_doi.html"), 404, content_type="text/html")
    with client(tmp_path) as http_client:
        work = openalex.work_by_doi(http_client, httpserver.url_for("/"), "10.1073/pnas.1414271111")
        assert openalex.work_by_doi(http_client, httpserver.url_for("/"), "10.1046/j.1365-2699.2003.00795") is None
    assert work.title.startswith("Developing functional musculoskeletal tissues through hypoxia")
    index = json.loads(recorded("openalex/work_by_doi_10.1073-pnas.1414271111.json"))["abstract_inverted_index"]
    words = work.abstract.split()
    assert len(words) == sum(len(p) for p in index.values())
    assert all(words[p] == word for word, positions in index.items() for p in positions)
    assert len(work.referenced_works) == 73 and len(work.authors) == 5 and work.date == "2014-10-27"


def test_openalex_bad_filter_is_the_servers_message(httpserver, tmp_path, waits):
    httpserver.expect_request("/works").respond_with_data(recorded("openalex/error_http400_invalid_filter.json"), 400,
                                                          content_type=JSON)
    with client(tmp_path) as http_client, pytest.raises(ServerRefused, match="DOESNTEXIST is not a valid field"):
        list(openalex.list_works(http_client, httpserver.url_for("/"), search=None, filters=["DOESNTEXIST:1"],
                                 max_results=None))


def test_retry_after_as_an_http_date():
    from datetime import datetime, timezone

    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)
    assert http.retry_after_seconds("Thu, 03 Dec 2026 12:00:30 GMT", now) == 30.0
    assert http.retry_after_seconds("120") == 120.0
    assert http.retry_after_seconds("soon") is None


def test_openalex_cut_json_is_fetched_again(httpserver, tmp_path, waits):
    body = recorded("openalex/work_by_doi_10.1016-j.addr.2015.01.008.json")
    answers = [Response(body[:5000], 200, content_type=JSON), Response(body, 200, content_type=JSON)]
    httpserver.expect_request("/works/https://doi.org/10.1016/j.addr.2015.01.008").respond_with_handler(
        lambda request: answers.pop(0))
    with client(tmp_path) as http_client:
        work = openalex.work_by_doi(http_client, httpserver.url_for("/"), "10.1016/j.addr.2015.01.008")
    assert work.title == "Pharmacokinetics, biodistribution and cell uptake of antisense oligonucleotides"
    assert len(work.referenced_works) == 42 and len(work.authors) == 4
    assert http_client.stats.retries == 1
