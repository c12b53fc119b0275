"""CSV corpora with a header row: the JSON field names, any case (Zotero's CSV export works too)."""
from __future__ import annotations

import csv
import io

from ..records import Paper, SkippedRecord
from .fields import ALIASES, RecordError, field_key, paper_from_record
from .files import FileProblem

_DELIMITERS = (",", ";", "\t")


def _delimiter(header: str) -> str:
    """The separator the header uses most: spreadsheets in some locales write ';' instead of ','."""
    return max(_DELIMITERS, key=header.count)


def read_csv(text: str, name: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a CSV file; rows with the wrong number of fields or no title are skipped."""
    first_line = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), skipinitialspace=True)
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    header: list[str] | None = None
    header_line = 1
    row_start = 1
    try:
        for row in reader:
            source = f"{name}:{row_start}"
            this_start, row_start = row_start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, header_line = [field_key(cell) for cell in row], this_start
                if not any(column in ALIASES["title"] for column in header):
                    raise FileProblem(header_line, f"the CSV header has no 'title' column (found: {', '.join(row)}); "
                                      "name the column that holds the titles 'title'")
                continue
            if len(row) != len(header):
                skipped.append(SkippedRecord(source, f"{len(row)} fields where the header (line {header_line}) has {len(header)}"))
                continue
            try:
                papers.append(paper_from_record(dict(zip(header, row)), source))
            except RecordError as exc:
                skipped.append(SkippedRecord(source, str(exc)))
    except csv.Error as exc:  # e.g. an unclosed quote that swallows the rest of the file
        raise FileProblem(reader.line_num, f"CSV error ({exc}); check the quoting of that row") from None
    return papers, skipped
