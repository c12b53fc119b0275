"""The FAISS phase of a streamed build: IVF-PQ trained on a sample sized to its cells, vectors added in pieces."""
import sys
import time

import numpy as np
from common import report
from recommender.index.vectors import build_faiss

started = time.time()
index, params = build_faiss(np.load(sys.argv[1], mmap_mode="r+"), "ivfpq")
report("faiss", seconds=time.time() - started, params=params, ntotal=int(index.ntotal))
