"""JSON Lines corpora (one object a line: BEIR's corpus.jsonl, arXiv's metadata snapshot, ...), and,
since it costs little, a file holding one JSON document: an array of the same objects, or one object.

A file is one JSON document when its first line does not hold a complete JSON value on its own (a
pretty-printed "[" or "{"); otherwise every line is a record, and a line holding an array counts as
the objects in it. JSON Lines files are read a line at a time, so they have no size limit.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..records import Paper, SkippedRecord
from .fields import RecordError, paper_from_record
from .files import FileProblem, Line, iter_lines, read_text
from .limits import MAX_BAD_RECORDS_IN_A_ROW, MAX_RECORD_BYTES, size_text

_DECODER = json.JSONDecoder()


class _Reading:
    """Papers, skipped records and warnings of one file, with the count of failures in a row."""

    def __init__(self, name: str, warnings: list[SkippedRecord] | None):
        self.name = name
        self.papers: list[Paper] = []
        self.skipped: list[SkippedRecord] = []
        self.warnings = warnings if warnings is not None else []
        self.failures_in_a_row = 0

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append(SkippedRecord(f"{self.name}:{line}", reason))
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= MAX_BAD_RECORDS_IN_A_ROW:
            first = self.skipped[-MAX_BAD_RECORDS_IN_A_ROW]
            raise FileProblem(line, f"{MAX_BAD_RECORDS_IN_A_ROW} records in a row could not be read (the first at "
                              f"{first.source}: {first.reason}); is this a JSON Lines file?")

    def record(self, value: object, line: int, where: str = "") -> None:
        if not isinstance(value, dict):
            self.skip(line, f"{where}expected a JSON object, found {_json_type(value)}")
            return
        source = f"{self.name}:{line}"
        try:
            paper = paper_from_record(value, source, lambda message: self.warnings.append(SkippedRecord(source, message)))
        except RecordError as exc:
            self.skip(line, f"{where}{exc}")
            return
        self.papers.append(paper)
        self.failures_in_a_row = 0

    def value(self, value: object, line: int) -> None:
        """A JSON value of one line: an object, or an array whose items are objects."""
        if isinstance(value, list):
            for number, item in enumerate(value, start=1):
                self.record(item, line, f"item {number} of the array on this line: " if len(value) > 1 else "")
        else:
            self.record(value, line)


def _json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def _first_line(lines: Iterable[Line]) -> Line | None:
    return next((line for line in lines if line.text is None or line.text.strip()), None)


def _is_document(first: Line | None) -> bool:
    """Whether the file is one JSON document (a pretty-printed array or object) rather than JSON Lines."""
    if first is None or first.text is None:
        return False
    head = first.text.strip()
    if not head.startswith(("[", "{")):
        return False
    try:
        json.loads(head)
    except json.JSONDecodeError:
        # "[" alone, or an array whose items start on the first line: a document. An object broken
        # on the first line is a JSON Lines record to skip, unless the whole file parses as one object.
        return head.startswith("[") or head == "{"
    return False


def _read_lines(lines: Iterable[Line], reading: _Reading) -> None:
    for line in lines:
        if line.text is None:
            reading.skip(line.number, f"a record of {size_text(line.size)}, over the {size_text(MAX_RECORD_BYTES)} "
                         "limit for one record")
            continue
        if not line.text.strip():
            continue
        try:
            value = json.loads(line.text)
        except json.JSONDecodeError as exc:
            reading.skip(line.number, f"invalid JSON ({exc.msg}, column {exc.colno})")
            continue
        except RecursionError:
            reading.skip(line.number, "JSON nested too deeply")
            continue
        reading.value(value, line.number)


def _read_document(text: str, reading: _Reading) -> None:
    """A file holding one JSON array of objects (each element reported with the line it starts on) or one object."""
    start = len(text) - len(text.lstrip())
    if text[start] == "{":
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise FileProblem(exc.lineno, f"invalid JSON ({exc.msg}, column {exc.colno}); fix it, or write one "
                              "object per line (JSON Lines) so a bad record is skipped alone") from None
        _check_rest(text, end)
        reading.record(value, text.count("\n", 0, start) + 1)
        return
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise FileProblem(text.count("\n") + 1, "the JSON array is not closed with ']'; fix the file")
        if text[pos] == "]":
            _check_rest(text, pos + 1)
            return
        line = text.count("\n", 0, pos) + 1
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # Inside one array nothing after a broken element can be trusted, so the whole file fails.
            raise FileProblem(exc.lineno, f"invalid JSON ({exc.msg}, column {exc.colno}); fix it, or write "
                              "one object per line (JSON Lines) so a bad record is skipped alone") from None
        except RecursionError:
            raise FileProblem(line, "JSON nested too deeply") from None
        if end - pos > MAX_RECORD_BYTES:
            reading.skip(line, f"a record of {size_text(end - pos)}, over the {size_text(MAX_RECORD_BYTES)} "
                         "limit for one record")
        else:
            reading.record(value, line)
        pos = end


def _check_rest(text: str, end: int) -> None:
    rest = text[end:]
    if rest.strip():
        line = text.count("\n", 0, end + len(rest) - len(rest.lstrip())) + 1
        raise FileProblem(line, "more JSON after the end of the document; write one JSON value a line (JSON Lines) "
                          "or one array of objects")


def _text_lines(text: str) -> list[Line]:
    return [Line(number, line.rstrip("\r") if len(line) <= MAX_RECORD_BYTES else None, len(line))
            for number, line in enumerate(text.split("\n"), start=1)]


def read_jsonl(text: str, name: str, warnings: list[SkippedRecord] | None = None
               ) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of JSON Lines text (or one JSON document); bad lines are skipped with their line number."""
    reading = _Reading(name, warnings)
    lines = _text_lines(text)
    if _is_document(_first_line(lines)):
        _read_document(text, reading)
    else:
        _read_lines(lines, reading)
    return reading.papers, reading.skipped


def read_jsonl_file(path: Path, name: str, warnings: list[SkippedRecord] | None = None, into=None
                    ) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a JSON Lines file, read a line at a time (a JSON document is read whole). `into`, any object
    with `append(paper)`, takes each paper as it is read instead of the returned list (a streamed build's
    merger), which is then `into`."""
    reading = _Reading(name, warnings)
    if into is not None:
        reading.papers = into
    lines = iter_lines(path)
    first = _first_line(lines)
    lines.close()
    if first is None:
        raise FileProblem(None, "the file is empty; pass a file with at least one paper")
    if _is_document(first):
        _read_document(read_text(path), reading)
    else:
        _read_lines(iter_lines(path), reading)
    return reading.papers, reading.skipped
