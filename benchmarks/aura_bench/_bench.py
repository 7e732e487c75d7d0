"""``aura bench`` end to end: environment, peak probe, encoder rows, streaming, scale, Jetson.

:func:`run_bench` returns one JSON-able dict (the schema of ``bench.json``); :mod:`._report`
turns it into markdown and plots. Every comparison is a ratio of two numbers measured in this
same run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError

from ._encoders import (
    EncoderPlan,
    bundle_info,
    derive,
    plan_rows,
    resolve_bundle,
    run_rows,
    run_worker,
)
from ._env import environment
from ._stats import get, ratio

__all__ = ["SCHEMA_VERSION", "BenchConfig", "batch1_p50", "compute_ratios", "run_bench"]

SCHEMA_VERSION = 1

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    """What one ``aura bench`` run measures. Make one with :meth:`preset`.

    Attributes:
        out_dir: where engines (GPU rows) and the report go.
        bundle: the bundle (``None``: the embedded default).
        teacher: teacher checkpoint or run directory (``None``: the shipped default teacher,
            else the ``imu-xs`` preset with random weights, labelled as such).
        student: student checkpoint (``None``: the torch student row is skipped).
        quick: the short preset (under a minute on a 2-core machine).
        jetson: run the Jetson pass (:mod:`aura_bench.jetson`).
        threads: intra-op threads for every backend (``None``: each library's default).
        batches: encoder batch sizes.
        warmup, max_reps, budget_s: per batch size, untimed runs, most timed runs, and the
            time after which timing stops (at least 5 runs).
        gemm_sizes, gemm_budget_s: the peak probe's square sizes and time per size.
        e2e_seconds, e2e_speed, e2e_hop_s: the end-to-end run: data played, playback speed,
            window hop.
        streams, scale_seconds, scale_speed: the scale test's stream counts, data per stream
            and playback speed (real time in both presets: concurrent wrists).
        device_rate_hz: the virtual wrists' sample rate.
        extras: also run the decoder and preprocessing benchmarks.
        command: how the run was started (recorded).
    """

    out_dir: Path
    bundle: str | None = None
    teacher: str | None = None
    student: str | None = None
    quick: bool = False
    jetson: bool = False
    threads: int | None = None
    batches: tuple[int, ...] = (1, 8, 32, 128)
    warmup: int = 10
    max_reps: int = 2000
    budget_s: float = 3.0
    gemm_sizes: tuple[int, ...] = (512, 1024, 2048)
    gemm_budget_s: float = 1.0
    e2e_seconds: float = 120.0
    e2e_speed: float = 2.0
    e2e_hop_s: float = 0.5
    streams: tuple[int, ...] = (1, 4, 16, 64)
    scale_seconds: float = 40.0
    scale_speed: float = 1.0
    device_rate_hz: float = 100.0
    extras: bool = True
    command: str | None = None

    def __post_init__(self) -> None:
        if not self.batches or min(self.batches) < 1:
            raise ConfigError(f"batch sizes must be positive integers, got {self.batches}")
        if not self.streams or min(self.streams) < 1:
            raise ConfigError(f"stream counts must be positive integers, got {self.streams}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be at least 1, got {self.threads}")
        if min(self.budget_s, self.e2e_seconds, self.scale_seconds, self.e2e_speed,
               self.scale_speed, self.e2e_hop_s, self.device_rate_hz) <= 0:
            raise ConfigError("durations, speeds and the hop must be positive")

    @classmethod
    def preset(cls, out_dir: Path, *, quick: bool = False, **overrides: Any) -> BenchConfig:
        """The full preset, or the quick one (``quick=True``), with ``overrides`` applied."""
        base = cls(out_dir=out_dir)
        if quick:
            base = replace(base, quick=True, batches=(1, 8, 32), warmup=3, max_reps=300,
                           budget_s=0.5, gemm_sizes=(256, 512, 1024), gemm_budget_s=0.3,
                           e2e_seconds=30.0, e2e_speed=8.0, streams=(1, 4),
                           scale_seconds=24.0, scale_speed=1.0, extras=False)
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def batch1_p50(row: dict[str, Any] | None, key: str = "p50_ms") -> float | None:
    """A batch-1 latency of an encoder row (median by default; ``None`` if not measured)."""
    if not row or row.get("status") != "ok":
        return None
    return next((float(b[key]) for b in row.get("batches", []) if b["batch"] == 1), None)


def _best(row: dict[str, Any] | None) -> float | None:
    return get(row, "best_throughput", "windows_per_s")


def _why(row: dict[str, Any] | None, name: str) -> str:
    if row is None:
        return f"{name} was not planned"
    if row.get("status") != "ok":
        return f"{name} {row.get('status')}: {row.get('reason')}"
    return f"{name} has no batch-1 measurement"


def compute_ratios(rows: list[dict[str, Any]], e2e: dict[str, Any] | None,
                   reference_id: str | None, bundle_role: str) -> dict[str, Any]:
    """The run's comparisons, each the ratio of two numbers measured in it."""
    by = {r["id"]: r for r in rows}
    out: dict[str, Any] = {}
    teacher, int8, fp32 = by.get("torch-teacher"), by.get("ort-cpu-int8"), by.get("ort-cpu-fp32")
    # the bundle as the SDK runs it on this CPU (the reference row where it is a CPU one)
    bundle_id = (reference_id if reference_id and reference_id.startswith("ort-cpu-")
                 else "ort-cpu-fp32")
    bundle = by.get(bundle_id)
    t50, b50, i50, f50 = (batch1_p50(teacher), batch1_p50(bundle), batch1_p50(int8),
                          batch1_p50(fp32))
    if t50 is not None and b50 is not None:
        out["bundle_vs_teacher_torch"] = {
            "numerator": "torch-teacher", "denominator": bundle_id,
            "bundle_role": bundle_role,
            "teacher_random_weights": bool(get(teacher, "model", "random_weights")),
            "teacher_p50_ms": t50, "bundle_p50_ms": b50,
            "latency_speedup_p50": ratio(t50, b50),
            "teacher_windows_per_s": _best(teacher), "bundle_windows_per_s": _best(bundle),
            "throughput_ratio": ratio(_best(bundle), _best(teacher)),
        }
    else:
        out["bundle_vs_teacher_torch"] = {
            "status": "unavailable",
            "reason": "; ".join(w for w, v in ((_why(teacher, "torch-teacher"), t50),
                                               (_why(bundle, bundle_id), b50)) if v is None)}
    if f50 is not None and i50 is not None:
        out["ort_int8_vs_fp32"] = {"fp32_p50_ms": f50, "int8_p50_ms": i50,
                                   "latency_speedup_p50": ratio(f50, i50),
                                   "throughput_ratio": ratio(_best(int8), _best(fp32))}
    ref = by.get(reference_id) if reference_id else None
    r50 = batch1_p50(ref)
    lat = (e2e or {}).get("latency")
    if r50 is not None and lat:
        out["e2e_vs_raw_encoder"] = {
            "raw_row": reference_id, "raw_p50_ms": r50, "raw_p99_ms": batch1_p50(ref, "p99_ms"),
            "e2e_p50_ms": lat["p50_ms"], "e2e_p99_ms": lat["p99_ms"],
            "overhead_ratio_p50": ratio(lat["p50_ms"], r50),
            "overhead_ms_p50": lat["p50_ms"] - r50,
        }
    else:
        out["e2e_vs_raw_encoder"] = {
            "status": "unavailable",
            "reason": _why(ref, str(reference_id)) if r50 is None else
            "the end-to-end run produced no label event"}
    return out


def _encoder_share(streaming: dict[str, Any], reference: dict[str, Any] | None) -> None:
    """Estimate the encoder's share of each streaming run's CPU from the raw encoder row.

    Windows x the raw batch-1 median (one core, ``--threads 1`` makes that exact) over the
    recogniser's CPU seconds: how much of a stream's cost is the model at all.
    """
    p50 = batch1_p50(reference)
    for run in (streaming["e2e"], *streaming["scale"]):
        run["encoder_cpu_share_est"] = (
            None if p50 is None or not run.get("cpu_s") else
            run["events"] * p50 / 1e3 / run["cpu_s"])


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Hold a logger at ERROR (the SDK warns on every expected end-of-stream disconnect)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _streaming(cfg: BenchConfig, path: Path, say: Progress) -> dict[str, Any]:
    from aura_sdk import load_bundle

    from ._streaming import idle_calls, quietest_cpu, reference_row_id, run_streams

    with _quiet("aura_sdk.bundle"):
        model = load_bundle(path, threads=cfg.threads)
    ref = reference_row_id(model)
    out: dict[str, Any] = {"model": repr(model), "reference_row": ref,
                           "threads": cfg.threads or "onnxruntime default"}
    # one thread: the recogniser runs on one core (the quietest), the devices on the others
    pin = quietest_cpu() if cfg.threads == 1 else None
    out["pinning"] = pin
    cpu = None if pin is None else int(pin["cpu"])
    if pin is not None:
        say(f"pinning the recogniser to core {cpu}: "
            + ", ".join(f"core {c} lost {v['lost_ms_per_s']:.2f} ms/s"
                        for c, v in pin["probe"].items()))
    with _quiet("aura_sdk.live"):
        say(f"end-to-end: 1 stream, {cfg.e2e_seconds:g} s at {cfg.e2e_speed:g}x")
        out["e2e"] = run_streams(model, 1, cfg.e2e_seconds, speed=cfg.e2e_speed,
                                 hop_s=cfg.e2e_hop_s, rate_hz=cfg.device_rate_hz, cpu=cpu)
        say("idle calls: the encoder after 50 ms idle vs back to back")
        out["idle_calls"] = idle_calls(model, cpu=cpu)
        scale = []
        for n in cfg.streams:
            say(f"scale: {n} streams, {cfg.scale_seconds:g} s at {cfg.scale_speed:g}x")
            scale.append(run_streams(model, n, cfg.scale_seconds, speed=cfg.scale_speed,
                                     rate_hz=cfg.device_rate_hz, cpu=cpu))
        out["scale"] = scale
    return out


def _extras(say: Progress) -> dict[str, Any]:
    from ._decode import run_decode_bench
    from ._preprocess import run_preprocess_bench

    say("extras: decoder throughput")
    dec = run_decode_bench(per_frame=(4, 16, 19), n_samples=40_000, warmup=1, reps=5)
    say("extras: preprocessing cost")
    pre = run_preprocess_bench(rates=(25.0, 50.0, 100.0, 200.0), seconds=60.0, reps=3)
    return {"decode": dec, "preprocess": pre}


def run_bench(cfg: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run every stage of ``cfg``; the ``bench.json`` dict.

    Raises:
        BundleError: the bundle is missing or refused (the message names it and the fix).
        ConfigError: bad configuration.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    env = environment(cfg.quick, cfg.command)
    path = resolve_bundle(cfg.bundle)
    with _quiet("aura_sdk.bundle"):
        info = bundle_info(path)
    say(f"bundle {info.label()} at {path}")
    plan = EncoderPlan(batches=cfg.batches, warmup=cfg.warmup, max_reps=cfg.max_reps,
                       budget_s=cfg.budget_s, threads=cfg.threads, gemm_sizes=cfg.gemm_sizes,
                       gemm_budget_s=cfg.gemm_budget_s, teacher=cfg.teacher,
                       student=cfg.student, cache_dir=cfg.out_dir / "engines")
    rows = plan_rows(info, plan)

    say("peak: numpy float32 GEMM")
    peak: dict[str, Any] = {"numpy": run_worker(
        {"job": "gemm", "sizes": list(cfg.gemm_sizes), "budget_s": cfg.gemm_budget_s,
         "threads": cfg.threads})}
    rows = run_rows(rows, progress=say)
    teacher = next((r for r in rows if r["id"] == "torch-teacher"), {})
    peak["torch"] = ({"status": "ok", "gemm": teacher.pop("gemm")} if "gemm" in teacher else
                     {"status": "skipped", "reason": teacher.get("reason",
                                                                 "the torch row did not run")})
    bests = [g["gemm"]["best_gflops"] for g in peak.values() if g.get("status") == "ok"]
    peak["best_gflops"] = max(bests) if bests else None
    derive(rows, info, peak["best_gflops"])

    streaming = _streaming(cfg, path, say)

    from .jetson import probe, run_jetson

    if cfg.jetson:
        say("jetson")
        jetson = run_jetson(path, cfg.out_dir, quick=cfg.quick, progress=say)
    else:
        found = probe()
        jetson = {"status": "skipped", "probe": found,
                  "reason": found.get("reason") or "not requested: run aura bench --jetson"}
    extras = _extras(say) if cfg.extras else {"status": "skipped",
                                               "reason": "--quick (the full run includes them)"}
    _encoder_share(streaming, next((r for r in rows if r["id"] == streaming["reference_row"]),
                                   None))
    ratios = compute_ratios(rows, streaming["e2e"], streaming["reference_row"], info.role)
    cfg_json = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    info_json = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "environment": env,
        "config": cfg_json,
        "bundle": info_json,
        "peak": peak,
        "encoders": rows,
        "streaming": streaming,
        "ratios": ratios,
        "jetson": jetson,
        "extras": extras,
        "wall_s": time.perf_counter() - t0,
    }
