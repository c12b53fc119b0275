"""JSON Lines corpora (one object a line: BEIR's corpus.jsonl, arXiv's metadata snapshot, ...),
and, since it costs little, a JSON array of the same objects."""
from __future__ import annotations

import json

from ..records import Paper, SkippedRecord
from .fields import RecordError, paper_from_record
from .files import FileProblem


def _record(value: object, source: str, papers: list[Paper], skipped: list[SkippedRecord]) -> None:
    if not isinstance(value, dict):
        skipped.append(SkippedRecord(source, f"expected a JSON object, found {type(value).__name__}"))
        return
    try:
        papers.append(paper_from_record(value, source))
    except RecordError as exc:
        skipped.append(SkippedRecord(source, str(exc)))


def _read_array(text: str, name: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """Elements of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise FileProblem(text.count("\n") + 1, "the JSON array is not closed with ']'; fix the file")
        if text[pos] == "]":
            return papers, skipped
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # Inside one array nothing after a broken element can be trusted, so the whole file fails.
            raise FileProblem(exc.lineno, f"invalid JSON ({exc.msg}, column {exc.colno}); fix it, or write "
                              "one object per line (JSON Lines) so a bad record is skipped alone") from None
        _record(value, f"{name}:{line}", papers, skipped)


def read_jsonl(text: str, name: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a JSON Lines file (or JSON array); bad lines are skipped with their line number."""
    if text.lstrip().startswith("["):
        return _read_array(text, name)
    stripped = text.strip()
    if "\n" in stripped and stripped.startswith("{"):
        try:  # a .json file holding one pretty-printed object rather than one object a line
            value = json.loads(stripped)
        except json.JSONDecodeError:
            pass
        else:
            papers: list[Paper] = []
            skipped: list[SkippedRecord] = []
            _record(value, f"{name}:{text.count(chr(10), 0, text.index('{')) + 1}", papers, skipped)
            return papers, skipped
    papers, skipped = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{name}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(SkippedRecord(source, f"invalid JSON ({exc.msg}, column {exc.colno})"))
            continue
        _record(value, source, papers, skipped)
    return papers, skipped
