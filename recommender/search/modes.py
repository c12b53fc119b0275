"""The retrieval modes, without importing the engine (the CLI checks --mode before anything heavy loads)."""

MODES = ("dense", "lexical", "hybrid")
DEFAULT_MODE = "hybrid"
