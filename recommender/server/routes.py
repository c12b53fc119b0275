"""Search, similar papers, one paper, index info and health.

Endpoints that compute are plain `def`: FastAPI runs them in its thread pool, so a query that encodes
text or scores BM25 never blocks the event loop. Those that only look something up (health, info, a
paper by reference: a hash-table lookup, never a title search) are `async`: they answer at once, even
while every worker thread is busy.
The shared Recommender was warmed at startup (see app.warm).
"""
from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ..errors import PaperNotFound
from ..refs import HOW_TO_NAME
from .models import (MAX_REF_CHARS, ErrorOut, PaperOut, ResultsOut, SearchParams, SimilarBody, SimilarParams,
                     check_one_seed, paper_out, result_out)
from .paths import public_info

ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api", responses=ERRORS)


async def get_rec(request: Request):
    # async: a plain-def dependency would take a worker thread even for the async endpoints
    return request.app.state.rec


def results_body(query, results, mode: str | None, started: float) -> dict:
    return {"query": query, "mode": mode, "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "results": [result_out(r) for r in results]}


@router.get("/health", tags=["index"], summary="Health")
async def health(rec=Depends(get_rec)) -> dict:
    """Liveness: the index is loaded and answering."""
    return {"status": "ok", "papers": len(rec)}


@router.get("/info", tags=["index"], summary="Index info")
async def info(request: Request, rec=Depends(get_rec)) -> dict:
    """The index manifest (as `recommender info --json`, with file names instead of absolute paths), plus
    categories and years for filters."""
    return {**public_info(rec), "facets": request.app.state.facets}


@router.get("/search", response_model=ResultsOut, tags=["search"], summary="Search by text")
def search(params: Annotated[SearchParams, Query()], rec=Depends(get_rec)) -> dict:
    """The papers nearest to a text (`Recommender.search`)."""
    started = time.perf_counter()
    results = rec.search(params.q, params.k, mode=params.mode, filters=params.filters())
    return results_body(params.q, results, params.mode, started)


@router.get("/similar", response_model=ResultsOut, tags=["search"], summary="Papers like a paper of the index")
def similar(params: Annotated[SimilarParams, Query()], rec=Depends(get_rec)) -> dict:
    """The papers nearest to a paper of the index, the paper itself left out (`Recommender.similar`)."""
    return _similar(rec, SimilarBody(**params.model_dump()))


@router.post("/similar", response_model=ResultsOut, tags=["search"], summary="Papers like a paper, in the index or not")
def similar_post(body: SimilarBody, rec=Depends(get_rec)) -> dict:
    """Like GET /api/similar, or for a paper outside the index given by `title` and/or `abstract`."""
    return _similar(rec, body)


def _similar(rec, body: SimilarBody) -> dict:
    check_one_seed(body)
    started = time.perf_counter()
    filters = body.filters()
    if body.paper:
        seed = rec.papers[rec.resolve(body.paper)]
        results = rec.similar(seed.id, body.k, mode=body.mode, filters=filters)
        label = {"id": seed.id, "title": seed.title}
    else:
        results = rec.similar_to_text(body.title or "", body.abstract or "", body.k, mode=body.mode, filters=filters)
        label = {"title": body.title, "abstract": body.abstract}
    return results_body(label, results, body.mode, started)


@router.get("/papers/{paper_id:path}", response_model=PaperOut, tags=["index"], summary="A paper by reference")
async def paper(paper_id: str, rec=Depends(get_rec)) -> dict:
    """One paper by its id, citation key, arXiv id (any version), DOI or whole title."""
    if len(paper_id) > MAX_REF_CHARS:
        raise PaperNotFound(f"no paper in this index matches {paper_id[:80]!r}…; {HOW_TO_NAME}")
    return paper_out(rec.papers[rec.resolve(paper_id, fuzzy=False)])
