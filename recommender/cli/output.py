"""How results look in a terminal and as JSON."""
from __future__ import annotations

import json
import shutil

from ..records import Result


def authors_short(authors: list[str], truncated: bool = False, limit: int = 2) -> str:
    if not authors:
        return ""
    shown = ", ".join(a.split()[-1] if len(authors) > 1 else a for a in authors[:limit])
    return shown + (" et al." if len(authors) > limit or truncated else "")


def results_table(results: list[Result]) -> str:
    if not results:
        return "no results"
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    author_width = 24
    title_width = max(20, width - (4 + 7 + 6 + author_width + 4))
    lines = [f"{'#':>3} {'score':>6} {'year':>4}  {'title':<{title_width}} authors"]
    for r in results:
        title = r.paper.title if len(r.paper.title) <= title_width else r.paper.title[: title_width - 1] + "…"
        year = str(r.paper.year) if r.paper.year else "–"
        lines.append(
            f"{r.rank:>3} {r.score:>6.3f} {year:>4}  {title:<{title_width}} "
            f"{authors_short(r.paper.authors, r.paper.authors_truncated)[:author_width]}"
        )
    return "\n".join(lines)


def results_json(query, results: list[Result], **extra) -> str:
    return json.dumps({"query": query, **extra, "results": [r.to_dict() for r in results]}, ensure_ascii=False)
