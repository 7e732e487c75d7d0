"""Preprocessing cost: batch throughput and per-chunk streaming latency, per device rate.

The streaming path must keep up with many wrists on one core; the batch path is what the
training pipeline pays per hour of data. Both run the same code (aura_sdk.preprocessing), so
the streaming / batch ratio is the price of small chunks.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from aura_sdk import ModelInputSpec, SensorSpec
from aura_sdk.preprocessing import PreprocessConfig, Preprocessor, preprocess

from ._timing import time_runs

__all__ = ["run_preprocess_bench"]

MODEL = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125, gravity="either")
CFG = PreprocessConfig()


def _recording(rate: float, seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = np.arange(n) / rate + rng.uniform(-0.1, 0.1, n) / rate
    x = rng.standard_normal((n, 6)).cumsum(axis=0) * 0.01 + [0, 0, 1, 0, 0, 0]
    return t, x


def run_preprocess_bench(
    rates: Sequence[float] = (10.0, 25.0, 50.0, 100.0, 200.0, 1000.0),
    seconds: float = 600.0, chunk_s: float = 0.1, warmup: int = 1, reps: int = 5,
) -> dict[str, Any]:
    """Measure batch throughput and streaming per-chunk latency at each device rate.

    Returns:
        a JSON-able dict: environment and one row per rate.
    """
    rows = []
    for rate in rates:
        t, x = _recording(rate, seconds, seed=int(rate))
        spec = SensorSpec(sample_rate_hz=rate)

        def batch_run(t: np.ndarray = t, x: np.ndarray = x, spec: SensorSpec = spec) -> None:
            preprocess(x, spec, MODEL, t=t, config=CFG)

        batch = time_runs(batch_run, warmup, reps)
        step = max(1, round(rate * chunk_s))
        n_stream = min(t.size, int(rate * 120))  # two minutes of chunks is plenty of samples

        def stream(
            t: np.ndarray = t, x: np.ndarray = x, spec: SensorSpec = spec, step: int = step,
            n: int = n_stream,
        ) -> np.ndarray:
            pre = Preprocessor(spec, MODEL, CFG)
            lat = np.empty(-(-n // step))
            for j, a in enumerate(range(0, n, step)):
                t0 = time.perf_counter()
                pre.feed(x[a : a + step], t[a : a + step])
                lat[j] = time.perf_counter() - t0
            pre.flush()
            return lat

        stream()  # warm-up
        lat = np.concatenate([stream() for _ in range(reps)])
        batch_sps = t.size / batch
        stream_sps = step / lat.mean()
        rows.append({
            "rate_hz": rate,
            "batch_samples_per_s_p50": float(np.median(batch_sps)),
            "batch_hours_per_s_p50": float(np.median(batch_sps) / rate / 3600.0),
            "stream_chunk_samples": step,
            "stream_chunk_latency_us_p50": float(np.percentile(lat, 50) * 1e6),
            "stream_chunk_latency_us_p90": float(np.percentile(lat, 90) * 1e6),
            "stream_chunk_latency_us_p99": float(np.percentile(lat, 99) * 1e6),
            "stream_samples_per_s": float(stream_sps),
            "stream_over_batch_cost": float(np.median(batch_sps) / stream_sps),
            "wrists_per_core_streaming": float(stream_sps / rate),
        })
    return {
        "benchmark": "preprocess",
        "model": MODEL.model_dump(),
        "seconds_per_batch_run": seconds,
        "chunk_s": chunk_s,
        "repetitions": reps,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "machine": platform.machine(), "numpy": np.__version__},
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    """A markdown table of :func:`run_preprocess_bench`'s result."""
    lines = [
        "| device rate (Hz) | batch (h of data / s) | stream chunk | chunk p50 / p99 (us) "
        "| stream cost vs batch | wrists per core (stream) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['rate_hz']:g} | {r['batch_hours_per_s_p50']:.2f} | {r['stream_chunk_samples']} "
            f"| {r['stream_chunk_latency_us_p50']:.0f} / {r['stream_chunk_latency_us_p99']:.0f} "
            f"| {r['stream_over_batch_cost']:.1f}x | {r['wrists_per_core_streaming']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m aura_bench.preprocess", description=__doc__)
    p.add_argument("--quick", action="store_true", help="short runs (about 10 s)")
    p.add_argument("--out", help="write the JSON result here")
    a = p.parse_args(argv)
    res = (run_preprocess_bench(seconds=60.0, reps=3) if a.quick
           else run_preprocess_bench())
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    print(markdown(res))
    return 0
