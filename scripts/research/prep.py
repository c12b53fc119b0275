"""Fill the embedding cache for the three dev sets: documents, queries and sentences."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from recommender.evaluate.beir import load_beir  # noqa: E402
from recommender.search.seed import paper_sentences  # noqa: E402
from scripts.research.cache import embed_cached  # noqa: E402

BENCH = Path("/work/shared/benchmarks")

if __name__ == "__main__":
    what = sys.argv[1:] or ["docs", "sents"]
    for name in ("cisi", "csfcube", "scifact"):
        b = load_beir(BENCH / name)
        if "docs" in what:
            embed_cached(f"{name}-docs", [p.text for p in b.corpus])
            embed_cached(f"{name}-queries", [q.text for q in b.queries])
        if "sents" in what:
            sents = [s for p in b.corpus for s in paper_sentences(p.title, p.abstract)]
            embed_cached(f"{name}-sents", sents, batch_size=128)
