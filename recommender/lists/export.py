"""A reading list (or a plain list of results) as Markdown, BibTeX, JSON, CSV or a terminal table."""
from __future__ import annotations

import csv
import io
import json

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
    """Markdown link to the paper: arXiv, then DOI, then its URL; its id when nothing is known."""
    if paper.arxiv_id:
        return f"[arXiv:{paper.arxiv_id}](https://arxiv.org/abs/{paper.arxiv_id})"
    if paper.doi:
        return f"[doi:{paper.doi}](https://doi.org/{paper.doi})"
    if paper.url:
        return f"<{paper.url}>"
    return f"id `{paper.id}`"


def _md(text: str) -> str:
    """Text with Markdown's inline markup characters escaped."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in " ".join((text or "").split()))


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
            year = f" ({p.year})" if p.year else ""
            marker = f"{position}. "
            stop = "" if p.title.rstrip()[-1:] in ".?!" else "."
            lines.append(f"{marker}**{_md(p.title)}**{stop} {who}{year}. {link(p)}")
            if item.reason:  # indented under the item's text, so Markdown keeps it in the list item
                lines.append(f"{' ' * len(marker)}*Why:* {_md(item.reason)}")
        lines.append("")
    if not items:
        lines.append("No paper matched.")
    return "\n".join(lines).rstrip() + "\n"


def to_csv(reading: ReadingList) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    position = 0
    for theme in reading.themes:
        for item in theme.items:
            position += 1
            p = item.paper
            writer.writerow({"position": position, "theme": theme.name, "rank": item.rank, "score": round(item.score, 6),
                             "id": p.id, "title": p.title, "authors": "; ".join(p.authors), "year": p.year or "",
                             "arxiv_id": p.arxiv_id or "", "doi": p.doi or "", "url": p.url or "",
                             "reason": item.reason or ""})
    return out.getvalue()


def to_table(reading: ReadingList, *, width: int | None = None, legend: str | None = None) -> str:
    """The terminal table of every command (`recommender.display`): themes as headings, papers numbered in reading
    order. width: cut titles to fit (None: cut nothing); legend: the line that says what the score is."""
    sections = [Section(f"theme {number}: {theme.name}" if theme.name else None, theme.items)
                for number, theme in enumerate(reading.themes, 1)]
    return results_table(sections, width=width, legend=legend, number_by_position=True)
