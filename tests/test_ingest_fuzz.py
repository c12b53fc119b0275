"""Fuzzing every reader: random bytes, random valid-looking records, truncated real exports.

The only outcomes allowed are papers (every one with a title, an id, a source and fields within the
limits) or a one-line InputError naming the file. A fixed budget keeps CI deterministic.
"""
from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.errors import InputError
from recommender.ingest import read_corpus
from recommender.records import IngestReport
from recommender.ingest.limits import MAX_ABSTRACT_CHARS, MAX_AUTHORS, MAX_FIELD_CHARS

REAL = Path(__file__).parent / "data" / "real"
SEED_LISTING = Path(__file__).parents[1] / "recommender" / "data" / "seed_listing.txt"
FORMATS = ("jsonl", "csv", "bibtex", "listing")
BUDGET = settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SAMPLES = {
    "bibtex": [REAL / "zotero_review_papers.bib", REAL / "mendeley.bib", REAL / "ieee_strings.bib",
               REAL / "jabref_chocolate.bib", REAL / "wos_extra_brace.bib"],
    "jsonl": [REAL / "arxiv_snapshot_head.jsonl"],
    "csv": [REAL / "zotero_my_library.csv"],
    "listing": [SEED_LISTING],
}


def check_outcome(path: Path, format: str | None, records: int | None = None) -> IngestReport | None:
    """Reading `path` gives sound papers, or one InputError line naming the file; nothing else. When the
    file holds a known number of records, each one is a paper, a skipped record or a duplicate."""
    try:
        report = read_corpus(path, format=format)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(str(path)), message
        return None
    assert report.papers
    if records is not None:
        assert len(report.papers) + len(report.skipped) + len(report.duplicates) == records
    for paper in report.papers:
        assert isinstance(paper.id, str) and paper.id
        assert isinstance(paper.title, str) and paper.title.strip()
        assert paper.source and paper.source.startswith(path.name + ":")
        assert len(paper.title) <= MAX_FIELD_CHARS and len(paper.abstract) <= MAX_ABSTRACT_CHARS
        assert len(paper.authors) <= MAX_AUTHORS and all(isinstance(a, str) and a for a in paper.authors)
        assert paper.year is None or isinstance(paper.year, int)
        for text in (paper.doi, paper.arxiv_id, paper.url, paper.venue, paper.key):
            assert text is None or isinstance(text, str)
    ids = [p.id for p in report.papers]
    assert len(ids) == len(set(ids))  # a shared id is renamed, never left twice
    for record in report.skipped + report.duplicates + report.warnings:
        assert record.source.startswith(path.name + ":") and "\n" not in record.reason
    return report


@BUDGET
@given(data=st.binary(max_size=3000), format=st.sampled_from((*FORMATS, None)))
def test_random_bytes(tmp_path, data, format):
    path = tmp_path / "random.dat"
    path.write_bytes(data)
    check_outcome(path, format)


@BUDGET
@given(format=st.sampled_from(FORMATS), cut=st.floats(min_value=0, max_value=1), sample=st.integers(0, 10))
def test_truncated_real_exports(tmp_path, format, cut, sample):
    files = SAMPLES[format]
    data = files[sample % len(files)].read_bytes()
    path = tmp_path / f"cut.{format}"
    path.write_bytes(data[: int(len(data) * cut)])
    check_outcome(path, format)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
FIELD_NAMES = st.sampled_from(["id", "_id", "title", "abstract", "text", "authors", "authors_parsed", "year", "date",
                               "published", "categories", "doi", "arxiv_id", "url", "venue", "versions",
                               "update_date"])


@BUDGET
@given(records=st.lists(st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=8), min_size=1, max_size=6),
       array_line=st.booleans())
def test_json_records_of_any_shape(tmp_path, records, array_line):
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(records)] if array_line else [json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_outcome(path, "jsonl", records=len(records))
    texts = {" ".join(str(v).split()) for r in records for v in _strings(r.get("title"))}
    for paper in report.papers if report else []:
        assert paper.title in texts  # the title as given, never the repr of a list or an object


def _strings(value):
    """The texts a title may come from: a string or number, or the one item of a one-item list."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else []


# No '@' inside: then every generated entry starts a line and must come out as a paper, a skipped
# record or a duplicate (random bytes and truncations test '@' anywhere).
BIB_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " {}\"#,=%\\\n$-:./'", max_size=60)
BIB_FIELD = st.tuples(st.sampled_from(["title", "author", "year", "abstract", "doi", "eprint", "journal", "url",
                                       "booktitle", "date", "note"]),
                      st.one_of(BIB_TEXT.map(lambda t: "{" + t + "}"), BIB_TEXT.map(lambda t: '"' + t + '"'),
                                st.sampled_from(["jan", "name", "1999", 'name # " x"', "{A} # {B}"])))


@BUDGET
@given(entries=st.lists(st.tuples(st.sampled_from(["article", "misc", "string", "comment", "inproceedings"]),
                                  st.text(alphabet=string.ascii_letters + string.digits + ":_-", max_size=12),
                                  st.lists(BIB_FIELD, max_size=5),
                                  st.sampled_from(["}", "", "}}", ")", "},"])),
                        min_size=1, max_size=5),
       junk=BIB_TEXT)
def test_bibtex_entries_of_any_shape(tmp_path, entries, junk):
    parts = []
    for kind, key, fields, closing in entries:
        body = ",\n  ".join(f"{name} = {value}" for name, value in fields)
        parts.append(f"@{kind}{{{key},\n  {body}\n{closing}\n")
    path = tmp_path / "library.bib"
    path.write_text(junk + "\n" + "".join(parts), encoding="utf-8")
    check_outcome(path, "bibtex", records=sum(kind not in ("string", "comment") for kind, *_ in entries))


CSV_CELL = st.text(alphabet=string.ascii_letters + " ,;\"\n\t'", max_size=30)


@BUDGET
@given(header=st.lists(st.sampled_from(["title", "Title", "abstract", "Author", "year", "DOI", "id", "url", "x"]),
                       min_size=1, max_size=5),
       rows=st.lists(st.lists(CSV_CELL, max_size=6), max_size=5), delimiter=st.sampled_from([",", ";", "\t"]))
def test_csv_rows_of_any_shape(tmp_path, header, rows, delimiter):
    path = tmp_path / "table.csv"
    path.write_text("\n".join(delimiter.join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    check_outcome(path, "csv")


LISTING_LINE = st.one_of(
    st.sampled_from(["LGOct 14, 2023Code", "CLFeb 3", "LGFeb 30, 2023", "CVApr 27, 2023", "Mar 1"]),
    st.text(alphabet=string.ascii_letters + " ,.·-'?:", max_size=80))


@BUDGET
@given(lines=st.lists(LISTING_LINE, min_size=1, max_size=12))
def test_listing_blocks_of_any_shape(tmp_path, lines):
    path = tmp_path / "listing.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check_outcome(path, "listing")
