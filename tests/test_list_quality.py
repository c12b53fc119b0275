"""Reading lists and recommendations keep the quality of the ranking they come from (issue 12), and the
leave-one-out evaluation of a user's library. Real bundled model on slices of the benchmarks and on the
bundled listing; the commands run as a user runs them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import benchmark_dir


def run(*args, ok=True):
    proc = subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                          timeout=900)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def csfcube_slice(tmp_path_factory):
    """Three CSFCube seed-paper queries, their seeds and judged papers, and the first 200 papers besides."""
    source = benchmark_dir("csfcube")
    out = tmp_path_factory.mktemp("csfcube_slice")
    queries = (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    wanted = {json.loads(line)["_id"] for line in queries}
    qrels = [line.split("\t") for line in (source / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    kept = [(q, d, g) for q, d, g in qrels if q in wanted]
    lines = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ids = {json.loads(line)["seed_paper_id"] for line in queries} | {d for _, d, _ in kept}
    ids |= {json.loads(line)["_id"] for line in lines[:200]}
    (out / "corpus.jsonl").write_text("\n".join(line for line in lines if json.loads(line)["_id"] in ids) + "\n",
                                      encoding="utf-8")
    (out / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    (out / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in kept),
                                   encoding="utf-8")
    return out


def test_reading_lists_keep_search_quality_and_recommend_is_similar(scifact_slice, csfcube_slice, tmp_path):
    out = tmp_path / "lists.json"
    proc = run("evaluate", scifact_slice, csfcube_slice, "--lists", "--index-root", tmp_path / "indexes", "--json", out)
    rows = {row["collection"]: row for row in json.loads(out.read_text(encoding="utf-8"))}
    lists = rows[scifact_slice.name]
    assert lists["kind"] == "reading-list vs search" and lists["queries"] >= 20
    assert lists["baseline_ndcg"] > 0.5  # search finds the claims' papers at all
    assert lists["list_ndcg"] >= 0.9 * lists["baseline_ndcg"]
    assert lists["queries_keeping"] >= 0.9
    seeds = rows[csfcube_slice.name]
    assert seeds["kind"] == "recommend vs similar" and seeds["identical"] == 1.0
    assert seeds["list_ndcg"] == seeds["baseline_ndcg"]
    assert "reading-list vs search" in proc.stdout and "recommend vs similar" in proc.stdout


def _bib(rec, titles) -> str:
    """BibTeX entries for papers of the listing, made from the listing's own records."""
    rows = [rec.resolve(t) for t in titles]
    return "".join("@article{p%d,\n  title = {%s},\n  year = {%s}\n}\n" % (row, rec.papers[row].title, rec.papers[row].year)
                   for row in rows)


CODING = ["KO codes", "CRISP: Curriculum based Sequential Neural Decoders for Polar Code Family",
          "Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes",
          "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning"]
BACKDOOR = ["Label Poisoning is All You Need", "Few-shot Backdoor Attacks via Neural Tangent Kernels",
            "Towards a Defense Against Federated Backdoor Attacks Under Continuous Training",
            "SPECTRE: Defending Against Backdoor Attacks Using Robust Statistics"]


def test_library_leave_one_out_finds_each_paper_from_the_others(seed_index, seed_rec, tmp_path):
    library = tmp_path / "mine.bib"
    library.write_text(_bib(seed_rec, CODING + BACKDOOR), encoding="utf-8")
    out = tmp_path / "library.json"
    proc = run("evaluate", "--library", library, "-i", seed_index, "-k", "5", "--json", out)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["entries"] == report["in_index"] == report["held_out"] == 8
    by_method = {s["method"]: s for s in report["scores"]}
    assert set(by_method) == {"centroid", "svm", "logistic"}
    # two tight topics of four: every held-out paper comes back within the top 5 among 43 candidates
    assert all(s["recall"] == 1.0 and s["mrr"] >= 0.5 for s in report["scores"])
    assert "Recall@5" in proc.stdout and "centroid" in proc.stdout


def test_a_library_mixed_with_unrelated_papers_scores_lower(seed_index, seed_rec, tmp_path):
    focused, mixed = tmp_path / "focused.bib", tmp_path / "mixed.bib"
    focused.write_text(_bib(seed_rec, CODING), encoding="utf-8")
    unrelated = ["S4S: Solving for a Diffusion Model Solver", "SuperBPE: Space Travel for Language Models",
                 "Training AI to be Loyal", "Zonotope Domains for Lagrangian Neural Network Verification"]
    mixed.write_text(_bib(seed_rec, CODING[:2] + unrelated), encoding="utf-8")
    scores = {}
    for name, path in (("focused", focused), ("mixed", mixed)):
        out = tmp_path / f"{name}.json"
        run("evaluate", "--library", path, "-i", seed_index, "-k", "3", "--method", "centroid", "--json", out)
        scores[name] = json.loads(out.read_text(encoding="utf-8"))["scores"][0]
    assert scores["focused"]["recall"] > scores["mixed"]["recall"]


def test_library_evaluation_errors_are_one_line(seed_index, tmp_path):
    outside = tmp_path / "outside.bib"
    outside.write_text("@article{x,\n  title = {A paper this index does not hold about glaciers},\n  year = {2020}\n}\n",
                       encoding="utf-8")
    for args, fragment in (([tmp_path / "none.bib"], "no such library file"),
                           ([outside], "0 of its 1 entries are in the index")):
        proc = run("evaluate", "--library", *args, "-i", seed_index, ok=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and fragment in errors[0], proc.stderr
    proc = run("evaluate", ok=False)
    assert proc.returncode == 2 and "--library" in proc.stderr
