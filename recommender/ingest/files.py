"""Reading corpus files as text and telling their format, with one-line errors that say what to do."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
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


def read_text(path: Path) -> str:
    """The file's text; InputError if it is missing, a directory, empty, or not UTF-8."""
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; pass the corpus files inside it (e.g. {path}/*.jsonl)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel and Notepad put a byte-order mark first
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
            f"re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from exc
    if not text.strip():
        raise InputError(f"{path}: the file is empty; pass a file with at least one paper")
    return text


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
        text = read_text(path)
    # '.txt' says little (any export can be saved so): the content decides, the listing by default.
    found = _format_from_content(text) or by_extension
    if found is None:
        raise InputError(f"{path}: cannot tell the format from its name or first line; pass --format {FORMAT_CHOICES}")
    return found
