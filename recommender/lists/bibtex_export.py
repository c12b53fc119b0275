r"""BibTeX entries ready to paste into a LaTeX bibliography.

Each entry has a key: the user's own citation key when the paper came from their library
(`Paper.key`), else one made of the first author's surname, the year and the first word of the title
that is not a stop word; keys are unique in one export (BibTeX compares them ignoring case). Then the
title in double braces (BibTeX keeps its capitals), the authors joined by "and" ("and others" when the
source cut the list), the year, and every identifier known: arXiv id (eprint, archivePrefix,
primaryClass), DOI, URL.

The file is UTF-8: letters of every script stay as they are, which Biber and BibTeX with LaTeX's UTF-8
input (the default since 2018) read. LaTeX's special characters are escaped; BibTeX counts a brace
even after a backslash, so a brace without its partner is written \textbraceleft{} / \textbraceright{}
and no field can unbalance its entry and spill into the next.
"""
from __future__ import annotations

import re

from ..records import Paper

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LONE_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_KEY_STOP = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "via", "from", "towards", "toward", "is"}
# What a citation key may hold in both BibTeX and Biber: no space, comma, brace, quote, parenthesis, # % ~ = or \\.
_VALID_KEY = re.compile(r"^[^\s,{}()\"'#%~=\\]+$")


def latex_escape(text: str) -> str:
    """Plain text (Unicode) as LaTeX: its special characters escaped; every other character kept."""
    text = " ".join((text or "").split())
    lone = _unmatched_braces(text)
    return "".join(_LONE_BRACE[ch] if at in lone else _SPECIAL.get(ch, ch) for at, ch in enumerate(text))


def _unmatched_braces(text: str) -> set[int]:
    """Positions of the braces that have no partner. Paired ones become \\{ \\} (read back as braces by
    every BibTeX reader); a lone one would close or open the field early, so it becomes a command."""
    opened: list[int] = []
    lone: set[int] = set()
    for at, ch in enumerate(text):
        if ch == "{":
            opened.append(at)
        elif ch == "}":
            if opened:
                opened.pop()
            else:
                lone.add(at)
    return lone | set(opened)


def verbatim(text: str) -> str:
    """A field BibTeX styles print as is (doi, eprint, url): braces percent-encoded, as in a URL, so the
    entry stays balanced; no whitespace."""
    return "".join((text or "").split()).replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


def _ascii_word(text: str) -> str:
    from unicodedata import combining, normalize

    return re.sub(r"[^a-z0-9]", "", "".join(c for c in normalize("NFKD", text) if not combining(c)).lower())


def user_key(paper: Paper) -> str | None:
    """The citation key the user's own library gave the paper, when it is one BibTeX can hold."""
    key = (paper.key or "").strip()
    return key if key and _VALID_KEY.match(key) else None


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
        fields += [("eprint", verbatim(paper.arxiv_id)), ("archivePrefix", "arXiv")]
        if paper.categories and "." in paper.categories[0]:
            fields.append(("primaryClass", verbatim(paper.categories[0])))
    if paper.doi:
        fields.append(("doi", verbatim(paper.doi)))
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None)
    if url:  # verbatim, as the url package and biblatex read it
        fields.append(("url", verbatim(url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def comment(text: str) -> str:
    """A line BibTeX ignores (text outside entries), with no '@' that could start one."""
    return "% " + " ".join(text.replace("@", " at ").split())


def unique_keys(papers: list[Paper]) -> list[str]:
    """One key per paper, all different ignoring case. A paper from the user's library keeps its own key
    (the first of several papers that share one keeps it); a made-up key never takes one of the user's,
    and a clash gets a, b, ... appended."""
    reserved = {key.casefold() for key in map(user_key, papers) if key}
    used: set[str] = set()
    keys = []
    for paper in papers:
        own = user_key(paper)
        if own and own.casefold() not in used:
            key = own
        else:
            base, suffix = own or citation_key(paper), 0
            key = base
            while key.casefold() in used or (key.casefold() in reserved and key != own):
                suffix += 1
                key = f"{base}{chr(ord('a') + suffix - 1) if suffix <= 26 else suffix}"
        used.add(key.casefold())
        keys.append(key)
    return keys


def to_bibtex(papers: list[Paper], headings: dict[int, str] | None = None) -> str:
    """Entries for the papers, in order, with unique keys (`unique_keys`);
    `headings[i]`: a comment line to put before the i-th entry (a theme's name)."""
    headings = headings or {}
    entries = []
    for i, (paper, key) in enumerate(zip(papers, unique_keys(papers))):
        entry = bibtex_entry(paper, key)
        entries.append(f"{comment(headings[i])}\n{entry}" if i in headings else entry)
    return "\n\n".join(entries) + ("\n" if entries else "")
