"""Keeping each paper once across files, without ever merging two different papers.

Two records are one paper only with evidence from two sides:
- the same id, arXiv id or DOI, and matching titles (a preprint and its published version, the same
  paper in a .bib and in arXiv JSON Lines);
- or (title deduplication) the same normalised title, and nothing that tells them apart: abstracts
  that agree, the same year, a shared author surname, wherever both records have them.
A shared id with different titles keeps both: the later record gets the id 'ID-2' ('-3', ...); a
shared arXiv id or DOI with different titles keeps both as they are (Mendeley writes the same bogus
arXiv id on unrelated entries). Each case is reported.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict

from ..records import IngestReport, Paper, SkippedRecord
from .ids import normalise_title

# Papers with the same title are one paper only if their abstracts agree: most words of the shorter
# abstract appear in the longer one (a truncated copy still agrees). Generic titles ("Summary",
# "Documentation") name different papers in real corpora (SciFact, CISI): there at most 0.64 of the
# words are shared, against 0.9-1.0 for the true duplicates in CSFCube and CISI.
SAME_ABSTRACT_OVERLAP = 0.8
# Titles of one paper under one id differ by case, punctuation, LaTeX braces, a repeated prefix
# ("BRAIN NETWORKS. Correlated gene expression ... in brain networks", Mendeley) or a word: most words
# of the longer title are in the other. Counting against the shorter one would make "Trauma" the title
# of "The use of the reverse shock index to identify high-risk trauma patients ..." (one real library
# gives both the key RN111).
SAME_TITLE_OVERLAP = 0.8


def _overlap(a: str, b: str, share: float, of_longer: bool = False) -> bool | None:
    words_a, words_b = set(normalise_title(a).split()), set(normalise_title(b).split())
    if not words_a or not words_b:
        return None
    base = max(len(words_a), len(words_b)) if of_longer else min(len(words_a), len(words_b))
    return len(words_a & words_b) >= share * base


def same_title(a: Paper, b: Paper) -> bool:
    return bool(_overlap(a.title, b.title, SAME_TITLE_OVERLAP, of_longer=True))


def _surnames(paper: Paper) -> set[str]:
    names = (name.split()[-1] for name in paper.authors if name.split())
    return {"".join(c for c in unicodedata.normalize("NFKD", n.lower()) if c.isalnum()) for n in names}


def same_work(a: Paper, b: Paper) -> bool:
    """Whether two papers with the same normalised title are one paper: nothing tells them apart."""
    if _overlap(a.abstract, b.abstract, SAME_ABSTRACT_OVERLAP) is False:
        return False
    if a.year is not None and b.year is not None and a.year != b.year:
        return False
    surnames_a, surnames_b = _surnames(a), _surnames(b)
    return not (surnames_a and surnames_b and not surnames_a & surnames_b)


class Merger:
    """Adds papers to a report one by one, keeping the first of each duplicate."""

    def __init__(self, report: IngestReport, dedup_titles: bool = True):
        self.report = report
        self.dedup_titles = dedup_titles
        self.by_id: dict[str, Paper] = {}
        self.by_alias: dict[tuple[str, str], list[Paper]] = defaultdict(list)
        self.by_title: dict[str, list[Paper]] = defaultdict(list)

    def add(self, paper: Paper) -> None:
        kept = self.by_id.get(paper.id)
        if kept is not None and same_title(kept, paper):
            return self._duplicate(paper, kept, "same id and title")
        for kind, value in (("arXiv id", paper.arxiv_id), ("DOI", paper.doi)):
            others = self.by_alias.get((kind, value), []) if value else []
            same = next((other for other in others if same_title(other, paper)), None)
            if same is not None:
                return self._duplicate(paper, same, f"same {kind} {value} and title")
        title_key = normalise_title(paper.title)
        if self.dedup_titles and title_key:
            same = next((other for other in self.by_title.get(title_key, []) if same_work(other, paper)), None)
            if same is not None:
                return self._duplicate(paper, same, "same title" + (" and abstract" if same.abstract and paper.abstract
                                                                    else ""))
        if kept is not None:
            self._rename(paper, kept)
        for kind, value in (("arXiv id", paper.arxiv_id), ("DOI", paper.doi)):
            others = self.by_alias.get((kind, value), []) if value else []
            if others:
                self._warn(paper, f"shares the {kind} {value} with '{others[0].id}' ({others[0].source}) but not its "
                                  "title: both kept; check that record's identifiers")
        self.by_id[paper.id] = paper
        for kind, value in (("arXiv id", paper.arxiv_id), ("DOI", paper.doi)):
            if value:
                self.by_alias[(kind, value)].append(paper)
        self.by_title[title_key].append(paper)
        self.report.papers.append(paper)

    def _rename(self, paper: Paper, kept: Paper) -> None:
        number = 2
        while f"{paper.id}-{number}" in self.by_id:
            number += 1
        old, paper.id = paper.id, f"{paper.id}-{number}"
        self._warn(paper, f"id '{old}' is already the id of another title ({kept.source}); this paper is kept "
                          f"as '{paper.id}'")

    def _duplicate(self, paper: Paper, kept: Paper, why: str) -> None:
        added = self._absorb(kept, paper)
        self.report.duplicates.append(SkippedRecord(
            paper.source or "", f"duplicate of '{kept.id}' from {kept.source} ({why}); the first one is kept"
                                + (f", with this record's {' and '.join(added)}" if added else "")))

    def _absorb(self, kept: Paper, paper: Paper) -> list[str]:
        """Identifiers of the duplicate that the kept paper lacks, copied to it so it resolves by them too."""
        added = []
        for attribute, label in (("key", "citation key"), ("arxiv_id", "arXiv id"), ("doi", "DOI")):
            value = getattr(paper, attribute)
            if value and not getattr(kept, attribute):
                setattr(kept, attribute, value)
                added.append(f"{label} {value}")
                if attribute != "key":
                    self.by_alias[("arXiv id" if attribute == "arxiv_id" else "DOI", value)].append(kept)
        return added

    def _warn(self, paper: Paper, message: str) -> None:
        self.report.warnings.append(SkippedRecord(paper.source or "", message))
