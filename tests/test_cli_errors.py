"""Every kind of command-line mistake, through the real `recommender` command: exit 2, one `error:` line on stderr,
never a traceback, and a JSON error on stdout when the command line asked for JSON.

The argument errors come from the installed Typer (0.29 raises exceptions of its own copy of Click), so these tests
are what tells an upgrade of it (constraints.txt) that broke the messages."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SEED_LISTING = Path(__file__).resolve().parents[1] / "recommender" / "data" / "seed_listing.txt"


def run(args, cwd):
    """The command run in an empty folder: no `indexes/default` there, so a mistake caught only after opening the
    index would exit 3 (missing index), not 2."""
    return subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def assert_usage_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


USAGE_ERRORS = {
    "unknown command": (["serach", "x"], ["no such command 'serach'", "did you mean 'search'"]),
    "unknown command, nothing close": (["frobnicate"], ["no such command 'frobnicate'", "`recommender --help`"]),
    "not an integer": (["search", "x", "-k", "abc"], ["-k/--k", "integer", "`recommender search --help`"]),
    "not a number": (["reading-list", "-q", "x", "--diversity", "lots"], ["--diversity"]),
    "unknown option": (["search", "x", "--bogus"], ["no such option: --bogus", "`recommender search --help`"]),
    "unknown option, close to one": (["search", "x", "--jsn"], ["--jsn", "did you mean --json?"]),
    "missing argument": (["build"], ["missing argument", "`recommender build --help`"]),
    "option without its value": (["info", "--index"], ["--index", "requires an argument", "`recommender info --help`"]),
    "no arguments": ([], ["no command given", "search", "reading-list", "`recommender --help`"]),
    "port out of range": (["serve", "--port", "70000"], ["--port", "65535"]),
    "empty mode": (["search", "x", "--mode", ""], ["--mode ''", "dense | lexical | hybrid"]),
    "unknown mode": (["similar", "KO codes", "--mode", "semantic"], ["--mode 'semantic'"]),
    "empty mode of a list": (["recommend", "--like", "x", "--mode", ""], ["--mode ''"]),
    "empty mode of evaluate": (["evaluate", "bench", "--mode", ""], ["--mode ''"]),
    "unknown method": (["reading-list", "-q", "x", "--method", ""], ["--method ''", "centroid"]),
    "empty list format": (["recommend", "--like", "x", "--format", ""], ["--format ''", "markdown"]),
    "unknown list format": (["recommend", "--like", "x", "--format", "yaml"], ["--format 'yaml'"]),
    "unknown log level": (["serve", "--log-level", "loud"], ["--log-level 'loud'"]),
}


@pytest.mark.parametrize("args, fragments", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_error_is_one_line_with_exit_2(tmp_path, args, fragments):
    proc = run(args, tmp_path)
    assert_usage_error(proc, *fragments)
    assert proc.stdout == ""  # no JSON asked for: nothing on stdout
    assert not (tmp_path / "indexes").exists()


def test_unknown_encoder_is_a_usage_error_and_builds_nothing(tmp_path):
    proc = run(["build", SEED_LISTING, "--encoder", "bogus", "--index", tmp_path / "idx"], tmp_path)
    assert_usage_error(proc, "--encoder 'bogus'", "onnx-int8")
    assert not (tmp_path / "idx").exists()


JSON_USAGE_ERRORS = {
    "not an integer": ["search", "x", "-k", "abc", "--json"],
    "unknown option": ["search", "x", "--bogus", "--json"],
    "option without its value": ["info", "--json", "--index"],
    "missing argument": ["build", "--json"],
    "empty mode": ["similar", "KO codes", "--mode", "", "--json"],
    "list as json, empty mode": ["recommend", "--like", "x", "--format", "json", "--mode", ""],
    "list as json (-f), unknown method": ["reading-list", "-q", "x", "-f", "json", "--method", "svn"],
}


@pytest.mark.parametrize("args", JSON_USAGE_ERRORS.values(), ids=JSON_USAGE_ERRORS.keys())
def test_usage_error_in_json_mode_is_json_too(tmp_path, args):
    proc = run(args, tmp_path)
    line = assert_usage_error(proc)
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "UsageError"
    assert f"error: {error['message']}" == line


def test_evaluate_json_is_a_file_not_json_errors(tmp_path):
    """`evaluate --json FILE` names where to write the figures: its errors stay text."""
    proc = run(["evaluate", "bench", "--json", tmp_path / "out.json", "--mode", ""], tmp_path)
    assert_usage_error(proc, "--mode")
    assert proc.stdout == ""


def test_batch_search_missing_queries_file_without_json(seed_index, tmp_path):
    missing = tmp_path / "missing.jsonl"
    proc = run(["search", "--queries", missing, "--index", seed_index], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"error: {missing}: no such queries file"
    proc = run(["search", "--queries", missing, "--index", seed_index, "--json"], tmp_path)
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == {"error": {"type": "InputError", "message": f"{missing}: no such queries file"}}


def test_help_still_exits_0(tmp_path):
    proc = run(["search", "--help"], tmp_path)
    assert proc.returncode == 0 and "--mode" in proc.stdout and proc.stderr == ""
