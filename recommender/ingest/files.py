"""Reading corpus files (regular files only, with bounded memory) and telling their format; one-line errors say what to do."""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .limits import MAX_FILE_BYTES, MAX_RECORD_BYTES, MIB, size_text
from .listing import HEADER

FORMATS = ("listing", "jsonl", "csv", "bibtex")
FORMAT_CHOICES = "listing|jsonl|csv|bibtex"

_EXTENSIONS = {
    ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv",
    ".bib": "bibtex", ".bibtex": "bibtex",
    ".txt": "listing",
}
_TITLE_COLUMN = re.compile(r"(^|[,;\t])\s*\"?title\"?\s*($|[,;\t])", re.I)


class FileProblem(Exception):
    """A whole file cannot be read; read_corpus adds the file name to the message."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_HEAD_BYTES = 64 * 1024  # enough of a file to tell its format


def check_file(path: Path) -> os.stat_result:
    """The file's status; InputError if it is missing, a directory, or anything but a regular file
    (reading /dev/zero or a FIFO would never end)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check the path and its permissions") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{path}: is a directory; pass the corpus files inside it (e.g. {path}/*.jsonl)")
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
        raise InputError(f"{path}: is {kind}, not a file; save the corpus to a file and pass that")
    return status


def _decode(data: bytes, path: Path, first_line: int = 1) -> str:
    try:
        return data.decode("utf-8-sig" if first_line == 1 else "utf-8")  # -sig: Excel and Notepad put a BOM first
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
            f"re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None


def read_text(path: Path) -> str:
    """The whole file's text; InputError if it is not a readable regular file, over MAX_FILE_BYTES,
    empty, or not UTF-8."""
    status = check_file(path)
    if status.st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: the file has {size_text(status.st_size)}, over the {size_text(MAX_FILE_BYTES)} "
                         "limit for files read whole; split it, or write it as JSON Lines (one paper a line, no size limit)")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # the size may have grown since stat
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: the file grew over the {size_text(MAX_FILE_BYTES)} limit while being read")
    text = _decode(data, path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty; pass a file with at least one paper")
    return text


def read_head(path: Path) -> str:
    """The first lines of the file (up to 64 KiB), enough to tell its format."""
    check_file(path)
    try:
        with path.open("rb") as file:
            data = file.read(_HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    if len(data) == _HEAD_BYTES:
        data = data[: data.rfind(b"\n") + 1] or data  # whole lines only, so a character is never cut
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace")  # the reader reports the bad byte with its line


@dataclass
class Line:
    """One line of a file read a line at a time; `text` is None when the line is over the record limit."""

    number: int
    text: str | None
    size: int


def iter_lines(path: Path, limit: int = MAX_RECORD_BYTES) -> Iterator[Line]:
    """The file's lines, each read with bounded memory: a line over `limit` bytes is passed over in
    chunks and comes back without its text. InputError for bytes that are not UTF-8."""
    check_file(path)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    with file:
        number = 0
        while True:
            data = file.readline(limit + 1)
            if not data:
                return
            number += 1
            if len(data) > limit and not data.endswith(b"\n"):
                size = len(data)
                while not data.endswith(b"\n"):
                    data = file.readline(MIB)
                    if not data:
                        break
                    size += len(data)
                yield Line(number, None, size)
                continue
            yield Line(number, _decode(data, path, number).rstrip("\r\n"), len(data))


def check_format(name: str, path: Path) -> str:
    if name not in FORMATS:
        raise InputError(f"{path}: unknown format '{name}'; pass --format {FORMAT_CHOICES}")
    return name


def _format_from_content(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if first.startswith(("{", "[")):
        return "jsonl"
    if first.startswith("@") or (first.startswith("%") and any(line.startswith("@") for line in lines)):
        return "bibtex"  # exports may open with % comment lines before the first entry
    if _TITLE_COLUMN.search(first):
        return "csv"
    if HEADER.match(first):
        return "listing"
    return None


def detect_format(path: str | Path, text: str | None = None) -> str:
    """The format of a corpus file, from its extension or else from its first lines."""
    path = Path(path)
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension and by_extension != "listing":
        return by_extension
    if text is None:
        if by_extension and not path.is_file():
            return by_extension
        text = read_head(path)
    # '.txt' says little (any export can be saved so): the content decides, the listing by default.
    found = _format_from_content(text) or by_extension
    if found is None:
        raise InputError(f"{path}: cannot tell the format from its name or first line; pass --format {FORMAT_CHOICES}")
    return found
