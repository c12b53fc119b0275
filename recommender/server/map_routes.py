"""The two pictures: the neighbourhood of a paper and the map of the collection (`recommender.maps`)."""
from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from .models import MAX_PAPERS, MAX_REF_CHARS, PaperRef, Strict
from .routes import ERRORS, get_rec

router = APIRouter(prefix="/api/map", responses=ERRORS, tags=["maps"])
_collection_lock = threading.Lock()


class RowsBody(Strict):
    ids: list[PaperRef] = Field(..., max_length=5 * MAX_PAPERS, description="Paper ids, as results give them.")


@router.get("/neighbourhood", summary="The neighbourhood of a paper")
def neighbourhood(paper: Annotated[str, Query(min_length=1, max_length=MAX_REF_CHARS)],
                  k: Annotated[int, Query(ge=5, le=60)] = 30, rec=Depends(get_rec)) -> dict:
    """The paper, its k nearest papers, edges between pairs above a similarity threshold, a force layout."""
    from ..maps.neighbourhood import neighbourhood_scene

    return neighbourhood_scene(rec, paper, k).to_dict()


@router.get("/collection", summary="The map of the collection")
def collection(request: Request, rec=Depends(get_rec)) -> dict:
    """Every paper at the 2D position computed at build time, regions named by their terms. Computed on the
    first request and kept (naming the regions reads a sample of papers)."""
    from ..maps.collection import collection_scene

    with _collection_lock:
        cached = getattr(request.app.state, "collection_scene", None)
        if cached is None:
            cached = request.app.state.collection_scene = collection_scene(rec).to_dict()
    return cached


@router.post("/rows", summary="Positions of papers on the collection map")
def rows(body: RowsBody, rec=Depends(get_rec)) -> dict:
    """The map's point numbers of these papers (the results and the reading list to highlight); unknown ids are left out."""
    from ..maps.collection import rows_of

    return {"rows": rows_of(rec, body.ids)}


@router.get("/point/{row}", summary="The paper at a point of the collection map")
async def point(row: Annotated[int, Path(ge=0)], rec=Depends(get_rec)) -> dict:
    from ..errors import PaperNotFound

    if row >= len(rec):
        raise PaperNotFound(f"the map has {len(rec)} points, numbered from 0; {row} is not one")
    paper = rec.papers[row]
    return {"row": row, "id": paper.id, "title": paper.title, "year": paper.year}
