"""A picture as one plain record: what the page's canvas, the HTML file and the PNG/SVG files all draw.

Colours are decided here, once (by year, on a fixed ramp), so the three drawings agree.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# A colour-blind-safe ramp from old (purple) to new (yellow): viridis at six stops.
YEAR_RAMP = ("#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725")
UNKNOWN_YEAR = "#9aa0a6"


@dataclass
class Scene:
    kind: str  # "neighbourhood" | "collection"
    title: str
    x: list[float]
    y: list[float]
    color: list[int]  # index into palette
    size: list[float]  # radius in CSS pixels at zoom 1
    palette: list[str]
    legend: list[dict]  # [{"label", "color"}]
    ids: list[str] | None = None  # None on a big collection: the page asks for a point's paper when it needs it
    titles: list[str] | None = None
    years: list[int | None] | None = None
    edges: list[list[float]] = field(default_factory=list)  # [i, j, similarity]
    labels: list[dict] = field(default_factory=list)  # [{"x", "y", "text"}]: themes of the collection map
    highlight: list[int] = field(default_factory=list)  # rows drawn ringed (the query's results)
    reading: list[int] = field(default_factory=list)  # rows drawn as squares (the reading list)
    center: int | None = None  # the neighbourhood's paper
    note: str = ""  # how to read it: threshold, layout, what is highlighted

    def to_dict(self) -> dict:
        return asdict(self)


def year_colours(years: list[int | None]) -> tuple[list[int], list[str], list[dict]]:
    """(palette index per point, palette, legend): the years split into at most six equal spans."""
    known = [y for y in years if y]
    palette = list(YEAR_RAMP) + [UNKNOWN_YEAR]
    if not known:
        return [len(YEAR_RAMP)] * len(years), palette, [{"label": "year unknown", "color": UNKNOWN_YEAR}]
    low, high = min(known), max(known)
    steps = min(len(YEAR_RAMP), high - low + 1)
    width = (high - low + 1) / steps

    def bucket(year: int) -> int:
        return min(int((year - low) / width), steps - 1)

    legend = []
    for b in range(steps):
        first, last = low + int(round(b * width)), low + int(round((b + 1) * width)) - 1
        legend.append({"label": str(first) if first >= last else f"{first}–{last}", "color": YEAR_RAMP[b]})
    if len(known) < len(years):
        legend.append({"label": "year unknown", "color": UNKNOWN_YEAR})
    return [bucket(y) if y else len(YEAR_RAMP) for y in years], palette, legend
