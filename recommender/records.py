"""Typed records passed between the modules: papers in, scored results out."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Paper:
    """One paper of a corpus. `id` is stable: the file's own id (a BibTeX entry's citation key, a JSON
    or CSV record's id), else the arXiv id, else the DOI, else a title hash. `arxiv_id` (version-less)
    and `doi` (lower case) are the aliases a paper is also found by."""

    id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    authors_truncated: bool = False  # the source cut the list ("et al.")
    year: int | None = None
    date: str | None = None  # ISO "YYYY-MM-DD"; "--MM-DD" when the year is unknown
    categories: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)
    has_code: bool = False
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    venue: str | None = None
    source: str | None = None  # "file:line" the record came from
    key: str | None = None  # the citation key in the user's own BibTeX library, kept for export

    @property
    def text(self) -> str:
        """What gets embedded and indexed: the title and the abstract."""
        if self.abstract:
            return f"{self.title}. {self.abstract}" if self.title else self.abstract
        return self.title

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SkippedRecord:
    """A record of an input file that could not be read, or was read with a change to check: where and why."""

    source: str  # "file:line"
    reason: str


@dataclass
class IngestReport:
    """What reading a corpus produced: papers kept, and everything dropped with its reason."""

    papers: list[Paper]
    skipped: list[SkippedRecord] = field(default_factory=list)
    duplicates: list[SkippedRecord] = field(default_factory=list)
    without_abstract: int = 0
    files: list[str] = field(default_factory=list)
    # Records kept with a change or a doubt: a field cut to its limit or of the wrong type, a repeated
    # BibTeX field, an id shared with another title (renamed), an arXiv id or DOI shared with another title.
    warnings: list[SkippedRecord] = field(default_factory=list)


@dataclass
class Result:
    """One recommended paper with its score and rank (1-based)."""

    rank: int
    score: float
    paper: Paper
    reason: str | None = None
    why: dict[str, Any] | None = None  # where it came from (search.why): retriever ranks, shared words, closest seed

    def to_dict(self) -> dict[str, Any]:
        p = self.paper
        out: dict[str, Any] = {
            "rank": self.rank,
            "id": p.id,
            "score": round(float(self.score), 6),
            "title": p.title,
            "authors": p.authors,
            "year": p.year,
            "date": p.date,
            "categories": p.categories,
            "arxiv_id": p.arxiv_id,
            "doi": p.doi,
            "url": p.url,
            "has_abstract": bool(p.abstract.strip()),  # False: matched on its title alone
        }
        if self.reason:
            out["reason"] = self.reason
        if self.why is not None:
            out["why"] = self.why
        return out
