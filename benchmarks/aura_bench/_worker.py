"""One encoder measurement in a fresh process: ``python -m aura_bench._worker`` (JSON in, JSON out).

Each backend runs in its own process, so its memory growth is its own (RSS after the imports,
after loading the model, peak) and no backend's thread pools or caches warm up another's. The
parent writes one job as JSON on stdin; the worker prints one line ``AURA_BENCH_RESULT {json}``
on stdout (libraries may print other lines; they are ignored).

Jobs (``"job"`` key):

* ``"ort"``: an ONNX Runtime session of one bundle precision on the given providers;
* ``"torch"``: a torch eager IMU encoder: a checkpoint, the shipped default teacher, or a
  preset with random weights; also counts FLOPs of other architectures (``flops_for``) and
  runs the torch GEMM probe (``gemm``), so torch is imported once;
* ``"trt"``: the SDK's native TensorRT engine (``aura_sdk.backends.TensorRTEngine``);
* ``"gemm"``: the numpy float32 GEMM probe (a fresh process, so the BLAS thread count the
  parent put in the environment applies).

``"threads"`` (optional) pins intra-op threads: torch ``set_num_threads``, onnxruntime
``intra_op_num_threads``; the parent also sets ``OMP/OPENBLAS/MKL_NUM_THREADS``.

A job that cannot run here answers ``{"status": "skipped", "reason": ...}``; one that breaks
answers ``{"status": "failed", "reason": ...}``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._env import peak_rss_bytes, rss_bytes
from ._stats import cdf_points, latency_summary
from ._timing import time_budget

__all__ = ["RESULT_PREFIX", "Skip", "measure", "run_job"]

RESULT_PREFIX = "AURA_BENCH_RESULT "


class Skip(Exception):
    """This job cannot run on this machine; the message says why."""


def _mb(n: int | None) -> float | None:
    return None if n is None else round(n / 2**20, 2)


def _max_mb(*values: int | None) -> float | None:
    """The largest known value in MB (``getrusage``'s peak lags a fresh RSS reading)."""
    known = [v for v in values if v is not None]
    return _mb(max(known)) if known else None


def measure(run: Callable[[Any], Any], make_input: Callable[[int], Any],
            batches: Sequence[int], warmup: int, max_reps: int, budget_s: float
            ) -> tuple[list[dict[str, Any]], list[float], int]:
    """Time ``run(make_input(b))`` per batch size.

    Returns:
        one row per batch (percentiles in ms, runs, windows/s from the median), the CDF
        points of the smallest batch, and that batch size.
    """
    rows = []
    cdf: list[float] = []
    smallest = min(batches)
    for b in batches:
        x = make_input(b)

        def call(x: Any = x) -> Any:
            return run(x)

        secs = time_budget(call, warmup, max_reps, budget_s)
        row: dict[str, Any] = {"batch": int(b), **latency_summary(secs)}
        row["windows_per_s"] = float(b / np.median(secs))
        rows.append(row)
        if b == smallest:
            cdf = cdf_points(secs * 1e3)
    return rows, cdf, smallest


def _common(spec: dict[str, Any]) -> tuple[list[int], int, int, float]:
    batches = [int(b) for b in spec["batches"]]
    if not batches or min(batches) < 1:
        raise ValueError(f"batch sizes must be positive, got {batches}")
    return batches, int(spec.get("warmup", 3)), int(spec.get("max_reps", 200)), \
        float(spec.get("budget_s", 1.0))


def _windows(window: int, channels: int, seed: int) -> Callable[[int], np.ndarray]:
    rng = np.random.default_rng(seed)
    cache: dict[int, np.ndarray] = {}

    def make(b: int) -> np.ndarray:
        if b not in cache:
            cache[b] = rng.standard_normal((b, window, channels)).astype(np.float32)
        return cache[b]

    return make


def _ort_job(spec: dict[str, Any]) -> dict[str, Any]:
    import onnxruntime as ort

    from aura_sdk.bundle import read_bundle

    batches, warmup, max_reps, budget = _common(spec)
    rss_import = rss_bytes()
    t0 = time.perf_counter()
    bundle = read_bundle(spec["bundle"])
    precision = spec["precision"]
    # JSON turned (name, options) pairs into lists; onnxruntime wants tuples
    providers = [tuple(p) if isinstance(p, list) else p
                 for p in spec.get("providers") or ["CPUExecutionProvider"]]
    options = ort.SessionOptions()
    if spec.get("threads"):
        options.intra_op_num_threads = int(spec["threads"])
    session = bundle.create_session(precision, providers, options)
    load_s = time.perf_counter() - t0
    rss_load = rss_bytes()
    enc = bundle.manifest.encoder
    inp, out, where = enc.input_name, enc.output_name, enc.placement_name
    window, channels = enc.window_shape

    def run(x: np.ndarray) -> Any:
        feed: dict[str, np.ndarray] = {inp: x}
        if where is not None:  # an encoder with a placement input: 0, "not said"
            feed[where] = np.zeros(x.shape[0], dtype=np.int64)
        return session.run([out], feed)

    rows, cdf, cdf_batch = measure(run, _windows(window, channels, int(spec.get("seed", 0))),
                                   batches, warmup, max_reps, budget)
    opts = session.get_session_options()
    return {
        "status": "ok", "batches": rows, "cdf_ms": cdf, "cdf_batch": cdf_batch,
        "load_s": load_s, "window": [int(window), int(channels)],
        "size_bytes": len(bundle.encoder_bytes(precision)), "size_kind": "ONNX file",
        "providers_used": list(session.get_providers()),
        "threads": f"onnxruntime {ort.__version__}, intra-op threads "
                   f"{opts.intra_op_num_threads or 'default (one per physical core)'}",
        "rss_mb": {"after_imports": _mb(rss_import), "after_load": _mb(rss_load),
                   "after_runs": _mb(rss_bytes()),
                   "peak": _max_mb(peak_rss_bytes(), rss_bytes())},
    }


def _default_teacher() -> tuple[str | None, str]:
    """The teacher checkpoint shipped with aura_training, if any, and why not otherwise."""
    try:
        from aura_training.train import default_teacher_path

        found = default_teacher_path()
    except Exception as exc:  # absent helper (ImportError/AttributeError), missing file, ...
        return None, f"no default teacher: {type(exc).__name__}: {exc}"
    if found is None:
        return None, "no default teacher: default_teacher_path() returned None"
    if not Path(found).exists():
        return None, f"no default teacher: {found} does not exist"
    return str(found), "default_teacher_path()"


def _torch_model(source: dict[str, Any]) -> tuple[Any, int, int, dict[str, Any]]:
    """The IMU encoder a torch job times, with its window, channels and a description.

    ``source``: ``{"kind": "checkpoint", "path": ...}``, ``{"kind": "preset", "preset": ...}``
    or ``{"kind": "auto"}`` (the shipped default teacher, else the ``imu-xs`` preset with
    random weights).
    """
    import torch

    from aura_training.models import build_encoder

    kind = source.get("kind", "auto")
    path = source.get("path")
    origin = str(source.get("origin", kind))
    if kind == "auto":
        path, origin = _default_teacher()
        kind = "checkpoint" if path is not None else "preset"
    if kind == "checkpoint":
        from aura_training.train import load_checkpoint

        if path is None:
            raise ValueError("a checkpoint job needs a path")
        model, config, spec = load_checkpoint(str(path), imu_only=True)
        model.eval()
        cfg = getattr(model, "config", None)
        names = getattr(config, "model", None)  # {"imu": "imu-xs", ...} or a model of it
        arch = names.get("imu") if isinstance(names, dict) else getattr(names, "imu", None)
        desc = {"source": origin, "path": str(path), "random_weights": False,
                "run": getattr(config, "name", None),
                "architecture": arch if isinstance(arch, str) else None,
                "class": type(model).__name__,
                "config": None if cfg is None or not hasattr(cfg, "model_dump")
                else cfg.model_dump(mode="json")}
        return model, int(spec.window_samples), len(spec.channels), desc
    preset = source.get("preset", "imu-xs")
    torch.manual_seed(int(source.get("seed", 0)))
    model = build_encoder(preset).eval()
    preset_cfg: Any = model.config
    desc = {"source": f"preset {preset}, random weights ({origin})", "path": None,
            "random_weights": True, "run": None, "architecture": preset,
            "class": type(model).__name__, "config": preset_cfg.model_dump(mode="json")}
    return (model, int(preset_cfg.window_samples), int(getattr(preset_cfg, "channels", 6)),
            desc)


def _torch_job(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        import torch

        from aura_training.models import build_encoder, count_flops
    except ImportError as exc:
        raise Skip(f"torch eager needs torch and aura_training, which are not installed here "
                   f"({exc}); pip install 'aura-sdk[train]'") from exc
    batches, warmup, max_reps, budget = _common(spec)
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    rss_import = rss_bytes()
    t0 = time.perf_counter()
    model, window, channels, desc = _torch_model(spec.get("source", {}))
    load_s = time.perf_counter() - t0
    rss_load = rss_bytes()
    make = _windows(window, channels, int(spec.get("seed", 0)))

    def run(x: np.ndarray) -> Any:
        with torch.inference_mode():
            return model(torch.from_numpy(x))

    rows, cdf, cdf_batch = measure(run, make, batches, warmup, max_reps, budget)
    rss_runs, peak = rss_bytes(), peak_rss_bytes()
    tensors = [*model.parameters(), *model.buffers()]
    flops = count_flops(model, torch.zeros(1, window, channels))
    out: dict[str, Any] = {
        "status": "ok", "batches": rows, "cdf_ms": cdf, "cdf_batch": cdf_batch,
        "load_s": load_s, "window": [window, channels], "model": desc,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "size_bytes": int(sum(t.numel() * t.element_size() for t in tensors)),
        "size_kind": "parameters + buffers in memory",
        "flops_per_window": int(flops),
        "flops_source": "aura_training.models.count_flops",
        "threads": f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "rss_mb": {"after_imports": _mb(rss_import), "after_load": _mb(rss_load),
                   "after_runs": _mb(rss_runs), "peak": _max_mb(peak, rss_runs)},
    }
    extra = {}
    for item in spec.get("flops_for", []):
        try:
            arch = build_encoder(item["config"]).eval()
            extra[item["name"]] = {
                "flops_per_window": int(count_flops(
                    arch, torch.zeros(1, int(item["window"]), int(item.get("channels", 6))))),
                "parameters": int(sum(p.numel() for p in arch.parameters())),
                "source": "aura_training.models.count_flops on the manifest's architecture"}
        except Exception as exc:  # an architecture this aura_training cannot build
            extra[item["name"]] = {"flops_per_window": None,
                                   "reason": f"{type(exc).__name__}: {exc}"}
    out["flops_for"] = extra
    gemm = spec.get("gemm")
    if gemm:
        from ._peak import torch_gemm

        out["gemm"] = torch_gemm(gemm["sizes"], float(gemm["budget_s"]))
    return out


def _trt_job(spec: dict[str, Any]) -> dict[str, Any]:
    from aura_sdk import MissingExtraError
    from aura_sdk.backends import TensorRTEngine, tensorrt_available
    from aura_sdk.bundle import read_bundle

    if not tensorrt_available():
        raise Skip("tensorrt / pycuda not importable in the worker")
    batches, warmup, max_reps, budget = _common(spec)
    rss_import = rss_bytes()
    bundle = read_bundle(spec["bundle"])
    window, channels = bundle.manifest.encoder.window_shape
    cache = Path(spec["cache_dir"])
    t0 = time.perf_counter()
    try:
        engine = TensorRTEngine(bundle.encoder_bytes("fp32"), window, cache,
                                precision=spec["precision"], max_batch=max(batches))
    except MissingExtraError as exc:
        raise Skip(str(exc)) from exc
    load_s = time.perf_counter() - t0
    rss_load = rss_bytes()
    rows, cdf, cdf_batch = measure(engine.run, _windows(window, channels, 0), batches,
                                   warmup, max_reps, budget)
    return {
        "status": "ok", "batches": rows, "cdf_ms": cdf, "cdf_batch": cdf_batch,
        "load_s": load_s, "window": [int(window), int(channels)],
        "engine": str(engine.engine_path),
        "size_bytes": engine.engine_path.stat().st_size, "size_kind": "TensorRT engine",
        "rss_mb": {"after_imports": _mb(rss_import), "after_load": _mb(rss_load),
                   "after_runs": _mb(rss_bytes()),
                   "peak": _max_mb(peak_rss_bytes(), rss_bytes())},
    }


def _gemm_job(spec: dict[str, Any]) -> dict[str, Any]:
    from ._peak import numpy_gemm

    # thread count: the parent sets OPENBLAS/OMP/MKL_NUM_THREADS before numpy loads here
    return {"status": "ok", "gemm": numpy_gemm(spec["sizes"], float(spec["budget_s"]))}


JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ort": _ort_job, "torch": _torch_job, "trt": _trt_job, "gemm": _gemm_job}


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job; skipped and failed jobs come back as results, never as exceptions."""
    job = JOBS.get(spec.get("job", ""))
    if job is None:
        return {"status": "failed", "reason": f"unknown job {spec.get('job')!r}; "
                                              f"one of {sorted(JOBS)}"}
    try:
        return job(spec)
    except Skip as exc:
        return {"status": "skipped", "reason": str(exc)}
    except Exception as exc:  # reported in the row, the run goes on
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    """Read one job from stdin, print its result line."""
    import logging

    logging.basicConfig(level=logging.ERROR)  # the parent already showed bundle warnings
    spec = json.loads(sys.stdin.read())
    result = run_job(spec)
    sys.stdout.write("\n" + RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
