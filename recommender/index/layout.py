"""The names of an index folder's files, and what makes a folder one this tool wrote.

Kept apart from storage.py so that the modules that check (integrity.py) and replace (replace.py)
index folders share the names without importing each other.
"""
from __future__ import annotations

import json
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
FAISS = "vectors.faiss"
IDS = "ids.json"
PAPERS = "papers.jsonl"
OFFSETS = "papers.offsets.npy"
LEXICAL = "lexical"
ID_LOOKUP = "ids.lookup.npy"
ALIAS_LOOKUP = "aliases.lookup.npy"
MAP = "map.npy"  # the collection map's 2D layout (recommender.maps.layout); absent when the map was skipped
SIZED_FILES = (VECTORS, FAISS, IDS, PAPERS, OFFSETS)
OPTIONAL_SIZED_FILES = (ID_LOOKUP, ALIAS_LOOKUP)  # indexes written before these existed still load

# Everything a build puts at the top of an index folder (manifest.json.tmp: a manifest being written).
INDEX_ENTRIES = frozenset((MANIFEST, MANIFEST + ".tmp", LEXICAL, MAP) + SIZED_FILES + OPTIONAL_SIZED_FILES)


def foreign_entries(folder: Path) -> list[str]:
    """Names at the top of `folder` that no build writes (sorted); [] for an index or an empty folder."""
    return sorted(name for name in _names(folder) if name not in INDEX_ENTRIES)


def is_index_folder(folder: Path) -> bool:
    """A folder this tool wrote: nothing but index files, a manifest among them, and the manifest is
    one of ours (or, if it cannot be read, the vectors and papers beside it say the folder is an index)."""
    names = _names(folder)
    if not names or MANIFEST not in names or any(name not in INDEX_ENTRIES for name in names):
        return False
    if (folder / LEXICAL).exists() and not (folder / LEXICAL).is_dir():
        return False
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {VECTORS, PAPERS} <= set(names)  # a damaged manifest: still ours, so it can be rebuilt
    return isinstance(manifest, dict) and "format_version" in manifest


def _names(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in Path(folder).iterdir()]
    except (NotADirectoryError, FileNotFoundError):
        return []
