"""Results as a person reads them in a terminal: one table and one rule for ids, authors and titles, shared by
`search`, `similar`, `recommend` and `reading-list` (the lists' `table` format)."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from .records import Paper, Result

NO_ABSTRACT_MARK = "*"
NO_ABSTRACT_NOTE = f"{NO_ABSTRACT_MARK} no abstract: matched on its title alone"
AUTHORS_SHOWN = 2
AUTHORS_WIDTH = 28  # the authors column at most, on a terminal (a third of what the title and authors share)
MIN_TITLE_WIDTH = 20
# Name particles that belong to the surname when written in lower case ("van der Waals"; but "Da Yu" is a given
# name and a surname), and suffixes that are not one ("Jr.").
PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "la", "le",
                       "ter", "ten", "bin", "ibn", "al", "el"})
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def surname(name: str) -> str:
    """'S Ashwin Hebbar' -> 'Hebbar', 'Johannes van der Waals' -> 'van der Waals', 'Da Yu' -> 'Yu',
    'Hayase, Jonathan' -> 'Hayase'."""
    name = " ".join(name.split())
    if "," in name:
        return name.split(",")[0].strip()
    parts = name.split(" ")
    if len(parts) > 1 and parts[-1].lower().rstrip(".") in SUFFIXES:
        parts = parts[:-1]
    start = len(parts) - 1
    while start > 0 and parts[start - 1] in PARTICLES:
        start -= 1
    return " ".join(parts[start:])


def authors_short(paper: Paper, limit: int = AUTHORS_SHOWN) -> str:
    """The rule of every table: the first `limit` surnames, then "et al." when there are more (or the source cut
    the list). Full names are for documents: Markdown, BibTeX, CSV and JSON."""
    names = [surname(a) for a in paper.authors[:limit] if a.strip()]
    more = len(paper.authors) > limit or paper.authors_truncated
    return ", ".join(names) + (" et al." if more and names else "")


def authors_cell(paper: Paper, width: int | None) -> str:
    """authors_short, with one surname fewer when two do not fit the column, cut only when one does not."""
    text = authors_short(paper)
    if width is not None and len(text) > width:
        text = clip(authors_short(paper, limit=1), width)
    return text


def clip(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: max(1, width - 1)] + "…"


def why_line(result: Result) -> str:
    """`result.why` in one line: each retriever's rank, the shared words, the closest query or seed."""
    why = result.why or {}
    ranks = why.get("ranks") or {}
    parts = []
    unranked = why.get("unranked") or {}
    if ranks:
        parts.append(", ".join(f"{name} #{rank}" if rank else f"{name}: {unranked.get(name, 'not in its run')}"
                               for name, rank in ranks.items()))
    words = why.get("shared_words")
    if words is not None:
        parts.append(f"shares: {', '.join(words)}" if words else "no shared words (close in meaning only)")
    closest = why.get("closest_to")
    if closest:
        label = clip(" ".join(str(closest.get("label") or closest.get("id") or "").split()), 60)
        cosine = f" (cosine {closest['cosine']:.2f})" if closest.get("cosine") is not None else ""
        if closest.get("kind") == "query":
            label = f'the query "{label}"'
        elif closest.get("kind") == "library":
            label = f'"{label}" (your library)'
        else:
            label = f'"{label}"'
        parts.append(f"closest to {label}{cosine}")
    return "why: " + ("; ".join(parts) if parts else "no explanation recorded")


@dataclass
class Section:
    """A run of results under an optional heading (a reading list's theme)."""

    heading: str | None
    results: list[Result] = field(default_factory=list)


def results_table(sections: list[Section] | list[Result], *, width: int | None = None, legend: str | None = None,
                  number_by_position: bool = False, why: bool = False) -> str:
    """The table: rank (or reading position), score, year, id, a mark for papers without an abstract, title,
    authors; a reason under a paper when it has one, and with `why` its why_line; a legend line saying what the
    score is.
    width: cut titles (and authors) to fit this many columns; None cuts nothing (output that is not a terminal)."""
    if sections and isinstance(sections[0], Result):
        sections = [Section(None, list(sections))]
    rows = [r for s in sections for r in s.results]
    if not rows:
        return "no results"
    authors = [authors_short(r.paper) for r in rows]
    id_width = max(2, *(len(r.paper.id) for r in rows))
    author_width = max(len("authors"), *(len(a) for a in authors))
    # Rank, score, year, id and the no-abstract mark, with the gaps between them, come before the title.
    before_title = 3 + 2 + 7 + 2 + 4 + 2 + id_width + 2 + 2
    title_width = max(len("title"), *(len(r.paper.title) for r in rows))
    if width is not None:
        author_width = min(author_width, AUTHORS_WIDTH, max(10, (width - before_title) // 3))
        title_width = min(title_width, max(MIN_TITLE_WIDTH, width - before_title - 2 - author_width))
    lines = [f"{'#':>3}  {'score':>7}  {'year':>4}  {'id':<{id_width}}    {'title':<{title_width}}  authors"]
    reason_indent = " " * before_title
    position = 0
    for section in sections:
        if section.heading:
            lines.append(f"-- {section.heading}")
        for r in section.results:
            position += 1
            p = r.paper
            mark = NO_ABSTRACT_MARK if not p.abstract.strip() else " "
            lines.append(
                f"{position if number_by_position else r.rank:>3}  {r.score:>7.3f}  {p.year or '–':>4}  "
                f"{p.id:<{id_width}}  {mark} {clip(p.title, title_width):<{title_width}}  "
                f"{authors_cell(p, None if width is None else author_width)}".rstrip())
            notes_under = ([r.reason] if r.reason else []) + ([why_line(r)] if why else [])
            for note in notes_under:  # wrapped, not cut: the end (the shared terms) is the useful part
                if width is None:
                    lines.append(reason_indent + note)
                else:
                    lines.extend(textwrap.wrap(note, max(width, before_title + MIN_TITLE_WIDTH),
                                               initial_indent=reason_indent, subsequent_indent=reason_indent + "  "))
    notes = [legend] if legend else []
    if any(not r.paper.abstract.strip() for r in rows):
        notes.append(NO_ABSTRACT_NOTE)
    if notes:
        lines.append("; ".join(notes))
    return "\n".join(lines)
