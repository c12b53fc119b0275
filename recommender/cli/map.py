"""`recommender map`: the neighbourhood of a paper, or the map of the collection, as an HTML, PNG or SVG file."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .app import app, want_json
from .core import IndexOption, open_index

QUERY_RESULTS = 20  # papers of a --query ringed on the collection map


@app.command(name="map")
def map_command(
    paper: Optional[str] = typer.Argument(None, help="Draw this paper's neighbourhood (id, arXiv id, DOI or title)."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="Draw the collection map with this query's results ringed."),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write: map.html, map.png or map.svg."),
    index: str = IndexOption,
    k: int = typer.Option(30, "-k", "--k", min=5, max=60, help="Neighbours around the paper (neighbourhood only)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
):
    """Draw a paper's neighbourhood, or the collection map, into an HTML, PNG or SVG file.

    PAPER: its 30 nearest papers and the lines between the most similar. No PAPER: every paper of the index at its
    place on the map, --query's best results ringed. Drawn by the code that draws the web page's pictures."""
    want_json(as_json)
    from ..errors import InputError, UsageError
    from ..maps.draw import format_of, render

    if paper and query:
        raise UsageError("give either a PAPER (its neighbourhood) or --query TEXT (the collection map), not both")
    if query is not None and not query.strip():
        raise UsageError("--query is empty: give some words, or leave it out for the whole collection")
    fmt = format_of(output)
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give a file name ending in .html, .png or .svg")
    rec = open_index(index)
    if paper:
        from ..maps.neighbourhood import neighbourhood_scene

        scene = neighbourhood_scene(rec, paper, k)
    else:
        from ..maps.collection import collection_scene

        ids = [r.paper.id for r in rec.search(query, QUERY_RESULTS)] if query else []
        title = f"Map of the collection: the {len(ids)} best results for “{query}” ringed" if query else None
        scene = collection_scene(rec, highlight_ids=ids, title=title)
    data = render(scene, fmt)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InputError(f"{output}: cannot write the picture ({exc.strerror or type(exc).__name__})") from exc
    if as_json:
        print(json.dumps({"output": str(output), "format": fmt, "kind": scene.kind, "points": len(scene.x),
                          "edges": len(scene.edges), "highlighted": len(scene.highlight), "bytes": len(data)}))
    print(f"wrote {output} ({scene.kind}, {len(scene.x):,} papers)", file=sys.stderr)
