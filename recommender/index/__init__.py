"""Building and storing indexes: vectors (FAISS), lexical (bm25s), papers and manifest."""
