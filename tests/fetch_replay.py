"""Replaying recorded server responses (../shared/fixtures/live-sources) through a local HTTP server.

The client under test talks to 127.0.0.1 exactly as to the real server; waits go through a fake sleep.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

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
