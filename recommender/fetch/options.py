"""Checks of the options every source shares; no network library imported here (feed --from works without them)."""
from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from ..errors import UsageError

_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")
NETWORK_PACKAGES = ("httpx", "hishel", "tenacity", "feedparser", "lxml", "rapidfuzz")


def cache_root() -> Path:
    """RECOMMENDER_CACHE_DIR, else ~/.cache/recommender (the folder of the embedding cache too)."""
    root = os.environ.get("RECOMMENDER_CACHE_DIR")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "recommender"


def need_network_packages() -> None:
    """A clear message, not an ImportError, when the optional `fetch` packages are not installed."""
    import importlib.util

    missing = [name for name in NETWORK_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"this command needs the optional fetch packages ({', '.join(missing)} missing): "
                         "pip install 'recommender[fetch]'")


def check_date(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, got '{value}'") from None


def check_categories(categories: list[str]) -> list[str]:
    for category in categories:
        if not _CATEGORY.match(category):
            raise UsageError(f"--category '{category}' is not an arXiv category (like cs.LG, hep-th or math.CO)")
    return categories


