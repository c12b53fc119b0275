"""Embedding cache for the ranking research: every vector is computed once and np.save'd.

Files live under .cache/research/ (git-ignored), keyed by set name, what was embedded and a hash of
the texts, so a changed benchmark file or splitter gives a new file instead of stale vectors.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "research"
_ENCODER = None


def encoder():
    global _ENCODER
    if _ENCODER is None:
        sys.path.insert(0, str(ROOT))
        from recommender.embed import load_encoder

        _ENCODER = load_encoder(None, "torch")
    return _ENCODER


def _digest(texts: list[str]) -> str:
    h = hashlib.sha1()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:12]


def embed_cached(name: str, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Vectors for texts, from .cache/research/<name>-<hash>.npy when present."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{_digest(texts)}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    # sort by length so batches pad little; restore the order afterwards
    order = np.argsort([len(t) for t in texts], kind="stable")
    vecs = encoder().encode([texts[i] for i in order], batch_size=batch_size, progress=True)
    out = np.empty_like(vecs)
    out[order] = vecs
    np.save(path, out)
    print(f"[cache] embedded {len(texts)} texts for {name} in {time.perf_counter() - t0:.1f}s -> {path.name}", file=sys.stderr)
    return out


def embed_time_per_text(texts: list[str], repeats: int = 1) -> float:
    """Median seconds to embed one text on its own (the latency a live query pays)."""
    enc = encoder()
    enc.encode(texts[:1])  # warm-up
    times = []
    for t in texts:
        t0 = time.perf_counter()
        for _ in range(repeats):
            enc.encode([t])
        times.append((time.perf_counter() - t0) / repeats)
    return float(np.median(times))
