"""The ONNX encoders against the sentence-transformers reference, on the real bundled model.

The model tests share one export, made in a temporary RECOMMENDER_CACHE_DIR for this module: the
export path itself is then tested on every run (about 10 s), and the tests neither depend on nor
touch the user's cache. The pure unit tests at the bottom need no model.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import RecommenderError

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = next(
    (p for p in (ROOT / "shared/benchmarks/scifact", ROOT.parent / "shared/benchmarks/scifact") if (p / "corpus.jsonl").is_file()),
    None,
)
LONG_TEXT = " ".join(
    ["Transformer encoders truncate their input to a fixed number of word pieces, so a very long abstract "
     "is represented only by its beginning; the tail below must not change the vector at all."]
    + [f"Sentence {i} adds more words about retrieval, ranking, citation graphs and evaluation." for i in range(60)]
)
QUERIES = ["protein folding", "Does vitamin D reduce fracture risk in older adults?", "x", "  gene  expression\tin T cells  "]


def _scifact(n_docs: int) -> tuple[list[str], list[str]]:
    """(abstracts, claims): query i is judged relevant to abstract i."""
    if SCIFACT is None:
        pytest.skip("shared/benchmarks/scifact is not available")
    corpus = {}
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            corpus[doc["_id"]] = f"{doc['title']}. {doc['text']}".strip()
    queries = {}
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    pairs = []
    with open(SCIFACT / "qrels.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            qid, did, score = line.split("\t")
            if int(score) > 0 and did in corpus and qid in queries and did not in [d for _, d in pairs]:
                pairs.append((qid, did))
            if len(pairs) == n_docs:
                break
    docs = [corpus[d] for _, d in pairs]
    return docs, [queries[q] for q, _ in pairs]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("recommender-cache")
    old = os.environ.get("RECOMMENDER_CACHE_DIR")
    os.environ["RECOMMENDER_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("RECOMMENDER_CACHE_DIR", None)
    else:
        os.environ["RECOMMENDER_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def torch_encoder():
    from recommender.embed import load_encoder

    return load_encoder(None, "torch")


@pytest.fixture(scope="module")
def onnx_encoder(cache):
    from recommender.embed import load_encoder

    return load_encoder(None, "onnx")


@pytest.fixture(scope="module")
def int8_encoder(cache, onnx_encoder):
    from recommender.embed import load_encoder

    return load_encoder(None, "onnx-int8")


@pytest.fixture(scope="module")
def texts():
    docs, queries = _scifact(15)
    return docs + queries[:4] + QUERIES + [LONG_TEXT]


@pytest.fixture(scope="module")
def reference(torch_encoder, texts):
    return torch_encoder.encode(texts, batch_size=8)


@pytest.mark.slow
def test_export_layout(cache, onnx_encoder, int8_encoder):
    from recommender.embed import recipe_for

    folder = onnx_encoder.path.parent
    assert folder.parent == cache / "onnx" and folder.name == onnx_encoder.model.fingerprint
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "encoder.json", "model.onnx", "model_int8.onnx", "tokenizer.json"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    config = json.loads((folder / "encoder.json").read_text())
    assert (config["pooling"], config["max_seq_length"], config["dim"]) == ("mean", 256, 384)
    assert (onnx_encoder.kind, int8_encoder.kind, onnx_encoder.dim, int8_encoder.dim) == ("onnx", "onnx-int8", 384, 384)
    assert int8_encoder.path.stat().st_size < 0.7 * onnx_encoder.path.stat().st_size
    assert (onnx_encoder.recipe, int8_encoder.recipe) == ("onnx", recipe_for("onnx-int8"))
    assert config["int8_recipe"] in int8_encoder.recipe and config["quantization"]["smoothing"]["alpha"] == 0.7


@pytest.mark.slow
def test_long_text_is_truncated_like_torch(onnx_encoder, torch_encoder):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(onnx_encoder.path.parent / "tokenizer.json"))
    raw.no_truncation()
    assert len(raw.encode(LONG_TEXT).ids) > 400  # well past max_seq_length = 256
    tail_changed = LONG_TEXT + " Completely different closing words about astronomy and volcanoes." * 5
    a, b = onnx_encoder.encode([LONG_TEXT, tail_changed])
    assert np.allclose(a, b, atol=1e-6)  # only the first 256 tokens count
    assert float(a @ torch_encoder.encode([LONG_TEXT])[0]) >= 0.9999


@pytest.mark.slow
def test_fp32_matches_torch(onnx_encoder, texts, reference):
    vectors = onnx_encoder.encode(texts, batch_size=8)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * reference, axis=1)
    assert cosines.min() >= 0.9999, cosines


@pytest.mark.slow
def test_int8_close_to_torch(int8_encoder, torch_encoder, texts, reference):
    vectors = int8_encoder.encode(texts)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * reference, axis=1)
    assert cosines.mean() >= 0.98 and cosines.min() >= 0.95, cosines
    # Retrieval: each query's nearest document among the 15 abstracts is mostly the same as with torch.
    _, queries = _scifact(15)
    ref_nn = np.argmax(torch_encoder.encode(queries) @ reference[:15].T, axis=1)
    int8_nn = np.argmax(int8_encoder.encode(queries) @ vectors[:15].T, axis=1)
    assert np.mean(ref_nn == int8_nn) >= 0.8, (ref_nn, int8_nn)


@pytest.mark.slow
def test_int8_vector_of_a_text_does_not_depend_on_its_batch(int8_encoder, texts):
    """One run per text: a query, a paper in a build, and the same paper in an `add` get the same vector."""
    together = int8_encoder.encode(texts)
    alone = np.vstack([int8_encoder.encode([t]) for t in texts[:6]])
    np.testing.assert_allclose(alone, together[:6], atol=1e-6)


@pytest.mark.slow
def test_order_is_kept_when_lengths_vary(onnx_encoder, texts):
    ordered = onnx_encoder.encode(texts, batch_size=64)
    perm = list(range(len(texts)))
    random.Random(7).shuffle(perm)
    shuffled = onnx_encoder.encode([texts[i] for i in perm], batch_size=3)  # many batches, each sorted by length
    one_by_one = np.vstack([onnx_encoder.encode([t]) for t in texts[:4]])
    for row, i in enumerate(perm):
        assert float(shuffled[row] @ ordered[i]) >= 0.99999, (row, i)
    assert np.allclose(one_by_one, ordered[:4], atol=1e-5)
    # the texts really differ, so a row mix-up could not pass
    assert float(np.max(ordered[:15] @ ordered[:15].T - np.eye(15) * 2)) < 0.99


@pytest.mark.slow
def test_empty_and_progress(onnx_encoder, int8_encoder, capsys):
    for encoder in (onnx_encoder, int8_encoder):
        empty = encoder.encode([])
        assert empty.shape == (0, 384) and empty.dtype == np.float32
    onnx_encoder.encode(["a", "b", "c"], batch_size=1, progress=True)
    assert "embedding" in capsys.readouterr().err


@pytest.mark.slow
def test_second_load_does_not_export(onnx_encoder, capsys):
    from recommender.embed import load_encoder

    assert onnx_encoder is not None  # the export exists
    load_encoder(None, "onnx-int8")
    load_encoder(None, "onnx")
    assert "exporting" not in capsys.readouterr().err


@pytest.mark.slow
def test_fresh_process_does_not_import_torch(cache, onnx_encoder):
    code = ("import sys; from recommender.embed import load_encoder; e=load_encoder(None,'onnx'); "
            "e.encode(['x']); print('torch' in sys.modules, 'transformers' in sys.modules, 'sentence_transformers' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False"]
    assert "exporting" not in done.stderr


@pytest.mark.slow
def test_concurrent_quantisation_runs_once(tmp_path, onnx_encoder):
    """Two processes asking for the int8 model at once: one quantises, the other waits and reuses it."""
    source = onnx_encoder.path.parent
    folder = tmp_path / "onnx" / source.name
    folder.mkdir(parents=True)
    for name in ("model.onnx", "tokenizer.json", "encoder.json"):
        (folder / name).write_bytes((source / name).read_bytes())
    code = textwrap.dedent("""
        from recommender.embed import load_encoder
        e = load_encoder(None, 'onnx-int8'); print(e.encode(['x']).shape)
    """)
    env = {**os.environ, "RECOMMENDER_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert all(out.strip() == "(1, 384)" for out, _ in results)
    assert sum(err.count("exporting") for _, err in results) == 1
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "encoder.json", "model.onnx", "model_int8.onnx", "tokenizer.json"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_smoothing_is_exact_in_fp32(reference, texts):
    import torch

    from recommender.embed import resolve_model
    from recommender.embed.export import _load_for_export
    from recommender.embed.smoothing import calibration_texts, smooth_feed_forward

    model = _load_for_export(resolve_model(None))
    assert smooth_feed_forward(model, calibration_texts(16), alpha=0.7) == 12  # 6 blocks x (up, down) projections
    scales = [m.inverse_scale for m in model.modules() if hasattr(m, "inverse_scale")]
    assert len(scales) == 12 and all(not torch.allclose(s, torch.ones_like(s)) for s in scales)
    after = model.encode(texts, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    assert float(np.min(np.sum(after * reference, axis=1))) >= 0.9999


@pytest.mark.slow
def test_smoothing_makes_int8_agree_better(tmp_path, onnx_encoder, int8_encoder, texts, reference):
    """The same int8 quantisation of the unsmoothed graph agrees less with torch: smoothing earns its place."""
    from recommender.embed import export
    from recommender.embed.onnx_runtime import OnnxRuntimeModel

    folder = onnx_encoder.path.parent
    plain = tmp_path / "plain_int8.onnx"
    export._quantize(onnx_encoder.path, plain)
    unsmoothed = OnnxRuntimeModel(plain, (folder / export.TOKENIZER_FILE).read_text(), export.read_config(folder))
    smoothed_cos = np.sum(int8_encoder.encode(texts) * reference, axis=1)
    plain_cos = np.sum(unsmoothed.encode(texts) * reference, axis=1)
    assert smoothed_cos.mean() > plain_cos.mean() and 1 - smoothed_cos.mean() < 0.8 * (1 - plain_cos.mean()), (
        smoothed_cos.mean(), plain_cos.mean())


@pytest.mark.slow
def test_batches_respect_the_token_budget(onnx_encoder, texts, monkeypatch):
    runtime = onnx_encoder._runtime
    shapes, run = [], runtime._run_batch

    def spy(batch):
        shapes.append((len(batch), max(len(x) for x in batch)))
        return run(batch)

    monkeypatch.setattr(runtime, "_run_batch", spy)
    budgeted = runtime.encode(texts, batch_size=64, batch_tokens=300)
    assert sum(rows for rows, _ in shapes) == len(texts)
    assert all(rows == 1 or rows * width <= 300 for rows, width in shapes), shapes
    # long abstracts go (nearly) alone, the short queries together (runs finish in any order: two at once)
    assert min(rows for rows, _ in shapes) == 1 and max(rows for rows, _ in shapes) > 4, shapes
    monkeypatch.undo()
    whole = runtime.encode(texts, batch_size=64, batch_tokens=10**6)
    assert float(np.min(np.sum(budgeted * whole, axis=1))) >= 0.99999


# -- unit tests, no model -------------------------------------------------------------------------

def _model_folder(tmp_path: Path, modules: list[str], pooling: dict) -> Path:
    entries = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]
    for i, kind in enumerate(modules, start=1):
        path = {"Pooling": "1_Pooling", "Normalize": "2_Normalize"}.get(kind, f"{i}_{kind}")
        entries.append({"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"})
        (tmp_path / path).mkdir(exist_ok=True)
    (tmp_path / "modules.json").write_text(json.dumps(entries))
    (tmp_path / "1_Pooling").mkdir(exist_ok=True)
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return tmp_path


@pytest.mark.parametrize("pooling, expected", [
    ({"word_embedding_dimension": 4, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, "mean"),
    ({"word_embedding_dimension": 4, "pooling_mode_cls_token": True}, "cls"),
    ({"embedding_dimension": 4, "pooling_mode": "max"}, "max"),
    ({"embedding_dimension": 4, "pooling_mode": ["mean"]}, "mean"),
    ({"pooling_mode_mean_sqrt_len_tokens": True}, "mean_sqrt_len_tokens"),
])
def test_read_pipeline_pooling(tmp_path, pooling, expected):
    from recommender.embed.export import read_pipeline

    pipeline = read_pipeline(_model_folder(tmp_path, ["Pooling", "Normalize"], pooling))
    assert pipeline == {"pooling": expected, "normalize": True, "transformer_path": ""}


@pytest.mark.parametrize("modules, pooling", [
    (["Pooling"], {"pooling_mode_weightedmean_tokens": True}),
    (["Pooling"], {"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}),
    (["Pooling"], {"pooling_mode": "lasttoken"}),
    (["Pooling", "Dense", "Normalize"], {"pooling_mode": "mean"}),
    ([], {"pooling_mode": "mean"}),
])
def test_read_pipeline_rejects_what_onnx_cannot_reproduce(tmp_path, modules, pooling):
    from recommender.embed.export import read_pipeline

    with pytest.raises(RecommenderError):
        read_pipeline(_model_folder(tmp_path, modules, pooling))


def test_pooling_arithmetic():
    from recommender.embed.onnx_runtime import OnnxRuntimeModel

    tokens = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]], [[0.0, 2.0], [5.0, -1.0], [7.0, 1.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    model = object.__new__(OnnxRuntimeModel)
    model.pooling = "mean"
    assert np.allclose(model._pool(tokens, mask), [[2.0, 2.0], [4.0, 2 / 3]])
    model.pooling = "cls"
    assert np.allclose(model._pool(tokens, mask), [[1.0, 0.0], [0.0, 2.0]])
    model.pooling = "max"
    assert np.allclose(model._pool(tokens, mask), [[3.0, 4.0], [7.0, 2.0]])


def test_failed_quantisation_leaves_nothing(tmp_path, monkeypatch):
    import onnxruntime.quantization as q

    from recommender.embed import export

    def broken(source, target, **kwargs):
        Path(target).write_bytes(b"half a model")
        raise RuntimeError("killed")

    monkeypatch.setattr(q, "quantize_dynamic", broken)
    (tmp_path / "model.onnx").write_bytes(b"fp32")
    with pytest.raises(RuntimeError):
        export._quantize(tmp_path / "model.onnx", tmp_path / "model_int8.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(1, 512), min_size=1, max_size=300), batch_size=st.integers(1, 64),
       batch_tokens=st.integers(1, 4096))
def test_batch_plan_covers_every_row_within_the_limits(lengths, batch_size, batch_tokens):
    from recommender.embed.onnx_runtime import plan_batches

    lengths = np.array(lengths)
    batches = plan_batches(lengths, batch_size=batch_size, batch_tokens=batch_tokens)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    assert np.all(np.diff(lengths[rows]) <= 0)  # longest first: neighbours share a length
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        assert len(batch) == 1 or len(batch) * lengths[batch].max() <= batch_tokens
    # greedy: one more row would have broken a limit
    assert all(len(b) == batch_size or (len(b) + 1) * lengths[b].max() > batch_tokens for b in batches[:-1])
