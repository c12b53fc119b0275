"""The `recommender` command: a thin layer over the Python API."""
from __future__ import annotations

import sys

from .app import app, main as _main
from . import core, evaluate, fetch, lists, maintain, map, serve  # noqa: F401  (registering the commands)


def main(argv: list[str] | None = None) -> None:
    sys.exit(_main(argv))


__all__ = ["app", "main"]
