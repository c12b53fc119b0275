"""`--why`: the table with one more line under each result saying why it is there (Result.why).

    3  1.640 2022  Learning to Generate Image Embeddings with User-level …  Xu, Collins et al.
       why: dense #6, lexical #2; shares: privacy, learning; closest to the query "privacy in machine learning" (cosine 0.57)

`--json` always carries the same as a `why` object (search.why describes its fields).
"""
from __future__ import annotations

import shutil
import textwrap

from ..records import Result

INDENT = " " * 7


def why_line(result: Result) -> str:
    """One line from `result.why`: each retriever's rank, the shared words, the closest query or seed."""
    why = result.why or {}
    ranks = why.get("ranks") or {}
    parts = []
    if ranks:
        parts.append(", ".join(f"{name} #{rank}" if rank else f"{name}: below its top 1,000"
                               for name, rank in ranks.items()))
    words = why.get("shared_words")
    if words is not None:
        parts.append(f"shares: {', '.join(words)}" if words else "no shared words (close in meaning only)")
    closest = why.get("closest_to")
    if closest:
        label = " ".join(str(closest.get("label") or closest.get("id") or "").split())
        label = label if len(label) <= 60 else label[:59] + "…"
        cosine = f" (cosine {closest['cosine']:.2f})" if closest.get("cosine") is not None else ""
        if closest.get("kind") == "query":
            label = f'the query "{label}"'
        elif closest.get("kind") == "library":
            label = f'"{label}" (your library)'
        else:
            label = f'"{label}"'
        parts.append(f"closest to {label}{cosine}")
    return "; ".join(parts) if parts else "no explanation recorded"


def _wrapped(text: str) -> list[str]:
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    return textwrap.wrap(f"why: {text}", width, initial_indent=INDENT, subsequent_indent=INDENT + "     ")


def with_why(results: list[Result], why: bool) -> str:
    """`search`/`similar`'s table, with each result's why under it when asked."""
    from .output import results_table

    table = results_table(results)
    return results_with_why(table, results) if why else table


def results_with_why(table: str, results: list[Result]) -> str:
    """A results table (one line per result after its header lines) with each result's why under it."""
    lines = table.splitlines()
    if not results or len(lines) < len(results):
        return table
    header = len(lines) - len(results)
    out = lines[:header]
    for line, result in zip(lines[header:], results):
        out.append(line)
        out.extend(_wrapped(why_line(result)))
    return "\n".join(out)


def reading_list_with_why(reading) -> str:
    """A reading list (or a plain list of recommendations) as a table, each paper with its reason and why."""
    from ..lists.export import authors_line

    items = reading.items if hasattr(reading, "themes") else list(reading)
    if not items:
        return "no results"
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    title_width = max(20, width - 40)
    lines = [f"{'#':>3} {'score':>7} {'year':>4}  {'title':<{title_width}} authors"]
    themes = reading.themes if hasattr(reading, "themes") else [None]
    position = 0
    for number, theme in enumerate(themes, 1):
        if theme is not None and theme.name:
            lines.append(f"-- theme {number}: {theme.name}")
        for item in (theme.items if theme is not None else items):
            position += 1
            p = item.paper
            title = p.title if len(p.title) <= title_width else p.title[: title_width - 1] + "…"
            lines.append(f"{position:>3} {item.score:>7.3f} {p.year or '–':>4}  {title:<{title_width}} "
                         f"{authors_line(p, 1)[:24]}")
            lines.extend(_wrapped(why_line(item)))
    return "\n".join(lines)
