"""The query layer: one ranking path behind search-by-text, similar-by-paper and search-by-vector."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import refs
from ..errors import IndexLoadError, UsageError
from ..index import storage
from ..records import Paper, Result
from .filters import Filters

from .modes import DEFAULT_MODE, MODES  # noqa: F401  (re-exported: callers import them from here)
MAX_K = 10_000
CANDIDATES = 200  # how deep each retriever looks before fusion and filtering; grows when filters reject


@dataclass
class Query:
    """What a ranking starts from: a dense vector and/or a text for the lexical side, plus the rows to leave out."""

    vector: np.ndarray | None
    text: str
    kind: str  # "text" (a user's query) or "paper" (a seed paper's title and abstract)
    exclude_rows: frozenset[int] = frozenset()
    label: str = ""


def check_k(k: int) -> int:
    if not isinstance(k, int) or k <= 0:
        raise UsageError(f"-k must be a positive number of results, got {k}")
    return min(k, MAX_K)


def check_mode(mode: str | None) -> str:
    mode = mode or DEFAULT_MODE
    if mode not in MODES:
        raise UsageError(f"--mode {mode!r}: choose one of {', '.join(MODES)}")
    return mode


class Recommender:
    """An opened index. `search`, `similar` and `similar_to_text` all end in `rank`."""

    def __init__(self, folder: Path, manifest: dict, model: str | None = None):
        self.folder = folder
        self.manifest = manifest
        self._requested_model = model

    @classmethod
    def open(cls, index: str | Path, *, model: str | None = None) -> "Recommender":
        folder = storage.index_dir(index)
        manifest = storage.read_manifest(folder)
        built_with = manifest["model"]
        if model is not None and model not in (built_with["name"], built_with.get("path")):
            from ..embed import resolve_model

            if resolve_model(model).fingerprint != built_with["fingerprint"]:
                raise IndexLoadError(
                    f"{folder}: built with model {built_with['name']!r}, not {model!r}; "
                    f"query it without --model or rebuild it with --model {model}"
                )
        return cls(folder, manifest)

    # --- lazily loaded parts: a query touches only what it needs -------------------------------
    @cached_property
    def papers(self) -> storage.PaperStore:
        store = storage.PaperStore(self.folder)
        if len(store) != self.manifest["counts"]["papers"]:
            raise IndexLoadError(f"{self.folder}: paper count differs from the manifest; rebuild the index")
        return store

    @cached_property
    def ids(self) -> list[str]:
        return storage.load_ids(self.folder)

    @cached_property
    def row_of_id(self):
        """id -> row; through the index's hash table when it has one, so ids.json is never read whole."""
        if (self.folder / storage.ID_LOOKUP).is_file():
            return storage.KeyLookup(self.folder / storage.ID_LOOKUP, lambda key, row: self.papers[row].id == key)
        return {pid: row for row, pid in enumerate(self.ids)}

    @cached_property
    def vectors(self) -> np.ndarray:
        vectors = storage.load_vectors(self.folder)
        if vectors.shape != (self.manifest["counts"]["papers"], self.manifest["dimension"]):
            raise IndexLoadError(f"{self.folder}: vectors have shape {vectors.shape}, the manifest says otherwise; rebuild the index")
        return vectors

    @cached_property
    def faiss_index(self):
        from ..index.vectors import VectorSearcher

        # FAISS memory-maps its file on the first search (small flat indexes need no FAISS at all);
        # ivfpq re-scores its candidates against the memory-mapped vectors.
        return VectorSearcher(self.folder, self.manifest["index"], lambda: self.vectors, ntotal=len(self))

    @cached_property
    def lexical(self):
        from ..index.lexical import LexicalIndex

        try:
            return LexicalIndex.load(self.folder / storage.LEXICAL, len(self))
        except Exception as exc:
            raise IndexLoadError(f"{self.folder / storage.LEXICAL}: cannot be read ({type(exc).__name__}); rebuild the index") from exc

    @cached_property
    def encoder(self):
        from ..embed import check_recipe, load_encoder, resolve_model

        built_with = self.manifest["model"]
        ref = resolve_model(built_with["name"])
        if ref.fingerprint != built_with["fingerprint"]:
            raise IndexLoadError(
                f"{self.folder}: built with model {built_with['name']!r} (fingerprint {built_with['fingerprint']}), "
                f"but the copy found here differs ({ref.fingerprint}); rebuild the index"
            )
        check_recipe(self.folder, self.manifest["encoder"].get("query_recipe"), self.manifest["encoder"]["query"])
        return load_encoder(ref, self.manifest["encoder"]["query"])

    def __len__(self) -> int:
        return int(self.manifest["counts"]["papers"])

    # --- the verbs --------------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None) -> list[Result]:
        text = (text or "").strip()
        if not text:
            raise UsageError("the query is empty: give some words to search for")
        mode = check_mode(mode)
        self._open_for(mode)
        vector = self.encode_query(text) if mode != "lexical" else None
        return self.rank(Query(vector, text, "text", label=text), k, mode=mode, filters=filters)

    def similar(self, paper: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None) -> list[Result]:
        mode = check_mode(mode)
        return self.rank(self.paper_query(self.resolve(paper), mode), k, mode=mode, filters=filters)

    def paper_query(self, row: int, mode: str) -> Query:
        """"More like this paper" for a paper of the index, itself left out: what `similar` ranks by."""
        seed = self.papers[row]
        if mode == "hybrid":
            self._open_for(mode)
            vector = self.seed_vector(seed)
        else:
            vector = np.asarray(self.vectors[row], dtype=np.float32)
        return Query(vector, seed.text, "paper", frozenset({row}), label=seed.title)

    def seed_vector(self, seed: Paper) -> np.ndarray:
        """The dense side of a hybrid "more like this paper" query: the normalised mean of the vectors of the
        seed's title and abstract sentences. On CSFCube it fused with BM25 to nDCG@10 0.482 where the seed's own
        whole-text vector gave 0.461 (scripts/research_ranking.py), at the price of encoding ~10 short sentences."""
        from .seed import paper_sentences

        sentences = paper_sentences(seed.title, seed.abstract) or [seed.text]
        mean = self.encoder.encode(sentences).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm).astype(np.float32) if norm > 0 else mean.astype(np.float32)

    def similar_to_text(self, title: str, abstract: str = "", k: int = 10, *, mode: str | None = None,
                        filters: Filters | None = None) -> list[Result]:
        """A paper that is not in the index, given by its title and abstract."""
        seed = Paper(id="", title=(title or "").strip(), abstract=(abstract or "").strip())
        if not seed.text:
            raise UsageError("the paper has neither a title nor an abstract: give at least one of them")
        mode = check_mode(mode)
        self._open_for(mode)
        if mode == "lexical":
            vector = None
        else:
            vector = self.seed_vector(seed) if mode == "hybrid" else self.encode_query(seed.text)
        return self.rank(Query(vector, seed.text, "paper", label=seed.title or seed.abstract[:60]), k, mode=mode, filters=filters)

    def _open_for(self, mode: str) -> None:
        """Load what a text query in `mode` needs, side by side: ONNX Runtime builds the encoder's session in a
        thread (it releases the GIL) while this thread imports and opens FAISS and bm25s. A cold CLI query is
        bounded by the slower of the two instead of their sum."""
        if mode == "lexical" or "encoder" in self.__dict__:
            return
        import threading

        def load_encoder() -> None:
            try:
                self.encoder  # noqa: B018
            except Exception:  # noqa: BLE001 - raised again, in this thread, by encode_query
                pass

        loader = threading.Thread(target=load_encoder, daemon=True)
        loader.start()
        try:
            self.faiss_index  # noqa: B018
            if mode != "dense":
                self.lexical  # noqa: B018
        finally:
            loader.join()

    def encode_query(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def rank(self, query: Query, k: int = 10, *, mode: str = DEFAULT_MODE, filters: Filters | None = None,
             explain: bool = True) -> list[Result]:
        """The k best papers for a query; with `explain`, each Result's `why` says where it came from."""
        results, ranking = self._rank(query, check_k(k), mode, filters)
        if explain:
            from .why import explain_results

            explain_results(self, query, ranking, results)
        return results

    def _rank(self, query: Query, k: int, mode: str, filters: Filters | None):
        filters = filters or Filters()
        exclude = set(query.exclude_rows)
        for ref in filters.exclude:  # any exact reference; one to a paper outside the index excludes nothing
            row = self.find(ref)
            if row is not None:
                exclude.add(row)
        depth = min(len(self), max(CANDIDATES, 4 * (k + len(exclude))))
        while True:
            ranking = self._candidates(query, mode, depth)
            results: list[Result] = []
            for row, score in zip(ranking.rows.tolist(), ranking.scores.tolist()):
                if row < 0 or row in exclude:
                    continue
                paper = self.papers[row]
                if filters.active and not filters.accepts(paper):
                    continue
                results.append(Result(len(results) + 1, float(score), paper))
                if len(results) == k:
                    return results, ranking
            if depth >= len(self):
                return results, ranking
            depth = min(len(self), depth * 4)

    def _candidates(self, query: Query, mode: str, depth: int):
        from .ranking import rank_candidates

        return rank_candidates(self, query, mode, depth)

    # --- finding a paper by what the user remembers of it ---------------------------------------
    def resolve(self, ref: str, *, fuzzy: bool = True) -> int:
        """The row of the paper `ref` names: id, citation key, arXiv id, DOI or title (see `recommender.refs`);
        `fuzzy=False` takes a title only whole. PaperNotFound says what to give instead."""
        return refs.resolve(ref, self.papers, self.row_of_id, self._aliases, fuzzy=fuzzy)

    def find(self, ref: str) -> int | None:
        """The row of the paper `ref` names exactly (no title guessing), or None."""
        return refs.find(ref, self.row_of_id, self._aliases)

    def find_paper(self, paper: Paper) -> int | None:
        """The row of the index's copy of `paper` (a record from elsewhere, e.g. a .bib entry), or None:
        the first of its id, citation key, arXiv id, DOI or title that the index knows."""
        return refs.find_paper(paper, self.row_of_id, self._aliases)

    @cached_property
    def _aliases(self):
        if (self.folder / storage.ALIAS_LOOKUP).is_file():  # a hash table: no need to read every paper
            return storage.KeyLookup(self.folder / storage.ALIAS_LOOKUP,
                                     lambda key, row: key in refs.alias_keys(self.papers[row]))
        return refs.Aliases(self.papers)

    def info(self) -> dict:
        return {"path": str(self.folder), **self.manifest}

