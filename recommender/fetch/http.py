"""One HTTP client for every source: polite pacing, retries with jitter, an on-disk cache, one-line errors.

Layers, outermost first: tenacity retries a whole request-and-parse; hishel's CacheTransport answers a
repeated GET from disk (so a rerun, or a resumed harvest, costs the server nothing); PoliteTransport
spaces the requests that do reach the network (arXiv asks for one every 3 s); httpx talks HTTP.
Waiting goes through `sleep` and `clock` (module attributes, or arguments), so tests never really wait.
"""
from __future__ import annotations

import email.utils
import hashlib
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .errors import NetworkError, Transient

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_ATTEMPTS = 5
CONNECT_ATTEMPTS = 3  # a machine that cannot connect at all is told so after seconds, not a minute
DEFAULT_TIMEOUT = 30.0
BACKOFF_FIRST = 2.0  # seconds before the first retry without a Retry-After; doubles, plus jitter
BACKOFF_MAX = 60.0
LONGEST_RETRY_AFTER = 600.0  # a server asking for more than this is reported rather than waited for
CACHE_TTL = 12 * 3600.0  # a listing answered from disk for half a day; new papers appear daily

# Tests replace these two (monkeypatch) so that a Retry-After of 5 s costs nothing.
sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.monotonic


def _sleep(seconds: float) -> None:
    sleep(seconds)


def _clock() -> float:
    return clock()


def user_agent(contact: str | None = None) -> str:
    from .. import __version__

    contact = contact or os.environ.get("RECOMMENDER_CONTACT")
    tail = f"; mailto:{contact}" if contact else ""
    return f"recommender/{__version__} (semantic paper recommender; offline-first research tool{tail})"


def cache_path() -> Path:
    """The HTTP cache file: RECOMMENDER_HTTP_CACHE, else RECOMMENDER_CACHE_DIR (default ~/.cache/recommender)
    then http/responses.sqlite."""
    from .options import cache_root

    if os.environ.get("RECOMMENDER_HTTP_CACHE"):
        return Path(os.environ["RECOMMENDER_HTTP_CACHE"]).expanduser()
    return cache_root() / "http" / "responses.sqlite"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class PoliteTransport(httpx.BaseTransport):
    """Spaces the requests that reach the network at least `min_interval` seconds apart."""

    def __init__(self, inner: httpx.BaseTransport, min_interval: float):
        self.inner = inner
        self.min_interval = min_interval
        self.last_sent: float | None = None
        self.sent = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            if self.last_sent is not None:
                wait = self.last_sent + self.min_interval - _clock()
                if wait > 0:
                    _sleep(wait)
            self.last_sent = _clock()
            self.sent += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Stats:
    requests: int = 0  # requests made by the caller
    from_cache: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)  # every back-off wait, in seconds


class HttpClient:
    """GET with pacing, caching and retries. `parse(response)` turns a final response into a value; it may
    raise Transient (a truncated body) to have the request retried with the cached copy dropped."""

    def __init__(self, host_label: str, *, min_interval: float = 0.0, contact: str | None = None,
                 use_cache: bool = True, cache_file: Path | None = None, timeout: float = DEFAULT_TIMEOUT,
                 attempts: int = DEFAULT_ATTEMPTS, transport: httpx.BaseTransport | None = None):
        self.host_label = host_label
        self.attempts = attempts
        self.stats = Stats()
        self.polite = PoliteTransport(transport or httpx.HTTPTransport(), min_interval)
        self.storage = None
        outer: httpx.BaseTransport = self.polite
        if use_cache:
            import hishel
            from hishel.httpx import CacheTransport

            path = cache_file or cache_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            self.storage = hishel.SqliteStorage(database_path=str(path), default_ttl=CACHE_TTL)
            outer = CacheTransport(next_transport=self.polite, storage=self.storage)
        self.client = httpx.Client(transport=outer, timeout=timeout, follow_redirects=True,
                                   headers={"User-Agent": user_agent(contact)})

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, params: dict[str, Any] | None, parse: Callable[[httpx.Response], T]) -> T:
        import tenacity

        self.stats.requests += 1
        retrying = tenacity.Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(Transient),
            sleep=self._back_off,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params, parse)
        except Transient as exc:
            raise self._gave_up(exc) from None

    def _attempt(self, url: str, params: dict[str, Any] | None, parse: Callable[[httpx.Response], T]) -> T:
        try:
            response = self.client.get(url, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"no network: cannot reach {self.host_label} at {url} ({_reason(exc)})",
                            unreachable=True) from exc
        except httpx.TimeoutException as exc:
            raise Transient(f"{self.host_label} did not answer in time ({type(exc).__name__})") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise Transient(f"{self.host_label} dropped the connection mid-response ({_reason(exc)})") from exc
        except httpx.HTTPError as exc:
            raise Transient(f"{self.host_label}: {_reason(exc)}") from exc
        caching = response.extensions.get("caching")
        if caching and caching.get("from_cache"):
            self.stats.from_cache += 1
        if response.status_code in RETRY_STATUSES:
            raise Transient(f"{self.host_label} answered HTTP {response.status_code}",
                            retry_after_seconds(response.headers.get("Retry-After")))
        try:
            return parse(response)
        except Transient:
            self._forget(response.request)  # a cut body must not be served again from the cache
            raise

    def _stop(self, state) -> bool:
        exc = state.outcome.exception()
        limit = min(self.attempts, CONNECT_ATTEMPTS) if getattr(exc, "unreachable", False) else self.attempts
        return state.attempt_number >= limit

    def _wait(self, state) -> float:
        exc = state.outcome.exception()
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            if retry_after > LONGEST_RETRY_AFTER:
                raise NetworkError(f"{self.host_label} asks to wait {retry_after:.0f} s before the next request "
                                   f"(Retry-After); try again later")
            return retry_after
        # Exponential back-off with full jitter, so that many clients do not retry in step.
        ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (state.attempt_number - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _back_off(self, seconds: float) -> None:
        self.stats.retries += 1
        self.stats.waits.append(seconds)
        _sleep(seconds)

    def _forget(self, request: httpx.Request) -> None:
        if self.storage is None:
            return
        key = hashlib.sha256(f"{request.method} {request.url}".encode()).hexdigest()
        for entry in self.storage.get_entries(key):
            self.storage.remove_entry(entry.id)

    def _gave_up(self, exc: Transient) -> NetworkError:
        message = str(exc)
        if message.startswith("no network:"):
            return NetworkError(f"{message}; check the connection (or --endpoint), then run the same command again")
        return NetworkError(f"{message}, still after {self.attempts} tries; run the same command again later "
                            "(what was fetched is cached and kept)")


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
