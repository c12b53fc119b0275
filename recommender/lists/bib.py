"""A user's library (.bib) as a seed set: which of its papers the index holds, and which it does not.

An entry is the index's paper when they share an id, a citation key, an arXiv id (any version), a DOI
or a normalised title: the reference rule of every verb (`recommender.refs`, `Recommender.find_paper`). Those
papers are seeds by their stored vectors and are never recommended back; the other entries are seeds
embedded from their title and abstract.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..ingest import read_corpus
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
    library = Library(path, skipped=[f"{s.source}: {s.reason}" for s in report.skipped])
    for entry in report.papers:
        row = rec.find_paper(entry)
        if row is None:
            library.outside.append(entry)
        else:
            library.in_index.setdefault(row, entry)
    return library
