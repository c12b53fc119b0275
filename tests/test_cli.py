"""The real `recommender` command in subprocesses: JSON output, errors, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args, check_ok=True):
    proc = subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True, timeout=300)
    if check_ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def assert_clean_error(proc, code, *fragments):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


def test_search_json(seed_index):
    out = json.loads(run("search", "backdoor attacks", "--index", seed_index, "-k", "3", "--json").stdout)
    assert out["query"] == "backdoor attacks"
    assert [r["rank"] for r in out["results"]] == [1, 2, 3]
    from test_recommend_e2e import BACKDOOR_TITLES

    assert {r["title"] for r in out["results"]} <= BACKDOOR_TITLES
    assert {"id", "score", "title", "authors", "year"} <= set(out["results"][0])


def test_similar_by_title_json_and_table(seed_index):
    out = json.loads(run("similar", "KO codes", "--index", seed_index, "-k", "2", "--json").stdout)
    assert out["query"]["title"].startswith("KO codes")
    assert all("Code" in r["title"] or "Reed-Muller" in r["title"] for r in out["results"])
    table = run("similar", "KO codes", "--index", seed_index, "-k", "2").stdout
    assert "papers like: KO codes" in table and "Polar" in table


def test_similar_with_filters_from_the_command_line(seed_index):
    out = json.loads(run("similar", "KO codes", "--index", seed_index, "-k", "50", "--year-from", "2023", "--json").stdout)
    assert out["results"] and all(r["year"] >= 2023 for r in out["results"])


def test_info_reports_the_manifest(seed_index):
    data = json.loads(run("info", "--index", seed_index, "--json").stdout)
    assert data["counts"]["papers"] == 50
    assert data["model"]["name"] == "all-MiniLM-L6-v2"
    assert "papers:     50" in run("info", "--index", seed_index).stdout


def test_missing_index_error_in_text_and_json(tmp_path):
    proc = run("search", "x", "--index", tmp_path / "none", "--json", check_ok=False)
    assert_clean_error(proc, 3, "no index here", "recommender build")
    assert json.loads(proc.stdout)["error"]["type"] == "IndexLoadError"


@pytest.mark.parametrize("k", ["0", "-2"])
def test_non_positive_k_is_refused(seed_index, k):
    assert_clean_error(run("search", "x", "--index", seed_index, "-k", k, check_ok=False), 2, "-k")


def test_unknown_paper_is_refused(seed_index):
    assert_clean_error(run("similar", "Lattice QCD at finite density", "--index", seed_index, check_ok=False), 4, "no paper")


def test_build_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert_clean_error(run("build", empty, "--index", tmp_path / "i", check_ok=False), 2, "empty.jsonl")
    assert_clean_error(run("build", tmp_path / "missing.csv", "--index", tmp_path / "i", check_ok=False), 2, "missing.csv")
    assert not (tmp_path / "i").exists()


def test_build_reports_skipped_lines_and_still_builds(tmp_path):
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text(
        '{"id": "a1", "title": "Differential privacy for federated learning", "abstract": "Private training."}\n'
        '{"id": "a2", "title": broken json\n'
        '{"id": "a3", "title": "Backdoor attacks on neural networks", "abstract": "Poisoned data."}\n')
    proc = run("build", corpus, "--index", tmp_path / "idx", "--json")
    report = json.loads(proc.stdout)
    assert report["manifest"]["counts"]["papers"] == 2
    assert [s["source"] for s in report["skipped"]] == ["papers.jsonl:2"]
    assert "papers.jsonl:2" in proc.stderr
    out = json.loads(run("search", "poisoning", "--index", tmp_path / "idx", "--json", "-k", "1").stdout)
    assert out["results"][0]["id"] == "a3"


def test_batch_queries_on_a_scifact_slice(scifact_slice, tmp_path):
    from recommender.evaluate.beir import load_beir
    from recommender.evaluate.metrics import ndcg_at_k

    run("build", scifact_slice / "corpus.jsonl", "--index", tmp_path / "sf")
    proc = run("search", "--queries", scifact_slice / "queries.jsonl", "--index", tmp_path / "sf", "-k", "100", "--json")
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    data = load_beir(scifact_slice)
    corpus_ids = {p.id for p in data.corpus}
    assert [line["query_id"] for line in lines] == [q.id for q in data.queries]
    assert all(len(line["results"]) == 100 for line in lines)
    assert all(r["id"] in corpus_ids for line in lines for r in line["results"])
    mean = sum(ndcg_at_k([r["id"] for r in line["results"]], data.qrels.get(line["query_id"], {}), 10)
               for line in lines) / len(lines)
    assert mean > 0.6


def test_query_path_does_not_import_torch(seed_index):
    code = ("import sys; from recommender.cli.app import main; import recommender.cli; "
            f"main(['search', 'backdoor', '--index', {str(seed_index)!r}, '-k', '1']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NO-TORCH")


def test_help_does_not_import_heavy_libraries():
    code = "import sys, recommender.cli; print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'onnxruntime') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]"
