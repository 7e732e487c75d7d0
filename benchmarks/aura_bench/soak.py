"""The soak test: many virtual wrists through one recogniser for many simulated hours.

``python -m aura_bench.soak --hours 24 --streams 8 --out DIR`` plays ``--streams`` synthetic
AURA wrists (each its own 10-minute recording, looped into one continuous timeline) through
one :class:`~aura_sdk.LiveRecognizer`, as fast as it can (replays, not paced), until every
stream has played ``--hours`` of data. Every simulated hour (when the slowest stream crosses
it) it samples the process's resident memory and summarises that hour's label events:
how many each stream got against how many windows its data holds, and their processing
latency. It writes ``soak.json``, ``soak.md`` (the table) and ``soak.png`` (memory and
latency per hour) into ``--out``, and says whether memory stayed flat (last hours within
``--rss-tolerance-mb`` of the first full hour), latency did not drift (the last hours' p99
within 1.5x of the first hours') and no event was lost.

Memory is read from ``/proc/self/statm`` (Linux); elsewhere it is reported as unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aura_sdk import LabelEvent, LiveRecognizer, load_bundle

__all__ = ["main", "run_soak", "soak_markdown"]

#: recording each virtual wrist loops (seconds)
RECORDING_S = 600.0


def rss_mb() -> float | None:
    """Resident memory of this process in MiB (``None`` where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def expected_windows(seconds: float, window_s: float, hop_s: float) -> int:
    """Windows a gapless stream of ``seconds`` holds (the first starts at 0)."""
    return 0 if seconds < window_s else math.floor((seconds - window_s) / hop_s + 1e-9) + 1


async def _soak(hours: float, streams: int, rate_hz: float, chunk_s: float, seed: int,
                threads: int | None, progress: bool) -> dict[str, Any]:
    from aura_sdk.sim import synthetic_wrist

    model = load_bundle(threads=threads)
    spec = model.input_spec
    rec = LiveRecognizer(model=model, health_log_s=None, smoothing="hmm")
    for i in range(streams):
        wrist = synthetic_wrist(RECORDING_S, rate_hz, seed + i)
        rec.add_replay(wrist, realtime=False, loop=True, name=f"wrist{i:03d}", chunk_s=chunk_s)
    end_s = hours * 3600.0
    hour = 3600.0
    n_hours = math.ceil(hours - 1e-9)
    names = [f"wrist{i:03d}" for i in range(streams)]
    rows: list[dict[str, Any]] = []
    per_stream = dict.fromkeys(names, 0)
    counts: dict[int, dict[str, int]] = {}
    lats: dict[int, list[float]] = {}
    reached = dict.fromkeys(names, 0.0)
    t0, cpu0 = time.perf_counter(), time.process_time()
    rss0 = rss_mb()

    def close_hour(h: int) -> None:
        lat_ms = np.asarray(lats.pop(h, []))
        got = counts.pop(h, {})
        per = [got.get(n, 0) for n in names]
        rows.append({
            "hour": h,
            "events": int(sum(per)),
            "events_min_per_stream": int(min(per)),
            "events_max_per_stream": int(max(per)),
            "expected_per_stream": expected_windows(min(h * hour, end_s), spec.window_s,
                                                    spec.hop_s)
            - expected_windows((h - 1) * hour, spec.window_s, spec.hop_s),
            "latency_p50_ms": float(np.percentile(lat_ms, 50)) if lat_ms.size else None,
            "latency_p99_ms": float(np.percentile(lat_ms, 99)) if lat_ms.size else None,
            "latency_max_ms": float(lat_ms.max()) if lat_ms.size else None,
            "rss_mb": rss_mb(),
            "wall_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - cpu0,
        })
        if progress:
            r = rows[-1]
            p99 = r["latency_p99_ms"]
            print(f"  hour {h:3d}: {r['events']} events ({r['events_min_per_stream']}-"
                  f"{r['events_max_per_stream']} per stream, {r['expected_per_stream']} "
                  f"expected), p99 {p99 if p99 is None else round(p99, 2)} ms, rss "
                  f"{r['rss_mb']} MiB, {r['wall_s']:.0f} s", flush=True)

    closing = False
    async for ev in rec.events():
        if not isinstance(ev, LabelEvent) or ev.t_end_device is None:
            continue
        t_end, name = ev.t_end_device, ev.stream
        reached[name] = max(reached[name], t_end)
        if t_end <= end_s + 1e-9:
            per_stream[name] += 1
            h = math.ceil(t_end / hour - 1e-9)
            counts.setdefault(h, {}).setdefault(name, 0)
            counts[h][name] += 1
            lats.setdefault(h, []).append(ev.latency_ms)
        # a stream past hour h has delivered every window ending in it (in order per stream)
        slowest = min(reached.values())
        while len(rows) < n_hours and slowest > (len(rows) + 1) * hour:
            close_hour(len(rows) + 1)
        if not closing and slowest > end_s:
            closing = True
            await rec.aclose()
    while len(rows) < n_hours:
        close_hour(len(rows) + 1)
    expected_total = expected_windows(end_s, spec.window_s, spec.hop_s)
    lost = {k: expected_total - v for k, v in per_stream.items() if v != expected_total}
    health = rec.health()
    return {
        "config": {"hours": hours, "streams": streams, "device_rate_hz": rate_hz,
                   "chunk_s": chunk_s, "seed": seed, "threads": threads,
                   "recording_s": RECORDING_S, "bundle": f"{model.manifest.name} "
                   f"{model.manifest.version}", "window_s": spec.window_s,
                   "hop_s": spec.hop_s},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpus": os.cpu_count()},
        "rows": rows,
        "rss_start_mb": rss0,
        "events_per_stream": per_stream,
        "expected_per_stream": expected_total,
        "lost": lost,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - cpu0,
        "frames_lost": sum(h.get("decoder_frames_lost", 0.0) for h in health.values()),
        "inference_calls": rec.inference_calls,
        "inference_windows": rec.inference_windows,
    }


def verdict(res: dict[str, Any], rss_tolerance_mb: float = 20.0) -> dict[str, Any]:
    """Flat memory, no latency drift, no event lost: each measured and judged."""
    rows = [r for r in res["rows"] if r["events"]]
    out: dict[str, Any] = {"no_event_lost": not res["lost"]}
    rss = [r["rss_mb"] for r in rows if r["rss_mb"] is not None]
    if len(rss) >= 3:
        base = rss[1]  # the first full hour (the first includes start-up)
        out["rss_growth_mb"] = max(rss[1:]) - base
        out["flat_memory"] = out["rss_growth_mb"] <= rss_tolerance_mb
    p99 = [r["latency_p99_ms"] for r in rows if r["latency_p99_ms"] is not None]
    if len(p99) >= 6:
        k = max(2, len(p99) // 4)
        first, last = float(np.median(p99[:k])), float(np.median(p99[-k:]))
        out["latency_p99_first_ms"], out["latency_p99_last_ms"] = first, last
        out["no_latency_drift"] = last <= 1.5 * first
    return out


def soak_markdown(res: dict[str, Any]) -> str:
    """The table of a soak result (the docs/benchmarks.md section body)."""
    cfg, v = res["config"], res["verdict"]
    lines = [
        f"{cfg['streams']} virtual wrists ({cfg['device_rate_hz']:g} Hz AURA samples in "
        f"{cfg['chunk_s']:g}-s batches, each a looped {cfg['recording_s']:g}-s synthetic "
        f"recording) through one `LiveRecognizer` (`{cfg['bundle']}`), as fast as it runs: "
        f"{cfg['hours']:g} simulated hours in {res['wall_s'] / 60:.1f} min of wall time "
        f"({res['cpu_s'] / 60:.1f} CPU min).",
        "",
        "| hour | events | per stream (min-max) | expected per stream | processing p50 (ms) "
        "| p99 (ms) | max (ms) | resident memory (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        def f(x: float | None, d: int = 2) -> str:
            return "-" if x is None else f"{x:.{d}f}"
        lines.append(f"| {r['hour']} | {r['events']} | {r['events_min_per_stream']}-"
                     f"{r['events_max_per_stream']} | {r['expected_per_stream']} | "
                     f"{f(r['latency_p50_ms'])} | {f(r['latency_p99_ms'])} | "
                     f"{f(r['latency_max_ms'])} | {f(r['rss_mb'], 1)} |")
    lines += ["", f"Events per stream: {min(res['events_per_stream'].values())}-"
              f"{max(res['events_per_stream'].values())}, expected "
              f"{res['expected_per_stream']} (every window of {cfg['hours']:g} h); lost: "
              f"{res['lost'] or 'none'}. Memory: "
              + (f"{v['rss_growth_mb']:+.1f} MiB from hour 1 to the highest later hour "
                 f"({'flat' if v.get('flat_memory') else 'NOT flat'})"
                 if "rss_growth_mb" in v else "not measured")
              + ". Latency p99, median of the first vs the last quarter of hours: "
              + (f"{v['latency_p99_first_ms']:.2f} vs {v['latency_p99_last_ms']:.2f} ms "
                 f"({'no drift' if v.get('no_latency_drift') else 'DRIFT'})"
                 if "latency_p99_first_ms" in v else "not measured") + "."]
    return "\n".join(lines) + "\n"


def _plot(res: dict[str, Any], path: Path) -> str | None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        return f"matplotlib is not installed ({exc})"
    rows = res["rows"]
    fig = Figure(figsize=(8, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    hours = [r["hour"] for r in rows]
    ax.plot(hours, [r["rss_mb"] for r in rows], "o-", color="tab:blue")
    ax.set_xlabel("simulated hour")
    ax.set_ylabel("resident memory (MiB)", color="tab:blue")
    rss = [r["rss_mb"] for r in rows if r["rss_mb"] is not None]
    ax.set_ylim(0, 1.25 * max(rss) if rss else 1.0)
    ax2 = ax.twinx()
    ax2.plot(hours, [r["latency_p99_ms"] for r in rows], "s-", color="tab:red", label="p99")
    ax2.plot(hours, [r["latency_p50_ms"] for r in rows], "^--", color="tab:orange",
             label="p50")
    ax2.set_ylabel("processing latency (ms)", color="tab:red")
    p99 = [r["latency_p99_ms"] for r in rows if r["latency_p99_ms"] is not None]
    ax2.set_ylim(0, 1.25 * max(p99) if p99 else 1.0)
    ax2.legend(loc="lower right")
    ax.set_title(f"soak: {res['config']['streams']} wrists, {res['config']['hours']:g} h")
    fig.tight_layout()
    fig.savefig(path)
    return None


def run_soak(hours: float = 24.0, streams: int = 8, *, rate_hz: float = 100.0,
             chunk_s: float = 0.04, seed: int = 0, threads: int | None = 1,
             progress: bool = False, rss_tolerance_mb: float = 20.0) -> dict[str, Any]:
    """Run the soak (see module doc) and judge it.

    Raises:
        ValueError: ``hours``, ``streams`` or ``chunk_s`` not positive.
    """
    if hours <= 0 or streams < 1 or chunk_s <= 0:
        raise ValueError(f"need hours > 0, streams >= 1, chunk_s > 0; got {hours}, {streams}, "
                         f"{chunk_s}")
    res = asyncio.run(_soak(hours, streams, rate_hz, chunk_s, seed, threads, progress))
    res["verdict"] = verdict(res, rss_tolerance_mb)
    return res


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (see module doc); exit 1 when a verdict fails."""
    p = argparse.ArgumentParser(prog="python -m aura_bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--streams", type=int, default=8)
    p.add_argument("--rate", type=float, default=100.0, help="device sample rate (Hz)")
    p.add_argument("--chunk-s", type=float, default=0.04, help="seconds per device batch")
    p.add_argument("--threads", type=int, default=1, help="encoder threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rss-tolerance-mb", type=float, default=20.0)
    p.add_argument("--out", type=Path, required=True, help="report folder")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    res = run_soak(a.hours, a.streams, rate_hz=a.rate, chunk_s=a.chunk_s, seed=a.seed,
                   threads=a.threads, progress=True, rss_tolerance_mb=a.rss_tolerance_mb)
    why = _plot(res, a.out / "soak.png")
    res["plot"] = "soak.png" if why is None else {"skipped": why}
    (a.out / "soak.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    (a.out / "soak.md").write_text(soak_markdown(res), encoding="utf-8")
    print(soak_markdown(res))
    v = res["verdict"]
    ok = v["no_event_lost"] and v.get("flat_memory", True) and v.get("no_latency_drift", True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
