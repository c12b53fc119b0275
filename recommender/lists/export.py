"""A reading list (or a plain list of results) as Markdown, BibTeX, JSON, CSV or a terminal table.

Every field comes from a corpus, and a corpus may come from anyone: each format keeps a field a field.
CSV neutralises cells a spreadsheet would run as a formula; Markdown escapes every field it prints
and links only http(s) addresses; BibTeX keeps braces balanced (bibtex_export.py).
"""
from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote

from ..display import Section, results_table
from ..errors import UsageError
from ..records import Paper, Result
from .bibtex_export import to_bibtex
from .model import ReadingList, Theme

FORMATS = ("table", "markdown", "bibtex", "json", "csv")
CSV_COLUMNS = ("position", "theme", "rank", "score", "id", "title", "authors", "year", "arxiv_id", "doi", "url", "reason")


def check_format(fmt: str | None) -> str:
    fmt = (fmt or "table").lower()
    if fmt == "md":
        fmt = "markdown"
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def _as_list(items: ReadingList | list[Result]) -> ReadingList:
    """A plain result list as a reading list of one unnamed theme, so every format handles both."""
    if isinstance(items, ReadingList):
        return items
    return ReadingList({}, [Theme("", [], list(items))] if items else [])


def export(items: ReadingList | list[Result], fmt: str) -> str:
    fmt = check_format(fmt)
    if fmt == "json" and not isinstance(items, ReadingList):
        return json.dumps({"results": [r.to_dict() for r in items]}, ensure_ascii=False, indent=2)
    if fmt == "markdown":
        return to_markdown(_as_list(items), "Reading list" if isinstance(items, ReadingList) else "Recommended papers")
    return {"table": to_table, "bibtex": _bibtex, "json": _json, "csv": to_csv}[fmt](_as_list(items))


def _json(reading: ReadingList) -> str:
    return json.dumps(reading.to_dict(), ensure_ascii=False, indent=2)


def _bibtex(reading: ReadingList) -> str:
    papers, headings = [], {}
    for theme in reading.themes:
        if theme.name:
            headings[len(papers)] = f"Theme: {theme.name}"
        papers.extend(item.paper for item in theme.items)
    return to_bibtex(papers, headings)


def authors_line(paper: Paper, limit: int = 3) -> str:
    names = paper.authors[:limit]
    more = len(paper.authors) > limit or paper.authors_truncated
    return ", ".join(names) + (" et al." if more and names else "")


def link(paper: Paper) -> str:
    """Markdown link to the paper: arXiv, then DOI, then its URL; its id when nothing is known.
    Labels are escaped text, targets percent-encoded, a URL only an http(s) autolink: no field can end the
    link or start markup."""
    if paper.arxiv_id:
        return f"[arXiv:{_md(paper.arxiv_id)}](https://arxiv.org/abs/{_url_part(paper.arxiv_id)})"
    if paper.doi:
        return f"[doi:{_md(paper.doi)}](https://doi.org/{_url_part(paper.doi)})"
    if paper.url and _WEB_URL.match(paper.url.strip()):
        return f"<{paper.url.strip()}>"  # an autolink: its text is taken literally, never as markup
    return f"id {_code(paper.id)}"


_WEB_URL = re.compile(r"^https?://[^\s<>\\`\x00-\x1f\x7f]+$", re.I)  # what a CommonMark autolink may hold


def _url_part(text: str) -> str:
    """An identifier as one stretch of a URL path (a DOI keeps its slashes)."""
    return quote(" ".join(text.split()), safe="/:;=+,@-._~")


def _code(text: str) -> str:
    """A code span that holds `text` whatever backticks it contains (CommonMark: a longer fence, padded)."""
    text = " ".join((text or "").split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}"


# With [ ] escaped no link can form (so "(", ")" and "!" need nothing); "~" would start a strike-through.
_MD_SPECIAL = set("\\`*_[]<>#|~")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&lt;" would be read as "<": escaped; a plain "&" is text


def _md(text) -> str:
    """Text with every character that Markdown (CommonMark, GFM) may read as markup or HTML escaped."""
    text = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in " ".join(str(text or "").split()))
    return _ENTITY.sub(r"\\&", text)


def to_markdown(reading: ReadingList, heading: str = "Reading list") -> str:
    items = reading.items
    named = [t for t in reading.themes if t.name]
    lines = [f"# {heading}: {_md(reading.title)}" if reading.title else f"# {heading}", ""]
    if named:
        lines += [f"{len(items)} papers in {len(named)} theme{'s' * (len(named) != 1)}, in reading order: "
                  "themes by relevance; in each, its most central paper first, then from the oldest to the newest.", ""]
    position = 0
    for number, theme in enumerate(reading.themes, 1):
        if theme.name:
            lines += [f"## {number}. {_md(theme.name)}", "", f"*Characteristic terms: {_md(', '.join(theme.terms))}*", ""]
        for item in theme.items:
            position += 1
            p = item.paper
            who = _md(authors_line(p)) or "unknown authors"
            year = f" ({_md(p.year)})" if p.year else ""
            marker = f"{position}. "
            stop = "" if p.title.rstrip()[-1:] in ".?!" else "."
            lines.append(f"{marker}**{_md(p.title)}**{stop} {who}{year}. {link(p)}")
            if item.reason:  # indented under the item's text, so Markdown keeps it in the list item
                lines.append(f"{' ' * len(marker)}*Why:* {_md(item.reason)}")
        lines.append("")
    if not items:
        lines.append("No paper matched.")
    return "\n".join(lines).rstrip() + "\n"


# OWASP, CSV injection: a cell that starts with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A text cell a spreadsheet shows as text, on one line: one that starts like a formula gets a leading
    apostrophe (OWASP's advice). Numbers we computed (rank, score, year) stay numbers."""
    if not isinstance(value, str):
        return value
    value = " ".join(value.split())  # a lone CR would end the row for some readers
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(reading: ReadingList) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    position = 0
    for theme in reading.themes:
        for item in theme.items:
            position += 1
            p = item.paper
            row = {"position": position, "theme": theme.name, "rank": item.rank, "score": round(item.score, 6),
                   "id": p.id, "title": p.title, "authors": "; ".join(p.authors), "year": p.year or "",
                   "arxiv_id": p.arxiv_id or "", "doi": p.doi or "", "url": p.url or "", "reason": item.reason or ""}
            writer.writerow({name: csv_cell(value) for name, value in row.items()})
    return out.getvalue()


def to_table(reading: ReadingList, *, width: int | None = None, legend: str | None = None, why: bool = False) -> str:
    """The terminal table of every command (`recommender.display`): themes as headings, papers numbered in reading
    order. width: cut titles to fit (None: cut nothing); legend: the line that says what the score is."""
    sections = [Section(f"theme {number}: {theme.name}" if theme.name else None, theme.items)
                for number, theme in enumerate(reading.themes, 1)]
    return results_table(sections, width=width, legend=legend, number_by_position=True, why=why)
