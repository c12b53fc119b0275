"""Never lose a user's files or an index: what a build may replace, garbled files, read-only folders, a full
disk, the lock, hostile input, and the messages of build/add/remove. The real CLI on the bundled listing."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recommender.cli.app import main
from recommender.errors import IndexLoadError
from recommender.index import integrity, replace, storage
from recommender.index.build import build_index
from recommender.index.update import add_to_index, remove_from_index
from recommender.index.verify import verify_index
from recommender.search.engine import Recommender

EXTRA = Path(__file__).parent / "data" / "ingest" / "scifact_head.jsonl"  # 20 SciFact papers (tests/data/ingest)
QUERY = "backdoor attacks on neural networks"


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_error(err: str, *fragments: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: what must come out of a refused or failed write unchanged."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def strays(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def top_ids(folder: Path, mode: str = "hybrid") -> list[str]:
    return [r.paper.id for r in Recommender.open(folder).search(QUERY, 5, mode=mode)]


@pytest.fixture()
def index_copy(seed_index, tmp_path):
    target = tmp_path / "lib" / "index"
    target.parent.mkdir()
    shutil.copytree(seed_index, target)
    return target


# -- what a build may replace (the critical defect first) -------------------------------------------

def test_build_into_a_users_folder_refuses_and_keeps_every_file(tmp_path, capsys):
    """The issue's reproduction: the build used to replace mylib (thesis, notes, the corpus) with an index, exit 0."""
    mylib = tmp_path / "mylib"
    (mylib / "sub").mkdir(parents=True)
    (mylib / "thesis.tex").write_text("thesis\n")
    (mylib / "sub" / "notes.txt").write_text("n\n")
    (mylib / "papers.jsonl").write_text(json.dumps({"id": "a", "title": "Graph neural networks",
                                                    "abstract": "We study graphs."}) + "\n")
    before = tree(mylib)
    code, _, err = cli(capsys, "build", mylib / "papers.jsonl", "--index", mylib)
    assert code == 2
    assert_one_error(err, str(mylib), "not an index", "nothing was changed")
    assert tree(mylib) == before
    assert strays(tmp_path) == []


@pytest.mark.parametrize("target", [".", "..", "/", "./a-file", "./a-file/index"])
def test_build_refuses_the_current_folder_its_parents_the_root_and_a_file_as_exit_2(target, seed_listing, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "a-file").write_text("not an index\n")
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    code, _, err = cli(capsys, "build", seed_listing, "--index", target)
    assert code == 2
    assert_one_error(err, "nothing was changed")
    assert tree(tmp_path) == before and strays(work) == [] and strays(tmp_path) == []


def test_build_refuses_an_index_that_holds_its_corpus(index_copy, capsys):
    before = tree(index_copy)
    code, _, err = cli(capsys, "build", index_copy / storage.PAPERS, "--index", index_copy)
    assert code == 2
    assert_one_error(err, "lies inside --index")
    assert tree(index_copy) == before


def test_an_index_holding_a_users_file_is_not_replaced_by_build_add_or_remove(index_copy, seed_listing, capsys):
    (index_copy / "notes.txt").write_text("my notes\n")
    before = tree(index_copy)
    for args in (["build", seed_listing], ["add", EXTRA], ["remove", "t:5cc71c3473a5"]):
        code, _, err = cli(capsys, *args, "--index", index_copy)
        assert code == 2, args
        assert_one_error(err, "notes.txt", "nothing was changed")
    assert tree(index_copy) == before


def test_an_empty_folder_and_an_index_may_be_built_into(seed_listing, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for _ in range(2):  # the empty folder, then the index now in it
        code, _, err = cli(capsys, "build", seed_listing, "--index", empty)
        assert code == 0, err
        assert Recommender.open(empty).search(QUERY, 1)
    assert strays(tmp_path) == []


def test_a_link_to_an_index_is_written_through_and_stays_a_link(index_copy, capsys):
    link = index_copy.parent / "link"
    link.symlink_to(index_copy.name)
    code, _, err = cli(capsys, "build", EXTRA, "--index", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == index_copy.name
    assert Recommender.open(index_copy).manifest["counts"]["papers"] == 20
    assert strays(index_copy.parent) == []


# -- garbled files ------------------------------------------------------------------------------------

def _garble_middle(path: Path) -> None:
    """Same size, same header: reverse the bytes in the middle of the file (what a disk or a copy may do)."""
    data = bytearray(path.read_bytes())
    start, end = len(data) // 3, 2 * len(data) // 3
    data[start:end] = data[start:end][::-1]
    path.write_bytes(bytes(data))


def _swap_two_offsets(path: Path) -> None:
    offsets = np.load(path)
    offsets[[0, 1]] = offsets[[1, 0]]  # rows 0 and 1 would show each other's paper
    np.save(path, offsets)


@pytest.mark.parametrize("name, garble", [(storage.VECTORS, _garble_middle), (storage.OFFSETS, _swap_two_offsets),
                                          ("lexical/data.csc.index.npy", _garble_middle),
                                          ("lexical/indices.csc.index.npy", _garble_middle)])
def test_a_garbled_file_of_the_same_size_is_a_clear_error(index_copy, name, garble, capsys):
    """These used to give wrong rankings (or a traceback) with exit 0."""
    size = (index_copy / name).stat().st_size
    garble(index_copy / name)
    assert (index_copy / name).stat().st_size == size
    for mode in ("dense", "lexical", "hybrid"):
        code, _, err = cli(capsys, "search", QUERY, "--index", index_copy, "--mode", mode, "--json")
        assert code == 3
        assert_one_error(err, name, "content changed", "rebuild")
    code, _, err = cli(capsys, "verify", "--index", index_copy)
    assert code == 3
    assert_one_error(err, name, "damaged")


def test_open_checks_small_files_whole_and_the_ends_of_large_ones_verify_every_byte(index_copy, monkeypatch, capsys):
    monkeypatch.setattr(integrity, "WHOLE_AT_OPEN_MAX", 0)  # treat every file as large
    monkeypatch.setattr(integrity, "ENDS_BYTES", 4096)
    vectors = index_copy / storage.VECTORS
    manifest = json.loads((index_copy / storage.MANIFEST).read_text())
    manifest["checksums"]["sha256_ends"] = {name: integrity.sha256_ends(index_copy / name, size)
                                            for name, size in manifest["files"].items()}
    (index_copy / storage.MANIFEST).write_text(json.dumps(manifest))
    assert Recommender.open(index_copy)  # whole
    _garble_middle(vectors)  # 77 KB: the middle is outside both 4 KB ends
    assert Recommender.open(index_copy)  # not seen at open ...
    code, out, err = cli(capsys, "verify", "--index", index_copy, "--json")
    assert code == 3 and json.loads(out)["error"]["type"] == "IndexLoadError"  # ... but by verify
    assert_one_error(err, "vectors.npy: content changed")
    data = bytearray(vectors.read_bytes())
    data[200] ^= 0xFF  # inside the first 4 KB: a header or the first rows
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match="vectors.npy: content changed"):
        Recommender.open(index_copy)


def test_verify_passes_a_whole_index_and_the_manifest_lists_every_file(index_copy, capsys):
    code, out, err = cli(capsys, "verify", "--index", index_copy, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["checksums"] and report["papers"] == 50
    manifest = json.loads((index_copy / storage.MANIFEST).read_text())
    on_disk = sorted(p.relative_to(index_copy).as_posix() for p in index_copy.rglob("*")
                     if p.is_file() and p.name != storage.MANIFEST)
    assert sorted(manifest["files"]) == sorted(manifest["checksums"]["sha256"]) == on_disk
    assert report["files"] == len(on_disk) and any(name.startswith("lexical/") for name in on_disk)


def test_the_open_check_costs_little_against_a_cold_query(seed_index):
    """The README's budget: a cold query takes ~0.5 s; the open-time check must stay a small share of it."""
    manifest = storage.parse_manifest(seed_index)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        assert integrity.check(seed_index, manifest, full=False) == []
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.01


# -- read-only folders and a full disk: one line, exit 3, the old index intact --------------------------

@contextlib.contextmanager
def read_only(folder: Path, view: Path):
    """A real read-only view of `folder`: for root (who ignores permissions) a read-only bind mount at `view`,
    so the folder itself stays writable for other processes; otherwise `folder` itself, chmod 555."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    view.mkdir()
    if subprocess.run(["mount", "--bind", folder, view], capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here (root without mount)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", view], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield view
    finally:
        subprocess.run(["umount", view], capture_output=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A real filesystem that fills up: a small tmpfs (root only)."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root)")
    try:
        yield
    finally:
        subprocess.run(["umount", folder], capture_output=True)


def test_a_read_only_index_folder_gives_one_line_and_stays_as_it_was(index_copy, seed_listing, tmp_path, capsys):
    before = tree(index_copy.parent)
    with read_only(index_copy.parent, tmp_path / "ro") as folder:
        index = folder / index_copy.name
        for args in (["build", seed_listing], ["add", EXTRA], ["remove", "t:5cc71c3473a5"]):
            code, _, err = cli(capsys, *args, "--index", index)
            assert code == 3, (args, err)
            assert_one_error(err, "cannot write the index", "read-only")
        assert top_ids(index)  # still answers
        code, _, err = cli(capsys, "verify", "--index", index)
        assert code == 0, err
    assert tree(index_copy.parent) == before


def test_a_full_disk_gives_one_line_and_leaves_the_old_index(seed_listing, tmp_path, capsys):
    disk = tmp_path / "disk"
    with small_disk(disk, "420k"):  # the 50-paper index takes ~330 KB; 70 papers do not fit beside it
        index = disk / "index"
        assert cli(capsys, "build", seed_listing, "--index", index)[0] == 0
        before = tree(disk)
        for args in (["build", seed_listing, EXTRA], ["add", EXTRA]):
            code, _, err = cli(capsys, *args, "--index", index)
            assert code == 3, (args, err)
            assert_one_error(err, "cannot write the index", "No space left on device", "unchanged")
            assert tree(disk) == before  # no temporary folder left taking the space
        assert cli(capsys, "verify", "--index", index)[0] == 0


def test_a_write_error_anywhere_in_the_index_becomes_one_line(index_copy, seed_listing, monkeypatch):
    """Wherever the disk fills up (here: the FAISS file, which reports it as a RuntimeError), same result."""
    import faiss

    def full(index, path):
        raise RuntimeError(f"Error in faiss::write_index: write error in {path} (No space left on device)")

    before = tree(index_copy)
    monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(IndexLoadError, match=r"cannot write the index \(No space left on device\).*unchanged") as caught:
        build_index([seed_listing], index_copy, progress=False)
    assert caught.value.exit_code == 3
    assert tree(index_copy) == before and strays(index_copy.parent) == []


def test_a_read_only_cache_is_read_and_not_written(seed_listing, tmp_path, capsys, monkeypatch):
    """Vectors come from a read-only cache (a warning, exit 0); a cache that must first receive the ONNX export
    fails in one line. Both used to end in a traceback."""
    from recommender.embed import cache_dir

    with read_only(cache_dir(), tmp_path / "ro-cache") as cache:
        monkeypatch.setenv("RECOMMENDER_CACHE_DIR", str(cache))
        code, _, err = cli(capsys, "build", seed_listing, "--index", tmp_path / "index")
        assert code == 0, err
        assert "cannot be written" in err and "embedding none" in err and "Traceback" not in err
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    with read_only(empty, tmp_path / "ro-empty") as cache:
        monkeypatch.setenv("RECOMMENDER_CACHE_DIR", str(cache))
        code, _, err = cli(capsys, "build", seed_listing, "--index", tmp_path / "other")
        assert code == 3
        assert_one_error(err, "cannot write the ONNX export", "RECOMMENDER_CACHE_DIR")
    assert not (tmp_path / "other").exists()


# -- the lock ------------------------------------------------------------------------------------------

def test_a_build_waits_for_the_lock_that_add_and_remove_take(index_copy, seed_listing):
    """Builds used to take no lock: two at once could crash (`Directory not empty`) or interleave with an add."""
    before = tree(index_copy)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with replace.index_lock(index_copy):
        proc = subprocess.Popen([sys.executable, "-m", "recommender", "build", str(seed_listing), str(EXTRA),
                                 "--index", str(index_copy)], stderr=subprocess.PIPE, text=True, env=env)
        for line in proc.stderr:
            if line.startswith("indexing"):  # printed just before the index is written
                break
        time.sleep(1.5)
        assert proc.poll() is None  # still waiting
        assert tree(index_copy) == before
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert Recommender.open(index_copy).manifest["counts"]["papers"] == 70
    assert strays(index_copy.parent) == []


def test_concurrent_builds_and_an_add_all_finish_and_leave_one_whole_index(index_copy, seed_listing):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    commands = [["build", str(seed_listing)], ["build", str(seed_listing), str(EXTRA)], ["add", str(EXTRA)]]
    procs = [subprocess.Popen([sys.executable, "-m", "recommender", *args, "--index", str(index_copy)],
                              stderr=subprocess.PIPE, text=True, env=env) for args in commands]
    for proc in procs:
        assert proc.wait(timeout=180) == 0, proc.stderr.read()
    assert verify_index(index_copy).ok
    assert Recommender.open(index_copy).manifest["counts"]["papers"] in (50, 70)
    assert strays(index_copy.parent) == []


def test_add_to_a_missing_index_creates_nothing(tmp_path, capsys):
    """`add` used to leave a `.NAME.lock` behind."""
    code, _, err = cli(capsys, "add", EXTRA, "--index", tmp_path / "missing")
    assert code == 3
    assert_one_error(err, "no index here")
    assert list(tmp_path.iterdir()) == []


# -- messages and the manifest -------------------------------------------------------------------------

def test_add_says_what_it_embeds_and_remove_and_add_set_updated(index_copy, tmp_path, capsys):
    warm = tmp_path / "warm"
    shutil.copytree(index_copy, warm)
    add_to_index([EXTRA], warm, progress=False)  # now the cache holds the 20 vectors
    code, _, err = cli(capsys, "add", EXTRA, "--index", index_copy)
    assert code == 0, err
    assert "embedding 20" not in err  # what it used to say, having embedded none
    assert "taking the vectors of 20 new or changed papers from the embedding cache; embedding none" in err
    assert "(0 embedded, 20 from the cache)" in err
    manifest = Recommender.open(index_copy).manifest
    assert manifest["updated"] == manifest["updates"][-1]["at"] >= manifest["created"]
    report = remove_from_index(["4983"], index_copy, progress=False)
    assert report.manifest["updated"] == report.manifest["updates"][-1]["at"]
    assert json.loads((index_copy / storage.MANIFEST).read_text())["updated"] == report.manifest["updated"]


def test_a_build_records_updated_as_created(seed_index):
    manifest = storage.read_manifest(seed_index)
    assert manifest["updated"] == manifest["created"]


def test_no_bm25s_debug_line_once_logging_is_configured(caplog):
    """The ONNX export configures logging; every later build then printed `DEBUG:bm25s:Building index from tokens`."""
    from recommender.index.lexical import LexicalIndex

    caplog.set_level(logging.DEBUG)
    LexicalIndex.build(["graph neural networks", "backdoor attacks"])
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bm25s")] == []


# -- hostile input: bounded work -----------------------------------------------------------------------

def test_a_huge_record_is_cut_before_tokenising_and_reported(tmp_path, capsys, monkeypatch):
    """A 50 MB record took 331 s and 7.1 GB, tokenised whole for the agreement check and the embedding."""
    import tokenizers

    abstract = json.loads(EXTRA.read_text().splitlines()[0])["text"]
    # As long as the readers let a record be (abstracts are cut at 20,000 characters, see ingest/limits.py),
    # and more than twice what the encoder reads.
    huge = " ".join([abstract] * (19_000 // len(abstract)))
    assert 2 * 8192 < len(huge) < 20_000
    corpus = tmp_path / "huge.jsonl"
    corpus.write_text(json.dumps({"id": "huge", "title": "A very long record", "abstract": huge}) + "\n")
    longest: list[int] = []
    real = tokenizers.Tokenizer

    class Spy:  # the encoder's tokenizer, recording the longest text it is given
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def encode_batch(self, texts, *args, **kwargs):
            longest.append(max(map(len, texts)))
            return self._inner.encode_batch(texts, *args, **kwargs)

    class SpyingTokenizer:
        @staticmethod
        def from_str(text):
            return Spy(real.from_str(text))

    monkeypatch.setattr(tokenizers, "Tokenizer", SpyingTokenizer)
    report = build_index([corpus], tmp_path / "index", use_cache=False)
    assert longest and max(longest) <= 8192
    assert report.clipped == ["huge"]
    assert "1 paper is longer and was cut there (huge)" in capsys.readouterr().err
    rec = Recommender.open(tmp_path / "index")
    paper = rec.papers[0]
    assert len(paper.abstract) == len(huge)  # only what goes into the encoder is cut
    np.testing.assert_allclose(rec.vectors[0], rec.encoder.encode([paper.text[:8192]])[0], atol=1e-6)


def test_the_cut_never_reaches_the_words_the_model_reads(seed_listing):
    """256 word pieces end far before the 8,192th character of real abstracts, so the cut changes no real vector."""
    from recommender.embed import load_encoder
    from recommender.ingest import read_corpus

    encoder = load_encoder(None, "onnx-int8")
    tokenizer = encoder._runtime.tokenizer
    texts = [p.text for p in read_corpus([seed_listing, EXTRA]).papers]
    tokenizer.no_truncation()
    try:
        ends = [e.offsets[encoder.max_tokens - 2][1] for e in tokenizer.encode_batch(texts) if len(e.ids) >= encoder.max_tokens]
    finally:
        tokenizer.enable_truncation(max_length=encoder.max_tokens)
    assert ends and max(ends) < encoder.max_chars / 4
