"""The map of a collection: every paper at its build-time position, clusters named by their themes."""
from __future__ import annotations

import numpy as np

from ..errors import IndexLoadError, UsageError
from .layout import MAP_FILE
from .scene import Scene, year_colours

MAX_INLINE_TITLES = 20_000  # above this, ids and titles stay out of the scene (megabytes); asked for per point
SAMPLE_PER_THEME = 120  # papers read to name a cluster: its terms settle long before
MAX_THEMES = 14


def load_coordinates(rec) -> np.ndarray:
    """The layout stored by the build; UsageError when the build skipped it (the manifest says why)."""
    block = rec.manifest.get("map") or {}
    path = rec.folder / MAP_FILE
    if not path.is_file():
        why = block.get("skipped") or "the index was built before maps existed; rebuild it with `recommender build`"
        raise UsageError(f"{rec.folder}: no collection map: {why}")
    try:
        coords = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"{path}: cannot be read ({exc}); rebuild the index with `recommender build`") from exc
    if coords.shape != (len(rec), 2):
        raise IndexLoadError(f"{path}: shape {coords.shape} does not match {len(rec)} papers; rebuild the index")
    return coords


def collection_scene(rec, *, highlight_ids: list[str] = (), reading_ids: list[str] = (), title: str | None = None) -> Scene:
    coords = load_coordinates(rec)
    n = len(coords)
    papers = rec.papers
    years = [p.year for p in papers]
    colours, palette, legend = year_colours(years)
    inline = n <= MAX_INLINE_TITLES
    return Scene(
        kind="collection",
        title=title or f"Map of the collection ({n:,} papers)",
        x=[round(float(v), 4) for v in coords[:, 0]], y=[round(float(v), 4) for v in coords[:, 1]],
        color=colours, size=[point_radius(n)] * n, palette=palette, legend=legend,
        ids=[p.id for p in papers] if inline else None, titles=[p.title for p in papers] if inline else None,
        years=years if inline else None,
        labels=theme_labels(rec, coords),
        highlight=rows_of(rec, highlight_ids), reading=rows_of(rec, reading_ids),
        note=f"{(rec.manifest.get('map') or {}).get('method', 't-SNE')} of the paper vectors; colour: year; "
             "labels: the characteristic terms of each region",
    )


def point_radius(n: int) -> float:
    return 5.0 if n <= 1_000 else 3.5 if n <= 10_000 else 2.0


def rows_of(rec, ids) -> list[int]:
    """Rows of the papers `ids` names exactly; a reference that names none is left out (the page's stale marks)."""
    rows = (rec.find(pid) for pid in ids)
    return list(dict.fromkeys(int(row) for row in rows if row is not None))


def theme_labels(rec, coords: np.ndarray) -> list[dict]:
    """Regions of the map (k-means on the 2D positions, so a label sits on a blob one sees), each named by
    the terms that set its papers apart (the reading lists' c-TF-IDF)."""
    n = len(coords)
    k = int(min(MAX_THEMES, max(1, round(np.sqrt(n) / 3))))
    if n < 4 or k < 2:
        return []
    from sklearn.cluster import KMeans

    from ..lists.terms import Vocabulary
    from ..lists.themes import characteristic_terms

    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(coords)
    rng = np.random.default_rng(0)
    sample_rows, sample_labels = [], []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) > SAMPLE_PER_THEME:
            members = np.sort(rng.choice(members, SAMPLE_PER_THEME, replace=False))
        sample_rows += members.tolist()
        sample_labels += [c] * len(members)
    vocab = Vocabulary([rec.papers[int(r)].text for r in sample_rows])
    terms = characteristic_terms(vocab, np.array(sample_labels))
    out = []
    for c in range(k):
        members = labels == c
        if not terms[c] or members.sum() < 3:
            continue
        centre = np.median(coords[members], axis=0)
        out.append({"x": round(float(centre[0]), 4), "y": round(float(centre[1]), 4), "text": ", ".join(terms[c][:2]),
                    "papers": int(members.sum())})
    return out
