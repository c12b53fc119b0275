"""Request and response shapes of the HTTP API, with the limits a client cannot go past.

The parameters are those of the Python API and the CLI (`q`, `k`, `mode`, `year_from`, `year_to`,
`category`, `author`, `exclude`); every request model forbids unknown fields, so a misspelt
parameter is a 422 that names it rather than a silently ignored filter.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..errors import UsageError
from ..records import Paper, Result
from ..search.filters import Filters

MAX_QUERY_CHARS = 1_000  # a long abstract pasted as a query still fits; a megabyte of text does not
MAX_ABSTRACT_CHARS = 10_000
MAX_REF_CHARS = 500  # a paper reference (id, arXiv id, DOI or title): fuzzy title matching is O(len)
MAX_K = 200
MAX_PAPERS = 200  # ids in one like / unlike / exclude / export list

Mode = Literal["dense", "lexical", "hybrid"]
Method = Annotated[Literal["auto", "centroid", "svm", "logistic"], Field(description="How liked and disliked papers become a "
                   "ranking: centroid (Rocchio), svm (a classifier per request, as arxiv-sanity-lite) or auto.")]
Text = Annotated[str, StringConstraints(max_length=MAX_QUERY_CHARS)]
PaperRef = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_CHARS)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilterParams(Strict):
    year_from: int | None = Field(None, ge=0, le=9999, description="Only papers from this year on.")
    year_to: int | None = Field(None, ge=0, le=9999, description="Only papers up to this year.")
    category: list[Label] = Field(default_factory=list, max_length=50,
                                  description="Only papers of one of these categories (LG matches cs.LG).")
    author: list[Label] = Field(default_factory=list, max_length=50,
                                description="Only papers with an author whose name contains one of these.")
    exclude: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS,
                                    description="Leave out these papers (ids, citation keys, arXiv ids, DOIs or whole titles).")

    def filters(self) -> Filters:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise UsageError(f"year_from {self.year_from} is after year_to {self.year_to}; swap them")
        return Filters(year_from=self.year_from, year_to=self.year_to, categories=list(self.category),
                       authors=list(self.author), exclude=list(self.exclude))


class SearchParams(FilterParams):
    q: Text = Field(..., description="What you are looking for, in your own words.")
    k: int = Field(10, ge=1, le=MAX_K, description="How many papers to return.")
    mode: Mode = Field("hybrid", description="dense | lexical | hybrid.")


class SimilarParams(FilterParams):
    paper: PaperRef = Field(..., description="A paper of the index: id, arXiv id, DOI or title.")
    k: int = Field(10, ge=1, le=MAX_K)
    mode: Mode = "hybrid"


class SimilarBody(FilterParams):
    """A paper of the index (`paper`), or one outside it given by its title and/or abstract."""

    paper: PaperRef | None = None
    title: Text | None = None
    abstract: Annotated[str, StringConstraints(max_length=MAX_ABSTRACT_CHARS)] | None = None
    k: int = Field(10, ge=1, le=MAX_K)
    mode: Mode = "hybrid"


class RecommendBody(FilterParams):
    like: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS,
                                 description="Papers you liked: id, citation key, arXiv id, DOI or title.")
    like_weights: list[Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=list, max_length=MAX_PAPERS,
        description="How much each liked paper counts (one per `like`, default 1); weights make the method the centroid.")
    unlike: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS, description="Papers you did not (the same forms).")
    query: Text | None = Field(None, description="Optional words that steer the recommendations.")
    k: int = Field(10, ge=1, le=MAX_K)
    method: Method = "auto"
    mode: Mode | None = Field(None, description="dense (the default for papers) | hybrid | lexical.")


class ReadingListBody(FilterParams):
    """The CLI's `lists reading` options; `bib` is a list of paper ids or posted BibTeX text, never a path."""

    query: Text | None = None
    like: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS)
    unlike: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS)
    bib_ids: list[PaperRef] = Field(default_factory=list, max_length=MAX_PAPERS,
                                    description="Papers of the index you already have (id, arXiv id, DOI or title).")
    bibtex: Annotated[str, StringConstraints(max_length=200_000)] | None = Field(
        None, description="Papers you already have, as BibTeX text (parsed in memory).")
    n: int = Field(20, ge=1, le=MAX_K, description="How many papers in the list.")
    diversity: float = Field(0.3, ge=0.0, le=1.0, description="0 = closest papers only, 1 = most varied.")
    method: Method = "auto"
    mode: Mode | None = None
    format: Literal["json", "markdown", "bibtex", "csv", "table"] = "json"
    title: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="The Markdown export's heading (default: \"Reading list: \" and what it started from).")


class ExportBody(Strict):
    ids: list[PaperRef] = Field(..., min_length=1, max_length=MAX_PAPERS,
                                description="Papers in reading order: ids, citation keys, arXiv ids, DOIs or whole titles.")
    title: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="The Markdown export's heading (default: \"Recommended papers\").")
    format: Literal["markdown", "bibtex", "json", "csv", "table"] = "bibtex"


class PaperOut(BaseModel):
    id: str
    title: str
    abstract: str = ""
    authors: list[str] = []
    authors_truncated: bool = False
    year: int | None = None
    date: str | None = None
    categories: list[str] = []
    affiliations: list[str] = []
    has_code: bool = False
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    venue: str | None = None
    source: str | None = None


class ResultOut(BaseModel):
    rank: int
    score: float
    id: str
    title: str
    abstract: str = ""
    authors: list[str] = []
    authors_truncated: bool = False
    year: int | None = None
    date: str | None = None
    categories: list[str] = []
    arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None
    venue: str | None = None
    has_code: bool = False
    reason: str | None = None
    why: Any = Field(None, description="Why the paper is there, when the ranking says (retriever ranks, shared words, closest seed).")
    closest_like: dict | None = Field(None, description="Recommendations: the liked paper this one is closest to "
                                                        "(`id`, `title`, `cosine`).")


class ResultsOut(BaseModel):
    query: Any = Field(..., description="The query text, or the seed paper / liked papers it started from.")
    mode: str | None = None
    took_ms: float
    results: list[ResultOut]


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


def result_out(result: Result) -> dict:
    """Result.to_dict() (the CLI's JSON) plus what a page shows on a card."""
    paper = result.paper
    why = getattr(result, "why", None)  # the rankings' own explanation, where the library gives one
    extra = {"why": why.to_dict() if hasattr(why, "to_dict") else why} if why is not None else {}
    return {**result.to_dict(), **extra, "abstract": paper.abstract, "authors_truncated": paper.authors_truncated,
            "venue": paper.venue, "has_code": paper.has_code}


def paper_out(paper: Paper) -> dict:
    return paper.to_dict()


def check_one_seed(body: SimilarBody) -> None:
    if body.paper and (body.title or body.abstract):
        raise UsageError("give either `paper` or `title`/`abstract`, not both")
    if not body.paper and not (body.title or "").strip() and not (body.abstract or "").strip():
        raise UsageError("give `paper` (an id, arXiv id, DOI or title), or the `title` and/or `abstract` of a paper")
