"""How well would recommendations serve this user? Leave-one-out on the user's own library.

Each paper of the library that the index holds is held out in turn; the rest of the library (its other
papers, in the index or not) is the profile; the index is ranked for it as `recommend --bib` ranks it
(the rest of the library left out, the held-out paper not) and we note where the held-out paper comes
back: Recall@k (found in the top k) and MRR@k (1/rank, 0 below k), averaged over held-out papers, per
profile method. A library with several topics scores lower than a focused one: the figures compare
methods on the same library, they do not grade the library.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError

DEFAULT_K = 20
MAX_HELD_OUT = 200  # a larger library is sampled (with a fixed seed): the figures settle long before
METHODS = ("centroid", "svm", "logistic")


@dataclass
class MethodScores:
    method: str
    mode: str
    recall: float
    mrr: float
    ms_per_profile: float


@dataclass
class LibraryReport:
    library: str
    index: str
    entries: int  # readable entries of the .bib
    in_index: int  # those the index holds: the papers that can be held out
    held_out: int
    skipped: int  # unreadable entries
    k: int
    scores: list[MethodScores] = field(default_factory=list)
    ranks: dict[str, list[int | None]] = field(default_factory=dict)  # "method/mode" -> rank of each held-out paper

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_library(rec, bib: str | Path, *, methods: tuple[str, ...] = METHODS, modes: tuple[str, ...] = ("hybrid",),
                     k: int = DEFAULT_K, max_held_out: int = MAX_HELD_OUT, seed: int = 0) -> LibraryReport:
    from ..lists.bib import read_library
    from ..lists.methods import check_method, rank_profile
    from ..lists.profile import Profile, Seed, _paper_seed
    from ..search.engine import check_k, check_mode

    k = check_k(k)
    for method in methods:
        check_method(method)
    for mode in modes:
        check_mode(mode)
    library = read_library(rec, bib)
    rows = library.rows
    if len(rows) < 1 or len(library) < 2:
        raise UsageError(f"{library.path}: {len(rows)} of its {len(library)} entries are in the index; leaving one out "
                         "needs at least one paper of the index and one other entry (build the index with the library's papers in it)")
    held = rows if len(rows) <= max_held_out else sorted(np.random.default_rng(seed).choice(rows, max_held_out, replace=False).tolist())
    in_index = {row: _paper_seed(rec, row) for row in rows}
    outside = []
    if library.outside:
        vectors = rec.encoder.encode([paper.text for paper in library.outside])
        outside = [Seed(p.title, p.text, np.asarray(v, dtype=np.float32), "library") for p, v in zip(library.outside, vectors)]
    report = LibraryReport(str(library.path), str(rec.folder), len(library), len(rows), len(held), len(library.skipped), k)
    for mode in modes:
        for method in methods:
            ranks: list[int | None] = []
            started = time.perf_counter()
            for out in held:
                rest = [row for row in rows if row != out]
                profile = Profile([in_index[row] for row in rest] + outside, exclude_rows=frozenset(rest))
                ids = [r.paper.id for r in rank_profile(rec, profile, k, method=method, mode=mode, explain=False)]
                target = rec.papers[out].id
                ranks.append(ids.index(target) + 1 if target in ids else None)
            elapsed = time.perf_counter() - started
            report.ranks[f"{method}/{mode}"] = ranks
            report.scores.append(MethodScores(
                method, mode, round(sum(r is not None for r in ranks) / len(ranks), 4),
                round(sum(1.0 / r for r in ranks if r) / len(ranks), 4), round(1000 * elapsed / len(ranks), 1)))
    return report


def format_library(report: LibraryReport) -> str:
    lines = [f"{report.library}: {report.entries} entries, {report.in_index} in {report.index}, "
             f"{report.held_out} held out in turn" + (f", {report.skipped} unreadable" if report.skipped else ""),
             f"{'method':<10} {'mode':<8} {f'Recall@{report.k}':>10} {f'MRR@{report.k}':>8} {'ms/profile':>10}"]
    for s in report.scores:
        lines.append(f"{s.method:<10} {s.mode:<8} {s.recall:>10.3f} {s.mrr:>8.3f} {s.ms_per_profile:>10.1f}")
    return "\n".join(lines)
