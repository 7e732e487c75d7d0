"""Motion + virtual IMU generation throughput: hours of data per minute of one CPU core.

Each repetition generates ``minutes_per_rep`` of data as continuous sessions of
``session_s`` seconds from fresh seeds (random activities, subjects and transitions), then
records every session with a virtual watch on each wrist (random rate, mounting, error model,
decimation and gravity convention, as the corpus does). CPU time (``time.process_time``:
all threads of this process, so the figure is per core) and wall time are taken per stage
after a warm-up. The whole four-modality corpus must reach at least 1 hour of data per
CPU-minute (issue 4), so motion + IMU must be well above that to leave room for video.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from aura_training.synth import generate_session, simulate_imu

__all__ = ["main", "markdown", "run_synth_bench"]

STAGES = ("motion", "imu")


def _one_rep(minutes: float, session_s: float, seed: int, wrists: int) -> dict[str, Any]:
    cpu = {s: 0.0 for s in STAGES}
    wall = {s: 0.0 for s in STAGES}
    seconds = 0.0
    samples = 0
    k = 0
    while seconds < minutes * 60.0:
        c0, w0 = time.process_time(), time.perf_counter()
        clip = generate_session(seed * 1000 + k, session_s)
        cpu["motion"] += time.process_time() - c0
        wall["motion"] += time.perf_counter() - w0
        c0, w0 = time.process_time(), time.perf_counter()
        for w in range(wrists):
            loc = ("left_wrist", "right_wrist")[w % 2]
            samples += simulate_imu(clip, w, location=loc).t.size
        cpu["imu"] += time.process_time() - c0
        wall["imu"] += time.perf_counter() - w0
        seconds += clip.duration_s
        k += 1
    return {"hours": seconds / 3600.0, "sessions": k, "imu_samples": samples,
            "cpu_s": cpu, "wall_s": wall}


def run_synth_bench(
    minutes_per_rep: float = 20.0,
    warmup: int = 1,
    reps: int = 5,
    session_s: float = 300.0,
    wrists: int = 2,
    seed: int = 2000,
) -> dict[str, Any]:
    """Measure generation throughput.

    Args:
        minutes_per_rep: minutes of data generated per repetition.
        warmup: untimed repetitions first.
        reps: timed repetitions.
        session_s: length of each generated session (seconds).
        wrists: virtual watches recorded per session (1 or 2).
        seed: first seed (each repetition uses the next one).

    Returns:
        A JSON-able dict: environment, per-repetition rows and percentiles of hours of data
        per CPU-minute for motion alone, IMU alone and both together.
    """
    rows = [
        _one_rep(minutes_per_rep, session_s, seed + k, wrists)
        for k in range(warmup + reps)
    ][warmup:]

    def pct(values: list[float]) -> dict[str, float]:
        a = np.asarray(values)
        return {f"p{q}": float(np.percentile(a, q)) for q in (10, 50, 90)}

    def rate(r: dict[str, Any], stages: Sequence[str], key: str = "cpu_s") -> float:
        return float(r["hours"] / (sum(r[key][s] for s in stages) / 60.0))

    return {
        "benchmark": "synth",
        "minutes_per_rep": minutes_per_rep,
        "session_s": session_s,
        "wrists": wrists,
        "warmup": warmup,
        "repetitions": reps,
        "hours_per_cpu_minute": {
            "motion": pct([rate(r, ["motion"]) for r in rows]),
            "imu": pct([rate(r, ["imu"]) for r in rows]),
            "motion+imu": pct([rate(r, STAGES) for r in rows]),
        },
        "hours_per_wall_minute": {"motion+imu": pct([rate(r, STAGES, "wall_s") for r in rows])},
        "rows": rows,
        "environment": {"python": sys.version.split()[0], "numpy": np.__version__,
                        "machine": platform.machine(), "platform": platform.platform()},
    }


def markdown(result: dict[str, Any]) -> str:
    """A short Markdown table of a :func:`run_synth_bench` result."""
    h = result["hours_per_cpu_minute"]
    lines = [
        f"Synthetic motion + IMU ({result['wrists']} wrist(s), {result['session_s']:.0f} s "
        f"sessions, {result['repetitions']} x {result['minutes_per_rep']:g} min after "
        f"{result['warmup']} warm-up)",
        "",
        "| stage | p10 | p50 | p90 | (hours of data per CPU-minute) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for stage in ("motion", "imu", "motion+imu"):
        p = h[stage]
        lines.append(f"| {stage} | {p['p10']:.1f} | {p['p50']:.1f} | {p['p90']:.1f} | |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aura_bench.synth [--quick] [--out FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m aura_bench.synth", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1 warm-up + 3 reps of 5 minutes")
    ap.add_argument("--minutes", type=float, default=20.0, help="minutes of data per rep")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--wrists", type=int, default=2, choices=(1, 2))
    ap.add_argument("--out", help="write the JSON result here")
    args = ap.parse_args(argv)
    if args.quick:
        res = run_synth_bench(minutes_per_rep=5.0, reps=3, wrists=args.wrists)
    else:
        res = run_synth_bench(minutes_per_rep=args.minutes, reps=args.reps, wrists=args.wrists)
    text = json.dumps(res, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(markdown(res))
    return 0
