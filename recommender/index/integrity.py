"""Sizes and SHA-256 checksums of an index's files: recorded by the build, checked when the index is opened
(sizes, small files whole, both ends of large ones) and byte for byte by `recommender verify`.

Opening stays cheap at any size: a file of at most WHOLE_AT_OPEN_MAX bytes is hashed whole (the manifest's
neighbours: offsets, id tables, the lexical arrays of a small index, every file of the bundled demo), a larger
one only at its first and last ENDS_BYTES (its header and its last rows). A change inside a large file is
found by `recommender verify`, which reads everything.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from . import layout

WHOLE_AT_OPEN_MAX = 1 << 20  # hashing 1 MiB costs ~1 ms; the cold query takes ~500 ms
ENDS_BYTES = 1 << 16


class Problem(NamedTuple):
    name: str  # path inside the index folder, e.g. "lexical/data.csc.index.npy"
    reason: str  # "missing", "size changed (...)", "content changed (...)"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_ends(path: Path, size: int) -> str:
    """SHA-256 of the first and the last ENDS_BYTES of a file (the whole file when it is shorter)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(ENDS_BYTES))
        if size > ENDS_BYTES:
            fh.seek(max(ENDS_BYTES, size - ENDS_BYTES))
            digest.update(fh.read(ENDS_BYTES))
    return digest.hexdigest()


def data_files(folder: Path) -> list[str]:
    """Every file of an index folder but the manifest, as paths relative to it ("lexical/vocab.index.json")."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            rel = Path(root, name).relative_to(folder).as_posix()
            if rel not in (layout.MANIFEST, layout.MANIFEST + ".tmp"):
                names.append(rel)
    return sorted(names)


def describe(folder: Path) -> dict:
    """The manifest's `files` (sizes) and `checksums` blocks for the files now in `folder`."""
    sizes, whole, ends = {}, {}, {}
    for name in data_files(folder):
        path = folder / name
        sizes[name] = path.stat().st_size
        whole[name] = sha256_file(path)
        if sizes[name] > WHOLE_AT_OPEN_MAX:
            ends[name] = sha256_ends(path, sizes[name])
    return {"files": sizes, "checksums": {"sha256": whole, "sha256_ends": ends}}


def check(folder: Path, manifest: dict, *, full: bool) -> list[Problem]:
    """What differs from the manifest: at open (`full=False`) sizes, small files whole and the ends of large
    ones; with `full` every byte. Indexes from before checksums were recorded get their sizes checked only."""
    problems = []
    sums = manifest.get("checksums") or {}
    whole, ends = sums.get("sha256") or {}, sums.get("sha256_ends") or {}
    for name, size in (manifest.get("files") or {}).items():
        path = folder / name
        try:
            actual = path.stat().st_size if path.is_file() else None
            if actual is None:
                problems.append(Problem(name, "missing"))
            elif actual != size:
                problems.append(Problem(name, f"size changed ({actual:,} bytes, the build wrote {size:,})"))
            elif name in whole and (full or size <= WHOLE_AT_OPEN_MAX) and sha256_file(path) != whole[name]:
                problems.append(Problem(name, "content changed (SHA-256 differs from the build's)"))
            elif not full and name in ends and size > WHOLE_AT_OPEN_MAX and sha256_ends(path, size) != ends[name]:
                problems.append(Problem(name, "content changed (SHA-256 of its first and last bytes differs from the build's)"))
        except OSError as exc:
            problems.append(Problem(name, f"cannot be read ({exc.strerror or exc})"))
    return problems


def has_checksums(manifest: dict) -> bool:
    return bool((manifest.get("checksums") or {}).get("sha256"))
