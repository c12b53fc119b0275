"""Every file of an index folder is read and written here, and nowhere else.

An index is a folder:
  manifest.json        what built it (format version, model, encoder, counts, corpus hashes), and the
                       size and SHA-256 of every other file
  vectors.npy          float32 (n, dim) L2-normalised rows, memory-mapped on load
  vectors.faiss        the FAISS index over those rows
  ids.json             row -> paper id
  papers.jsonl         one paper record a line, in row order
  papers.offsets.npy   byte offset of each record, so one paper is read without reading them all
  lexical/             the bm25s index
  ids.lookup.npy       hashes of the ids, sorted, with their rows: an id is found without reading ids.json
  aliases.lookup.npy   the same for arXiv ids, DOIs and titles (normalised by refs.alias_keys)
A build writes a sibling temporary folder and swaps it into place under a lock (replace.py), so a failed
or interrupted build leaves the previous index as it was; the manifest records every file's size and
SHA-256, checked in part when an index is opened and in full by `recommender verify` (integrity.py).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from array import array
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import IndexLoadError
from ..records import Paper
from . import integrity
from .layout import (ALIAS_LOOKUP, FAISS, FORMAT_VERSION, ID_LOOKUP, IDS, LEXICAL, MANIFEST,  # noqa: F401
                     OFFSETS, OPTIONAL_SIZED_FILES, PAPERS, SIZED_FILES, VECTORS)

# replace.py (writing, locking, recovery) is imported where it is used: a query never needs it.

# FAISS runs on OpenMP, whose threads spin while they wait. On a busy machine (2 cores shared with
# other work) that spinning made an IVF-PQ training 60x slower (48 s against 0.8 s, measured);
# waiting passively costs nothing measurable when the cores are free. It must be set before FAISS
# is first imported, and every FAISS import of this package comes after this module's.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sha256_file = integrity.sha256_file


def index_dir(name_or_path: str | os.PathLike) -> Path:
    """A bare name means indexes/NAME (under RECOMMENDER_INDEX_DIR when set); anything with a slash is a path."""
    text = str(name_or_path)
    if not text.strip():
        raise IndexLoadError("--index is empty: give an index name (indexes/NAME) or a folder path")
    if os.sep in text or "/" in text or text.startswith("."):
        return Path(text).expanduser()
    root = Path(os.environ.get("RECOMMENDER_INDEX_DIR", "indexes"))
    return root / text


def write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def updating(folder: Path) -> Iterator[dict]:
    """The manifest of an existing index, read under its lock, for a read-modify-write (add, remove)."""
    from . import replace

    with replace.index_lock(folder, must_exist=True):
        manifest = read_manifest(folder)
        replace.check_target(folder)  # the update will replace the folder: it must hold nothing but the index
        yield manifest


def write_index_files(folder: Path, *, papers: Sequence[Paper], vectors: np.ndarray, faiss_index, lexical, manifest: dict,
                      aliases=None, scratch: Sequence[Path] = ()) -> dict:
    """Write every file of an index into `folder` (a temporary folder); returns the completed manifest.

    `aliases(paper) -> list[str]` gives the normalised references a paper answers to (for aliases.lookup.npy).
    `papers` may be any sequence read in one pass at a time (a streamed build's spool file): the papers are
    written one by one, and the id tables hold two integers a key. `vectors` may already be `folder`'s
    vectors.npy (memory-mapped, written as they were computed). A `lexical` with a `recipe` (the streamed,
    possibly sharded index) sets the manifest's `lexical` block. `scratch` files are deleted before the
    checksums are taken."""
    import faiss

    if not (isinstance(vectors, np.memmap) and vectors.filename and Path(vectors.filename) == (folder / VECTORS).resolve()):
        np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
    else:
        vectors.flush()
    faiss.write_index(faiss_index, str(folder / FAISS))
    # One pass over the papers (a streamed build reads them back from disk): ids.json as json.dumps(ids) would
    # write it, papers.jsonl, and the (hash, row) pairs of both lookup tables.
    offsets = np.zeros(len(papers), dtype=np.int64)
    id_pairs, alias_pairs = (array("q"), array("q")), (array("q"), array("q"))
    with open(folder / IDS, "w", encoding="utf-8") as ids_out, open(folder / PAPERS, "wb") as papers_out:
        ids_out.write("[")
        for row, paper in enumerate(papers):
            ids_out.write((", " if row else "") + json.dumps(paper.id, ensure_ascii=False))
            _add_key(id_pairs, paper.id, row)
            for key in aliases(paper) if aliases is not None else ():
                _add_key(alias_pairs, key, row)
            offsets[row] = papers_out.tell()
            papers_out.write(json.dumps(paper_record(paper), ensure_ascii=False).encode("utf-8") + b"\n")
        ids_out.write("]")
    save_key_lookup(folder / ID_LOOKUP, *id_pairs)
    if aliases is not None:
        save_key_lookup(folder / ALIAS_LOOKUP, *alias_pairs)
    np.save(folder / OFFSETS, offsets)
    lexical.save(folder / LEXICAL)
    for path in scratch:
        Path(path).unlink(missing_ok=True)
    from .replace import crash_point

    crash_point("files-written")
    manifest = dict(manifest)
    if getattr(lexical, "recipe", None) is not None:
        manifest["lexical"] = lexical.recipe
    manifest["format_version"] = FORMAT_VERSION
    manifest.update(integrity.describe(folder))  # files (sizes) and checksums, of every file but the manifest
    write_json(folder / MANIFEST, manifest)  # last: its presence marks a complete index
    return manifest


_PAPER_FIELDS = tuple(Paper.__dataclass_fields__)


def paper_record(paper: Paper) -> dict:
    """Paper.to_dict() without dataclasses.asdict's deep copy (its fields are flat: the same JSON, a third of
    the time of writing a large index)."""
    return {name: getattr(paper, name) for name in _PAPER_FIELDS}


def read_manifest(folder: Path) -> dict:
    """The manifest of the index at `folder`, after the open-time check of its files (integrity.py).

    An index missing after an interrupted replace is first restored from the complete copy left beside it."""
    folder = Path(folder)
    if not folder.exists():
        from .replace import restore_for_reader

        restore_for_reader(folder)
    if not folder.exists():
        raise IndexLoadError(f"{folder}: no index here; build one with `recommender build CORPUS --index {folder}`")
    manifest = parse_manifest(folder)
    problems = integrity.check(folder, manifest, full=False)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more files)" if len(problems) > 1 else ""
        raise IndexLoadError(f"{folder / first.name}: {first.reason} since the build{more}: the index is corrupt; "
                             "rebuild it with `recommender build` (`recommender verify` checks every file)")
    return manifest


def parse_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexLoadError(f"{path}: missing; {folder} is not an index (rebuild it with `recommender build`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexLoadError(f"{path}: corrupt manifest ({exc}); rebuild the index with `recommender build`") from exc
    if not isinstance(manifest, dict):
        raise IndexLoadError(f"{path}: corrupt manifest (not a JSON object); rebuild the index with `recommender build`")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexLoadError(
            f"{path}: index format version {version}, this recommender reads version {FORMAT_VERSION}; "
            "rebuild the index with `recommender build`"
        )
    return manifest


def _corrupt(path: Path, exc: Exception) -> IndexLoadError:
    return IndexLoadError(f"{path}: cannot be read ({type(exc).__name__}); the index is corrupt, rebuild it with `recommender build`")


def load_vectors(folder: Path, mmap: bool = True) -> np.ndarray:
    try:
        return np.load(folder / VECTORS, mmap_mode="r" if mmap else None)
    except Exception as exc:
        raise _corrupt(folder / VECTORS, exc) from exc


def load_faiss(folder: Path, mmap: bool = True):
    """The FAISS index; with `mmap` its vector storage (flat, HNSW) or codes (IVF-PQ) stay on disk, paged in on use."""
    import faiss

    try:
        # IO_FLAG_MMAP_IFC maps the codes of every IndexFlatCodes (flat, the HNSW storage, IVF lists);
        # the older IO_FLAG_MMAP cannot be combined with it and covers IVF lists only.
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return faiss.read_index(str(folder / FAISS), flags)
    except Exception as exc:
        raise _corrupt(folder / FAISS, exc) from exc


def check_faiss_file(folder: Path, magic: bytes) -> None:
    """A cheap integrity check (no FAISS import): the index file starts as an index of the expected kind."""
    try:
        with open(folder / FAISS, "rb") as fh:
            head = fh.read(len(magic))
    except OSError as exc:
        raise _corrupt(folder / FAISS, exc) from exc
    if head != magic:
        raise _corrupt(folder / FAISS, ValueError(f"starts with {head!r}, not {magic!r}"))


def load_ids(folder: Path) -> list[str]:
    try:
        ids = json.loads((folder / IDS).read_text(encoding="utf-8"))
    except Exception as exc:
        raise _corrupt(folder / IDS, exc) from exc
    if not isinstance(ids, list):
        raise _corrupt(folder / IDS, TypeError("not a list"))
    return ids


class PaperStore:
    """Paper records by row, read on demand through the offsets file; safe to share between threads."""

    def __init__(self, folder: Path):
        import mmap

        self.path = folder / PAPERS
        try:
            self._offsets = np.load(folder / OFFSETS, mmap_mode="r")
            with open(self.path, "rb") as fh:
                self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if self.path.stat().st_size else b""
        except Exception as exc:
            raise _corrupt(folder / OFFSETS, exc) from exc
        self._cache: dict[int, Paper] = {}

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, row: int) -> Paper:
        paper = self._cache.get(row)
        if paper is None:
            start = int(self._offsets[row])
            end = self._data.find(b"\n", start)
            try:
                paper = Paper.from_dict(json.loads(self._data[start:end if end >= 0 else len(self._data)]))
            except Exception as exc:
                raise _corrupt(self.path, exc) from exc
            self._cache[row] = paper
        return paper

    def __iter__(self) -> Iterator[Paper]:
        return (self[row] for row in range(len(self)))


def key_hash(key: str) -> int:
    """A stable signed 64-bit hash of a key (the same in every process, unlike hash())."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def write_key_lookup(path: Path, pairs) -> None:
    """Save (key, row) pairs as a (2, n) int64 array: key hashes sorted (ties by row), and their rows."""
    hashes, rows = array("q"), array("q")  # 16 bytes a key, not a Python tuple's ~100
    for key, row in pairs:
        _add_key((hashes, rows), key, row)
    save_key_lookup(path, hashes, rows)


def _add_key(pairs: tuple[array, array], key: str, row: int) -> None:
    pairs[0].append(key_hash(key))
    pairs[1].append(row)


def save_key_lookup(path: Path, hashes: array, rows: array) -> None:
    items = np.stack([np.frombuffer(hashes, dtype=np.int64), np.frombuffer(rows, dtype=np.int64)], axis=1).reshape(-1, 2)
    order = np.lexsort((items[:, 1], items[:, 0]))
    np.save(path, np.ascontiguousarray(items[order].T))


class KeyLookup:
    """Rows by key through a memory-mapped hash table; `verify(key, row)` rules out hash collisions.

    A mapping, so `key in lookup`, `lookup[key]` and `lookup.get(key)` work as on a dict; the first
    (lowest) row wins when several rows share a key."""

    def __init__(self, path: Path, verify):
        try:
            table = np.load(path, mmap_mode="r")
        except Exception as exc:
            raise _corrupt(path, exc) from exc
        if table.ndim != 2 or table.shape[0] != 2:
            raise _corrupt(path, ValueError("bad shape"))
        self.path = path
        self._hashes, self._rows = table[0], table[1]
        self._verify = verify

    def get(self, key: str, default=None):
        if not isinstance(key, str):
            return default
        wanted = key_hash(key)
        at = int(np.searchsorted(self._hashes, wanted))
        while at < len(self._hashes) and int(self._hashes[at]) == wanted:
            row = int(self._rows[at])
            if self._verify(key, row):
                return row
            at += 1
        return default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._hashes)
