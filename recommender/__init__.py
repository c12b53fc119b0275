"""Semantic paper recommender: related work and reading lists over your own paper collections, offline.

    from recommender import build_index, Recommender
    build_index(["papers.bib"], "mylib")
    rec = Recommender.open("mylib")
    rec.search("private fine-tuning of language models", k=10)
    rec.similar("KO codes", k=10)
"""

__version__ = "0.1.0"

_LAZY = {
    "Recommender": ("recommender.search.engine", "Recommender"),
    "Filters": ("recommender.search.filters", "Filters"),
    "build_index": ("recommender.index.build", "build_index"),
    "read_corpus": ("recommender.ingest", "read_corpus"),
    "Paper": ("recommender.records", "Paper"),
    "Result": ("recommender.records", "Result"),
}


def __getattr__(name):
    # Heavy modules load on first use, so `recommender --help` and `import recommender` stay instant.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'recommender' has no attribute {name!r}")


__all__ = list(_LAZY) + ["__version__"]
