"""Embedding cache keyed by model fingerprint, encoder kind and text, so unchanged papers are never re-embedded.

One SQLite file per (model fingerprint, encoder kind) under cache_dir()/embeddings/, rows keyed by the
SHA-256 of the text. New vectors are stored chunk by chunk as they are computed, so an interrupted
build keeps the work it did. A cache that cannot be read or written (a read-only folder, a full disk)
costs speed, never a build: it is reported in one line and bypassed.
"""
from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from . import Encoder, cache_dir

CHUNK = 1024  # texts encoded (and committed to the cache) at a time
_LOOKUP_BATCH = 500  # keys per SELECT ... IN (...), under SQLite's variable limit


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def default_path(encoder: Encoder) -> Path:
    return cache_dir() / "embeddings" / f"{encoder.model.fingerprint}-{encoder.recipe}.sqlite"


class EmbeddingCache:
    def __init__(self, encoder: Encoder, path: Path | None = None):
        self.encoder = encoder
        self.path = Path(path) if path is not None else default_path(encoder)
        self.read_only: str | None = None  # why the cache cannot be written, when it can only be read
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open_for_writing()
        except (OSError, sqlite3.OperationalError) as exc:  # read-only: still worth reading when it exists
            if not self.path.is_file():
                raise
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                self._db.execute("SELECT key FROM vectors LIMIT 1").fetchall()
            except sqlite3.DatabaseError:
                self._db.close()
                raise
            self.read_only = getattr(exc, "strerror", None) or str(exc)

    def _open_for_writing(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), timeout=60)
        try:
            # WAL: readers (another build) never block on a writer; NORMAL sync is safe with WAL.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors found for `keys`; a stored vector of the wrong size (another model's, a torn write) is ignored."""
        found: dict[bytes, np.ndarray] = {}
        size = 4 * int(self.encoder.dim)
        for start in range(0, len(keys), _LOOKUP_BATCH):
            chunk = keys[start:start + _LOOKUP_BATCH]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                if len(blob) == size:
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def store(self, keys: list[bytes], vectors: np.ndarray) -> None:
        if self.read_only:
            return
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors)],
            )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _open_cache(encoder: Encoder, path: Path | None) -> EmbeddingCache | None:
    try:
        cache = EmbeddingCache(encoder, path)
    except OSError as exc:  # its folder cannot be created: read-only, or a full disk
        where = path or default_path(encoder)
        print(f"warning: the embedding cache {where.parent} cannot be written ({exc.strerror or exc}); embedding "
              "without it (set RECOMMENDER_CACHE_DIR to a writable folder to keep the vectors)", file=sys.stderr)
        return None
    except sqlite3.DatabaseError as exc:
        where = path or default_path(encoder)
        print(f"warning: the embedding cache {where} cannot be read ({exc}); embedding without it "
              "(delete the file to start a fresh cache)", file=sys.stderr)
        return None
    if cache.read_only:
        print(f"warning: the embedding cache {cache.path} cannot be written ({cache.read_only}); "
              "using the vectors it holds, storing no new ones", file=sys.stderr)
    return cache


def embed_with_cache(encoder: Encoder, texts: list[str], *, progress: bool = False, use_cache: bool = True,
                     batch_size: int = 64, cache_path: Path | None = None,
                     announce: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for `texts` and how many of them had to be computed (the rest came from the cache).

    Each distinct text is encoded once, whatever the cache says. Texts go to the encoder longest first in
    chunks, so each chunk's batches are padded to nearly the same length. `announce(to_embed, from_cache)`
    is told, before any encoding, how many texts the encoder gets and how many the cache gave."""
    keys = [text_key(t) for t in texts]
    unique = list(dict.fromkeys(keys))
    cache = _open_cache(encoder, cache_path) if use_cache else None
    try:
        found: dict[bytes, np.ndarray] = {}
        if cache is not None:
            try:
                found = cache.lookup(unique)
            except sqlite3.DatabaseError as exc:
                print(f"warning: the embedding cache {cache.path} cannot be read ({exc}); embedding without it", file=sys.stderr)
                cache.close()
                cache = None
        first_text = {}
        for key, text in zip(keys, texts):
            first_text.setdefault(key, text)
        missing = [k for k in unique if k not in found]
        missing.sort(key=lambda k: -len(first_text[k]))  # characters: a cheap stand-in for tokens
        if announce is not None:
            announce(len(missing), len(texts) - len(missing))  # counted as the report counts them
        bar = _progress_bar(len(missing)) if progress and len(missing) > CHUNK else None
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            new = encoder.encode([first_text[k] for k in chunk], batch_size=batch_size,
                                 progress=progress and bar is None)
            if cache is not None:
                try:
                    cache.store(chunk, new)
                except sqlite3.DatabaseError as exc:  # read-only or full: the vectors are still good
                    print(f"warning: cannot write to the embedding cache {cache.path} ({exc}); "
                          "embedding without storing the new vectors", file=sys.stderr)
                    cache.close()
                    cache = None
            found.update(zip(chunk, new))
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out, len(missing)
    finally:
        if cache is not None:
            cache.close()


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="paper", file=sys.stderr)
