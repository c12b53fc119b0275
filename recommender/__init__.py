"""Semantic paper recommender: related work and reading lists over your own paper collections, offline."""

__version__ = "0.1.0"
