"""The neighbourhood of a paper: it and its nearest papers, edges between pairs similar enough, a force layout."""
from __future__ import annotations

import numpy as np

from .scene import Scene, year_colours

NEIGHBOURS = 30
EDGE_QUANTILE = 0.85  # an edge for the most similar 15% of pairs (a fixed cosine suits no model and no field)
MIN_EDGE_SIMILARITY = 0.3
ITERATIONS = 300
SEED = 0


def neighbourhood_scene(rec, ref: str, k: int = NEIGHBOURS) -> Scene:
    """`ref`: a paper of the index (id, arXiv id, DOI or title). Its k nearest papers by the default ranking."""
    row = rec.resolve(ref)
    paper = rec.papers[row]
    results = rec.similar(paper.id, k)
    rows = [row] + [rec.row_of_id[r.paper.id] for r in results]
    vectors = np.asarray(rec.vectors[rows], dtype=np.float32)
    similarity = vectors @ vectors.T
    pairs = similarity[np.triu_indices(len(rows), 1)]
    threshold = max(float(np.quantile(pairs, EDGE_QUANTILE)) if len(pairs) else 1.0, MIN_EDGE_SIMILARITY)
    edges = [[i, j, round(float(similarity[i, j]), 3)] for i in range(len(rows)) for j in range(i + 1, len(rows))
             if similarity[i, j] >= threshold]
    degree = np.zeros(len(rows), dtype=int)
    for i, j, _ in edges:
        degree[i] += 1
        degree[j] += 1
    xy = force_layout(len(rows), edges, similarity)
    papers = [rec.papers[r] for r in rows]
    colours, palette, legend = year_colours([p.year for p in papers])
    return Scene(
        kind="neighbourhood",
        title=f"Papers around “{paper.title}”",
        x=[round(float(v), 4) for v in xy[:, 0]], y=[round(float(v), 4) for v in xy[:, 1]],
        color=colours, size=[round(4 + 2.2 * float(np.sqrt(d)), 2) for d in degree], palette=palette, legend=legend,
        ids=[p.id for p in papers], titles=[p.title for p in papers], years=[p.year for p in papers],
        edges=edges, center=0,
        note=(f"{len(rows) - 1} nearest papers; a line joins two papers whose cosine similarity is at least "
              f"{threshold:.2f} (the closest 15% of pairs); colour: year; size: how many lines a paper has"),
    )


def force_layout(n: int, edges: list[list[float]], similarity: np.ndarray | None = None,
                 iterations: int = ITERATIONS) -> np.ndarray:
    """Fruchterman–Reingold: edges pull (harder when more similar), every pair pushes; the first node stays
    at the centre. Pairs without an edge pull a little too, by their similarity, so a paper with no edge
    still sits near the papers it is closest to rather than at the edge of the frame.
    Deterministic (fixed start), O(n^2) a step: meant for tens of nodes."""
    rng = np.random.default_rng(SEED)
    pos = rng.uniform(-1, 1, size=(n, 2))
    pos[0] = 0
    if n < 2:
        return pos
    ideal = 1.0 / np.sqrt(n)
    weights = np.zeros((n, n))
    if similarity is not None:
        weights += 0.15 * np.clip(similarity, 0, 1) ** 2
        np.fill_diagonal(weights, 0)
    for i, j, w in edges:
        weights[int(i), int(j)] = weights[int(j), int(i)] = w
    temperature = 0.1
    for step in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        push = (ideal ** 2 / distance ** 2)
        pull = weights * distance / ideal
        force = ((push - pull)[:, :, None] * delta).sum(axis=1)
        force -= 0.05 * pos  # a weak pull to the centre keeps unconnected papers in the frame
        length = np.maximum(np.linalg.norm(force, axis=1, keepdims=True), 1e-9)
        pos += force / length * np.minimum(length, temperature)
        pos[0] = 0
        temperature = 0.1 * (1 - step / iterations) + 1e-3
    span = max(float(np.abs(pos).max()), 1e-9)
    return pos / span
