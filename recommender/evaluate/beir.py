"""Read a BEIR-layout benchmark folder: corpus.jsonl, queries.jsonl and qrels.tsv.

corpus.jsonl  one JSON object a line: {"_id", "title", "text"}   (text = abstract)
queries.jsonl one JSON object a line: {"_id", "text"} plus, for a seed-paper query,
              "seed_paper_id" (a corpus _id), "facet" and "title"
qrels.tsv     "query-id<TAB>corpus-id<TAB>score" with a header line

Malformed input raises recommender.errors.InputError with a one-line message naming file:line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..records import Paper

__all__ = ["BeirQuery", "BeirSet", "load_corpus", "load_queries", "load_qrels", "load_beir"]


@dataclass(frozen=True)
class BeirQuery:
    id: str
    text: str
    seed_paper_id: str | None = None
    facet: str | None = None
    title: str | None = None


@dataclass
class BeirSet:
    name: str
    corpus: list[Paper]
    queries: list[BeirQuery]
    qrels: dict[str, dict[str, int]]


def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonl(path: Path):
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({_one_line(exc.msg)})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _str_field(obj: dict, key: str, path: Path, lineno: int, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InputError(f"{path}:{lineno}: missing field {key!r}")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key.endswith("id"):
        value = str(value)
    if not isinstance(value, str):
        raise InputError(f"{path}:{lineno}: field {key!r} must be a string, got {type(value).__name__}")
    return value


def load_corpus(path: str | Path) -> list[Paper]:
    path = Path(path)
    papers: list[Paper] = []
    seen: dict[str, int] = {}
    for lineno, obj in _jsonl(path):
        doc_id = _str_field(obj, "_id", path, lineno)
        if doc_id in seen:
            raise InputError(f"{path}:{lineno}: duplicate _id {doc_id!r} (first at line {seen[doc_id]})")
        seen[doc_id] = lineno
        title = _str_field(obj, "title", path, lineno, required=False) or ""
        text = _str_field(obj, "text", path, lineno, required=False) or ""
        if not title.strip() and not text.strip():
            raise InputError(f"{path}:{lineno}: paper {doc_id!r} has neither title nor text")
        papers.append(Paper(id=doc_id, title=title.strip(), abstract=text.strip(), source=f"{path}:{lineno}"))
    return papers


def load_queries(path: str | Path) -> list[BeirQuery]:
    path = Path(path)
    out: list[BeirQuery] = []
    seen: set[str] = set()
    for lineno, obj in _jsonl(path):
        qid = _str_field(obj, "_id", path, lineno)
        if qid in seen:
            raise InputError(f"{path}:{lineno}: duplicate query _id {qid!r}")
        seen.add(qid)
        text = _str_field(obj, "text", path, lineno, required=False) or ""
        seed = _str_field(obj, "seed_paper_id", path, lineno, required=False)
        facet = _str_field(obj, "facet", path, lineno, required=False)
        title = _str_field(obj, "title", path, lineno, required=False)
        if not text.strip() and not seed:
            raise InputError(f"{path}:{lineno}: query {qid!r} has empty text and no seed_paper_id")
        out.append(BeirQuery(id=qid, text=text.strip(), seed_paper_id=seed, facet=facet, title=title))
    return out


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if lineno == 1 and parts and parts[0].strip().lower() in ("query-id", "query_id", "qid"):
                continue  # header
            if len(parts) != 3:
                raise InputError(f"{path}:{lineno}: expected 3 tab-separated columns (query-id, corpus-id, score), got {len(parts)}")
            qid, doc_id, score = (p.strip() for p in parts)
            try:
                grade = int(float(score))
            except ValueError:
                raise InputError(f"{path}:{lineno}: score {_one_line(score, 40)!r} is not a number") from None
            if not qid or not doc_id:
                raise InputError(f"{path}:{lineno}: empty query-id or corpus-id")
            qrels.setdefault(qid, {})[doc_id] = grade
    return qrels


def load_beir(folder: str | Path, *, check_ids: bool = True) -> BeirSet:
    """Load a whole folder; with check_ids, seed papers must exist in the corpus."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    corpus = load_corpus(folder / "corpus.jsonl")
    queries = load_queries(folder / "queries.jsonl")
    qrels = load_qrels(folder / "qrels.tsv")
    if check_ids:
        ids = {p.id for p in corpus}
        for q in queries:
            if q.seed_paper_id is not None and q.seed_paper_id not in ids:
                raise InputError(f"{folder / 'queries.jsonl'}: query {q.id!r} names seed_paper_id {q.seed_paper_id!r}, which is not in corpus.jsonl")
    return BeirSet(folder.name, corpus, queries, qrels)
