"""Bounded work on hostile input: only regular files, bounded records and fields, every cut reported."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from recommender.errors import InputError
from recommender.ingest import files, read_corpus
from recommender.ingest import bibtex_syntax
from recommender.ingest.bibtex import read_bibtex
from recommender.ingest.limits import MAX_ABSTRACT_CHARS, MAX_AUTHORS, MAX_BAD_RECORDS_IN_A_ROW, MAX_FIELD_CHARS

REAL = Path(__file__).parent / "data" / "real"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(exc: pytest.ExceptionInfo, *fragments: str) -> str:
    message = str(exc.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_devices_are_refused_at_once():
    # `--format jsonl /dev/zero` used to read without end.
    started = time.perf_counter()
    for fmt in ("jsonl", "csv", "bibtex", "listing", None):
        with pytest.raises(InputError) as exc:
            read_corpus("/dev/zero", format=fmt)
        one_line_error(exc, "/dev/zero: is a character device, not a file")
    assert time.perf_counter() - started < 2


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "papers.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as exc:  # opening a FIFO for reading would wait for a writer forever
        read_corpus(fifo)
    one_line_error(exc, str(fifo), "named pipe (FIFO)")


def test_build_from_dev_zero_is_a_clean_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "recommender", "build", "/dev/zero", "--format", "jsonl",
                           "--index", str(tmp_path / "index"), "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "InputError" and "character device" in error["message"]
    assert not (tmp_path / "index").exists()


def test_a_huge_json_line_is_skipped_with_bounded_time_and_memory(tmp_path):
    # A 50 MB record took 331 s and 7.1 GB; it is skipped without being held in memory.
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"title": "Fine before"}) + "\n")
        out.write('{"title": "x", "abstract": "' + "word " * 10_000_000 + '"}\n')
        out.write(json.dumps({"title": "Fine after"}) + "\n")
    tracemalloc.start()
    started = time.perf_counter()
    report = read_corpus(path)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [p.title for p in report.papers] == ["Fine before", "Fine after"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("big.jsonl:2", "a record of 47.7 MiB, over the 1.0 MiB limit for one record")]
    assert seconds < 10 and peak < 16 * 1024 * 1024


def test_a_long_line_without_newline_ends(tmp_path):
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"0" * (5 * 1024 * 1024))
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    one_line_error(exc, "zeros.jsonl: no paper could be read as jsonl", "zeros.jsonl:1: a record of 5.0 MiB")


def test_an_over_long_abstract_is_cut_and_reported(tmp_path):
    path = write(tmp_path / "long.jsonl", json.dumps({"id": "a", "title": "Long", "abstract": "word " * 200_000}) + "\n")
    report = read_corpus(path)
    assert len(report.papers[0].abstract) == MAX_ABSTRACT_CHARS
    assert [(w.source, w.reason) for w in report.warnings] == [
        ("long.jsonl:1", f"abstract cut to its first {MAX_ABSTRACT_CHARS:,} characters")]


def test_over_long_fields_of_a_bibtex_entry_are_cut_before_latex_decoding(tmp_path):
    # pylatexenc needs seconds per megabyte of markup: the field is cut before it is decoded.
    text = "@article{k, title={" + "$\\alpha$ " * 3_000 + "}, abstract={" + "\\emph{x} " * 100_000 + "}}\n"
    started = time.perf_counter()
    papers, skipped = read_bibtex(text, "long.bib", warnings := [])
    assert time.perf_counter() - started < 5
    assert papers[0].title.startswith("α α") and len(papers[0].title) <= MAX_FIELD_CHARS
    assert papers[0].abstract.startswith("x x") and len(papers[0].abstract) <= MAX_ABSTRACT_CHARS
    assert [w.reason for w in warnings] == [
        f"entry 'k': title of 27,000 characters cut: its first {2 * MAX_FIELD_CHARS:,} were read",
        f"entry 'k': abstract of 900,000 characters cut: its first {2 * MAX_ABSTRACT_CHARS:,} were read"]


def test_too_many_authors_are_cut_and_flagged(tmp_path):
    path = write(tmp_path / "many.jsonl", json.dumps({"title": "Big collaboration",
                                                      "authors": [f"Author {i}" for i in range(MAX_AUTHORS + 5)]}))
    report = read_corpus(path)
    paper = report.papers[0]
    assert len(paper.authors) == MAX_AUTHORS and paper.authors_truncated
    assert [w.reason for w in report.warnings] == [f"{MAX_AUTHORS + 5:,} authors cut to the first {MAX_AUTHORS:,}"]


def test_a_file_of_bad_lines_stops_with_the_line(tmp_path):
    path = write(tmp_path / "noise.jsonl", "not json\n" * (MAX_BAD_RECORDS_IN_A_ROW + 500))
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    one_line_error(exc, f"noise.jsonl:{MAX_BAD_RECORDS_IN_A_ROW}: {MAX_BAD_RECORDS_IN_A_ROW} records in a row "
                   "could not be read (the first at noise.jsonl:1: invalid JSON")


def test_files_read_whole_have_a_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path / "big.bib", "@article{k, title={T}}\n" + "% padding\n" * 200)
    with pytest.raises(InputError) as exc:
        read_corpus(path)
    one_line_error(exc, str(path), "over the 1000 bytes limit for files read whole", "JSON Lines")
    # JSON Lines files are read a line at a time: no size limit.
    lines = write(tmp_path / "big.jsonl", "".join(json.dumps({"title": f"Paper {i}"}) + "\n" for i in range(100)))
    assert len(read_corpus(lines).papers) == 100


def test_a_bibtex_entry_over_the_record_limit_is_skipped(monkeypatch):
    monkeypatch.setattr(bibtex_syntax, "MAX_RECORD_BYTES", 200)
    text = "@article{big, title={Big}, abstract={" + "x" * 500 + "}}\n@article{small, title={Small}}\n"
    papers, skipped = read_bibtex(text, "r.bib")
    assert [p.id for p in papers] == ["small"]
    assert [(s.source, s.reason) for s in skipped] == [
        ("r.bib:1", "entry 'big': the '{' that opens field 'abstract' at line 1 is not closed before the 200 bytes "
                    "limit for one record; fix or remove it")]


def test_a_csv_cell_over_the_csv_module_default_is_read(tmp_path):
    # csv refuses cells over 128 KiB by default, which failed the whole file.
    path = write(tmp_path / "long.csv", 'title,abstract\nOne,"' + "y" * 200_000 + '"\nTwo,short\n')
    report = read_corpus(path)
    assert [p.title for p in report.papers] == ["One", "Two"]
    assert len(report.papers[0].abstract) == MAX_ABSTRACT_CHARS
