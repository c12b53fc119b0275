"""The ingest phase of a streamed build: the corpus read and deduplicated into a spool file."""
import sys
import time
from pathlib import Path

from common import report
from recommender.scale.stream_ingest import read_corpus_streamed

started = time.time()
papers = read_corpus_streamed([Path(sys.argv[1])], Path(sys.argv[2])).papers
report("ingest", papers=len(papers), seconds=time.time() - started)
