"""`recommender serve` commands (see the module that fills this in)."""
from .app import app  # noqa: F401
