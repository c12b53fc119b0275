"""Why a result is there: where each retriever ranked it, the words it shares with the query or seed, and
what it is closest to. Attached to `Result.why` by `Recommender.rank` (and `--why` / `--json` show it).

    {"ranks": {"dense": 3, "lexical": None},  # 1-based, the query's own seed left out; None: not in that
                                             # retriever's run (a run the mode did not make is absent)
     "unranked": {"lexical": "no word in common"},  # why, for each None: "no word in common" (BM25 scores
                                             # the paper 0) or "below its top 200" (the run's depth)
     "shared_words": ["hallucination", "language"],   # the query's words (a seed's most distinctive
                                             # words, heaviest first) found in the paper
     "closest_to": {"label": "...", "kind": "query", "cosine": 0.61}}  # the query (kind "query") or seed
                                             # paper ("paper", with its "id"; "library" for a .bib entry
                                             # outside the index), and the paper's cosine to it
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

WHY_WORDS = 5
_WORDS = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern  # shared words listed per result


def _positions(rows: np.ndarray, exclude: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for row in rows.tolist():
        if row not in exclude:
            out[row] = len(out) + 1
    return out


def query_words(rec, query, ranking) -> tuple[dict[str, float], dict[str, str]]:
    """The query's words (stem -> weight, stem -> written form): those the lexical run used, else
    the same choice made here (a dense-only ranking made no lexical run)."""
    if ranking.terms:
        return ranking.terms, ranking.words
    if not query.text.strip():
        return {}, {}
    from .ranking import query_terms, seed_terms

    if query.kind == "paper":
        terms = seed_terms(rec, query.text)
        return terms.distinctive(), terms.written
    stems, written = query_terms(query.text)
    return {stem: 1.0 for stem in stems}, written


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    from ..index.lexical import _stemmer

    return _stemmer().stemWord(word)


def text_stems(text: str) -> set[str]:
    """The stems of a text's words, as the lexical index tokenises them (bm25s's token pattern, lower case);
    stop words are left in, since they are only matched against the query's words, which have none."""
    return {_stem(word) for word in _WORDS.findall(text.lower())}


def shared_words(terms: dict[str, float], written: dict[str, str], text: str, n: int = WHY_WORDS) -> list[str]:
    """The query's words found in `text`, heaviest first (ties: the query's own order)."""
    present = text_stems(text)
    order = {stem: i for i, stem in enumerate(terms)}
    found = sorted((stem for stem in terms if stem in present), key=lambda s: (-terms[s], order[s]))
    return [written.get(stem, stem) for stem in found[:n]]


def explain_results(rec, query, ranking, results) -> None:
    exclude = set(query.exclude_rows)
    ranks = {name: _positions(rows, exclude) for name, (rows, _) in ranking.runs.items()}
    terms, written = query_words(rec, query, ranking)
    seed_id = rec.papers[next(iter(query.exclude_rows))].id if query.kind == "paper" and len(query.exclude_rows) == 1 else None
    for result in results:
        row = rec.row_of_id[result.paper.id]
        closest: dict = {"label": query.label, "kind": "query" if query.kind == "text" else "paper"}
        if seed_id is not None:
            closest["id"] = seed_id
        if query.vector is not None:
            closest["cosine"] = round(float(np.asarray(rec.vectors[row], dtype=np.float32) @ query.vector), 4)
        placed = {name: positions.get(row) for name, positions in ranks.items()}
        result.why = {
            "ranks": placed,
            "unranked": {name: _unranked(name, ranking, exclude) for name, rank in placed.items() if rank is None},
            "shared_words": shared_words(terms, written, result.paper.text),
            "closest_to": closest,
        }


def _unranked(name: str, ranking, exclude: set[int]) -> str:
    """Why a paper is not in a run: a lexical run that stopped before its depth holds every paper BM25 scores
    above 0, so one outside it shares no word with the query; otherwise it ranked below the run's depth."""
    rows = ranking.runs[name][0]
    if name == "lexical" and len(rows) < ranking.depth:
        return "no word in common"
    return f"below its top {len(rows) - len(exclude & set(rows.tolist())):,}"  # as the ranks count: seeds left out
