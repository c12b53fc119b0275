"""Measuring ranking quality on relevance-judged collections."""
