"""Batch queries in the benchmarks' layout: one JSON object a line, `_id` and `text`, or a `seed_paper_id`."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..records import Result, SkippedRecord
from .engine import Query, Recommender, check_k, check_mode
from .filters import Filters


@dataclass
class BatchQuery:
    id: str
    text: str = ""
    seed_paper_id: str | None = None
    facet: str | None = None


def read_queries(path: Path) -> tuple[list[BatchQuery], list[SkippedRecord]]:
    if not path.is_file():
        raise InputError(f"{path}: no such queries file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc
    queries, skipped = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            skipped.append(SkippedRecord(where, f"malformed JSON ({exc.msg})"))
            continue
        if not isinstance(obj, dict) or ("_id" not in obj and "id" not in obj):
            skipped.append(SkippedRecord(where, "a query needs an `_id` field"))
            continue
        query = BatchQuery(str(obj.get("_id", obj.get("id"))), str(obj.get("text") or "").strip(),
                           obj.get("seed_paper_id"), obj.get("facet"))
        if not query.text and not query.seed_paper_id:
            skipped.append(SkippedRecord(where, "a query needs `text` or `seed_paper_id`"))
            continue
        queries.append(query)
    if not queries:
        raise InputError(f"{path}: no readable query ({len(skipped)} lines skipped); each line needs `_id` and `text`")
    return queries, skipped


def run_queries(rec: Recommender, queries: list[BatchQuery], *, k: int, mode: str | None = None,
                filters: Filters | None = None, batch_size: int = 64,
                explain: bool = True) -> Iterator[tuple[str, list[Result]]]:
    """Rank every query; text queries are encoded in batches. A seed id missing from the index is an error.
    explain=False leaves `Result.why` unset (the evaluation has no use for it)."""
    k, mode = check_k(k), check_mode(mode)
    text_rows = [q for q in queries if not q.seed_paper_id]
    vectors = {}
    if mode != "lexical" and text_rows:
        for start in range(0, len(text_rows), batch_size):
            chunk = text_rows[start:start + batch_size]
            for q, v in zip(chunk, rec.encoder.encode([q.text for q in chunk])):
                vectors[q.id] = v
    for q in queries:
        if q.seed_paper_id:
            if str(q.seed_paper_id) not in rec.row_of_id:
                raise InputError(f"query {q.id}: seed_paper_id {q.seed_paper_id!r} is not in the index")
            query = rec.paper_query(rec.row_of_id[str(q.seed_paper_id)], mode)
        else:
            query = Query(vectors.get(q.id), q.text, "text", label=q.text)
        yield q.id, rec.rank(query, k, mode=mode, filters=filters, explain=explain)
