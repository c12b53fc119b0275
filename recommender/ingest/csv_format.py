"""CSV corpora with a header row: the JSON field names, any case (Zotero's CSV export works too)."""
from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator

from ..records import Paper, SkippedRecord
from .fields import ALIASES, RecordError, field_key, paper_from_record
from .files import FileProblem
from .limits import MAX_RECORD_BYTES, size_text

_DELIMITERS = (",", ";", "\t")


def _delimiter(header: str) -> str:
    """The separator the header uses most: spreadsheets in some locales write ';' instead of ','."""
    return max(_DELIMITERS, key=header.count)


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """csv's cell limit (128 KiB by default, process-wide) raised to the record limit while reading."""
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_csv(text: str, name: str, warnings: list[SkippedRecord] | None = None
             ) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a CSV file; rows with the wrong number of fields, over the record limit, or without a
    title are skipped."""
    warnings = warnings if warnings is not None else []
    first_line = next(line for line in text.split("\n") if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), skipinitialspace=True)
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    header: list[str] | None = None
    header_line = 1
    row_start = 1
    try:
        with _field_limit(MAX_RECORD_BYTES):
            for row in reader:
                source = f"{name}:{row_start}"
                this_start, row_start = row_start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header, header_line = [field_key(cell) for cell in row], this_start
                    if not any(column in ALIASES["title"] for column in header):
                        shown = ", ".join(row)[:200]
                        raise FileProblem(header_line, f"the CSV header has no 'title' column (found: {shown}); "
                                          "name the column that holds the titles 'title'")
                    continue
                size = sum(len(cell) for cell in row)
                if size > MAX_RECORD_BYTES:
                    skipped.append(SkippedRecord(source, f"a record of {size_text(size)}, over the "
                                                 f"{size_text(MAX_RECORD_BYTES)} limit for one record"))
                    continue
                if len(row) != len(header):
                    skipped.append(SkippedRecord(source, f"{len(row)} fields where the header (line {header_line}) "
                                                 f"has {len(header)}"))
                    continue
                try:
                    papers.append(paper_from_record(
                        dict(zip(header, row)), source,
                        lambda message, where=source: warnings.append(SkippedRecord(where, message))))
                except RecordError as exc:
                    skipped.append(SkippedRecord(source, str(exc)))
    except csv.Error as exc:  # e.g. an unclosed quote that swallows the rest of the file
        raise FileProblem(reader.line_num, f"CSV error ({exc}); check the quoting of that row") from None
    return papers, skipped
