"""`--engine ray`: the embedding step of a build on a Ray cluster, giving the vectors a local build gives.

The driver (build.py) reads and deduplicates the corpus as always; this module writes the texts as Parquet
shards to the staging folder, copies the encoder's files there, and runs a Ray Data pipeline over the shards
that are not embedded yet: `map_batches` on a pool of actors, each of which loads the encoder once from the
staged files (refusing them unless their SHA-256 matches the driver's) and writes one vector file a shard.
The driver then assembles the vectors by row and re-encodes a sample of texts itself: a worker whose vectors
differ by a single bit (an int8 kernel on a CPU without VNNI rounds differently) fails the build.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RecommenderError, UsageError
from . import staging as stage

SUPPORTED_KINDS = ("onnx", "onnx-int8")
# An actor reserves this share of a CPU, so that actors never hold every CPU: Ray Data's own tasks then
# still find one, where whole-CPU actors on a 2-CPU node made Ray 2.60 wait forever, printing nothing.
ACTOR_CPUS = 0.5
STALL_SECONDS = 600.0  # no shard finished for this long: a worker died or hangs, and the build stops saying so
SAMPLE = 16  # texts the driver re-encodes to check the workers' vectors
CRASH_POINT = "ray-actor"  # test hook: an actor SIGKILLs itself before its first shard (replace.CRASH_ENV)


@dataclass
class RayRun:
    vectors: np.ndarray
    embedded: int  # texts embedded by the workers in this run
    resumed: int  # texts whose shard was already embedded in the staging folder
    shards: int
    workers: int
    actor_pids: set[int] = field(default_factory=set)
    checked_rows: list[int] = field(default_factory=list)
    address: str = "local"

    def manifest_block(self) -> dict:
        return {"name": "ray", "address": self.address, "workers": self.workers, "actors_used": len(self.actor_pids),
                "shards": self.shards, "resumed_papers": self.resumed, "checked_rows": len(self.checked_rows)}


class ShardEncoder:
    """One per actor: the encoder loaded once from the staged files, then one Parquet shard per call."""

    def __init__(self, model_folder: str, digests: dict, kind: str, out_folder: str, crash_at: str | None = None):
        import json

        from ..embed.onnx_encoder import OnnxRuntimeModel
        from ..index.integrity import sha256_file

        folder = Path(model_folder)
        for name, expected in digests.items():
            found = sha256_file(folder / name)
            if found != expected:
                raise RecommenderError(f"{folder / name}: SHA-256 {found[:12]}, the driver's is {expected[:12]}; "
                                       "the staged model differs from the driver's")
        config = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
        onnx_name = next(name for name in digests if name.endswith(".onnx"))
        self.runtime = OnnxRuntimeModel(folder / onnx_name, (folder / "tokenizer.json").read_text(encoding="utf-8"),
                                        config)
        self.runtime.workers = 1  # one ONNX thread per actor: Ray places the actors on the cores
        self.kind = kind
        self.out = Path(out_folder)
        self.crash_at = crash_at

    def __call__(self, batch: dict) -> dict:
        if self.crash_at == CRASH_POINT:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        done = []
        for text_file, vector_file in zip(batch["texts"], batch["vectors"]):
            _, texts = stage.read_text_shard(Path(text_file))
            stage.save_vectors(Path(vector_file), encode(self.runtime, self.kind, texts))
            done.append(len(texts))
        return {"vectors": batch["vectors"], "rows": np.asarray(done, dtype=np.int64),
                "pid": np.full(len(done), os.getpid(), dtype=np.int64)}


def encode(runtime, kind: str, texts: list[str]) -> np.ndarray:
    """As OnnxEncoder.encode: int8 runs one text at a time, so that each vector depends on its text alone."""
    return runtime.encode(list(texts), batch_size=64, batch_tokens=1 if kind == "onnx-int8" else None)


def check_engine_options(kind: str, address: str | None, staging: Path | None, workers: int | None) -> None:
    """Before anything is read or embedded."""
    if kind not in SUPPORTED_KINDS:
        raise UsageError(f"--engine ray embeds with the ONNX encoders; use --encoder onnx-int8 (the default) or onnx, "
                         f"not {kind}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    if address not in (None, "local") and staging is None:
        raise UsageError(f"--address {address}: give --staging, a folder every worker of the cluster reads and writes")
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'recommender[ray]'") from None


def default_staging() -> Path:
    from ..embed import cache_dir

    return cache_dir() / "ray-staging"


def embed_on_ray(encoder, papers, *, address: str | None = None, workers: int | None = None,
                 staging: Path | None = None, progress: bool = True, stall_seconds: float = STALL_SECONDS,
                 out: np.ndarray | None = None, after_shard=None) -> RayRun:
    """Vectors of the papers' texts (rows in order), embedded by Ray actors with the driver's encoder files.

    `papers` is a list, or a streamed build's spool (read in one pass, then a few papers by row): the driver
    holds one shard's texts at a time. The vectors go into `out` (a memory-mapped vectors.npy) when given."""
    from ..embed.export import CONFIG_FILE, TOKENIZER_FILE

    check_engine_options(encoder.kind, address, staging, workers)
    folder = stage.prepare_folder(staging or default_staging())
    model_folder, digests = stage.stage_model(folder, {encoder.path.name: encoder.path,
                                                       TOKENIZER_FILE: encoder.path.parent / TOKENIZER_FILE,
                                                       CONFIG_FILE: encoder.path.parent / CONFIG_FILE})
    vectors_out = stage.vectors_folder(folder, model_folder, encoder.recipe)
    shards = stage.write_text_shards(folder, papers)
    todo = [s for s in shards if not stage.shard_done(vectors_out, s, encoder.dim)]
    resumed = sum(s.rows for s in shards) - sum(s.rows for s in todo)
    run = RayRun(np.zeros((0, encoder.dim), np.float32), sum(s.rows for s in todo), resumed, len(shards), 0,
                 address=address or "local")
    if progress:
        again = f" ({len(shards) - len(todo)} already embedded in {folder})" if resumed else ""
        print(f"embedding {run.embedded} papers in {len(todo)} shards on Ray{again}", file=sys.stderr)
    if todo:
        _run_pipeline(run, todo, model_folder, digests, encoder.kind, vectors_out, address, workers, stall_seconds)
    run.vectors = stage.assemble(vectors_out, shards, len(papers), encoder.dim, out=out, after_shard=after_shard)
    run.checked_rows = check_sample(encoder, papers, run.vectors)
    return run


def _run_pipeline(run: RayRun, todo: list, model_folder: Path, digests: dict, kind: str, out: Path,
                  address: str | None, workers: int | None, stall_seconds: float) -> None:
    import ray

    started_here = _connect(address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        run.workers = min(len(todo), workers or max(1, cpus))  # one actor a CPU, each reserving ACTOR_CPUS
        items = [{"texts": str(s.texts), "vectors": str(stage.vector_file(out, s))} for s in todo]
        # One block per shard: a small input would otherwise arrive as one block, and one actor do all the work.
        with _configured_ray_data(stall_seconds):
            with warnings.catch_warnings():  # Ray 2.60 names no other way to set them (pinned: recommender[ray])
                warnings.simplefilter("ignore")
                dataset = _pipeline(ray, items, run.workers, model_folder, digests, kind, out)
            finished = _consume(dataset, len(todo), stall_seconds, run)
        if finished < len(todo):  # pragma: no cover - Ray ended the stream early without an error
            raise RecommenderError(f"Ray returned {finished} of {len(todo)} shards; rerun the build to resume")
    finally:
        if started_here:
            ray.shutdown()


def _pipeline(ray, items: list[dict], workers: int, model_folder: Path, digests: dict, kind: str, out: Path):
    from ..index.replace import CRASH_ENV

    return ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardEncoder, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=ACTOR_CPUS,
        fn_constructor_kwargs={"model_folder": str(model_folder), "digests": digests, "kind": kind,
                               "out_folder": str(out), "crash_at": os.environ.get(CRASH_ENV)},
        # A dead actor fails the build at once (said below), rather than being restarted into the same death.
        ray_remote_args_fn=lambda: {"max_restarts": 0, "max_task_retries": 0})


def _consume(dataset, expected: int, stall_seconds: float, run: RayRun) -> int:
    """Count finished shards, in the driver's own thread; raise when none finishes for `stall_seconds` or the
    pipeline fails. The stall is Ray Data's own no-progress guard (DataContext.execution_no_progress_timeout_s):
    it fails the iteration and shuts the executor down, so nothing of the pipeline outlives the error."""
    from ray.data.exceptions import ExecutionTimeoutError

    finished = 0
    batches = iter(dataset.iter_batches(batch_size=None, batch_format="numpy"))
    try:
        for batch in batches:
            finished += len(batch["rows"])
            run.actor_pids.update(int(p) for p in batch["pid"])
    except ExecutionTimeoutError:
        raise RecommenderError(f"no shard finished in {stall_seconds:.0f} s ({finished} of {expected} done): a Ray "
                               "worker died or hangs; check the cluster (`ray status`), then rerun the build, "
                               "which resumes from the shards already embedded") from None
    except Exception as exc:
        raise RecommenderError(f"the Ray embedding failed after {finished} of {expected} shards: "
                               f"{_first_line(exc)}; rerun the build to resume from the shards already "
                               "embedded") from None
    finally:
        close = getattr(batches, "close", None)  # a generator: ends the executor when left early
        if close is not None:
            close()
    return finished


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _connect(address: str | None) -> bool:
    """Join the cluster at `address` (auto, ray://HOST:PORT) or start a local Ray on loopback; True if started here."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    try:
        if address in (None, "local"):
            ray.init(address="local", _node_ip_address="127.0.0.1", **quiet)
        else:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except Exception as exc:
        raise UsageError(f"--address {address or 'local'}: cannot start or join Ray ({_first_line(exc)})") from None
    return True


@contextlib.contextmanager
def _configured_ray_data(stall_seconds: float):
    """Ray Data logs each execution at INFO and warns that progress bars are off (the build says what matters);
    an execution with no progress for `stall_seconds` fails instead of waiting (its default is 30 minutes).
    The process's Ray Data settings are restored afterwards."""
    import logging

    import ray.data

    context = ray.data.DataContext.get_current()
    settings = {"enable_progress_bars": False, "print_on_execution_start": False,
                "execution_no_progress_timeout_s": float(stall_seconds)}
    saved = {name: getattr(context, name) for name in settings}
    logger = logging.getLogger("ray.data")
    saved_level = logger.level
    for name, value in settings.items():
        setattr(context, name, value)
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(context, name, value)
        logger.setLevel(saved_level)


def check_sample(encoder, papers, vectors: np.ndarray, sample: int = SAMPLE) -> list[int]:
    """Re-encode `sample` texts spread over the corpus on the driver; any bit of difference fails the build."""
    if not len(papers):
        return []
    rows = sorted(set(np.linspace(0, len(papers) - 1, num=min(sample, len(papers))).round().astype(int).tolist()))
    mine = encoder.encode([papers[r].text for r in rows])
    for row, vector in zip(rows, mine):
        if not np.array_equal(vector, vectors[row]):
            worst = float(np.max(np.abs(vector - vectors[row])))
            raise RecommenderError(
                f"a Ray worker's vector for row {row} differs from this machine's (max difference {worst:.2e}): the "
                "workers compute differently (int8 kernels differ on CPUs without VNNI); build with --encoder onnx, or "
                "use workers of the driver's CPU kind. Nothing was written")
    return rows
