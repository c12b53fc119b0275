"""Incremental updates of an index: add new papers, update changed ones, remove papers by id.

Only new texts and changed texts are embedded (through the embedding cache). The rows of papers already
in the index keep their order, new papers are appended, removed rows close up; the result is written
to a temporary folder and renamed into place, like a build, under a lock so two updates never race.
What an update leaves is what a full build of the same final corpus would give (same rows, vectors,
lexical index); only an approximate index's internals may differ (an HNSW graph grown by additions).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import refs
from ..errors import IndexLoadError, PaperNotFound, UsageError
from ..records import IngestReport, Paper
from . import storage
from .build import describe_file, embedding_announcer, now, report_clipped, write_index
from .vectors import build_faiss, choose_index_type, cpu_threads, ivfpq_shape, refill_faiss

MAX_IDS_IN_MANIFEST = 100  # the update history names at most this many ids per operation


@dataclass
class UpdateReport:
    index: Path
    manifest: dict
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # same id, a different record
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    embedded: int = 0  # vectors computed by the encoder
    reused: int = 0  # vectors taken from the embedding cache
    index_rebuilt: bool = False  # False when the FAISS index was extended or refilled instead
    seconds: float = 0.0
    ingest: IngestReport | None = None
    clipped: list[str] = field(default_factory=list)  # ids of papers whose text was cut for the encoder


def add_to_index(corpus: list[str | Path], index: str | Path, *, format: str | None = None, progress: bool = True,
                 use_cache: bool = True, cache_path: Path | None = None) -> UpdateReport:
    """Add the papers of `corpus` that are new; replace those the index holds (same id, arXiv id in any version,
    or DOI: `refs.SamePaper`) whose record changed."""
    from ..embed import check_recipe
    from ..embed.cache import embed_with_cache
    from ..ingest import read_corpus

    started = time.perf_counter()
    folder = storage.index_dir(index)
    with storage.updating(folder) as manifest:
        # New vectors must be comparable with the stored ones: fail before reading the corpus.
        check_recipe(folder, manifest["encoder"].get("build_recipe"), manifest["encoder"]["build"])
        papers, vectors = _read_contents(folder, manifest, "add")
        ingest = read_corpus([Path(p) for p in corpus], format=format, dedup_titles=manifest.get("dedup_titles", True))
        same_paper = refs.SamePaper(papers)
        report = UpdateReport(folder, manifest, ingest=ingest)
        to_embed: list[tuple[int, str]] = []  # (row in the final list, text)
        for paper in ingest.papers:
            row = same_paper.find(paper)
            paper = paper if row is None else refs.carry_identifiers(papers[row], paper)
            if row is None:
                same_paper.note(paper, len(papers))
                to_embed.append((len(papers), paper.text))
                papers.append(paper)
                report.added.append(paper.id)
            elif _same_record(papers[row], paper):
                report.unchanged += 1
            else:
                if papers[row].text != paper.text:
                    to_embed.append((row, paper.text))
                papers[row] = paper
                same_paper.note(paper, row)
                report.updated.append(paper.id)
        if not report.added and not report.updated:
            report.seconds = time.perf_counter() - started
            return report  # nothing to write: the index already holds exactly these papers
        encoder = _build_encoder(folder, manifest)
        report.clipped = report_clipped(encoder, [papers[row] for row, _ in to_embed], progress)
        announce = embedding_announcer(f"{manifest['model']['name']} ({encoder.kind})", "new or changed papers")
        new_vectors, report.embedded = embed_with_cache(encoder, [t for _, t in to_embed], progress=progress,
                                                        use_cache=use_cache, cache_path=cache_path,
                                                        announce=announce if progress else None)
        report.reused = len(to_embed) - report.embedded
        final = np.zeros((len(papers), vectors.shape[1]), dtype=np.float32)
        final[:len(vectors)] = vectors
        changed_rows = [row for row, _ in to_embed if row < len(vectors)]
        for (row, _), vector in zip(to_embed, new_vectors):
            final[row] = vector
        faiss_index, params, report.index_rebuilt = _updated_faiss(folder, manifest, final, appended_only=not changed_rows,
                                                                   progress=progress)
        manifest = dict(manifest, index=params, updated=now())
        manifest["counts"] = _counts(manifest["counts"], papers, ingest)
        manifest["corpus"] = manifest["corpus"] + [dict(describe_file(Path(p), ingest), added=manifest["updated"])
                                                   for p in corpus]
        manifest["updates"] = manifest.get("updates", []) + [{
            "at": manifest["updated"], "operation": "add", "files": [str(Path(p).resolve()) for p in corpus],
            "added": len(report.added), "updated": len(report.updated), "unchanged": report.unchanged,
            "embedded": report.embedded, "ids": (report.added + report.updated)[:MAX_IDS_IN_MANIFEST],
        }]
        report.manifest = write_index(folder, papers, final, faiss_index, manifest)
    report.seconds = time.perf_counter() - started
    return report


def remove_from_index(ids: list[str], index: str | Path, *, progress: bool = True) -> UpdateReport:
    """Remove the papers these references name (id, arXiv id, DOI or whole title: `refs.resolve`);
    a reference that names no paper is an error and nothing is removed."""
    started = time.perf_counter()
    wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    if not wanted:
        raise UsageError("give the papers to remove by id, arXiv id, DOI or title (`recommender search` shows them)")
    folder = storage.index_dir(index)
    with storage.updating(folder) as manifest:
        papers, vectors = _read_contents(folder, manifest, "remove")
        row_of_ref = refs.resolve_each(wanted, papers)
        unknown = [ref for ref, row in row_of_ref.items() if row is None]
        if unknown:
            shown = ", ".join(repr(i) for i in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise PaperNotFound(f"{folder}: no paper matches {shown}; nothing was removed (give each paper's id, "
                                "arXiv id, DOI or whole title; `recommender search` finds it by words)")
        gone = set(row_of_ref.values())
        wanted = list(dict.fromkeys(papers[row].id for row in row_of_ref.values()))  # the ids removed
        if len(gone) == len(papers):
            raise UsageError(f"removing {len(gone)} papers would leave {folder} empty; delete the folder instead")
        keep = np.array([row for row in range(len(papers)) if row not in gone], dtype=np.int64)
        papers = [papers[row] for row in keep]
        final = np.ascontiguousarray(vectors[keep], dtype=np.float32)
        report = UpdateReport(folder, manifest, removed=wanted)
        faiss_index, params, report.index_rebuilt = _updated_faiss(folder, manifest, final, appended_only=False,
                                                                   progress=progress)
        manifest = dict(manifest, index=params, updated=now())
        manifest["counts"] = dict(manifest["counts"], papers=len(papers),
                                  without_abstract=sum(1 for p in papers if not p.abstract.strip()))
        manifest["updates"] = manifest.get("updates", []) + [{
            "at": manifest["updated"], "operation": "remove", "removed": len(wanted), "ids": wanted[:MAX_IDS_IN_MANIFEST],
        }]
        report.manifest = write_index(folder, papers, final, faiss_index, manifest)
    report.seconds = time.perf_counter() - started
    return report


def _read_contents(folder: Path, manifest: dict, operation: str) -> tuple[list[Paper], np.ndarray]:
    check_fits_in_memory(folder, manifest, operation)
    papers = list(storage.PaperStore(folder))
    vectors = storage.load_vectors(folder)
    if len(papers) != manifest["counts"]["papers"] or vectors.shape != (len(papers), manifest["dimension"]):
        raise IndexLoadError(f"{folder}: papers, vectors and manifest disagree (corrupt index); rebuild it with `recommender build`")
    return papers, vectors


# What an update holds: its papers as Python objects (1.53x their lines in papers.jsonl on the bundled listing,
# tracemalloc), the final vectors with a copy and a flat FAISS index's own (3 x n x dim x 4 bytes) and one
# lexical shard being built (~6.4 KB a paper, at most lexical.SHARD_ROWS papers).
PAPER_BYTES_PER_FILE_BYTE = 1.5
LEXICAL_BYTES_PER_PAPER = 6_400


def update_memory_estimate(folder: Path, manifest: dict) -> int:
    from . import lexical
    from .layout import PAPERS

    n = int(manifest["counts"]["papers"])
    papers_file = (folder / PAPERS).stat().st_size if (folder / PAPERS).is_file() else 0
    return int(PAPER_BYTES_PER_FILE_BYTE * papers_file + 3 * n * int(manifest["dimension"]) * 4
               + min(n, lexical.SHARD_ROWS) * LEXICAL_BYTES_PER_PAPER)


def available_memory() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), in bytes; None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_fits_in_memory(folder: Path, manifest: dict, operation: str) -> None:
    """An update holds every paper in memory: refuse, before reading them, one that this machine cannot hold,
    rather than be killed for memory halfway (the index would be intact, but after a long wait)."""
    needed, available = update_memory_estimate(folder, manifest), available_memory()
    if available is None or needed <= available:
        return
    n = manifest["counts"]["papers"]
    source = "its corpus files and the new ones" if operation == "add" else "corpus files without those papers"
    instead = f"build the index again from {source}: `recommender build FILES... --index {folder} --stream` holds no paper in memory"
    raise UsageError(f"{folder}: `{operation}` holds the index's {n:,} papers in memory, about {needed / 2**30:.1f} GB, "
                     f"and {available / 2**30:.1f} GB is available; nothing was changed; {instead}")


def _same_record(old: Paper, new: Paper) -> bool:
    """Equal apart from where the record was read from."""
    return dict(old.to_dict(), source=None) == dict(new.to_dict(), source=None)


def _build_encoder(folder: Path, manifest: dict):
    """The encoder that built the index (same model, same kind), so old and new vectors are comparable."""
    from ..embed import load_encoder, resolve_model

    built = manifest["model"]
    ref = resolve_model(built["name"])
    if ref.fingerprint != built["fingerprint"]:
        raise IndexLoadError(f"{folder}: built with model {built['name']!r} (fingerprint {built['fingerprint']}), "
                             f"but the copy found here differs ({ref.fingerprint}); rebuild the index with `recommender build`")
    return load_encoder(ref, manifest["encoder"]["build"])


def _updated_faiss(folder: Path, manifest: dict, vectors: np.ndarray, *, appended_only: bool, progress: bool):
    """The FAISS index for the final vectors, reusing the old one where that gives the same result faster.

    flat: rebuilt (a copy, seconds even at 1M). ivfpq: the trained cells and codebooks are kept and the
    codes re-encoded, unless the corpus outgrew them (2x the cells it would now get). hnsw: new rows are
    added to the graph; a changed or removed row means rebuilding it (HNSW cannot delete)."""
    params = manifest["index"]
    kind = params["type"]
    requested = params.get("requested", kind)
    wanted = choose_index_type(requested, len(vectors))
    if wanted == kind == "ivfpq" and ivfpq_shape(len(vectors))["nlist"] <= 2 * params["nlist"]:
        old = storage.load_faiss(folder, mmap=False)
        return refill_faiss(old, vectors), params, False
    if wanted == kind == "hnsw" and appended_only:
        import faiss

        old = storage.load_faiss(folder, mmap=False)
        faiss.omp_set_num_threads(cpu_threads())
        old.add(np.ascontiguousarray(vectors[old.ntotal:], dtype=np.float32))
        return old, params, False
    if progress and wanted != "flat":
        print(f"rebuilding the {wanted} index over {len(vectors)} vectors", file=sys.stderr)
    index, new_params = build_faiss(vectors, wanted)
    return index, dict(new_params, requested=requested), True


def _counts(old: dict, papers: list[Paper], ingest: IngestReport) -> dict:
    return dict(old, papers=len(papers), skipped=old.get("skipped", 0) + len(ingest.skipped),
                duplicates=old.get("duplicates", 0) + len(ingest.duplicates),
                without_abstract=sum(1 for p in papers if not p.abstract.strip()))
