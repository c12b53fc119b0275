"""Recommendations from liked and disliked papers, reading lists, and their export (`recommender.lists`).

Every paper reference a client sends is resolved here, against the index, before the library sees it:
the library reads `@FILE` references and `bib` paths from disk for the CLI, which a server must never do.
"""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from ..errors import UsageError
from ..records import Result
from .models import ExportBody, ReadingListBody, RecommendBody, ResultsOut
from .routes import ERRORS, get_rec, results_body

router = APIRouter(prefix="/api", responses=ERRORS, tags=["lists"])

MEDIA_TYPES = {"markdown": "text/markdown; charset=utf-8", "bibtex": "application/x-bibtex; charset=utf-8",
               "json": "application/json", "csv": "text/csv; charset=utf-8", "table": "text/plain; charset=utf-8"}
TEXT_RESPONSE = {200: {"content": {"text/plain": {}, "application/json": {}}}}


def resolve_ids(rec, refs: list[str]) -> list[str]:
    """Index ids for references (id, citation key, arXiv id, DOI or title: `recommender.refs`); PaperNotFound (404)
    names the first unknown one."""
    ids = []
    for ref in refs:
        pid = rec.papers[rec.resolve(ref)].id
        if pid.startswith("@"):  # the library would take it for a file of references
            raise UsageError(f"paper id {pid!r} starts with '@' and cannot be used as a seed through the API")
        ids.append(pid)
    return ids


@router.post("/recommend", response_model=ResultsOut, summary="Recommend from liked and disliked papers")
def recommend(body: RecommendBody, rec=Depends(get_rec)) -> dict:
    """Papers like the liked ones and unlike the disliked ones (`recommender.lists.recommend`); seeds are left out."""
    from ..lists import recommend as recommend_papers

    started = time.perf_counter()
    like, unlike = resolve_ids(rec, body.like), resolve_ids(rec, body.unlike)
    if body.like_weights and len(body.like_weights) != len(body.like):
        raise UsageError(f"like_weights: {len(body.like_weights)} weights for {len(body.like)} liked papers; give one per paper")
    if body.like_weights and any(w != 1 for w in body.like_weights):
        results = _weighted(rec, body, like, unlike)
    else:
        results = recommend_papers(rec, like, unlike, body.query, body.k, method=body.method, mode=body.mode,
                                   filters=body.filters())
    out = results_body({"like": like, "unlike": unlike, "query": body.query}, results, body.mode, started)
    for item in out["results"]:
        item["closest_like"] = closest_like(rec, item["id"], like)
    return out


def _weighted(rec, body: RecommendBody, like: list[str], unlike: list[str]) -> list[Result]:
    """A centroid in which each liked paper counts its weight: its seed vector scaled before the mean."""
    from dataclasses import replace

    from ..lists.methods import rank_profile
    from ..lists.profile import build_profile

    profile = build_profile(rec, like, unlike, body.query)
    weight_of_row = {rec.resolve(pid): w for pid, w in zip(like, body.like_weights)}
    profile.positives[:] = [replace(seed, vector=seed.vector * weight_of_row.get(seed.row, 1.0)) for seed in profile.positives]
    return rank_profile(rec, profile, body.k, method="centroid", mode=body.mode, filters=body.filters())


def closest_like(rec, paper_id: str, like: list[str]) -> dict | None:
    """The liked paper nearest to a recommendation (cosine of their vectors): where the recommendation comes from."""
    if not like:
        return None
    import numpy as np

    rows = [rec.row_of_id[pid] for pid in like]
    row = rec.row_of_id[paper_id]
    cosines = np.asarray(rec.vectors[rows], dtype=np.float32) @ np.asarray(rec.vectors[row], dtype=np.float32)
    best = int(np.argmax(cosines))
    return {"id": like[best], "title": rec.papers[rows[best]].title, "cosine": round(float(cosines[best]), 3)}


@router.post("/reading-list", responses=TEXT_RESPONSE, summary="Reading list")
def reading_list(body: ReadingListBody, rec=Depends(get_rec)):
    """A reading list in themes and reading order, each paper with its reason (`recommender.lists.reading_list`).

    The papers the reader already has come as `bib_ids` (ids of the index) and/or `bibtex` text: they
    are seeds and are never recommended back. `format` other than json returns the exported text.
    """
    from ..lists import export

    started = time.perf_counter()
    like, unlike = resolve_ids(rec, body.like), resolve_ids(rec, body.unlike)
    if body.bib_ids or body.bibtex:
        listing = _with_library(rec, body, like, unlike)
    else:
        from ..lists import reading_list as make_reading_list

        listing = make_reading_list(rec, query=body.query, like=like, unlike=unlike, n=body.n, diversity=body.diversity,
                                    filters=body.filters(), method=body.method, mode=body.mode)
    if body.format != "json":
        text = export(listing, body.format)
        if body.format == "markdown":
            text = retitle(text, body.title)
        return PlainTextResponse(text, media_type=MEDIA_TYPES[body.format])
    data = listing.to_dict()
    for item in data["items"]:  # what a page shows on a card, as search results have it
        paper = rec.papers[rec.row_of_id[item["id"]]]
        item.update(abstract=paper.abstract, authors_truncated=paper.authors_truncated, venue=paper.venue,
                    has_code=paper.has_code)
    return {**data, "took_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.post("/export", responses=TEXT_RESPONSE, summary="Export papers by id")
def export_papers(body: ExportBody, rec=Depends(get_rec)):
    """Papers given by id (or citation key, arXiv id, DOI or whole title), in that order, as BibTeX, Markdown,
    JSON, CSV or a text table."""
    from ..lists import export

    results = [Result(rank, 0.0, rec.papers[rec.resolve(ref, fuzzy=False)]) for rank, ref in enumerate(body.ids, 1)]
    text = export(results, body.format)
    if body.format == "markdown":
        text = retitle(text, body.title)
    return PlainTextResponse(text, media_type=MEDIA_TYPES[body.format])


def retitle(markdown: str, title: str | None) -> str:
    """The Markdown export under the page's own heading ("Reading list", "What mine.bib is missing")."""
    if not title or not markdown.startswith("# "):
        return markdown
    from ..lists.export import _md  # the export's own escaping: a title cannot inject Markdown

    return f"# {_md(title)}" + markdown[markdown.index("\n"):]


def _with_library(rec, body: ReadingListBody, like: list[str], unlike: list[str]):
    """`reading_list(bib=...)` reads a .bib file; here the library is ids and BibTeX text, held in memory."""
    from ..ingest.bibtex import read_bibtex
    from ..lists.profile import build_profile
    from ..lists.reading import build_reading_list

    rows = [rec.resolve(pid) for pid in resolve_ids(rec, body.bib_ids)]
    outside, skipped = [], []
    if body.bibtex:
        entries, bad = read_bibtex(body.bibtex, "bibtex")
        if not entries:
            why = f"{len(bad)} entries could not be read, the first at {bad[0].source}: {bad[0].reason}" if bad \
                else "no entry found"
            raise UsageError(f"bibtex: no usable BibTeX entry ({why}); send entries with a title")
        skipped = [f"{s.source}: {s.reason}" for s in bad]
        for entry in entries:
            row = rec.find_paper(entry)
            if row is None:
                outside.append(entry)
            elif row not in rows:
                rows.append(row)
    profile = build_profile(rec, like, unlike, body.query, library=outside, library_rows=rows)
    made_from = {
        "text": profile.query.text if profile.query else None,
        "like": like,
        "unlike": unlike,
        "bib": "posted library",
        "library": {"entries": len(rows) + len(outside), "in_index": len(rows), "skipped": skipped},
    }
    return build_reading_list(rec, profile, made_from, n=body.n, diversity=body.diversity, method=body.method,
                              mode=body.mode, filters=body.filters())
