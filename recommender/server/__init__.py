"""The HTTP API and the web page: `recommender serve`, or `create_app(index)` for any ASGI server.

    from recommender.server import create_app
    app = create_app("indexes/default")      # opens and warms the index now
"""
from __future__ import annotations


def create_app(index, *, model: str | None = None, threads: int | None = None):
    from .app import create_app as _create_app

    return _create_app(index, model=model, threads=threads)


__all__ = ["create_app"]
