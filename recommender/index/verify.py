"""`recommender verify`: every byte of an index against its build's checksums, then its parts against each other."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import IndexLoadError
from . import integrity, layout, replace, storage


@dataclass
class VerifyReport:
    index: Path
    files: int = 0  # files compared with the manifest
    bytes: int = 0
    checksums: bool = True  # False for an index built before checksums were recorded (sizes only)
    papers: int = 0
    problems: list[str] = field(default_factory=list)  # "name: what is wrong", empty when the index is whole
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_index(index: str | Path) -> VerifyReport:
    """Hash every file (what opening an index checks only in part) and load every part: records, vectors,
    FAISS, lexical index and lookup tables must agree with the manifest and with each other."""
    started = time.perf_counter()
    folder = storage.index_dir(index)
    replace.restore_for_reader(folder)
    if not folder.exists():
        raise IndexLoadError(f"{folder}: no index here; build one with `recommender build CORPUS --index {folder}`")
    manifest = storage.parse_manifest(folder)
    report = VerifyReport(folder, checksums=integrity.has_checksums(manifest))
    sizes = manifest.get("files") or {}
    report.files, report.bytes = len(sizes), int(sum(sizes.values()))
    report.problems = [f"{p.name}: {p.reason}" for p in integrity.check(folder, manifest, full=True)]
    if not report.problems:  # loading damaged files proves nothing more
        report.papers = int(manifest.get("counts", {}).get("papers", 0))
        report.problems = _check_parts(folder, manifest)
    report.seconds = time.perf_counter() - started
    return report


def _check_parts(folder: Path, manifest: dict) -> list[str]:
    """The structural checks: what an index without checksums still gets, and what checksums cannot see
    (an index written wrong in the first place)."""
    problems: list[str] = []
    n, dim = int(manifest["counts"]["papers"]), int(manifest["dimension"])
    try:
        papers = list(storage.PaperStore(folder))
        if len(papers) != n:
            problems.append(f"{layout.PAPERS}: {len(papers)} records, the manifest says {n}")
        ids = storage.load_ids(folder)
        if ids != [p.id for p in papers]:
            problems.append(f"{layout.IDS}: differs from the ids of {layout.PAPERS}")
        vectors = storage.load_vectors(folder, mmap=True)
        if vectors.shape != (n, dim) or vectors.dtype != np.float32:
            problems.append(f"{layout.VECTORS}: shape {vectors.shape} {vectors.dtype}, the manifest says ({n}, {dim}) float32")
        elif not all(np.allclose(np.linalg.norm(np.asarray(vectors[start:start + 65536]), axis=1), 1.0, atol=1e-3)
                     for start in range(0, n, 65536)):  # in slices: 1M vectors are 1.5 GB
            problems.append(f"{layout.VECTORS}: some rows are not unit length (or not numbers)")
        faiss_index = storage.load_faiss(folder, mmap=False)
        if int(faiss_index.ntotal) != n:
            problems.append(f"{layout.FAISS}: {faiss_index.ntotal} vectors, the manifest says {n}")
        from .lexical import LexicalIndex

        lexical = LexicalIndex.load(folder / layout.LEXICAL, n, mmap=False)
        if n and len(lexical.scores(papers[0].title or papers[0].text or "a")) != n:
            problems.append(f"{layout.LEXICAL}: scores a different number of papers than {n}")
        if (folder / layout.ID_LOOKUP).is_file():
            lookup = storage.KeyLookup(folder / layout.ID_LOOKUP, lambda key, row: papers[row].id == key)
            first_row = {}
            for row, paper in enumerate(papers):
                first_row.setdefault(paper.id, row)
            if len(lookup) != n or any(lookup.get(pid) != row for pid, row in first_row.items()):
                problems.append(f"{layout.ID_LOOKUP}: does not find every paper's row")
    except IndexLoadError as exc:
        problems.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure to load a part is a finding, named by the part
        problems.append(f"cannot be loaded ({type(exc).__name__}: {exc})")
    return problems
