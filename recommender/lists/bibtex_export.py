"""BibTeX entries ready to paste into a LaTeX bibliography.

Each entry has a key (first author's surname, year, first word of the title that is not a stop word),
the title in double braces (BibTeX keeps its capitals), the authors joined by "and" ("and others" when
the source cut the list), the year, and every identifier known: arXiv id (eprint, archivePrefix,
primaryClass), DOI, URL. Non-ASCII letters and LaTeX's special characters are escaped, so the file is
plain ASCII and compiles with BibTeX as well as Biber.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..records import Paper

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_KEY_STOP = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "via", "from", "towards", "toward", "is"}


@lru_cache(maxsize=1)
def _encoder():
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    return UnicodeToLatexEncoder(non_ascii_only=True, unknown_char_policy="unihex", replacement_latex_protection="braces-all")


def latex_escape(text: str) -> str:
    """Plain text (Unicode) as LaTeX: special characters escaped, accents as commands."""
    escaped = "".join(_SPECIAL.get(ch, ch) for ch in " ".join((text or "").split()))
    return _encoder().unicode_to_latex(escaped)


def _ascii_word(text: str) -> str:
    from unicodedata import combining, normalize

    return re.sub(r"[^a-z0-9]", "", "".join(c for c in normalize("NFKD", text) if not combining(c)).lower())


def citation_key(paper: Paper) -> str:
    surname = _ascii_word(paper.authors[0].split()[-1]) if paper.authors else ""
    words = [w for w in (_ascii_word(w) for w in paper.title.split()) if w and w not in _KEY_STOP]
    key = f"{surname or 'anon'}{paper.year or ''}{words[0] if words else ''}"
    return key or "paper"


def _entry_type(paper: Paper) -> tuple[str, list[tuple[str, str]]]:
    if paper.venue and not (paper.arxiv_id and "arxiv" in paper.venue.lower()):
        return "article", [("journal", latex_escape(paper.venue))]
    return "misc", []


def bibtex_entry(paper: Paper, key: str) -> str:
    kind, venue_fields = _entry_type(paper)
    authors = [latex_escape(a) for a in paper.authors]
    if paper.authors_truncated and authors:
        authors.append("others")
    fields: list[tuple[str, str]] = [("title", "{" + latex_escape(paper.title) + "}")]
    if authors:
        fields.append(("author", " and ".join(authors)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    fields += venue_fields
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.categories and "." in paper.categories[0]:
            fields.append(("primaryClass", paper.categories[0]))
    if paper.doi:
        fields.append(("doi", paper.doi))
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None)
    if url:  # verbatim, as the url package and biblatex read it; only braces would unbalance the entry
        fields.append(("url", url.replace("{", "%7B").replace("}", "%7D")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def comment(text: str) -> str:
    """A line BibTeX ignores (text outside entries), with no '@' that could start one."""
    return "% " + " ".join(text.replace("@", " at ").split())


def to_bibtex(papers: list[Paper], headings: dict[int, str] | None = None) -> str:
    """Entries for the papers, in order, with unique keys (a, b, ... appended on a clash);
    `headings[i]`: a comment line to put before the i-th entry (a theme's name)."""
    headings = headings or {}
    used: set[str] = set()
    entries = []
    for i, paper in enumerate(papers):
        base, suffix = citation_key(paper), 0
        key = base
        while key in used:
            suffix += 1
            key = f"{base}{chr(ord('a') + suffix - 1) if suffix <= 26 else suffix}"
        used.add(key)
        entry = bibtex_entry(paper, key)
        entries.append(f"{comment(headings[i])}\n{entry}" if i in headings else entry)
    return "\n\n".join(entries) + ("\n" if entries else "")
