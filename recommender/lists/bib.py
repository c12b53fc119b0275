"""A user's library (.bib) as a seed set: which of its papers the index holds, and which it does not.

An entry is the index's paper when they share an id, an arXiv id, a DOI or a normalised title. Those
papers are seeds by their stored vectors and are never recommended back; the other entries are seeds
embedded from their title and abstract.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import InputError
from ..ingest import normalise_arxiv_id, normalise_doi, normalise_title, read_corpus
from ..records import Paper


@dataclass
class Library:
    path: Path
    in_index: dict[int, Paper] = field(default_factory=dict)  # index row -> the library's entry
    outside: list[Paper] = field(default_factory=list)  # entries the index does not hold
    skipped: list[str] = field(default_factory=list)  # "file:line: why" of unreadable entries

    @property
    def rows(self) -> list[int]:
        return list(self.in_index)

    def __len__(self) -> int:
        return len(self.in_index) + len(self.outside)


class IndexKeys:
    """The index's papers by every key a .bib entry may share with them."""

    def __init__(self, rec):
        self.rec = rec

    @cached_property
    def maps(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        arxiv, doi, title = {}, {}, {}
        for row, paper in enumerate(self.rec.papers):
            if paper.arxiv_id:
                arxiv.setdefault(normalise_arxiv_id(paper.arxiv_id) or paper.arxiv_id, row)
            if paper.doi:
                doi.setdefault(normalise_doi(paper.doi) or paper.doi.lower(), row)
            if paper.title:
                title.setdefault(normalise_title(paper.title), row)
        return arxiv, doi, title

    def find(self, entry: Paper) -> int | None:
        if entry.id in self.rec.row_of_id:
            return self.rec.row_of_id[entry.id]
        arxiv, doi, title = self.maps
        if entry.arxiv_id and entry.arxiv_id in arxiv:
            return arxiv[entry.arxiv_id]
        if entry.doi and entry.doi in doi:
            return doi[entry.doi]
        return title.get(normalise_title(entry.title)) if entry.title else None


def _no_usable_entry(path: Path, message: str) -> InputError:
    found = re.search(r"\((\d+ record\(s\) skipped.*?|no record found)\)", message)
    detail = found.group(1) if found else message
    return InputError(f"{path}: no usable BibTeX entry ({detail}); the library needs entries with a title")


def read_library(rec, path: str | Path) -> Library:
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such library file; give a .bib file (Zotero, JabRef, Google Scholar export)")
    try:
        report = read_corpus([path], format="bibtex")
    except InputError as exc:
        if "no paper could be read" in str(exc):
            raise _no_usable_entry(path, str(exc)) from exc
        raise
    keys = IndexKeys(rec)
    library = Library(path, skipped=[f"{s.source}: {s.reason}" for s in report.skipped])
    for entry in report.papers:
        row = keys.find(entry)
        if row is None:
            library.outside.append(entry)
        else:
            library.in_index.setdefault(row, entry)
    return library
