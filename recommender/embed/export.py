"""One-off ONNX export of a sentence-transformers model, cached under ``cache_dir()/onnx/<fingerprint>/``.

The folder holds everything the ONNX query path needs, so it never reads the torch model again:

- ``model.onnx``       the transformer, inputs ``input_ids``/``attention_mask``[/``token_type_ids``]
                       with dynamic batch and sequence axes, output ``token_embeddings`` (fp32);
- ``model_int8.onnx``  the same with dynamically quantised int8 weights, its feed-forward layers smoothed
                       first (smoothing.py; made on first request);
- ``tokenizer.json``   the fast tokenizer exactly as sentence-transformers uses it;
- ``encoder.json``     pooling, max_seq_length, lower-casing, dimension and the input names.

Only the export itself imports torch (inside :func:`_export_fp32`); checking that the files are
there does not. Every file is written under a temporary name in the same folder and moved into
place with ``os.replace``, and exporters take a file lock, so a crash never leaves half a model
and concurrent processes neither corrupt nor duplicate the work.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
import warnings
from pathlib import Path
from typing import Iterator

from ..errors import RecommenderError
from . import ModelRef, cache_dir

FORMAT = 2  # bump when the layout or the contents of the export change (2: eager attention, smoothed int8)
MODEL_FILE = "model.onnx"
MODEL_INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
OPSET = 17
SUPPORTED_POOLING = ("mean", "cls", "max", "mean_sqrt_len_tokens")
# Dynamic int8 quantisation of the weight matrices only: MatMul/Gemm with a constant B input.
# The embedding tables (Gather) stay fp32 (quantising them costs quality and buys no speed), and
# per-channel scales keep the cosine to the fp32 model high. Activations are quantised per tensor at
# run time, so a few large activation channels would cost every other channel its resolution: before
# quantising, the feed-forward layers are smoothed (SmoothQuant, Xiao et al. 2023): each input channel k
# is divided by s_k = max|x_k|^alpha / max|w_k|^(1 - alpha) and the weight row multiplied by it, which
# leaves the fp32 function unchanged. max|x_k| comes from the bundled seed listing's abstracts.
# Measured (README, Performance): mean cosine to torch 0.995 -> 0.997, at the same speed.
SMOOTHING = {"alpha": 0.7, "layers": "feed-forward (Linear with in_features != out_features)",
             "calibration": "bundled seed listing"}
QUANT_SETTINGS = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False, "op_types": ["MatMul", "Gemm"],
                  "smoothing": SMOOTHING}
# Changes whenever the int8 vectors would: the embedding cache and index manifests are keyed by it.
INT8_RECIPE = f"int8.v{FORMAT}.sq{SMOOTHING['alpha']}"


def export_dir(model: ModelRef) -> Path:
    return cache_dir() / "onnx" / model.fingerprint


def read_config(folder: Path) -> dict | None:
    """The export's encoder.json, or None when it is missing, unreadable or from another format."""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) and config.get("format") == FORMAT else None


def ensure_onnx(model: ModelRef, quantized: bool = False) -> Path:
    """Path of the (int8 if ``quantized``) ONNX model of ``model``, exporting it the first time."""
    folder = export_dir(model)
    target = folder / (MODEL_INT8_FILE if quantized else MODEL_FILE)
    if _complete(folder, target):
        return target
    try:
        _export(model, folder, target, quantized)
    except OSError as exc:  # a read-only or full cache folder: one line, not a traceback
        from ..errors import IndexLoadError

        raise IndexLoadError(f"cannot write the ONNX export of {model.name} to {folder} ({exc.strerror or exc}); "
                             "set RECOMMENDER_CACHE_DIR to a writable folder with some space") from exc
    return target


def _export(model: ModelRef, folder: Path, target: Path, quantized: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with _export_lock(folder):
        if _complete(folder, target):  # another process finished it while we waited
            return
        label = "ONNX int8" if quantized else "ONNX"
        print(f"exporting {model.name} to {label} (once): {folder}", file=sys.stderr, flush=True)
        with warnings.catch_warnings(), _quiet_transformers():
            warnings.simplefilter("ignore")
            st = _load_for_export(model)  # once for both files: int8 smooths this same model after the fp32 export
            if not _complete(folder, folder / MODEL_FILE):
                (folder / MODEL_INT8_FILE).unlink(missing_ok=True)  # an int8 file of an older format is stale too
                _export_fp32(st, model, folder)
            if quantized:
                _export_int8(st, model, folder)


def _complete(folder: Path, target: Path) -> bool:
    return target.is_file() and (folder / TOKENIZER_FILE).is_file() and read_config(folder) is not None


# -- the model's pipeline -------------------------------------------------------------------------

def read_pipeline(model_path: str | Path) -> dict:
    """What sentence-transformers does around the transformer, from the model folder's own files.

    Returns {"pooling": str, "normalize": bool, "transformer_path": str}; raises RecommenderError
    for modules the ONNX path does not reproduce (Dense, LayerNorm, several pooling modes, ...).
    """
    folder = Path(model_path)
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        # A plain Hugging Face model: sentence-transformers wraps it in Transformer + mean Pooling.
        return {"pooling": "mean", "normalize": False, "transformer_path": ""}
    modules = sorted(json.loads(modules_file.read_text(encoding="utf-8")), key=lambda m: m.get("idx", 0))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if not kinds or kinds[0] != "Transformer":
        raise RecommenderError(f"{folder}: the ONNX encoder needs a Transformer first module, found {kinds[:1]}; use --encoder torch")
    pooling, normalize = None, False
    for module, kind in zip(modules[1:], kinds[1:]):
        if kind == "Pooling" and pooling is None:
            pooling = _pooling_mode(folder / module.get("path", ""))
        elif kind == "Normalize":
            normalize = True
        else:
            raise RecommenderError(
                f"{folder}: the ONNX encoder does not reproduce the {kind!r} module of this model; use --encoder torch"
            )
    if pooling is None:
        raise RecommenderError(f"{folder}: no Pooling module; the ONNX encoder needs one; use --encoder torch")
    return {"pooling": pooling, "normalize": normalize, "transformer_path": modules[0].get("path", "")}


def _pooling_mode(pooling_folder: Path) -> str:
    try:
        config = json.loads((pooling_folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecommenderError(f"cannot read the pooling config in {pooling_folder}: {exc}") from exc
    if "pooling_mode" in config:  # sentence-transformers >= 6
        mode = config["pooling_mode"]
        modes = [mode] if isinstance(mode, str) else list(mode)
    else:  # the classic boolean flags
        modes = [key[len("pooling_mode_"):].replace("_tokens", "").replace("_token", "")
                 for key, on in config.items() if key.startswith("pooling_mode_") and on]
        modes = ["mean_sqrt_len_tokens" if m == "mean_sqrt_len" else m for m in modes]
    if len(modes) != 1 or modes[0] not in SUPPORTED_POOLING:
        raise RecommenderError(
            f"pooling {modes} of {pooling_folder} is not supported by the ONNX encoder "
            f"(supported: {', '.join(SUPPORTED_POOLING)}); use --encoder torch"
        )
    return modes[0]


# -- export ---------------------------------------------------------------------------------------

_PROBE_TEXTS = [
    "Semantic search over scientific abstracts.",
    "A longer probe sentence, so that the batch has padding: transformers encode tokens in context, "
    "and the pooled vector must ignore the padded positions entirely.",
    "x",
]


def _load_for_export(model: ModelRef):
    """The sentence-transformers model with eager attention: its exported graph is the plain
    MatMul/Softmax pattern that ONNX Runtime fuses into one Attention kernel at load time (~1.2x
    faster than the graph of the default SDPA attention, whose masking it does not recognise)."""
    try:
        import torch  # noqa: F401
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - an install problem
        raise RecommenderError(f"exporting to ONNX needs torch and sentence-transformers: {exc}") from exc
    try:
        st = SentenceTransformer(model.path, device="cpu", local_files_only=True,
                                 model_kwargs={"attn_implementation": "eager"})
    except (TypeError, ValueError):  # a model class without the eager switch: its default graph
        st = SentenceTransformer(model.path, device="cpu", local_files_only=True)
    st.eval()
    return st


def _export_fp32(st, model: ModelRef, folder: Path) -> None:
    """Export the transformer, check it against sentence-transformers, and write the three files."""
    pipeline = read_pipeline(model.path)
    transformer = st[0]
    tokenizer = transformer.tokenizer
    if tokenizer is None or not getattr(tokenizer, "is_fast", False):
        raise RecommenderError(f"{model.name}: the ONNX encoder needs a fast (tokenizers) tokenizer; use --encoder torch")
    max_seq_length = int(st.max_seq_length or transformer.max_seq_length or 512)
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    if input_names[:2] != ["input_ids", "attention_mask"]:
        raise RecommenderError(f"{model.name}: unexpected model inputs {tokenizer.model_input_names}; use --encoder torch")
    # The reference vectors, taken before the export (tracing may leave the module changed).
    reference = st.encode(_PROBE_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    import torch

    config = {
        "format": FORMAT,
        "model": model.name,
        "fingerprint": model.fingerprint,
        "dim": int(reference.shape[1]),
        "max_seq_length": max_seq_length,
        "pooling": pipeline["pooling"],
        "normalize": True,  # the recommender always normalises (the model: pipeline["normalize"])
        "model_normalizes": pipeline["normalize"],
        "inputs": input_names,
        "output": "token_embeddings",
        "pad_token_id": int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0),
        "quantization": QUANT_SETTINGS,
        "int8_recipe": INT8_RECIPE,
        "exported_with": {"torch": torch.__version__, "opset": OPSET},
    }
    tokenizer_json = tokenizer.backend_tokenizer.to_str()
    tmp_model = _temp_name(folder / MODEL_FILE)
    try:
        _export_graph(st, model, tmp_model, input_names)
        _check_export(tmp_model, tokenizer_json, config, reference, model)
        _atomic_write_text(folder / TOKENIZER_FILE, tokenizer_json)
        _atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        os.replace(tmp_model, folder / MODEL_FILE)  # last: its presence marks a complete export
    finally:
        tmp_model.unlink(missing_ok=True)


def _export_int8(st, model: ModelRef, folder: Path) -> None:
    """Smooth the feed-forward layers (in place; fp32-exact), export that graph, and quantise it to int8."""
    from .smoothing import calibration_texts, smooth_feed_forward

    config = read_config(folder)
    tokenizer_json = (folder / TOKENIZER_FILE).read_text(encoding="utf-8")
    reference = st.encode(_PROBE_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    smooth_feed_forward(st, calibration_texts(), alpha=SMOOTHING["alpha"])
    smoothed = _temp_name(folder / MODEL_FILE)
    try:
        _export_graph(st, model, smoothed, list(config["inputs"]))
        _check_export(smoothed, tokenizer_json, config, reference, model)  # smoothing kept the function
        _quantize(smoothed, folder / MODEL_INT8_FILE)
    finally:
        smoothed.unlink(missing_ok=True)


def _export_graph(st, model: ModelRef, path: Path, input_names: list[str]) -> None:
    """torch.onnx.export of the transformer's token embeddings, dynamic batch and sequence axes."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(input_names, args)), return_dict=True).last_hidden_state

    wrapper = TokenEmbeddings(st[0].auto_model).eval()
    dummy = st[0].tokenizer(["a short one", "and a somewhat longer second example text"], padding=True, return_tensors="pt")
    args = tuple(dummy[name] for name in input_names)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, "token_embeddings"]}
    # The TorchScript-based exporter (dynamo=False): deprecated since torch 2.9 but present in 2.13,
    # and unlike the torch.export-based one it needs no onnxscript.
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, args, str(path), dynamo=False, input_names=input_names,
                              output_names=["token_embeddings"], dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=True)
    except Exception as exc:
        raise RecommenderError(
            f"exporting {model.name} to ONNX failed with torch {torch.__version__} ({type(exc).__name__}: {exc}); "
            "use --encoder torch"
        ) from exc


def _check_export(path: Path, tokenizer_json: str, config: dict, reference, model: ModelRef) -> None:
    """The exported graph must give sentence-transformers' vectors before anything is moved into place."""
    import numpy as np

    from .onnx_runtime import OnnxRuntimeModel

    check = OnnxRuntimeModel(path, tokenizer_json, config).encode(_PROBE_TEXTS)
    worst = float(np.min(np.sum(check * reference, axis=1)))
    if worst < 0.9999:
        raise RecommenderError(f"the ONNX export of {model.name} disagrees with sentence-transformers (cosine {worst:.5f})")


def _quantize(source: Path, target: Path) -> None:
    """int8 `source` into `target`, atomically: a failure leaves no file behind."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _temp_name(target)
    try:
        with warnings.catch_warnings(), _quiet_logging("root"):
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source, tmp, weight_type=getattr(QuantType, QUANT_SETTINGS["weight_type"]),
                per_channel=QUANT_SETTINGS["per_channel"], reduce_range=QUANT_SETTINGS["reduce_range"],
                op_types_to_quantize=QUANT_SETTINGS["op_types"], extra_options={"MatMulConstBOnly": True},
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# -- small helpers --------------------------------------------------------------------------------

def _temp_name(path: Path) -> Path:
    """A unique name in the same folder (so os.replace is atomic), ending in .tmp."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, unlike mkstemp
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on folder/.export.lock (POSIX flock; elsewhere no lock, writes stay atomic)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / ".export.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and info logs during the export only."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def _quiet_logging(name: str) -> Iterator[None]:
    import logging

    logger = logging.getLogger(None if name == "root" else name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


__all__ = ["INT8_RECIPE", "ensure_onnx", "export_dir", "read_config", "read_pipeline"]
