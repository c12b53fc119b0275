"""What the server shows of this machine's files: names, never absolute paths.

The manifest records where the corpus files and the index lie, and a library error names the file it
could not read; a client of the server (maybe not the person who started it) learns the file names
from /api/info and from error bodies, but not the folders above them (a user name, a home layout).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePath, PureWindowsPath

# An absolute path with at least two folders, not inside a URL ("https://..."): what is left after
# the known folders are replaced. One-folder paths ("/api/search") are left alone: they are routes.
_ABSOLUTE = re.compile(r"(?<![\w.:/~\\-])/(?:[\w.@+-]+/){2,}([\w.@+-]*)")


def _is_absolute(value: str) -> bool:
    return value.startswith(("/", "~")) or PureWindowsPath(value).is_absolute()


def public_value(value):
    """`value` (any JSON) with each string that is an absolute path reduced to its last part."""
    if isinstance(value, dict):
        return {key: public_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [public_value(item) for item in value]
    if isinstance(value, str) and _is_absolute(value):
        return (PureWindowsPath(value) if "\\" in value else PurePath(value)).name
    return value


def public_info(rec) -> dict:
    """`Recommender.info()` (the manifest and where the index lies) with file names instead of paths, and
    `index_id`: the same for one index folder, different for two, whatever their names (the page keeps its
    likes and reading list per index under it)."""
    index_id = hashlib.sha256(str(rec.folder.resolve()).encode("utf-8")).hexdigest()[:16]
    return public_value({**rec.info(), "path": rec.folder.name, "index_id": index_id})


def public_message(message: str, folder: Path | None = None) -> str:
    """An error message with the index folder named by its name, the home folder as ~ and any other
    absolute path by its last part."""
    if folder is not None:
        for form in sorted({str(folder.resolve()), str(folder.absolute()), str(folder)}, key=len, reverse=True):
            if len(form) > 1:
                message = message.replace(form, folder.name)
    home = str(Path.home())
    if len(home) > 1:
        message = message.replace(home + "/", "~/")
    return _ABSOLUTE.sub(lambda m: m.group(1) or m.group(0).rstrip("/").rsplit("/", 1)[-1], message)
