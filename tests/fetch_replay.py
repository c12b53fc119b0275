"""Replaying recorded server responses (../shared/fixtures/live-sources) through a local HTTP server.

The client under test talks to 127.0.0.1 exactly as to the real server; waits go through a fake sleep.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from werkzeug import Response

REPO = Path(__file__).resolve().parents[1]


def live_sources() -> Path:
    for folder in (os.environ.get("RECOMMENDER_SHARED_DIR"), REPO.parent / "shared", Path("/work/shared")):
        if folder and (Path(folder) / "fixtures" / "live-sources" / "PROVENANCE.md").is_file():
            return Path(folder) / "fixtures" / "live-sources"
    pytest.skip("the recorded responses (../shared/fixtures/live-sources) are not here")


def recorded(relative: str) -> bytes:
    return (live_sources() / relative).read_bytes()


ATOM = "application/atom+xml; charset=utf-8"
XML = "text/xml; charset=utf-8"
JSON = "application/json"


def serve_testing_pages(httpserver):
    """The two recorded pages of the arXiv API search "testing", answered by their `start`."""
    pages = {"0": recorded("arxiv_api/search_q-testing_start0_max10.atom.xml"),
             "10": recorded("arxiv_api/search_q-testing_start10_max10.atom.xml")}
    httpserver.expect_request("/api/query").respond_with_handler(
        lambda request: Response(pages[request.args["start"]], 200, content_type=ATOM))


@pytest.fixture(autouse=True)
def offline_setup(monkeypatch, tmp_path):
    """For the command tests (import it into the test module): no real waiting (the waits are recorded and
    returned), a fresh HTTP cache per test, no endpoint from the environment, JSON errors off between in-process runs."""
    from recommender.fetch import http

    cli_app = importlib.import_module("recommender.cli.app")  # the module, not the Typer object of the same name
    waits: list[float] = []
    now = [1_000.0]

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(http, "sleep", fake_sleep)
    monkeypatch.setattr(http, "clock", lambda: now[0])
    monkeypatch.setenv("RECOMMENDER_HTTP_CACHE", str(tmp_path / "http-cache.sqlite"))
    for name in ("RECOMMENDER_ARXIV_ENDPOINT", "RECOMMENDER_OPENALEX_ENDPOINT", "RECOMMENDER_ARXIV_OAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    cli_app.json_errors["enabled"] = False
    yield waits
    cli_app.json_errors["enabled"] = False  # what a --json run switched on must not leak into other tests
