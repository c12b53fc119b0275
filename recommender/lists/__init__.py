"""Recommendations for a profile of several papers, and reading lists.

    from recommender.lists import recommend, reading_list, export
    results = recommend(rec, like=["KO codes", "DeepPolar"], unlike=["CRISP"], k=10)
    reading = reading_list(rec, query="privacy in machine learning", n=10, diversity=0.3)
    reading = reading_list(rec, bib="library.bib", n=20)          # what the library is missing
    print(export(reading, "markdown"))                             # markdown | bibtex | json | csv | table

Modules: profile (what the user gave, as seed vectors), methods (centroid or per-profile classifier, ranked
through the engine like any query), diversify (maximal marginal relevance on the engine's fused score), themes
(clusters named by noun phrases of their papers), terms (those phrases), order (reading order), reasons (why
each pick is there), bib (a .bib library as seeds), export and bibtex_export (formats).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..records import Result
from ..search.filters import Filters
from .export import FORMATS, export
from .methods import DEFAULT_METHOD, METHODS, rank_profile
from .model import ReadingList, Theme
from .profile import build_profile
from .reading import build_reading_list, load_profile
from .reasons import explain_profile

__all__ = ["recommend", "reading_list", "export", "ReadingList", "Theme", "FORMATS", "METHODS", "DEFAULT_METHOD"]


def recommend(rec, like: Sequence[str], unlike: Sequence[str] = (), query: str | None = None, k: int = 10, *,
              method: str = "auto", filters: Filters | None = None, mode: str | None = None,
              bib: str | Path | None = None) -> list[Result]:
    """The k papers of the index best matching a profile: liked papers (ids, arXiv ids, DOIs or titles;
    "@FILE" for a file of them), disliked papers, a text, and/or a .bib library. Seeds are never returned.
    method: "centroid", "svm", "logistic" or "auto" (the centroid, or logistic when there are disliked papers);
    mode: "dense", "lexical" or "hybrid" (the default), as for `search`. Each result's `why` names the seed
    it is closest to, the terms they share and its rank in each retriever's run."""
    if bib is not None:
        profile, _ = load_profile(rec, query=query, like=like, unlike=unlike, bib=bib)
    else:
        profile = build_profile(rec, like, unlike, query)
    results = rank_profile(rec, profile, k, method=method, mode=mode, filters=filters)
    explain_profile(rec, profile, results)
    return results


def reading_list(rec, *, query: str | None = None, like: Sequence[str] = (), unlike: Sequence[str] = (),
                 bib: str | Path | None = None, n: int = 20, diversity: float = 0.3, filters: Filters | None = None,
                 method: str = "auto", mode: str | None = None) -> ReadingList:
    """A list of n papers to read in order, grouped into named themes, each with a one-line reason.
    diversity: 0 = the n most relevant, up to 1 = as varied as possible (maximal marginal relevance).
    With `bib`, the library's papers are the seeds and none of them is recommended back."""
    profile, made_from = load_profile(rec, query=query, like=like, unlike=unlike, bib=bib)
    return build_reading_list(rec, profile, made_from, n=n, diversity=diversity, method=method, mode=mode,
                              filters=filters)
