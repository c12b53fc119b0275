"""A scene as a file: HTML (the page's own map.js, inlined: hover and click work offline), PNG or SVG (matplotlib)."""
from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

from ..errors import UsageError

LABELLED_NEIGHBOURS = 8
FORMATS = {".html": "html", ".htm": "html", ".png": "png", ".svg": "svg"}


def format_of(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"{path}: give a file name ending in .html, .png or .svg") from None


def render(scene, fmt: str) -> bytes:
    if fmt == "html":
        return to_html(scene).encode("utf-8")
    return to_image(scene, fmt)


def to_html(scene) -> str:
    static = resources.files("recommender.server") / "static"
    script = (static / "map.js").read_text(encoding="utf-8")
    data = json.dumps(scene.to_dict(), ensure_ascii=False).replace("</", "<\\/")  # no early </script>
    title = html.escape(scene.title)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #fff; color: #1d2330; }}
header {{ padding: 10px 16px; }} h1 {{ font-size: 18px; margin: 0 0 4px; }} p {{ margin: 0; color: #5b6475; }}
canvas {{ display: block; width: 100vw; height: calc(100vh - 110px); }}
#picked {{ padding: 6px 16px; min-height: 1.4em; }}
</style></head><body>
<header><h1>{title}</h1><p>{html.escape(scene.note)}</p></header>
<canvas id="map" role="img" aria-label="{title}"></canvas>
<p id="picked" aria-live="polite">Hover a point for its title; drag to move, wheel to zoom.</p>
<script>{script}</script>
<script id="scene" type="application/json">{data}</script>
<script>
"use strict";
const scene = JSON.parse(document.getElementById("scene").textContent);
const picked = document.getElementById("picked");
const link = (id) => /^(\\d{{4}}\\.\\d{{4,5}}|[a-z-]+\\/\\d{{7}})(v\\d+)?$/i.test(id) ? "https://arxiv.org/abs/" + id : null;
new MapView(document.getElementById("map"), scene, {{
  hover: (i) => {{ picked.textContent = i === null ? "" : `${{scene.titles[i]}}${{scene.years && scene.years[i] ? " (" + scene.years[i] + ")" : ""}}`; }},
  click: (i) => {{ const url = link(scene.ids[i]); if (url) window.open(url, "_blank", "noopener"); }},
}});
</script>
</body></html>
"""


def to_image(scene, fmt: str) -> bytes:
    try:
        import matplotlib
    except ImportError as exc:
        raise UsageError("PNG and SVG maps need matplotlib: pip install 'recommender[map]' (or write .html)") from exc
    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    n = len(scene.x)
    fig, ax = plt.subplots(figsize=(10, 8), dpi=150)
    ax.set_axis_off()
    ax.set_aspect("equal")
    for i, j, _ in scene.edges:
        ax.plot([scene.x[int(i)], scene.x[int(j)]], [-scene.y[int(i)], -scene.y[int(j)]], color="#8a94a6", lw=0.6,
                alpha=0.6, zorder=1)
    colours = [scene.palette[c] for c in scene.color]
    small = n > 2_000
    areas = [(0.8 if small else 1.0) * (s * 1.3) ** 2 for s in scene.size]
    ax.scatter(scene.x, [-v for v in scene.y], s=areas, c=colours, linewidths=0 if small else 0.5,
               edgecolors="white", zorder=2, alpha=0.8 if small else 1.0)
    if scene.highlight:
        ax.scatter([scene.x[i] for i in scene.highlight], [-scene.y[i] for i in scene.highlight], s=90, facecolors="none",
                   edgecolors="#d62728", linewidths=1.6, zorder=3)
    if scene.reading:
        ax.scatter([scene.x[i] for i in scene.reading], [-scene.y[i] for i in scene.reading], s=110, marker="s",
                   facecolors="none", edgecolors="#111111", linewidths=1.6, zorder=3)
    if scene.center is not None:
        c = scene.center
        ax.scatter([scene.x[c]], [-scene.y[c]], s=260, facecolors="none", edgecolors="#111111", linewidths=2, zorder=3)
    if scene.kind == "neighbourhood" and scene.titles:
        for i, title in enumerate(scene.titles[:LABELLED_NEIGHBOURS + 1]):  # more would cover each other
            ax.annotate(_short(title, 38), (scene.x[i], -scene.y[i]), fontsize=6.5 if i else 8, xytext=(5, 4),
                        textcoords="offset points", color="#1d2330", zorder=4, weight="bold" if i == 0 else "normal")
    for label in scene.labels:
        ax.annotate(label["text"], (label["x"], -label["y"]), fontsize=9, ha="center", weight="bold", color="#1d2330",
                    zorder=5, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75})
    handles = [Line2D([], [], marker="o", ls="", color=entry["color"], label=entry["label"]) for entry in scene.legend]
    if scene.highlight:
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec="#d62728", label="results"))
    if scene.reading:
        handles.append(Line2D([], [], marker="s", ls="", mfc="none", mec="#111111", label="reading list"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False, title="year", title_fontsize=8)
    ax.set_title(_short(scene.title, 110), fontsize=11)
    fig.text(0.01, 0.01, scene.note, fontsize=6.5, color="#5b6475", wrap=True)
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Creator": None, "Date": None}  # the same scene, the same bytes
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(fig)
    return buffer.getvalue()


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
