"""`recommender enrich LIBRARY.bib`: missing abstracts (and DOIs, arXiv ids) filled in from arXiv and OpenAlex.

Each entry without an abstract is looked up by its DOI (OpenAlex), then its arXiv id (the arXiv API, all
ids in one request), then its title (OpenAlex title search, accepted only by match.best_title_match).
A DOI or id whose record has a clearly different title is refused too (a mistyped identifier).
The new .bib is the user's text with `abstract = {...}` (and a missing doi/eprint) inserted before each
filled entry's closing brace: keys, fields, comments, order and spacing stay as they were.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import Paper
from . import arxiv_api, openalex
from .http import HttpClient
from .match import best_title_match, titles_agree
from .record import FetchedPaper

_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)


@dataclass
class Outcome:
    key: str
    line: int
    status: str  # "filled" | "had" | "missing"
    via: str | None = None  # "doi" | "arxiv" | "title"
    reason: str = ""
    added: list[str] = field(default_factory=list)  # fields added: abstract, doi, eprint


@dataclass
class EnrichReport:
    library: Path
    outcomes: list[Outcome]
    papers: list[Paper]  # the entries as papers, abstracts filled (for JSONL output)
    text: str  # the new .bib text

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in ("filled", "had", "missing")}

    def to_json(self) -> dict:
        return {"library": str(self.library), "counts": self.counts(), "entries": [asdict(o) for o in self.outcomes]}


@dataclass
class Services:
    arxiv: HttpClient
    openalex: HttpClient
    arxiv_endpoint: str
    openalex_endpoint: str
    contact: str | None = None


def _entry_span(text: str, line: int) -> tuple[int, int] | None:
    """(start of '@', index of the closing brace) of the entry that starts on `line` (1-based)."""
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    at = text.find("@", offset)
    opening = text.find("{", at)
    if at < 0 or opening < 0 or "\n\n" in text[at:opening] or "(" in text[at:opening]:
        return None
    depth = 0
    for position in range(opening, len(text)):
        char = text[position]
        if char == "{":  # BibTeX counts every brace, escaped or not
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return at, position
    return None


def _key_at(text: str, span: tuple[int, int]) -> str:
    match = re.match(r"@\s*\w+\s*\{\s*([^,\s]+)", text[span[0]:span[1]])
    return match.group(1) if match else ""


def _bib_value(value: str) -> str:
    from ..lists.bibtex_export import latex_escape

    return "{" + latex_escape(value) + "}"


def _has_field(entry: str, name: str) -> bool:
    return re.search(rf"[,{{\s]{name}\s*=", entry, re.I) is not None


def _fill_empty(entry: str, name: str, value: str) -> str | None:
    """The entry with an empty `name = {}` (or "") given the value; None when the field is not there empty."""
    pattern = re.compile(rf"([,{{\s]{name}\s*=\s*)(\{{\s*\}}|\"\s*\")", re.I)
    if not pattern.search(entry):
        return None
    return pattern.sub(lambda m: m.group(1) + value, entry, count=1)


def insert_fields(entry: str, fields: list[tuple[str, str]]) -> str:
    """The entry text (from '@' to its closing brace, inclusive) with the fields added before the brace,
    in the entry's own layout: one field a line with its indentation, or inline for one-line entries.
    A field the entry already has empty is filled where it stands; one it has with a value is left alone."""
    remaining = []
    for name, value in fields:
        filled = _fill_empty(entry, name, value)
        if filled is not None:
            entry = filled
        elif not _has_field(entry, name):
            remaining.append((name, value))
    fields = remaining
    if not fields:
        return entry
    body, closing = entry[:-1], entry[-1]
    kept = body.rstrip()
    tail = body[len(kept):]
    separator = "" if kept.endswith(",") else ","
    if "\n" in kept:
        indent = re.search(r"\n([ \t]*)\S", kept)
        pad = indent.group(1) if indent else "  "
        added = "".join(f"\n{pad}{name} = {value}," for name, value in fields)
        return kept + separator + added.rstrip(",") + (tail if tail else "\n") + closing
    added = "".join(f" {name}={value}," for name, value in fields).rstrip(",")
    return kept + separator + added + tail + closing


def _lookup_doi(services: Services, paper: Paper) -> tuple[FetchedPaper | None, str]:
    record = openalex.work_by_doi(services.openalex, services.openalex_endpoint, paper.doi, services.contact)
    if record is None:
        return None, f"OpenAlex does not know DOI {paper.doi}"
    if not titles_agree(paper.title, record.title):
        return None, f"DOI {paper.doi} is '{record.title[:70]}' in OpenAlex, not this title: check the DOI"
    if not record.abstract:
        return None, f"OpenAlex has no abstract for DOI {paper.doi}"
    return record, "doi"


def enrich_library(path: str | Path, services: Services) -> EnrichReport:
    from ..ingest import read_file

    path = Path(path)
    papers, skipped = read_file(path, "bibtex")
    text = path.read_text(encoding="utf-8")
    outcomes: list[Outcome] = []
    found: dict[int, tuple[FetchedPaper, str]] = {}
    reasons: dict[int, list[str]] = {}
    spans = {}
    for i, paper in enumerate(papers):
        line = int((paper.source or "0").rsplit(":", 1)[-1])
        spans[i] = _entry_span(text, line)
    todo = [i for i, p in enumerate(papers) if not p.abstract.strip()]
    for i in todo:  # 1. DOI
        paper = papers[i]
        reasons[i] = []
        if paper.doi and _ARXIV_DOI.match(paper.doi) and not paper.arxiv_id:
            from ..ingest.ids import normalise_arxiv_id

            paper.arxiv_id = normalise_arxiv_id(_ARXIV_DOI.match(paper.doi).group(1))
        elif paper.doi:
            record, why = _lookup_doi(services, paper)
            if record:
                found[i] = (record, why)
            else:
                reasons[i].append(why)
    want_arxiv = [i for i in todo if i not in found and papers[i].arxiv_id]
    if want_arxiv:  # 2. arXiv ids, one request for all
        by_id = {p.arxiv_id: p for p in arxiv_api.by_ids(services.arxiv, services.arxiv_endpoint,
                                                          list(dict.fromkeys(papers[i].arxiv_id for i in want_arxiv)))}
        for i in want_arxiv:
            record = by_id.get(papers[i].arxiv_id)
            if record is None:
                reasons[i].append(f"arXiv does not know {papers[i].arxiv_id}")
            elif not titles_agree(papers[i].title, record.title):
                reasons[i].append(f"arXiv {papers[i].arxiv_id} is '{record.title[:70]}', not this title: check the id")
            else:
                found[i] = (record, "arxiv")
    for i in todo:  # 3. title
        if i in found:
            continue
        candidates = openalex.works_by_title(services.openalex, services.openalex_endpoint, papers[i].title,
                                             services.contact)
        record, why = best_title_match(papers[i].title, candidates, papers[i].year)
        if record is not None and record.abstract:
            found[i] = (record, "title")
        else:
            reasons[i].append(why if record is None else "the matching record has no abstract")
    pieces, cursor = [], 0
    for i, paper in enumerate(papers):
        key = _key_at(text, spans[i]) if spans[i] else (paper.key or paper.id)
        line = int((paper.source or "0").rsplit(":", 1)[-1])
        if i not in todo:
            outcomes.append(Outcome(key, line, "had"))
            continue
        if i not in found:
            outcomes.append(Outcome(key, line, "missing", reason="; ".join(reasons.get(i) or ["not found"])))
            continue
        if spans[i] is None:
            outcomes.append(Outcome(key, line, "missing", reason="the entry's braces do not balance; fix the entry"))
            continue
        record, via = found[i]
        fields = [("abstract", _bib_value(record.abstract))]
        if not paper.doi and record.doi and not _ARXIV_DOI.match(record.doi):
            fields.append(("doi", "{" + record.doi + "}"))
            paper.doi = record.doi
        if not paper.arxiv_id and record.arxiv_id:
            fields += [("eprint", "{" + record.arxiv_id + "}"), ("archiveprefix", "{arXiv}")]
            paper.arxiv_id = record.arxiv_id
        paper.abstract = record.abstract
        start, end = spans[i]
        pieces += [text[cursor:start], insert_fields(text[start:end + 1], fields)]
        cursor = end + 1
        outcomes.append(Outcome(key, line, "filled", via, added=[name for name, _ in fields]))
    pieces.append(text[cursor:])
    for record in skipped:
        outcomes.append(Outcome("", int(record.source.rsplit(":", 1)[-1]) if record.source else 0, "missing",
                                reason=f"entry not readable: {record.reason}"))
    return EnrichReport(path, outcomes, papers, "".join(pieces))


def write_output(report: EnrichReport, output: Path) -> None:
    """A new .bib (the edited text) or a JSONL corpus, by the output's extension."""
    if output.resolve() == report.library.resolve():
        raise InputError(f"{output}: is the library itself; enrich writes a new file (give another -o)")
    if output.suffix.lower() in (".jsonl", ".ndjson"):
        content = "".join(json.dumps({k: v for k, v in p.to_dict().items() if v not in (None, "", [], False)},
                                     ensure_ascii=False) + "\n" for p in report.papers)
    elif output.suffix.lower() == ".bib":
        content = report.text
    else:
        raise InputError(f"{output}: write to a .bib or a .jsonl file")
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(output)
