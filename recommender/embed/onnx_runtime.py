"""Running an ONNX graph of a sentence-transformers model: tokenise with `tokenizers`, batch by tokens, pool,
normalise. Used by the encoder (onnx_encoder.py) and by the export's own check (export.py), so neither imports the
other's module for it."""
from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import RecommenderError
from . import CHARS_PER_WORD_PIECE, clip

_TOKENIZE_CHUNK = 4096  # texts tokenised per call, so the Encoding objects never pile up
# Tokens per batch (rows x padded width). On a laptop CPU a long abstract runs fastest nearly alone
# (activations stay in cache), while short texts (titles, queries) need batches to amortise each call:
# a token budget gives both. Measured with scripts/encoder_speed.py (README, Performance).
BATCH_TOKENS = 1024


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # the cores this process may use
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def plan_batches(lengths: np.ndarray, batch_size: int, batch_tokens: int) -> list[np.ndarray]:
    """Row numbers per batch: longest first (stable), so neighbours share a length and padding is
    minimal, and each batch holds at most `batch_size` rows and `batch_tokens` padded tokens (one
    row at least). The first batch is the largest, so a memory problem shows at once."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, start = [], 0
    while start < len(order):
        width = max(1, int(lengths[order[start]]))  # the longest row left
        take = max(1, min(int(batch_size), int(batch_tokens) // width))
        batches.append(order[start:start + take])
        start += take
    return batches


class OnnxRuntimeModel:
    """An ONNX token-embedding model plus the pooling/tokenising pipeline around it."""

    def __init__(self, onnx_path: str | Path, tokenizer_json: str, config: dict):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.config = config
        self.dim = int(config["dim"])
        self.max_seq_length = int(config["max_seq_length"])
        self.max_chars = self.max_seq_length * CHARS_PER_WORD_PIECE
        self.pooling = str(config["pooling"])
        if self.pooling not in ("mean", "cls", "max", "mean_sqrt_len_tokens"):
            raise RecommenderError(f"pooling {self.pooling!r} is not supported by the ONNX encoder; use --encoder torch")
        self.pad_id = int(config.get("pad_token_id", 0))
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()  # each batch is padded to its own longest text, below
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        # One thread per run, and as many runs at once as there are cores: batches are independent, so
        # this parallelism needs no synchronisation inside a run. Splitting each run over the cores
        # instead synchronises at every operator, and on a 2-core VM measured 8% slower, and at times
        # (a busy host) 1.6x slower. The vectors are the same either way.
        self.workers = _cpu_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a corrupt or foreign file: say which
            raise RecommenderError(f"cannot load the ONNX model {onnx_path}: {exc}; delete it to re-export") from exc
        types = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
        self._inputs = [(i.name, types.get(i.type, np.int64)) for i in self.session.get_inputs()]
        self._output = config.get("output", "token_embeddings")

    def tokenize(self, texts: list[str]) -> list[np.ndarray]:
        """Token ids per text (special tokens added, truncated to max_seq_length; cut to max_chars before)."""
        ids: list[np.ndarray] = []
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            chunk = clip([str(t) for t in texts[start:start + _TOKENIZE_CHUNK]], self.max_chars)
            ids.extend(np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(chunk))
        return ids

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False,
               batch_tokens: int | None = None) -> np.ndarray:
        """Rows in the order of `texts`; batches hold at most `batch_size` texts and `batch_tokens` padded tokens."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        batch_size = max(1, int(batch_size))
        ids = self.tokenize(list(texts))
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        bar = None
        if progress and len(texts) > batch_size:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text", file=sys.stderr)
        batches = plan_batches(lengths, batch_size, batch_tokens or BATCH_TOKENS)
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 and len(batches) > 1 else None
        try:
            run = pool.map if pool is not None else map  # InferenceSession.run is thread-safe and releases the GIL
            for rows, vectors in zip(batches, run(self._run_batch, ([ids[i] for i in rows] for rows in batches))):
                out[rows] = vectors
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if bar is not None:
                bar.close()
        return out

    def _run_batch(self, batch: list[np.ndarray]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, tokens in enumerate(batch):
            input_ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        arrays = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        feed = {name: arrays[name].astype(dtype, copy=False) for name, dtype in self._inputs}
        tokens = self.session.run([self._output], feed)[0].astype(np.float32, copy=False)
        pooled = self._pool(tokens, mask)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return tokens[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        if self.pooling == "max":
            return np.where(weights > 0, tokens, np.float32(-1e9)).max(axis=1)
        summed = np.einsum("bsd,bs->bd", tokens, mask.astype(np.float32))
        counts = np.maximum(weights.sum(axis=1), 1e-9)
        # mean_sqrt_len_tokens differs from mean only by a per-row factor, which normalising removes
        return summed / counts


__all__ = ["BATCH_TOKENS", "OnnxRuntimeModel", "plan_batches"]
