"""Synthetic corpus generation throughput: hours of four-modality data per CPU-minute.

One process generates whole sessions exactly as ``aura data synth`` does (motion, virtual
IMU at both wrists, 10 fps mocap, 64x64 exo video, texts) and writes them into a shard.
Each repetition generates ``minutes_per_rep`` of data from fresh seeds; after a warm-up the
CPU time (``time.process_time``: one core when numpy runs single-threaded) and wall time are
taken per repetition, with the time spent in each stage. The target (issue 4) is at least
1 hour of data per CPU-minute; the size target is at most 200 MB per hour on disk.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aura_training.corpus import write_shard
from aura_training.corpus._synth import SynthConfig, generate_sample, plan_sessions

__all__ = ["markdown", "run_corpus_bench"]

STAGES = ("motion", "imu", "mocap", "video", "text", "write")


def _one_rep(cfg: SynthConfig, out: Path) -> dict[str, Any]:
    plans = plan_sessions(cfg)
    stages: dict[str, float] = {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    samples = [generate_sample(p, cfg, stages) for p in plans]
    t0 = time.perf_counter()
    stats = write_shard(out / f"rep-{cfg.seed}.npz", samples)
    stages["write"] = time.perf_counter() - t0
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    hours = sum(s.duration_s for s in samples) / 3600.0
    return {"hours": hours, "cpu_s": cpu, "wall_s": wall, "bytes": stats.bytes,
            "stages_s": stages, "clips": len(samples)}


def run_corpus_bench(
    minutes_per_rep: float = 10.0, warmup: int = 1, reps: int = 5, seed: int = 1000
) -> dict[str, Any]:
    """Measure generation throughput and bytes per hour.

    Args:
        minutes_per_rep: minutes of data generated per repetition.
        warmup: untimed repetitions first.
        reps: timed repetitions.
        seed: first seed (each repetition uses the next one).

    Returns:
        A JSON-able dict: environment, per-repetition rows and percentiles.
    """
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(warmup + reps):
            cfg = SynthConfig(minutes=minutes_per_rep, seed=seed + k)
            row = _one_rep(cfg, Path(tmp))
            (Path(tmp) / f"rep-{cfg.seed}.npz").unlink()
            if k >= warmup:
                rows.append(row)
    rate = np.array([r["hours"] / (r["cpu_s"] / 60.0) for r in rows])
    rate_wall = np.array([r["hours"] / (r["wall_s"] / 60.0) for r in rows])
    mb_h = np.array([r["bytes"] / 1e6 / r["hours"] for r in rows])
    hours = sum(r["hours"] for r in rows)
    stage_share = {s: float(sum(r["stages_s"].get(s, 0.0) for r in rows)
                            / sum(r["wall_s"] for r in rows)) for s in STAGES}
    stage_cost = {s: float(sum(r["stages_s"].get(s, 0.0) for r in rows) / hours)
                  for s in STAGES}
    return {
        "benchmark": "corpus",
        "minutes_per_rep": minutes_per_rep,
        "warmup": warmup,
        "repetitions": reps,
        "hours_per_cpu_minute": {"p10": float(np.percentile(rate, 10)),
                                 "p50": float(np.percentile(rate, 50)),
                                 "p90": float(np.percentile(rate, 90)),
                                 "min": float(rate.min())},
        "hours_per_wall_minute_p50": float(np.median(rate_wall)),
        "mb_per_hour": {"p50": float(np.median(mb_h)), "max": float(mb_h.max())},
        "stage_share_of_wall": stage_share,
        "stage_seconds_per_hour_of_data": stage_cost,
        "target_hours_per_cpu_minute": 1.0,
        "target_mb_per_hour": 200.0,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "machine": platform.machine(), "numpy": np.__version__},
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    """A short markdown report of :func:`run_corpus_bench`'s result."""
    r = result["hours_per_cpu_minute"]
    lines = [
        f"corpus generation, {result['repetitions']} x {result['minutes_per_rep']:g} min "
        f"(after {result['warmup']} warm-up):",
        "",
        "| hours of data per CPU-minute p10 / p50 / p90 | MB per hour p50 / max |",
        "|---|---|",
        f"| {r['p10']:.2f} / {r['p50']:.2f} / {r['p90']:.2f} "
        f"| {result['mb_per_hour']['p50']:.1f} / {result['mb_per_hour']['max']:.1f} |",
        "",
        "| stage | share of wall time | seconds per hour of data |",
        "|---|---|---|",
    ]
    for s in STAGES:
        lines.append(f"| {s} | {100 * result['stage_share_of_wall'][s]:.0f} % "
                     f"| {result['stage_seconds_per_hour_of_data'][s]:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aura_bench.corpus [--quick] [--out FILE]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m aura_bench.corpus", description=__doc__)
    p.add_argument("--quick", action="store_true", help="3 x 2 min after one 2 min warm-up")
    p.add_argument("--out", help="write the JSON result here")
    a = p.parse_args(argv)
    res = (run_corpus_bench(minutes_per_rep=2.0, warmup=1, reps=3) if a.quick
           else run_corpus_bench())
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    print(markdown(res))
    return 0
