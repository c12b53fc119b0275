"""Reading a corpus too large to hold: the same ids, deduplication and report as ingest.read_corpus, with the
kept papers on disk.

`read_corpus_streamed` runs ingest's own readers and Merger, but the Merger's tables hold row numbers under a
64-bit hash of each key (a few hundred bytes a paper, not the paper) and read a kept paper back from the spool
file only when a new record shares one of its keys; a kept paper that takes a duplicate's identifiers is
patched on the way out. JSON Lines files are merged record by record as they are read; the other formats are
read a file at a time, as ingest reads them. Warnings keep read_corpus's order (a file's reading warnings, then
its merge warnings).
"""
from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputError
from ..index.storage import paper_record
from ..ingest.ids import normalise_title
from ..ingest.merge import Merger
from ..records import IngestReport, Paper, SkippedRecord


def _slot(key) -> int:
    """Where a key's rows are kept: Python's hash (64 bits, stable within the process); equal slots are told
    apart by reading the papers back."""
    return hash(key)


class SpooledPapers:
    """The kept papers, in row order, as JSON lines in a spool file; reads one back by row."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._out = open(self.path, "wb")
        self._offsets = array("q")
        self._patches: dict[int, dict] = {}
        self._reader = None
        self.without_abstract = 0  # counted as papers come: a duplicate's identifiers never change an abstract
        self.per_file: dict[str, int] = {}  # papers kept per source file name

    def append(self, paper: Paper) -> None:
        self._offsets.append(self._out.tell())
        self._out.write(json.dumps(paper_record(paper), ensure_ascii=False).encode("utf-8") + b"\n")
        paper._spool_row = len(self._offsets) - 1
        self.without_abstract += not paper.abstract.strip()
        name = (paper.source or "").rsplit(":", 1)[0]
        self.per_file[name] = self.per_file.get(name, 0) + 1

    def patch(self, row: int, **fields) -> None:
        self._patches.setdefault(row, {}).update(fields)

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, row: int) -> Paper:
        self._out.flush()
        if self._reader is None:
            self._reader = open(self.path, "rb")
        self._reader.seek(self._offsets[row])
        paper = self._load(self._reader.readline(), row)
        return paper

    def _load(self, line: bytes, row: int) -> Paper:
        paper = Paper.from_dict(json.loads(line))
        for name, value in self._patches.get(row, {}).items():
            setattr(paper, name, value)
        paper._spool_row = row
        return paper

    def __iter__(self) -> Iterator[Paper]:
        self._out.flush()
        with open(self.path, "rb") as fh:
            for row, line in enumerate(fh):
                yield self._load(line, row)

    def close(self) -> None:
        self._out.close()
        if self._reader is not None:
            self._reader.close()


class _RowsByKey:
    """key -> papers, for the Merger: rows under hash(key), read back and checked against the key on use."""

    def __init__(self, papers: SpooledPapers, key_of, merger: "SpooledMerger"):
        self._rows: dict[int, int | list[int]] = {}
        self._papers = papers
        self._key_of = key_of  # (paper, key) -> whether the paper answers to key
        self._merger = merger

    def _candidates(self, key) -> list[Paper]:
        found = self._rows.get(_slot(key))
        if found is None:
            return []
        rows = [found] if isinstance(found, int) else found
        return [paper for paper in (self._merger.paper_at(row) for row in rows) if self._key_of(paper, key)]

    def add(self, key, paper: Paper) -> None:
        row = self._merger.row_of(paper)
        slot = _slot(key)
        found = self._rows.get(slot)
        if found is None:
            self._rows[slot] = row
        elif isinstance(found, int):
            self._rows[slot] = [found, row]
        else:
            found.append(row)


class _PaperLists(_RowsByKey):
    """Merger.by_alias and by_title: get(key, default) -> list of papers; [key].append(paper)."""

    def get(self, key, default=None):
        papers = self._candidates(key)
        return papers if papers else default

    def __getitem__(self, key):
        table = self

        class _Appender(list):
            def append(self, paper):
                table.add(key, paper)

        return _Appender()  # the Merger only appends to it


class _PaperById(_RowsByKey):
    """Merger.by_id: get(id), id in by_id, by_id[id] = paper."""

    def get(self, key, default=None):
        papers = self._candidates(key)
        return papers[0] if papers else default

    def __contains__(self, key) -> bool:
        return bool(self._candidates(key))

    def __setitem__(self, key, paper: Paper) -> None:
        self.add(key, paper)


class SpooledMerger(Merger):
    def __init__(self, report: IngestReport, dedup_titles: bool, papers: SpooledPapers):
        super().__init__(report, dedup_titles)
        self.spool = papers
        self.by_id = _PaperById(papers, lambda p, key: p.id == key, self)
        alias_attribute = {"arXiv id": "arxiv_id", "DOI": "doi"}
        self.by_alias = _PaperLists(papers, lambda p, key: getattr(p, alias_attribute[key[0]]) == key[1], self)
        self.by_title = _PaperLists(papers, lambda p, key: normalise_title(p.title) == key, self)
        self._incoming: Paper | None = None
        self.merge_warnings: list[SkippedRecord] = []

    def add(self, paper: Paper) -> None:
        self._incoming = paper
        try:
            super().add(paper)
        finally:
            self._incoming = None

    def row_of(self, paper: Paper) -> int:
        if paper is self._incoming:
            return len(self.spool)  # appended at the end of add()
        return paper._spool_row

    def paper_at(self, row: int) -> Paper:
        if row == len(self.spool) and self._incoming is not None:
            return self._incoming  # registered under its keys before add() appends it
        return self.spool[row]

    def _absorb(self, kept: Paper, paper: Paper) -> list[str]:
        added = super()._absorb(kept, paper)
        if added:
            self.spool.patch(kept._spool_row, key=kept.key, arxiv_id=kept.arxiv_id, doi=kept.doi)
        return added

    def _warn(self, paper: Paper, message: str) -> None:
        self.merge_warnings.append(SkippedRecord(paper.source or "", message))


class _MergingSink:
    """Stands for a reader's list of papers: each paper goes to the merger as it is read."""

    def __init__(self, merger: SpooledMerger):
        self.merger = merger
        self.count = 0

    def append(self, paper: Paper) -> None:
        self.merger.add(paper)
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0


def read_corpus_streamed(paths: Iterable[str | Path], spool: Path, format: str | None = None,
                         dedup_titles: bool = True) -> IngestReport:
    """read_corpus, with report.papers a SpooledPapers in `spool` (a file the caller deletes)."""
    papers = SpooledPapers(spool)
    report = IngestReport(papers=papers)  # type: ignore[arg-type]
    merger = SpooledMerger(report, dedup_titles, papers)
    for path in [Path(p) for p in paths]:
        skipped = _read_into(path, format, report.warnings, merger)
        report.files.append(str(path))
        report.skipped.extend(skipped)
        report.warnings.extend(merger.merge_warnings)
        merger.merge_warnings.clear()
    if not report.files:
        raise InputError("no corpus file given; pass at least one file")
    report.without_abstract = papers.without_abstract
    return report


def _read_into(path: Path, format: str | None, warnings: list, merger: SpooledMerger) -> list[SkippedRecord]:
    """ingest.read_file, merging each paper as it is read (JSON Lines) or once its file is read (the rest)."""
    from ..ingest import read_file

    _, skipped = read_file(path, format, warnings, into=_MergingSink(merger))
    return skipped


def remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
