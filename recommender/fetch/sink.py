"""Where fetched papers go: a JSONL corpus that a rerun resumes (no paper twice, none lost).

Each line is written whole and flushed. On a rerun the ids already in the file are skipped, and a last
line cut by an interruption is dropped first. A file the tool did not write is never appended to.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InputError
from .record import FetchedPaper


class JsonlSink:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.known: set[str] = set()
        self.resumed = 0  # papers already in the file from an earlier run
        self.written = 0
        self.duplicates = 0
        self._file = None

    def __enter__(self) -> "JsonlSink":
        self._prepare()  # the file itself is opened by the first paper: a run that fetches nothing leaves none
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def _prepare(self) -> None:
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder; give a file name for -o (e.g. papers.jsonl)")
        if not self.path.exists() or self.path.stat().st_size == 0:
            if not self.path.parent.is_dir():
                raise InputError(f"{self.path.parent}: no such folder for -o; create it or give another path")
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        for number, line in enumerate(complete, 1):
            record = self._our_record(line)
            if record is None:
                raise InputError(f"{self.path}:{number}: not a paper written by `recommender fetch`; "
                                 "give -o a new file name (an existing output is resumed, anything else is left alone)")
            self.known.add(record["id"])
        if tail.strip():
            if self._our_record(tail) is not None:
                self.known.add(json.loads(tail)["id"])
                with open(self.path, "ab") as fh:  # a whole record that only lacks its newline
                    fh.write(b"\n")
            else:
                with open(self.path, "r+b") as fh:  # the line an interruption cut: fetched again below
                    fh.truncate(len(data) - len(tail))
        self.resumed = len(self.known)

    @staticmethod
    def _our_record(line: bytes) -> dict | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if isinstance(record, dict) and record.get("id") and record.get("fetched_from"):
            return record
        return None

    def add(self, paper: FetchedPaper) -> bool:
        """Write the paper unless its id is already there; True when written."""
        if not paper.id or paper.id in self.known:
            self.duplicates += 1
            return False
        self.known.add(paper.id)
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps(paper.to_json(), ensure_ascii=False) + "\n")
        self._file.flush()
        self.written += 1
        return True
