"""The fast encoder: the model's ONNX export on ONNX Runtime, tokenised with `tokenizers`.

Same contract as TorchEncoder (float32, L2-normalised rows) without importing torch,
transformers or sentence-transformers: a query costs a fraction of a second from a cold process.
The export is made once per model (see export.py); the graph runs in onnx_runtime.py.
"""
from __future__ import annotations

import numpy as np

from ..errors import RecommenderError
from . import ModelRef
from .onnx_runtime import OnnxRuntimeModel


class OnnxEncoder:
    """Encoder protocol on the cached ONNX export ("onnx") or its int8 quantisation ("onnx-int8")."""

    def __init__(self, model: ModelRef, quantized: bool = False):
        from . import recipe_for
        from .export import TOKENIZER_FILE, ensure_onnx, read_config

        self.model = model
        self.kind = "onnx-int8" if quantized else "onnx"
        self.recipe = recipe_for(self.kind)
        path = ensure_onnx(model, quantized=quantized)
        config = read_config(path.parent)
        if config is None:  # pragma: no cover - removed between the two calls
            raise RecommenderError(f"the ONNX export in {path.parent} is incomplete; delete the folder to re-export")
        tokenizer_json = (path.parent / TOKENIZER_FILE).read_text(encoding="utf-8")
        self._runtime = OnnxRuntimeModel(path, tokenizer_json, config)
        self.dim = self._runtime.dim
        self.max_tokens = self._runtime.max_seq_length
        self.max_chars = self._runtime.max_chars
        self.path = path

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        # int8 quantises activations with one scale per run, so a text batched with others would get a
        # (slightly) different vector than alone, as a query or in another build. One text per run keeps
        # every vector a function of its text, and costs nothing on abstracts (measured: a long text runs
        # fastest alone on 2 cores); fp32 vectors do not depend on the batch, so fp32 batches by tokens.
        batch_tokens = 1 if self.kind == "onnx-int8" else None
        return self._runtime.encode(list(texts), batch_size=batch_size, progress=progress, batch_tokens=batch_tokens)

    def __repr__(self) -> str:
        return f"OnnxEncoder({self.model.name!r}, kind={self.kind!r}, dim={self.dim})"


__all__ = ["OnnxEncoder"]
