"""The HTTP API and the web page: `recommender serve`, or `create_app(index)` for any ASGI server.

    from recommender.server import create_app
    app = create_app("indexes/default")      # opens and warms the index now; answers Host 127.0.0.1 / localhost
    app = create_app("mylib", host="0.0.0.0", allowed_hosts=["papers.lab.example"])   # and this machine's names
"""
from __future__ import annotations


def create_app(index, *, model: str | None = None, threads: int | None = None, host: str = "127.0.0.1",
               allowed_hosts=()):
    from .app import create_app as _create_app

    return _create_app(index, model=model, threads=threads, host=host, allowed_hosts=allowed_hosts)


__all__ = ["create_app"]
