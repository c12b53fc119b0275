"""Incremental updates: add, update and remove give what a full build of the final corpus gives."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import benchmark_dir
from recommender.errors import PaperNotFound, UsageError
from recommender.index import storage
from recommender.index.build import build_index
from recommender.index.update import add_to_index, remove_from_index
from recommender.search.engine import Recommender

QUERIES = ["vitamin D deficiency and bone fractures", "white matter development in newborns",
           "DNA methylation in cancer", "antibiotic resistance", "stem cell differentiation"]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """Build 40 SciFact papers; add 6 new ones, a changed abstract and a metadata-only change; remove two."""
    lines = (benchmark_dir("scifact") / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    records = [json.loads(line) for line in lines]
    root = tmp_path_factory.mktemp("incremental")
    cache = root / "embeddings.sqlite"
    base = [dict(r) for r in records[:40]]
    changed_text = dict(records[3], text=records[3]["text"] + " A follow-up study reverses this finding.")
    changed_year = dict(records[7], year=2021)  # metadata only: the text, hence the vector, is the same
    new = [dict(r) for r in records[40:46]]
    removed = [records[10]["_id"], records[42]["_id"]]

    index = root / "index"
    build_index([_write(root / "base.jsonl", base)], index, progress=False, cache_path=cache)
    added = add_to_index([_write(root / "changes.jsonl", [changed_text, changed_year] + new)], index,
                         progress=False, cache_path=cache)
    gone = remove_from_index(removed, index, progress=False)

    final = [{3: changed_text, 7: changed_year}.get(i, r) for i, r in enumerate(base)] + new
    final = [r for r in final if r["_id"] not in removed]
    full = root / "full"
    rebuilt = build_index([_write(root / "final.jsonl", final)], full, progress=False, cache_path=cache)
    return {"index": index, "full": full, "added": added, "removed": gone, "rebuilt": rebuilt, "root": root,
            "cache": cache, "new_ids": [r["_id"] for r in new], "changed_ids": [changed_text["_id"], changed_year["_id"]],
            "removed_ids": removed}


def test_add_embeds_only_the_new_and_changed_texts(scenario):
    report = scenario["added"]
    assert report.added == scenario["new_ids"]
    assert report.updated == scenario["changed_ids"]
    assert report.unchanged == 0
    assert report.embedded == 7  # 6 new papers + 1 changed abstract; the year change needs no vector
    assert scenario["rebuilt"].embedded == 0  # the full build found every vector in the cache


def test_the_updated_index_equals_a_full_rebuild_of_the_final_corpus(scenario):
    inc, full = Recommender.open(scenario["index"]), Recommender.open(scenario["full"])
    assert inc.ids == full.ids and len(inc) == 44
    strip = [dict(p.to_dict(), source=None) for p in inc.papers]
    assert strip == [dict(p.to_dict(), source=None) for p in full.papers]
    np.testing.assert_allclose(np.asarray(inc.vectors), np.asarray(full.vectors), atol=1e-6)
    assert inc.manifest["counts"] == full.manifest["counts"]
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            got = [(r.paper.id, round(r.score, 5)) for r in inc.search(query, 10, mode=mode)]
            assert got == [(r.paper.id, round(r.score, 5)) for r in full.search(query, 10, mode=mode)], (query, mode)
    for seed in scenario["changed_ids"] + scenario["new_ids"][:2]:
        got = [(r.paper.id, round(r.score, 5)) for r in inc.similar(seed, 10)]
        assert got == [(r.paper.id, round(r.score, 5)) for r in full.similar(seed, 10)]


def test_removed_papers_are_gone_and_updated_ones_answer_to_their_new_text(scenario):
    rec = Recommender.open(scenario["index"])
    for pid in scenario["removed_ids"]:
        assert pid not in rec.row_of_id
        with pytest.raises(PaperNotFound):
            rec.resolve(pid)
    row = rec.row_of_id[scenario["changed_ids"][0]]
    assert rec.papers[row].abstract.endswith("reverses this finding.")
    assert rec.papers[rec.row_of_id[scenario["changed_ids"][1]]].year == 2021


def test_the_manifest_records_the_added_files_and_each_update(scenario):
    manifest = Recommender.open(scenario["index"]).manifest
    files = [c["path"] for c in manifest["corpus"]]
    assert files == [str((scenario["root"] / name).resolve()) for name in ("base.jsonl", "changes.jsonl")]
    assert "added" in manifest["corpus"][1] and manifest["corpus"][1]["sha256"] == storage.sha256_file(scenario["root"] / "changes.jsonl")
    ops = [(u["operation"], u.get("added"), u.get("removed")) for u in manifest["updates"]]
    assert ops == [("add", 6, None), ("remove", None, 2)]
    assert manifest["updates"][1]["ids"] == scenario["removed_ids"]


@pytest.fixture()
def index_copy(scenario, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(scenario["index"], target)
    return target


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_removing_an_unknown_id_is_a_clear_error_and_removes_nothing(index_copy, scenario):
    before = _snapshot(index_copy)
    known = scenario["new_ids"][0]
    with pytest.raises(PaperNotFound, match=r"no paper matches 'no-such-paper'; nothing was removed"):
        remove_from_index([known, "no-such-paper"], index_copy, progress=False)
    assert _snapshot(index_copy) == before


def test_removing_every_paper_is_refused(index_copy):
    ids = Recommender.open(index_copy).ids
    with pytest.raises(UsageError, match="would leave .* empty"):
        remove_from_index(ids, index_copy, progress=False)


def test_an_update_this_machine_cannot_hold_is_refused_before_it_reads_the_papers(index_copy, scenario, monkeypatch,
                                                                                   tmp_path):
    """add/remove hold every paper in memory; where the estimate exceeds the memory available (a 10M-paper
    index on a laptop) they say so at once and point to a streamed build, changing nothing."""
    from recommender.index import update

    before = _snapshot(index_copy)
    manifest = json.loads((index_copy / "manifest.json").read_text())
    needed = update.update_memory_estimate(index_copy, manifest)
    assert needed > (index_copy / "papers.jsonl").stat().st_size + 3 * 44 * 384 * 4  # papers, vectors, lexical
    monkeypatch.setattr(update, "available_memory", lambda: needed - 1)
    extra = _write(tmp_path / "extra.jsonl", [{"_id": "extra-1", "title": "Sleep and memory consolidation",
                                               "text": "Slow-wave sleep supports the consolidation of declarative memory."}])
    with pytest.raises(UsageError, match=r"`add` holds the index's 44 papers in memory, about 0\.0 GB, and 0\.0 GB is "
                                         r"available; nothing was changed; .*--stream"):
        add_to_index([extra], index_copy, progress=False, cache_path=scenario["cache"])
    with pytest.raises(UsageError, match=r"`remove` holds the index's 44 papers"):
        remove_from_index([scenario["new_ids"][0]], index_copy, progress=False)
    assert _snapshot(index_copy) == before
    monkeypatch.setattr(update, "available_memory", lambda: needed)
    assert add_to_index([extra], index_copy, progress=False, cache_path=scenario["cache"]).added == ["extra-1"]


def test_adding_papers_the_index_already_holds_writes_nothing(index_copy, scenario):
    before = _snapshot(index_copy)
    report = add_to_index([scenario["root"] / "final.jsonl"], index_copy, progress=False, cache_path=scenario["cache"])
    assert (report.added, report.updated, report.unchanged, report.embedded) == ([], [], 44, 0)
    assert _snapshot(index_copy) == before


def test_an_interrupted_add_leaves_the_old_index_intact(index_copy, scenario, monkeypatch, tmp_path):
    before = _snapshot(index_copy)
    extra = _write(tmp_path / "extra.jsonl", [{"_id": "extra-1", "title": "Sleep and memory consolidation",
                                               "text": "Slow-wave sleep supports the consolidation of declarative memory."}])

    def interrupted(texts):
        raise KeyboardInterrupt  # Ctrl-C after embedding, while the new index is being assembled

    monkeypatch.setattr("recommender.index.lexical.LexicalIndex.build", interrupted)
    with pytest.raises(KeyboardInterrupt):
        add_to_index([extra], index_copy, progress=False, cache_path=scenario["cache"])
    assert _snapshot(index_copy) == before
    assert [p.name for p in index_copy.parent.iterdir() if p.name.startswith(".") and "tmp" in p.name] == []
    monkeypatch.undo()
    report = add_to_index([extra], index_copy, progress=False, cache_path=scenario["cache"])
    assert report.added == ["extra-1"] and report.embedded == 0  # the vector computed before the interruption was kept
    assert Recommender.open(index_copy).search("sleep memory", 1, mode="dense")[0].paper.id == "extra-1"


def test_an_hnsw_index_grows_by_adding_to_its_graph(seed_listing, tmp_path):
    head = benchmark_dir("scifact") / "corpus.jsonl"
    extra = _write(tmp_path / "extra.jsonl", [json.loads(x) for x in head.read_text(encoding="utf-8").splitlines()[:20]])
    build_index([seed_listing], tmp_path / "hnsw", index_type="hnsw", progress=False)
    report = add_to_index([extra], tmp_path / "hnsw", progress=False)
    assert report.index_rebuilt is False and len(report.added) == 20
    build_index([seed_listing, extra], tmp_path / "flat", index_type="flat", progress=False)
    inc, flat = Recommender.open(tmp_path / "hnsw"), Recommender.open(tmp_path / "flat")
    assert inc.faiss_index.ntotal == 70 and inc.manifest["index"]["type"] == "hnsw"
    for query in QUERIES[:3] + ["backdoor attacks on neural networks"]:
        got = [r.paper.id for r in inc.search(query, 10, mode="dense")]
        assert got == [r.paper.id for r in flat.search(query, 10, mode="dense")]


def test_cli_add_and_remove(index_copy, scenario, tmp_path, capsys):
    from recommender.cli.app import main

    extra = _write(tmp_path / "extra.jsonl", [{"_id": "cli-1", "title": "Gut microbiome and obesity",
                                               "text": "The composition of the gut microbiota differs between lean and obese mice."}])
    assert main(["add", str(extra), "--index", str(index_copy), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == ["cli-1"] and out["papers"] == 45
    assert main(["remove", "cli-1", "--index", str(index_copy)]) == 0
    assert "removed 1: 44 papers left" in capsys.readouterr().err
    assert main(["remove", "cli-1", "--index", str(index_copy)]) == 4
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no paper matches 'cli-1'" in err and len(err.strip().splitlines()) == 1
    assert main(["add", str(tmp_path / "missing.jsonl"), "--index", str(index_copy)]) != 0
    assert "missing.jsonl" in capsys.readouterr().err
