"""The FastAPI application: one opened index shared by every request, the API routes and the page."""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .errors import GuardMiddleware, install_error_handlers
from .hosts import HostGuard, check_hosts, served_hosts

STATIC = Path(str(resources.files("recommender.server") / "static"))
WARM_QUERY = "neural networks"


def warm(rec) -> float:
    """Load every lazily built part of the index before the first client, so threads never race to build one.

    The engine's parts are cached properties: two threads reaching one first would each build it.
    One query per mode touches papers, vectors, FAISS, the lexical index and the encoder; `resolve`
    builds the id and alias tables.
    """
    started = time.perf_counter()
    rec.papers, rec.row_of_id, rec.vectors, rec.faiss_index, rec.lexical, rec.encoder  # noqa: B018
    rec.search(WARM_QUERY, 1, mode="hybrid")
    if len(rec):
        rec.resolve(rec.papers[0].id)
        rec._aliases  # noqa: B018  (built on the first reference that is not an exact id)
        _warm_lists(rec)
    return time.perf_counter() - started


def _warm_lists(rec) -> None:
    """The first recommendation imports scikit-learn and the term tables (seconds): pay that before serving."""
    try:
        from ..lists import recommend, reading_list
    except ImportError:  # pragma: no cover - a tree without the lists feature
        return
    recommend(rec, [rec.papers[0].id], k=1)
    reading_list(rec, query=WARM_QUERY, n=2)


def facets(rec) -> dict:
    """Categories (with counts) and the year span, for the page's filter inputs."""
    categories: dict[str, int] = {}
    years = []
    for paper in rec.papers:
        for category in paper.categories:
            categories[category] = categories.get(category, 0) + 1
        if paper.year:
            years.append(paper.year)
    return {
        "categories": [{"name": name, "papers": count} for name, count in sorted(categories.items(), key=lambda c: (-c[1], c[0]))],
        "years": [min(years), max(years)] if years else None,
    }


def _fastapi(**kwargs) -> FastAPI:
    # The API docs at /docs must work offline: fastapi-offline serves Swagger UI from the package,
    # where plain FastAPI would point the browser at a CDN.
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:  # pragma: no cover - the serve extra installs it
        return FastAPI(**kwargs)
    return FastAPIOffline(static_url="/docs-static", **kwargs)


def default_threads() -> int:
    # Queries are CPU-bound (the encoder, BM25, a classifier per recommendation): more threads than a
    # few per core only add switching and memory, and a request waits its turn as cheaply in the queue.
    return max(4, 4 * (os.cpu_count() or 1))


def create_app(index, *, model: str | None = None, threads: int | None = None, host: str = "127.0.0.1",
               allowed_hosts: Iterable[str] = ()) -> FastAPI:
    """An app serving `index` (a folder, a bare name, or an opened Recommender); loads and warms it now.

    Opening here rather than on startup makes a bad index a clean CLI error before the port opens.
    `threads`: how many requests compute at once (the rest wait in line); default 4 per core.
    `host`: the address the server listens on; requests must name it (or a loopback name, or for
    0.0.0.0 this machine's names) in their Host header, or one of `allowed_hosts` ("*" allows any).
    """
    from ..search.engine import Recommender

    rec = index if isinstance(index, Recommender) else Recommender.open(index, model=model)
    warm_seconds = warm(rec)
    threads = threads or default_threads()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = _fastapi(
        lifespan=lifespan,
        title="Paper recommender",
        version=__version__,
        description="Related work and reading lists over one paper index. Errors are "
                    '`{"error": {"type", "message"}}` with a 4xx status.',
    )
    app.state.rec = rec
    app.state.facets = facets(rec)
    app.state.warm_seconds = warm_seconds
    app.state.threads = threads
    app.state.allowed_hosts = check_hosts(served_hosts(host, allowed_hosts))
    install_error_handlers(app)
    app.add_middleware(GuardMiddleware)
    app.add_middleware(HostGuard, allowed_hosts=app.state.allowed_hosts)  # added last: runs first

    from .lists_routes import router as lists_router
    from .map_routes import router as map_router
    from .routes import router

    app.include_router(router)
    app.include_router(lists_router)
    app.include_router(map_router)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    # StaticFiles resolves every path inside STATIC and refuses anything that leaves it.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
