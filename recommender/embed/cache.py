"""Embedding cache keyed by model fingerprint, encoder kind and text, so unchanged papers are never re-embedded."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from . import Encoder, cache_dir


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, encoder: Encoder, path: Path | None = None):
        self.encoder = encoder
        if path is None:
            path = cache_dir() / "embeddings" / f"{encoder.model.fingerprint}-{encoder.kind}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    def lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def store(self, keys: list[bytes], vectors: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors)],
            )

    def close(self) -> None:
        self._db.close()


def embed_with_cache(encoder: Encoder, texts: list[str], *, progress: bool = False, use_cache: bool = True,
                     batch_size: int = 64) -> tuple[np.ndarray, int]:
    """Vectors for `texts` and how many of them had to be computed (the rest came from the cache)."""
    if not use_cache:
        return encoder.encode(texts, batch_size=batch_size, progress=progress), len(texts)
    cache = EmbeddingCache(encoder)
    try:
        keys = [text_key(t) for t in texts]
        found = cache.lookup(list(dict.fromkeys(keys)))
        missing = [i for i, k in enumerate(keys) if k not in found]
        unique_missing = list(dict.fromkeys(keys[i] for i in missing))
        if unique_missing:
            first_text = {}
            for i in missing:
                first_text.setdefault(keys[i], texts[i])
            new = encoder.encode([first_text[k] for k in unique_missing], batch_size=batch_size, progress=progress)
            cache.store(unique_missing, new)
            found.update(zip(unique_missing, new))
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out, len(unique_missing)
    finally:
        cache.close()
