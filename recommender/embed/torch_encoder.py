"""The reference encoder: sentence-transformers on PyTorch (slow to import, exact)."""
from __future__ import annotations

import numpy as np

from . import CHARS_PER_WORD_PIECE, ModelRef, clip


class TorchEncoder:
    kind = "torch"
    recipe = "torch"

    def __init__(self, model: ModelRef):
        from sentence_transformers import SentenceTransformer

        self.model = model
        self._st = SentenceTransformer(model.path, device="cpu", local_files_only=True)
        dimension = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.max_tokens = int(self._st.max_seq_length or 512)  # what export.py assumes too
        self.max_chars = self.max_tokens * CHARS_PER_WORD_PIECE

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._st.encode(
            clip(list(texts), self.max_chars), batch_size=batch_size, show_progress_bar=progress,
            normalize_embeddings=True, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
