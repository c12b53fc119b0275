"""What the user gave as a profile, turned into vectors: liked papers, disliked papers, a text, a library.

A seed is one thing the ranking starts from. Papers of the index bring their stored vector; papers of
a library that are not in the index, and a query text, are embedded with the index's own encoder.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, UsageError
from ..records import Paper


@dataclass
class Seed:
    label: str  # what a reason calls it: a paper's title, or the query text
    text: str  # for the lexical side and for the terms a pick shares with it
    vector: np.ndarray  # L2-normalised
    kind: str  # "paper" (a --like paper or an index paper of the library), "library" (outside the index), "query"
    row: int | None = None  # row in the index, None for a seed outside it


@dataclass
class Profile:
    positives: list[Seed]  # liked papers and library papers
    negatives: list[Seed] = field(default_factory=list)
    query: Seed | None = None
    exclude_rows: frozenset[int] = frozenset()  # every seed of the index: never recommended back

    @property
    def attractors(self) -> list[Seed]:
        """What a pick can be close to: the positive papers and the query."""
        return self.positives + ([self.query] if self.query else [])

    @property
    def lexical_text(self) -> str:
        return " ".join(seed.text for seed in self.attractors)

    def describe(self) -> str:
        parts = []
        if self.query:
            parts.append(self.query.label)
        if self.positives:
            parts.append("papers like " + "; ".join(_short(s.label) for s in self.positives[:3])
                         + (f" and {len(self.positives) - 3} more" if len(self.positives) > 3 else ""))
        return " + ".join(parts)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def expand_refs(refs: Sequence[str] | str | None) -> list[str]:
    """Paper references as given; `@FILE` stands for the references of a file, one a line (# starts a comment)."""
    if refs is None:
        return []
    if isinstance(refs, str):
        refs = [refs]
    out: list[str] = []
    for ref in refs:
        ref = (ref or "").strip()
        if ref.startswith("@") and len(ref) > 1:
            path = Path(ref[1:]).expanduser()
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: cannot read the list of papers ({type(exc).__name__}); "
                                 "give a UTF-8 text file with one id, DOI, arXiv id or title a line") from exc
            out.extend(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
        elif ref:
            out.append(ref)
    return out


def _paper_seed(rec, row: int) -> Seed:
    paper = rec.papers[row]
    return Seed(paper.title or paper.id, paper.text, np.asarray(rec.vectors[row], dtype=np.float32), "paper", row)


def _resolve_all(rec, refs: list[str]) -> list[int]:
    rows: list[int] = []
    for ref in refs:
        row = rec.resolve(ref)  # PaperNotFound names the reference and what to do
        if row not in rows:
            rows.append(row)
    return rows


def build_profile(rec, like: Sequence[str] = (), unlike: Sequence[str] = (), query: str | None = None, *,
                  library: Sequence[Paper] = (), library_rows: Sequence[int] = ()) -> Profile:
    """Resolve and check what the user gave. `library`: papers of a .bib outside the index (embedded here);
    `library_rows`: the .bib's papers found in the index."""
    like_refs, unlike_refs = expand_refs(like), expand_refs(unlike)
    query = (query or "").strip() or None
    if not like_refs and not query and not library and not library_rows:
        if unlike_refs:
            raise UsageError("all the seeds are negatives (disliked papers): give at least one liked paper, a query "
                             "text or a library of your papers to say what you want")
        raise UsageError("the seed set is empty: give at least one liked paper, a query text or a library of your papers")
    like_rows = _resolve_all(rec, like_refs)
    unlike_rows = _resolve_all(rec, unlike_refs)
    both = [row for row in unlike_rows if row in like_rows or row in library_rows]
    if both:
        raise UsageError(f"{rec.papers[both[0]].title!r} is both liked (or in your library) and disliked; "
                         "keep it on one side")
    positive_rows = list(dict.fromkeys([*like_rows, *library_rows]))
    positives = [_paper_seed(rec, row) for row in positive_rows]
    if library:
        vectors = rec.encoder.encode([paper.text for paper in library])
        positives += [Seed(p.title, p.text, np.asarray(v, dtype=np.float32), "library") for p, v in zip(library, vectors)]
    negatives = [_paper_seed(rec, row) for row in unlike_rows]
    query_seed = Seed(query, query, np.asarray(rec.encode_query(query), dtype=np.float32), "query") if query else None
    return Profile(positives, negatives, query_seed, frozenset(positive_rows) | frozenset(unlike_rows))
