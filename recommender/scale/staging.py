"""The staging folder a distributed build shares with its workers.

    STAGING/texts/SHARD.parquet                    row, id, text_sha256, text of a run of consecutive rows
    STAGING/model/MODEL_SHA/                       the encoder's files (ONNX model, tokenizer, config), as the driver has them
    STAGING/vectors/MODEL_SHA-RECIPE/SHARD.npy     float32 vectors of that shard's texts, in row order

A shard is named by the SHA-256 of its texts' hashes, so a rerun on the same corpus finds the shards already
embedded (and a changed corpus re-embeds only the shards whose texts changed); vector files are written under a
temporary name and renamed, so a file that exists is complete.
"""
from __future__ import annotations

import hashlib
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RecommenderError, UsageError

# Rows per shard: a shard is the unit of work of one actor call and of resuming. Small corpora still get
# at least MIN_SHARDS shards so that every actor has work (one block would go to one actor).
MAX_SHARD_ROWS = 2_000
MIN_SHARD_ROWS = 10
MIN_SHARDS = 16


@dataclass(frozen=True)
class Shard:
    key: str  # SHA-256 of the shard's text hashes
    start: int  # first row
    rows: int
    texts: Path  # its Parquet file


def shard_rows(n: int) -> int:
    """Depends on the number of papers only, so that a rerun with other workers finds the same shards."""
    return int(min(MAX_SHARD_ROWS, max(MIN_SHARD_ROWS, math.ceil(n / MIN_SHARDS))))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_folder(staging: Path) -> Path:
    staging = Path(staging).expanduser()
    if staging.exists() and not staging.is_dir():
        raise UsageError(f"--staging {staging}: is a file; give a folder (local, or shared by every worker)")
    foreign = [p.name for p in staging.iterdir() if p.name not in ("texts", "model", "vectors")] if staging.is_dir() else []
    if foreign:
        raise UsageError(f"--staging {staging}: holds {foreign[0]!r}, which a build did not write; give an empty or "
                         "new folder (the build writes texts/, model/ and vectors/ there)")
    try:
        for sub in ("texts", "model", "vectors"):
            (staging / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--staging {staging}: cannot be written ({exc.strerror or exc}); give a writable folder") from None
    return staging


def write_text_shards(staging: Path, papers) -> list[Shard]:
    """One Parquet file per run of rows of `papers` (a list, or a streamed build's spool read in one pass);
    a file already there (same texts) is kept. Holds one shard's texts at a time."""
    size = shard_rows(len(papers))
    shards: list[Shard] = []
    ids: list[str] = []
    texts: list[str] = []
    for paper in papers:
        ids.append(paper.id)
        texts.append(paper.text)
        if len(texts) == size:
            shards.append(_write_shard(staging, len(shards) * size, ids, texts))
            ids, texts = [], []
    if texts:
        shards.append(_write_shard(staging, len(shards) * size, ids, texts))
    return shards


def _write_shard(staging: Path, start: int, ids: list[str], texts: list[str]) -> Shard:
    import pyarrow as pa
    import pyarrow.parquet as pq

    hashes = [text_hash(t) for t in texts]
    key = hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:32]
    path = staging / "texts" / f"{start:012d}-{key}.parquet"
    if not path.is_file():
        table = pa.table({"row": pa.array(range(start, start + len(texts)), pa.int64()),
                          "id": pa.array(ids, pa.string()),
                          "text_sha256": pa.array(hashes, pa.string()),
                          "text": pa.array(texts, pa.large_string())})
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    return Shard(key, start, len(texts), path)


def read_text_shard(path: Path) -> tuple[np.ndarray, list[str]]:
    """(rows, texts) of a shard; every text is checked against its recorded hash."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["row", "text_sha256", "text"])
    rows = table.column("row").to_numpy()
    texts = table.column("text").to_pylist()
    for text, recorded in zip(texts, table.column("text_sha256").to_pylist()):
        if text_hash(text) != recorded:
            raise RecommenderError(f"{path}: a text does not match its hash; the staging folder is damaged, delete it")
    return rows, texts


def stage_model(staging: Path, files: dict[str, Path]) -> tuple[Path, dict[str, str]]:
    """Copy the encoder's files into STAGING/model/SHA/ (once); returns the folder and each file's SHA-256."""
    from ..index.integrity import sha256_file

    digests = {name: sha256_file(path) for name, path in sorted(files.items())}
    folder = staging / "model" / hashlib.sha256(repr(sorted(digests.items())).encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        target = folder / name
        if target.is_file() and target.stat().st_size == path.stat().st_size and sha256_file(target) == digests[name]:
            continue
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    return folder, digests


def vectors_folder(staging: Path, model_folder: Path, recipe: str) -> Path:
    folder = staging / "vectors" / f"{model_folder.name}-{recipe}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def vector_file(folder: Path, shard: Shard) -> Path:
    return folder / f"{shard.start:012d}-{shard.key}.npy"


def shard_done(folder: Path, shard: Shard, dim: int) -> bool:
    path = vector_file(folder, shard)
    if not path.is_file():
        return False
    try:
        found = np.load(path, mmap_mode="r")
    except Exception:
        return False  # unreadable: embed it again
    return found.shape == (shard.rows, dim) and found.dtype == np.float32


def save_vectors(path: Path, vectors: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, np.ascontiguousarray(vectors, dtype=np.float32))
    os.replace(tmp, path)


def assemble(folder: Path, shards: list[Shard], n: int, dim: int, out: np.ndarray | None = None,
             after_shard=None) -> np.ndarray:
    """The vectors of every shard, in row order (into `out`, e.g. a memory-mapped vectors.npy, when given;
    `after_shard(out)` runs after each shard is copied: a streamed build drops the written pages there)."""
    vectors = out if out is not None else np.empty((n, dim), dtype=np.float32)
    for shard in shards:
        part = np.load(vector_file(folder, shard))
        if part.shape != (shard.rows, dim):
            raise RecommenderError(f"{vector_file(folder, shard)}: holds {part.shape}, expected ({shard.rows}, {dim}); "
                                   "delete it and rerun")
        vectors[shard.start:shard.start + shard.rows] = part
        if after_shard is not None:
            after_shard(vectors)
    return vectors
