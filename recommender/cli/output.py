"""How results look in a terminal and as JSON: the table's width and the line that says what the score is."""
from __future__ import annotations

import json
import os
import shutil
import sys

from ..display import Section, results_table
from ..records import Result

def score_legend(mode: str, target: str = "the query") -> str:
    """What the score column means for results ranked in `mode` against `target`."""
    if mode == "dense":
        return f"score: cosine similarity to {target} (1 = the same direction, 0 = unrelated)"
    if mode == "lexical":
        return f"score: BM25 of {target}'s words (higher = more rare words shared; no upper bound)"
    return (f"score: mean of the z-scored BM25 and cosine scores against {target}, among each one's top 1,000 "
            "(0 = an average candidate, 2 stands out)")


def table_width() -> int | None:
    """Titles are cut to the terminal's width ($COLUMNS when set); printed to a pipe or a file, nothing is cut."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def results_text(results: list[Result] | list[Section], legend: str | None, **options) -> str:
    return results_table(results, width=table_width(), legend=legend, **options)


def results_json(query, results: list[Result], **extra) -> str:
    return json.dumps({"query": query, **extra, "results": [r.to_dict() for r in results]}, ensure_ascii=False)
