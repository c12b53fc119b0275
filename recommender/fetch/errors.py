"""What can go wrong online, as the library's own exceptions (the CLI turns them into one-line messages)."""
from __future__ import annotations

from ..errors import InputError, RecommenderError


class NetworkError(RecommenderError):
    """The server could not be reached or kept failing after every retry ("no network: ...")."""

    exit_code = 5


class ServerRefused(InputError):
    """The server answered that the request itself is wrong (HTTP 400, an OAI-PMH error): fix the query."""


class Transient(Exception):
    """A failure worth retrying: 429/5xx, a dropped connection, a truncated body. `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable  # no connection at all (offline, DNS, refused), not a slow or busy server
