"""Kill a real `recommender build`, `add` and `remove` (subprocesses of the CLI) at each point of writing an
index. The index must then answer exactly as before the command or exactly as after it, never neither; a
reader recovers an interrupted replace, and the next writer deletes what the dead process left.

The kills come from a test hook in the code (RECOMMENDER_TEST_CRASH_AT, replace.py), which works wherever the
tests run; where strace is installed, kills injected at the rename system calls themselves confirm it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender.index import replace, storage
from recommender.index.build import build_index
from recommender.index.update import add_to_index, remove_from_index
from recommender.index.verify import verify_index
from recommender.search.engine import Recommender

ROOT = Path(__file__).resolve().parents[1]
EXTRA = ROOT / "tests" / "data" / "ingest" / "scifact_head.jsonl"  # 20 SciFact papers
REMOVED = ["t:5cc71c3473a5", "t:37cf7d64c20d"]  # two papers of the bundled listing
QUERY = "backdoor attacks on neural networks"
BEFORE = ("files-written", "manifest-written")  # killed before the new index replaced the old one
KILLS = [("build", point) for point in ("files-written", "manifest-written", "between-renames", "swapped", "cleanup")] + \
        [("add", point) for point in ("files-written", "between-renames")] + \
        [("remove", point) for point in ("manifest-written", "cleanup")]  # add at "swapped": the test after next


def commands(seed_listing: Path) -> dict[str, list[str]]:
    """A build of other papers, an add of 20 papers, a removal of two: three different "after" states."""
    return {"build": ["build", str(EXTRA)], "add": ["add", str(EXTRA)], "remove": ["remove", *REMOVED]}


def answers(folder: Path) -> tuple:
    """What an index answers: its papers in order, a lexical and a dense ranking, and its vectors' bytes."""
    rec = Recommender.open(folder)
    vectors = np.ascontiguousarray(rec.vectors)
    return (tuple(p.id for p in rec.papers), tuple(r.paper.id for r in rec.search(QUERY, 5, mode="lexical")),
            tuple(r.paper.id for r in rec.similar(rec.papers[0].id, 5, mode="dense")),
            hashlib.sha256(vectors.tobytes()).hexdigest())


def strays(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def run_cli(args: list[str], **env) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "recommender", *args], capture_output=True, text=True,
                          timeout=300, env=environment)


@pytest.fixture(scope="module")
def states(seed_index, seed_listing, tmp_path_factory):
    """The seed index, and what each command makes of it when nothing interrupts it (the cache warmed too)."""
    root = tmp_path_factory.mktemp("crash")
    before = root / "before"
    shutil.copytree(seed_index, before)
    after = {}
    for command in ("build", "add", "remove"):
        folder = root / f"after-{command}"
        shutil.copytree(before, folder)
        if command == "build":
            build_index([EXTRA], folder, progress=False)
        elif command == "add":
            add_to_index([EXTRA], folder, progress=False)
        else:
            remove_from_index(REMOVED, folder, progress=False)
        after[command] = answers(folder)
    assert len({answers(before), *after.values()}) == 4  # each command changes what the index answers
    return before, answers(before), after


@pytest.mark.parametrize("command, point", KILLS)
def test_a_killed_command_leaves_the_index_as_before_or_as_after(states, seed_listing, command, point, tmp_path):
    before_folder, before, after = states
    index = tmp_path / "index"
    shutil.copytree(before_folder, index)
    proc = run_cli(commands(seed_listing)[command] + ["--index", str(index)], **{replace.CRASH_ENV: point})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert strays(index)  # it died half-way: its temporary folder (or lock) is still there
    assert index.exists() == (point != "between-renames")  # the instant with no index at the path
    assert answers(index) == (before if point in BEFORE else after[command])  # a reader, recovering if need be
    assert verify_index(index).ok
    with replace.index_lock(index):  # what the next build, add or remove does first
        pass
    assert strays(index) == []
    assert answers(index) == (before if point in BEFORE else after[command])


def test_the_next_real_command_cleans_up_after_a_killed_one(states, seed_listing, tmp_path):
    before_folder, _, after = states
    index = tmp_path / "index"
    shutil.copytree(before_folder, index)
    assert run_cli(commands(seed_listing)["add"] + ["--index", str(index)], **{replace.CRASH_ENV: "swapped"}).returncode == -9
    left = strays(index)
    assert len(left) == 2  # the lock and the retired index
    proc = run_cli(commands(seed_listing)["add"] + ["--index", str(index)])
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stderr  # the killed add had already put its index in place
    assert strays(index) == [] and answers(index) == after["add"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("syscall, nth", [("rename", 1), ("rename", 3), ("renameat2", 1)])
def test_a_build_killed_at_a_rename_system_call(states, seed_listing, syscall, nth, tmp_path):
    """The issue's reproduction: SIGKILL injected at the Nth rename. Which renames happen depends on the
    filesystem (an atomic exchange, or two renames); a build that makes fewer simply finishes."""
    before_folder, before, after = states
    index = tmp_path / "index"
    shutil.copytree(before_folder, index)
    log = tmp_path / "strace.log"
    proc = subprocess.run(["strace", "-f", "-o", str(log), "-e", f"trace={syscall}", "-e",
                           f"inject={syscall}:error=EIO:signal=SIGKILL:when={nth}", sys.executable, "-m", "recommender",
                           *commands(seed_listing)["build"], "--index", str(index)],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if "ptrace" in proc.stderr and "Operation not permitted" in proc.stderr:
        pytest.skip("strace may not trace here")
    killed = "killed by SIGKILL" in log.read_text()
    assert killed or proc.returncode == 0, proc.stderr
    assert answers(index) in (before, after["build"])
    if not killed:
        assert answers(index) == after["build"]
    assert verify_index(index).ok
