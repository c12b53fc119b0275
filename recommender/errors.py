"""The library's own exceptions. The CLI and the server turn them into messages and exit codes."""


class RecommenderError(Exception):
    """A problem the user can fix; the message says what and how, in one line."""

    exit_code = 1


class InputError(RecommenderError):
    """A corpus, queries or seed file that cannot be read."""

    exit_code = 2


class IndexLoadError(RecommenderError):
    """A missing, corrupt or incompatible index."""

    exit_code = 3


class PaperNotFound(RecommenderError):
    """A paper reference that matches nothing in the index (or matches several)."""

    exit_code = 4


class UsageError(RecommenderError):
    """An argument out of range (k <= 0, an empty query, ...)."""

    exit_code = 2


