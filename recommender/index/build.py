"""Build an index folder from corpus files: read, embed (through the cache), index, write atomically."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import RecommenderError, UsageError
from ..records import IngestReport, Paper
from . import replace, storage
from .lexical import LEXICAL_PARAMS, TOKENIZE_CHUNK, StreamedLexical
from .vectors import build_faiss, choose_index_type

AGREEMENT_PROBES = 8


@dataclass
class BuildReport:
    index: Path
    manifest: dict
    ingest: IngestReport
    embedded: int  # vectors computed by the encoder
    reused: int  # vectors taken from the embedding cache
    seconds: float
    clipped: list[str] = field(default_factory=list)  # ids of papers whose text was cut for the encoder


def embedding_announcer(encoder_label: str, noun: str = "papers"):
    """What embed_with_cache says before it starts: how many texts it embeds and how many the cache holds."""
    def announce(to_embed: int, from_cache: int) -> None:
        if to_embed:
            cached = f" ({from_cache} more from the embedding cache)" if from_cache else ""
            print(f"embedding {to_embed} {noun} with {encoder_label}{cached}", file=sys.stderr)
        elif from_cache:
            print(f"taking the vectors of {from_cache} {noun} from the embedding cache; embedding none", file=sys.stderr)

    return announce


def report_clipped(encoder, papers: list[Paper], progress: bool) -> list[str]:
    """Ids of papers whose text is longer than the encoder reads; says so when `progress`."""
    from ..embed import clipped_texts

    clipped = [paper.id for paper in papers if clipped_texts(encoder, [paper.text])]  # one pass: papers may be a spool
    if clipped and progress:
        many = len(clipped) != 1
        print(f"note: the encoder reads the first {encoder.max_chars:,} characters of a text ({encoder.max_tokens} word "
              f"pieces): {len(clipped)} paper{'s are' if many else ' is'} longer and {'were' if many else 'was'} cut there "
              f"({'first: ' if many else ''}{clipped[0]}); lexical search indexes the whole text", file=sys.stderr)
    return clipped


def choose_encoder_kind(requested: str) -> str:
    from ..embed import ENCODER_KINDS

    if requested not in ENCODER_KINDS:
        raise UsageError(f"--encoder {requested!r}: choose one of {', '.join(ENCODER_KINDS)}")
    return DEFAULT_BUILD_ENCODER if requested == "auto" else requested


# The fastest encoder with no measurable loss of ranking quality on the dev collections (README, Performance):
# int8 ONNX (feed-forward layers smoothed before quantising) built 1,000 papers 2.65x faster than
# sentence-transformers + IndexFlatIP, and its nDCG@10 is within 0.005 of torch's on SciFact, CSFCube and CISI,
# dense and hybrid (worst: -0.0028, CSFCube hybrid). Without the smoothing it lost 0.007-0.009 on CISI hybrid.
# `--encoder onnx` (fp32) ranks exactly as torch does (equal to 4 decimals), at 1.28x its build speed.
DEFAULT_BUILD_ENCODER = "onnx-int8"


def query_encoder_kind(build_kind: str) -> str:
    """Queries never load torch: an index built with torch is queried through the fp32 ONNX export of the same model."""
    return "onnx" if build_kind == "torch" else build_kind


def build_index(corpus: list[str | Path], index: str | Path, *, format: str | None = None, model: str | None = None,
                encoder: str = "auto", index_type: str = "auto", progress: bool = True, use_cache: bool = True,
                dedup_titles: bool = True, cache_path: Path | None = None, engine: str = "local",
                address: str | None = None, workers: int | None = None, staging: str | Path | None = None,
                stream: bool | None = None) -> BuildReport:
    """`cache_path` puts the embedding cache in another file (benchmarks measure a cold and a warm cache with it).

    `engine="ray"` embeds on a Ray cluster (`address`: auto, ray://HOST:PORT, or a local Ray when None) through
    the `staging` folder, with `workers` actors; the index it writes is the one a local build writes.
    `stream` keeps papers, vectors and the lexical index on disk while building (stream_build.py); by default a
    build streams when its corpus files exceed stream_build.STREAM_ABOVE_BYTES."""
    from ..embed import load_encoder, resolve_model
    from ..embed.cache import embed_with_cache
    from ..ingest import read_corpus

    started = time.perf_counter()
    folder = storage.index_dir(index)
    # Before any work: a build replaces its folder whole, so it must not be the user's (again under the lock).
    replace.check_target(folder)
    replace.check_corpus_outside(folder, corpus)
    kind = choose_encoder_kind(encoder)
    check_engine(engine, kind, address, workers, staging)
    from .stream_build import build_streamed, should_stream

    if should_stream([Path(p) for p in corpus], stream):
        ray = {"address": address, "workers": workers, "staging": Path(staging) if staging is not None else None}
        return build_streamed([Path(p) for p in corpus], folder, format=format, model_ref=resolve_model(model), kind=kind,
                              index_type=index_type, progress=progress, use_cache=use_cache, dedup_titles=dedup_titles,
                              cache_path=cache_path, started=started, ray=ray if engine == "ray" else None)
    report = read_corpus([Path(p) for p in corpus], format=format, dedup_titles=dedup_titles)
    papers = report.papers
    chosen_type = choose_index_type(index_type, len(papers))
    model_ref = resolve_model(model)
    build_encoder = load_encoder(model_ref, kind)
    texts = [p.text for p in papers]
    clipped = report_clipped(build_encoder, papers, progress)
    announce = embedding_announcer(f"{model_ref.name} ({kind})") if progress else None
    if engine == "ray":
        from ..scale.ray_engine import embed_on_ray

        run = embed_on_ray(build_encoder, papers, address=address, workers=workers,
                           staging=Path(staging) if staging is not None else None, progress=progress)
        vectors, computed, engine_block = run.vectors, run.embedded, run.manifest_block()
    else:
        vectors, computed = embed_with_cache(build_encoder, texts, progress=progress, use_cache=use_cache,
                                             cache_path=cache_path, announce=announce)
        engine_block = {"name": "local"}
    created = now()
    manifest = {
        "package_version": __version__,
        "created": created,
        "updated": created,  # add and remove set it again
        **encoder_block(build_encoder, texts[:AGREEMENT_PROBES], vectors[:AGREEMENT_PROBES]),
        "lexical": LEXICAL_PARAMS,
        "engine": engine_block,
        "counts": {
            "papers": len(papers),
            "skipped": len(report.skipped),
            "duplicates": len(report.duplicates),
            "without_abstract": report.without_abstract,
        },
        "dedup_titles": dedup_titles,
        "corpus": [describe_file(Path(p), report) for p in corpus],
    }
    if progress:
        print(f"indexing {len(papers)} vectors ({chosen_type})", file=sys.stderr)
    faiss_index, params = build_faiss(vectors, chosen_type)
    manifest["index"] = dict(params, requested=index_type)  # `add` re-chooses when `auto` and the corpus grew
    manifest = write_index(folder, papers, vectors, faiss_index, manifest)
    return BuildReport(folder, manifest, report, computed, len(texts) - computed, time.perf_counter() - started, clipped)


ENGINES = ("local", "ray")


def check_engine(engine: str, kind: str, address: str | None, workers: int | None, staging) -> None:
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "ray":
        from ..scale.ray_engine import check_engine_options

        check_engine_options(kind, address, Path(staging) if staging is not None else None, workers)
    elif address is not None or workers is not None or staging is not None:
        raise UsageError("--address, --workers and --staging go with --engine ray")


def write_index(folder: Path, papers: list[Paper], vectors: np.ndarray, faiss_index, manifest: dict) -> dict:
    """The lexical index, then every file (the map's layout included) into a temporary folder that takes
    `folder`'s place in one atomic rename, under the index's lock (replace.atomic_dir)."""
    from ..maps import layout as map_layout
    from ..refs import alias_keys

    # One bm25s index up to lexical.SHARD_ROWS papers, shards above (as a streamed build, also where `add` grows an
    # index past it); built as it is saved, and its recipe replaces this block then.
    lexical = StreamedLexical(lambda: ([p.text for p in papers[i:i + TOKENIZE_CHUNK]]
                                       for i in range(0, len(papers), TOKENIZE_CHUNK)), n_docs=len(papers))
    manifest = dict(manifest, lexical=LEXICAL_PARAMS)
    coords, manifest["map"] = map_layout.compute(vectors)  # the collection map's 2D layout; before the lock (minutes when big)
    with replace.atomic_dir(folder) as tmp:
        map_layout.save(tmp, coords)
        return storage.write_index_files(tmp, papers=papers, vectors=vectors, faiss_index=faiss_index,
                                         lexical=lexical, manifest=manifest, aliases=alias_keys)


def encoder_block(build_encoder, probes: list[str], stored: np.ndarray) -> dict:
    """The manifest's model/encoder fields: what built the vectors, what encodes queries, and how well they agree."""
    from ..embed import describe, recipe_for

    kind = build_encoder.kind
    query_kind = query_encoder_kind(kind)
    agreement = _agreement(build_encoder, query_kind, probes, stored)
    return {
        "model": {**describe(build_encoder), "name": build_encoder.model.name, "normalized": True},
        "dimension": int(build_encoder.dim),
        "normalization": "l2",
        "encoder": {"build": kind, "query": query_kind, "build_recipe": recipe_for(kind), "query_recipe": recipe_for(query_kind),
                    "query_agreement_min_cosine": agreement},
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def describe_file(path: Path, report: IngestReport) -> dict:
    prefix = f"{path.name}:"
    return {
        "path": str(path.resolve()),
        "sha256": storage.sha256_file(path),
        "papers": sum(1 for p in report.papers if (p.source or "").startswith(prefix)),
    }


def _agreement(build_encoder, query_kind: str, probes: list[str], stored: np.ndarray) -> float:
    """Min cosine between the stored vectors of a few corpus texts and what the query encoder makes of each
    text on its own, as it encodes a query. Measured even when the kinds match, so that the manifest says,
    rather than assumes, that queries and papers live in the same space (torch -> onnx: ~0.99999)."""
    if not probes:
        return 1.0
    from ..embed import load_encoder

    query_encoder = build_encoder if query_kind == build_encoder.kind else load_encoder(build_encoder.model, query_kind)
    alone = np.vstack([query_encoder.encode([text]) for text in probes])
    agreement = float(np.min(np.sum(alone * np.asarray(stored, dtype=np.float32), axis=1)))
    if agreement < 0.99:
        raise RecommenderError(
            f"the {query_kind} query encoder disagrees with the {build_encoder.kind} build encoder "
            f"(min cosine {agreement:.4f} on texts of the corpus); rebuild with --encoder onnx"
        )
    return round(agreement, 6)
