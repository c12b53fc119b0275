"""constraints.txt pins every dependency; the README's and CI's install commands use it, and what is installed
is what it pins (so the CLI's behaviour under test is the behaviour users get)."""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11 on

ROOT = Path(__file__).resolve().parents[1]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            out[normalise(name)] = version
    return out


def declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [normalise(re.match(r"[A-Za-z0-9_.\-]+", r).group()) for r in requirements]


def test_every_declared_dependency_is_pinned():
    missing = [name for name in declared() if name not in pins()]
    assert not missing, f"add these to constraints.txt (pip freeze): {missing}"


def test_torch_pin_is_the_cpu_release():
    assert pins()["torch"] == "2.13.0"  # no +cu local label: the CPU wheel (2.13.0+cpu) satisfies it
    assert not [name for name in pins() if name.startswith("nvidia-")]


def test_installed_versions_are_the_pinned_ones():
    """Fails in an environment not installed from constraints.txt: its test results would not be the users'."""
    differ = {}
    for name in declared():
        installed = metadata.version(name).split("+")[0]  # 2.13.0+cpu is the 2.13.0 release
        if installed != pins()[name]:
            differ[name] = (installed, pins()[name])
    assert not differ, f"installed vs pinned: {differ}; run bash scripts/test.sh (pip install -c constraints.txt ...)"


def test_install_commands_use_the_constraints():
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    installs = [line for line in script.splitlines() if line.strip().startswith("pip install")]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    readme_setup = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash")[1].split("```")[0]
    installs = re.findall(r"pip install [^&\n]+", readme_setup)
    assert len(installs) == 2 and all("-c constraints.txt" in cmd for cmd in installs), installs
