"""The HTTP API on the bundled listing (real model): every endpoint, every bad request, and concurrency."""
from __future__ import annotations

import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from recommender.search.filters import Filters  # noqa: E402
from test_recommend_e2e import BACKDOOR_TITLES, CODING_TITLES  # noqa: E402

KO = "KO codes: Inventing Nonlinear Encoding and Decoding for Reliable Wireless Communication via Deep-learning"


@pytest.fixture(scope="module")
def client(seed_rec):
    from recommender.server import create_app

    # The server answers only the hosts it serves: the client names 127.0.0.1, as a browser on this machine does.
    with TestClient(create_app(seed_rec), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def ids(seed_rec):
    return {title: seed_rec.papers[seed_rec.resolve(title)].id for title in (KO, *CODING_TITLES, *BACKDOOR_TITLES)}


def error_of(response, status: int, kind: str | None = None, *fragments: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    if kind:
        assert body["error"]["type"] == kind, body
    message = body["error"]["message"]
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- the endpoints ------------------------------------------------------------------------------
def test_health_and_info(client):
    assert client.get("/api/health").json() == {"status": "ok", "papers": 50}
    info = client.get("/api/info").json()
    assert info["counts"]["papers"] == 50 and info["model"]["name"] == "all-MiniLM-L6-v2"
    categories = {c["name"]: c["papers"] for c in info["facets"]["categories"]}
    assert categories["LG"] > categories["CV"] > 0 and sum(categories.values()) >= 50
    assert info["facets"]["years"][0] <= 2022 <= info["facets"]["years"][1]


def test_search_returns_what_the_python_api_returns(client, seed_rec):
    body = client.get("/api/search", params={"q": "backdoor attacks", "k": 4}).json()
    expected = seed_rec.search("backdoor attacks", 4)
    assert [r["id"] for r in body["results"]] == [r.paper.id for r in expected]
    assert {r["title"] for r in body["results"]} == BACKDOOR_TITLES
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4]
    assert body["query"] == "backdoor attacks" and body["mode"] == "hybrid" and body["took_ms"] >= 0
    first = body["results"][0]
    assert first["abstract"] == expected[0].paper.abstract and first["score"] == pytest.approx(expected[0].score, abs=1e-6)


def test_search_filters_and_mode_as_query_parameters(client, seed_rec):
    params = {"q": "neural networks", "k": 50, "mode": "dense", "year_from": 2023, "category": ["CL", "CR"]}
    body = client.get("/api/search", params=params).json()
    expected = seed_rec.search("neural networks", 50, mode="dense",
                               filters=Filters(year_from=2023, categories=["CL", "CR"]))
    assert [r["id"] for r in body["results"]] == [r.paper.id for r in expected]
    assert body["results"] and all(r["year"] >= 2023 and set(r["categories"]) & {"CL", "CR"} for r in body["results"])


def test_similar_by_title_and_by_id_leaves_the_seed_out(client, ids):
    by_title = client.get("/api/similar", params={"paper": "KO codes", "k": 3}).json()
    assert by_title["query"] == {"id": ids[KO], "title": KO}
    assert {r["title"] for r in by_title["results"]} == CODING_TITLES
    by_id = client.get("/api/similar", params={"paper": ids[KO], "k": 10, "exclude": [ids[min(CODING_TITLES)]]}).json()
    returned = [r["id"] for r in by_id["results"]]
    assert ids[KO] not in returned and ids[min(CODING_TITLES)] not in returned and len(returned) == 10


def test_similar_to_a_paper_outside_the_index(client):
    body = client.post("/api/similar", json={"title": "Neural decoders for polar codes",
                                             "abstract": "We learn to decode polar and Reed-Muller codes.", "k": 3}).json()
    assert {r["title"] for r in body["results"]} <= CODING_TITLES | {KO}
    assert body["query"]["title"] == "Neural decoders for polar codes"


def test_paper_by_id(client, ids):
    paper = client.get(f"/api/papers/{ids[KO]}").json()
    assert paper["title"] == KO and paper["id"] == ids[KO] and paper["abstract"].startswith("Landmark codes")


def test_recommend_from_likes_and_dislikes(client, seed_rec, ids):
    from recommender.lists import recommend

    liked = [ids[KO], ids["DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning"]]
    body = client.post("/api/recommend", json={"like": liked, "k": 5}).json()
    expected = recommend(seed_rec, liked, k=5)
    assert [r["id"] for r in body["results"]] == [r.paper.id for r in expected]
    assert not set(liked) & {r["id"] for r in body["results"]}
    assert body["results"][0]["title"] in CODING_TITLES
    disliked = body["results"][0]["id"]
    steered = client.post("/api/recommend", json={"like": ["KO codes"], "unlike": [disliked], "k": 5,
                                                   "method": "centroid"}).json()
    assert steered["query"]["like"] == [ids[KO]] and disliked not in {r["id"] for r in steered["results"]}


def test_reading_list_json_and_markdown(client):
    body = client.post("/api/reading-list", json={"query": "privacy in machine learning", "n": 5, "diversity": 0.3}).json()
    assert len(body["items"]) == 5 and [i["position"] for i in body["items"]] == [1, 2, 3, 4, 5]
    assert all(i["reason"] and i["abstract"] for i in body["items"]) and body["themes"]
    assert sum("rivacy" in i["title"] or "Private" in i["title"] for i in body["items"]) >= 3
    markdown = client.post("/api/reading-list", json={"query": "privacy", "n": 3, "format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Reading list") and markdown.text.count("*Why:*") == 3


def test_reading_list_from_a_posted_library_never_recommends_it_back(client, ids):
    bibtex = ("@article{ko, title={" + KO + "}, author={Makkuva, Ashok}, year={2021}}\n"
              "@misc{new, title={Neural decoding of polar codes}, abstract={A decoder for polar codes, learnt.}}\n")
    body = client.post("/api/reading-list", json={"bibtex": bibtex, "bib_ids": [ids[min(CODING_TITLES)]], "n": 3}).json()
    assert body["query"]["library"] == {"entries": 3, "in_index": 2, "skipped": []}
    returned = {i["id"] for i in body["items"]}
    assert len(returned) == 3 and not returned & {ids[KO], ids[min(CODING_TITLES)]}
    assert returned & {ids[t] for t in CODING_TITLES}


def test_export_in_the_given_order(client, ids):
    order = [ids[KO], ids[min(BACKDOOR_TITLES)]]
    bibtex = client.post("/api/export", json={"ids": order, "format": "bibtex"})
    assert bibtex.headers["content-type"].startswith("application/x-bibtex")
    assert bibtex.text.count("@") == 2 and bibtex.text.index("KO codes") < bibtex.text.index(min(BACKDOOR_TITLES)[:20])
    markdown = client.post("/api/export", json={"ids": order, "format": "markdown"}).text
    assert "KO codes" in markdown and markdown.index("KO codes") < markdown.index(min(BACKDOOR_TITLES)[:20])


def test_the_page_its_assets_and_the_docs(client):
    page = client.get("/")
    assert page.status_code == 200 and '<form id="search-form"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()  # served offline
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/similar", "/api/recommend", "/api/reading-list", "/api/papers/{paper_id}",
            "/api/info", "/api/health", "/api/export"} <= set(paths)


# --- bad requests: a 4xx JSON error that says what is wrong -----------------------------------------
@pytest.mark.parametrize("params, status, fragment", [
    ({"q": ""}, 400, "query is empty"),
    ({"q": "   "}, 400, "query is empty"),
    ({}, 422, "q: Field required"),
    ({"q": "x" * 1001}, 422, "q: String should have at most 1000 characters"),
    ({"q": "x", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"q": "x", "k": 201}, 422, "k: Input should be less than or equal to 200"),
    ({"q": "x", "k": "ten"}, 422, "k: Input should be a valid integer"),
    ({"q": "x", "mode": "magic"}, 422, "mode: Input should be 'dense', 'lexical' or 'hybrid'"),
    ({"q": "x", "year_from": 2024, "year_to": 2020}, 400, "year_from 2024 is after year_to 2020"),
    ({"q": "x", "year": 2024}, 422, "year: unknown parameter"),
])
def test_bad_searches(client, params, status, fragment):
    error_of(client.get("/api/search", params=params), status, None, fragment)


def test_unknown_papers_are_404(client):
    error_of(client.get("/api/similar", params={"paper": "zzzz qqqq xxxx"}), 404, "PaperNotFound", "zzzz qqqq xxxx")
    error_of(client.get("/api/papers/no-such-id"), 404, "PaperNotFound", "no-such-id")
    error_of(client.post("/api/recommend", json={"like": ["no such paper at all"]}), 404, "PaperNotFound")
    error_of(client.post("/api/export", json={"ids": ["no-such-id"]}), 404, "PaperNotFound", "no-such-id")


@pytest.mark.parametrize("path, body, status, fragment", [
    ("/api/similar", {}, 400, "give `paper`"),
    ("/api/similar", {"paper": "KO codes", "title": "x"}, 400, "not both"),
    ("/api/similar", {"paper": "KO codes", "k": 1000}, 422, "k: Input should be less than or equal to 200"),
    ("/api/recommend", {"like": []}, 400, "the seed set is empty"),
    ("/api/recommend", {"unlike": ["KO codes"]}, 400, "all the seeds are negatives"),
    ("/api/recommend", {"like": ["KO codes"], "method": "magic"}, 422, "method: Input should be"),
    ("/api/recommend", {"like": "KO codes"}, 422, "like: Input should be a valid list"),
    ("/api/recommend", {"like": ["x"] * 201}, 422, "like: List should have at most 200 items"),
    ("/api/reading-list", {"query": "privacy", "n": 0}, 422, "n: Input should be greater than or equal to 1"),
    ("/api/reading-list", {"query": "privacy", "diversity": 2}, 422, "diversity: Input should be less than or equal to 1"),
    ("/api/reading-list", {"query": "privacy", "format": "pdf"}, 422, "format: Input should be"),
    ("/api/reading-list", {"bibtex": "not bibtex at all"}, 400, "no usable BibTeX entry"),
    ("/api/export", {"ids": []}, 422, "ids: List should have at least 1 item"),
    ("/api/export", {"ids": ["x"], "format": "docx"}, 422, "format: Input should be"),
])
def test_bad_bodies(client, path, body, status, fragment):
    error_of(client.post(path, json=body), status, None, fragment)


def test_malformed_bodies(client):
    error_of(client.post("/api/recommend", content=b'{"like": [', headers={"content-type": "application/json"}),
             400, "BadRequest", "not valid JSON")
    error_of(client.post("/api/recommend", json=["KO codes"]), 422, "ValidationError", "must be a JSON object")
    error_of(client.post("/api/recommend", content=b"like=KO"), 422, "ValidationError", "must be a JSON object")
    too_big = b'{"like": ["' + b"x" * 1_100_000 + b'"]}'
    error_of(client.post("/api/recommend", content=too_big, headers={"content-type": "application/json"}),
             413, "PayloadTooLarge", "over 1000000 bytes")


def test_unknown_routes_and_methods(client):
    error_of(client.get("/api/nothing"), 404, "NotFound", "/api/nothing")
    error_of(client.delete("/api/search"), 405, "MethodNotAllowed")


# --- nothing a client sends reads a file outside the index --------------------------------------------
def test_no_request_reads_a_file(client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("KO codes\n", encoding="utf-8")  # a valid reference list, if the server read it
    error_of(client.post("/api/recommend", json={"like": [f"@{secret}"]}), 404, "PaperNotFound")
    error_of(client.post("/api/reading-list", json={"like": [f"@{secret}"], "n": 2}), 404, "PaperNotFound")
    error_of(client.post("/api/reading-list", json={"bib": str(secret)}), 422, None, "bib: unknown parameter")
    error_of(client.get("/api/similar", params={"paper": f"@{secret}"}), 404, "PaperNotFound")
    as_text = client.post("/api/similar", json={"abstract": f"@{secret}", "k": 1})  # "@FILE" is the CLI's; here, text
    assert as_text.status_code == 200 and as_text.json()["query"]["abstract"] == f"@{secret}"
    for path in ("/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/static/..%2f..%2f..%2f..%2fetc%2fpasswd", "/docs-static/../../../etc/passwd", "/api/papers/../../etc/passwd"):
        response = client.get(path)
        assert response.status_code == 404 and "root:" not in response.text, path


# --- many clients at once -------------------------------------------------------------------------------
def test_concurrent_requests_get_the_same_answers_as_sequential_ones(client):
    """The engine is shared by the thread pool: answers under concurrency must equal the sequential ones."""
    requests = [("GET", "/api/search", {"params": {"q": q, "k": 10, "mode": mode}})
                for q in ("backdoor attacks", "polar codes", "privacy", "multimodal datasets", "language models")
                for mode in ("dense", "lexical", "hybrid")]
    requests += [("GET", "/api/similar", {"params": {"paper": p, "k": 10}}) for p in ("KO codes", "DataComp", "DPZero")]
    requests += [("POST", "/api/recommend", {"json": {"like": [p], "k": 10}}) for p in ("KO codes", "DataComp")]

    def ids_of(request):
        method, path, kwargs = request
        response = client.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["results"]]

    sequential = [ids_of(r) for r in requests]
    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(ids_of, requests * 4))
    assert concurrent == sequential * 4


# --- `recommender serve` refuses what it cannot do, in one line, before it listens --------------------
def serve_error(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "recommender", "serve", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error:")]) == 1, proc.stderr
    return proc


def test_serve_errors(tmp_path, seed_index):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    missing = serve_error("--index", tmp_path / "none", "--port", free)
    assert missing.returncode == 3 and "no index here" in missing.stderr
    assert "choose one of" in serve_error("--index", seed_index, "--log-level", "loud").stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = serve_error("--index", seed_index, "--port", port)
    assert taken.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr


# --- the server answers only the hosts it serves (DNS rebinding), and shows no absolute path ------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example"])
def test_a_foreign_host_header_is_refused(client, host):
    for response in (client.get("/api/health", headers={"host": host}), client.get("/", headers={"host": host}),
                     client.post("/api/recommend", json={"like": ["KO codes"]}, headers={"host": host})):
        error_of(response, 400, "HostNotAllowed", "does not answer to the host")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000"])
def test_the_loopback_names_are_served(client, host):
    assert client.get("/api/health", headers={"host": host}).json() == {"status": "ok", "papers": 50}


def test_more_hosts_are_served_when_allowed(seed_rec):
    from recommender.server import create_app

    app = create_app(seed_rec, host="127.0.0.1", allowed_hosts=["papers.lab.example", "*.corp.example"])
    with TestClient(app, base_url="http://papers.lab.example") as lab:
        assert lab.get("/api/health").status_code == 200
        assert lab.get("/api/health", headers={"host": "a.corp.example"}).status_code == 200
        error_of(lab.get("/api/health", headers={"host": "evil.example"}), 400, "HostNotAllowed")
    with TestClient(create_app(seed_rec, allowed_hosts=["*"]), base_url="http://anything.example") as anyone:
        assert anyone.get("/api/health").status_code == 200


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_info_and_errors_show_no_absolute_path(client, seed_index):
    from pathlib import Path

    info = client.get("/api/info")
    assert info.json()["path"] == seed_index.name and info.json()["corpus"][0]["path"] == "seed_listing.txt"
    assert len(info.json()["index_id"]) == 16  # what the page keys its storage by, since the path is not shown
    assert not [s for s in _strings(info.json()) if s.startswith("/")], info.text
    bodies = [client.get("/api/similar", params={"paper": "Lattice QCD at finite density"}),
              client.post("/api/recommend", json={"like": ["Lattice QCD at finite density"]}),
              client.post("/api/export", json={"ids": ["no-such-id"]}),
              client.get("/api/papers/no-such-id")]
    for response in [info, *bodies]:
        assert str(seed_index.parent) not in response.text and str(Path.home()) + "/" not in response.text
    for response in bodies:
        error_of(response, 404, "PaperNotFound", "no paper in this index matches")


def test_hide_paths_in_messages(tmp_path):
    from recommender.server.paths import public_message

    folder = tmp_path / "indexes" / "mine"
    assert public_message(f"{folder}/lexical: cannot be read; rebuild", folder) == "mine/lexical: cannot be read; rebuild"
    assert public_message("/srv/data/corpus/papers.bib: bad", None) == "papers.bib: bad"
    kept = "see https://doi.org/10.1000/x and /api/search"
    assert public_message(kept, folder) == kept


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("GET", "/api/similar", {"params": {"paper": "Lattice QCD at finite density"}}, 404),
    ("POST", "/api/similar", {"json": {"title": " ", "abstract": ""}}, 400),
    ("POST", "/api/recommend", {"json": {"like": ["Lattice QCD at finite density"]}}, 404),
    ("POST", "/api/recommend", {"json": {"like": []}}, 400),
    ("POST", "/api/recommend", {"json": {"unlike": ["KO codes"]}}, 400),
    ("POST", "/api/recommend", {"json": {"like": ["KO codes"], "unlike": ["KO codes"]}}, 400),
    ("POST", "/api/reading-list", {"json": {"unlike": ["KO codes"]}}, 400),
    ("POST", "/api/export", {"json": {"ids": ["Lattice QCD at finite density"]}}, 404),
])
def test_api_errors_name_no_command_line_flag(client, method, path, kwargs, status):
    message = error_of(client.request(method, path, **kwargs), status)
    assert "--" not in message, message


def test_serve_answers_only_its_hosts(seed_index):
    """`recommender serve --allowed-host NAME` on loopback: its address and NAME are answered, another Host is not."""
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "serve", "--index", str(seed_index), "--port", str(port),
                             "--allowed-host", "papers.lab.example"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/api/health"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert httpx.get(url, headers={"host": "papers.lab.example"}).status_code == 200
        refused = httpx.get(url, headers={"host": "rebound.evil.example"})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "HostNotAllowed"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_refuses_a_malformed_allowed_host(seed_index):
    assert "allowed host 'local*host'" in serve_error("--index", seed_index, "--allowed-host", "local*host").stderr
