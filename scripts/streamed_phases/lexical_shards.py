"""The lexical phase of a streamed build after its first pass: the corpus statistics from the spooled token ids,
then every shard built and saved (as lexical.LexicalIndex.build_streamed does; token names are placeholders, since
the first pass's vocabulary lived in that process)."""
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from common import report
from recommender.index import lexical

spool, out = Path(sys.argv[1]), Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
started = time.time()
lengths, frequencies = [], np.zeros(0, np.int64)
for part in sorted(spool.glob("part-*.npz")):
    with np.load(part) as saved:
        ids, sizes = saved["ids"].astype(np.int64), saved["lengths"].astype(np.int64)
    counts = np.bincount(lexical._distinct_per_doc(ids, sizes))
    if len(frequencies) < len(counts):
        frequencies = np.concatenate([frequencies, np.zeros(len(counts) - len(frequencies), np.int64)])
    frequencies[:len(counts)] += counts
    lengths.append(sizes)
all_lengths = np.concatenate(lengths)
tokens = [f"token{i:06d}" for i in range(len(frequencies))]
stats = lexical.CorpusStatistics(len(all_lengths), all_lengths.mean(), tokens, frequencies)
report("lexical-statistics", seconds=time.time() - started, vocabulary=len(tokens), docs=stats.n_docs)
shards = 0
for number, (start, ids, sizes) in enumerate(lexical._spooled_shards(spool, lexical.SHARD_ROWS)):
    lexical._shard_retriever(ids, sizes, stats).save(str(out / lexical._shard_name(number)), show_progress=False)
    shards += 1
report("lexical-shards", seconds=time.time() - started, shards=shards)
