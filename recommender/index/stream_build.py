"""A build whose memory does not grow with the corpus: papers, vectors and the lexical index go to disk as they
are made (10M papers in under 16 GB; docs/performance.json, scale_out).

- ingest: the corpus is read and deduplicated into a spool file inside the new index's temporary folder
  (scale/stream_ingest.py): the same ids, duplicates and report as an in-memory read;
- embedding: STREAM_CHUNK papers at a time through the embedding cache, into a memory-mapped vectors.npy;
- FAISS: IVF-PQ trains on a sample sized to its cells and adds the vectors in pieces (vectors.py);
- lexical: bm25s in shards of lexical.SHARD_ROWS papers with the whole corpus's statistics (lexical.py);
- the collection map's layout, as any build computes it (skipped above its limit);
- the rest of the folder is written paper by paper (storage.write_index_files).
For a corpus that fits, every file it writes is byte for byte the file an in-memory build writes.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from . import replace, storage
from .layout import VECTORS

STREAM_CHUNK = 50_000  # papers embedded (and their texts held) at a time
# `build` streams on its own when the corpus files add up to more than this (about 250K arXiv abstracts).
STREAM_ABOVE_BYTES = 512 << 20


def should_stream(corpus: list[Path], stream: bool | None) -> bool:
    if stream is not None:
        return stream
    total = 0
    for path in corpus:
        try:
            total += Path(path).stat().st_size
        except OSError:
            return False  # ingest says what is wrong with it
    return total > STREAM_ABOVE_BYTES


def build_streamed(corpus: list[Path], folder: Path, *, format: str | None, model_ref, kind: str, index_type: str,
                   progress: bool, use_cache: bool, dedup_titles: bool, cache_path: Path | None, started: float,
                   ray: dict | None = None):
    """`ray` (address, workers, staging) embeds on a Ray cluster instead, shard by shard from the spool."""
    from ..embed import load_encoder
    from ..maps import layout as map_layout
    from ..refs import alias_keys
    from ..scale.stream_ingest import read_corpus_streamed
    from .build import AGREEMENT_PROBES, BuildReport, encoder_block, now, report_clipped
    from .lexical import LEXICAL_PARAMS, StreamedLexical
    from .vectors import build_faiss, choose_index_type

    with replace.atomic_dir(folder) as tmp:
        spool = tmp / "papers.spool"
        report = read_corpus_streamed(corpus, spool, format=format, dedup_titles=dedup_titles)
        papers = report.papers
        n = len(papers)
        chosen_type = choose_index_type(index_type, n)
        build_encoder = load_encoder(model_ref, kind)
        vectors = np.lib.format.open_memmap(tmp / VECTORS, mode="w+", dtype=np.float32, shape=(n, build_encoder.dim))
        if ray is None:
            computed, clipped, probes = _embed_in_chunks(build_encoder, papers, vectors, progress, use_cache, cache_path)
            engine = {"name": "local"}
        else:
            computed, clipped, probes, engine = _embed_on_ray(build_encoder, papers, vectors, progress, ray)
        created = now()
        manifest = {
            "package_version": _version(),
            "created": created,
            "updated": created,
            **encoder_block(build_encoder, probes[:AGREEMENT_PROBES], vectors[:AGREEMENT_PROBES]),
            "lexical": LEXICAL_PARAMS,
            "engine": engine,
            "counts": {"papers": n, "skipped": len(report.skipped), "duplicates": len(report.duplicates),
                       "without_abstract": report.without_abstract},
            "dedup_titles": dedup_titles,
            "corpus": _describe_files(corpus, papers),
        }
        if progress:
            print(f"indexing {n} vectors ({chosen_type})", file=sys.stderr)
        faiss_index, params = build_faiss(vectors, chosen_type)
        manifest["index"] = dict(params, requested=index_type)
        coords, manifest["map"] = map_layout.compute(vectors)  # skipped, and said so, above the map's limit
        map_layout.save(tmp, coords)
        lexical = StreamedLexical(lambda: _text_chunks(papers), n_docs=n)
        manifest = storage.write_index_files(tmp, papers=papers, vectors=vectors, faiss_index=faiss_index,
                                             lexical=lexical, manifest=manifest, aliases=alias_keys, scratch=[spool])
        papers.close()
        del vectors
    return BuildReport(folder, manifest, report, computed, n - computed, time.perf_counter() - started, clipped)


def _embed_in_chunks(encoder, papers, vectors: np.ndarray, progress: bool, use_cache: bool, cache_path):
    from ..embed import clipped_texts
    from ..embed.cache import embed_with_cache
    from .vectors import release_pages

    computed, clipped, probes = 0, [], []
    n = len(papers)
    if progress:
        print(f"embedding {n} papers with {encoder.model.name} ({encoder.kind}), {STREAM_CHUNK:,} at a time",
              file=sys.stderr)
    ids: list[str] = []
    texts: list[str] = []
    start = 0

    def flush() -> None:
        nonlocal computed, start
        part, fresh = embed_with_cache(encoder, texts, progress=False, use_cache=use_cache, cache_path=cache_path)
        vectors[start:start + len(texts)] = part
        release_pages(vectors)
        computed += fresh
        clipped.extend(ids[i] for i in clipped_texts(encoder, texts))
        if not probes:
            probes.extend(texts[:8])
        start += len(texts)
        ids.clear()
        texts.clear()

    for paper in papers:
        ids.append(paper.id)
        texts.append(paper.text)
        if len(texts) == STREAM_CHUNK:
            flush()
    if texts:
        flush()
    if clipped and progress:
        print(f"note: the encoder reads the first {encoder.max_chars:,} characters of a text: {len(clipped)} papers "
              f"were cut there (first: {clipped[0]}); lexical search indexes the whole text", file=sys.stderr)
    return computed, clipped, probes


def _embed_on_ray(encoder, papers, vectors: np.ndarray, progress: bool, ray: dict):
    from ..scale.ray_engine import embed_on_ray
    from .build import report_clipped
    from .vectors import release_pages

    clipped = report_clipped(encoder, papers, progress)
    run = embed_on_ray(encoder, papers, progress=progress, out=vectors, after_shard=release_pages, **ray)
    probes = [paper.text for paper, _ in zip(papers, range(8))]
    return run.embedded, clipped, probes, run.manifest_block()


def _text_chunks(papers):
    chunk: list[str] = []
    for paper in papers:
        chunk.append(paper.text)
        if len(chunk) == STREAM_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _describe_files(corpus: list[Path], papers) -> list[dict]:
    """build.describe_file for every file, with the papers of each counted as they were spooled."""
    counts = papers.per_file
    return [{"path": str(Path(p).resolve()), "sha256": storage.sha256_file(Path(p)), "papers": counts.get(Path(p).name, 0)}
            for p in corpus]


def _version() -> str:
    from .. import __version__

    return __version__
