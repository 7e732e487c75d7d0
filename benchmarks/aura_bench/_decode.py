"""AURA stream decoder throughput on one core: MB/s and samples/s, per frame size and framing.

One host core has to decode every wrist connected to it: at 100 Hz a wrist sends about
1.3 kB/s, so 10 MB/s is about 8,000 wrists. Each configuration decodes the same seeded,
wrist-like recording with a fresh decoder, after warm-up runs, many times; the result has
percentiles of the per-run throughput (p10 is the slow end) and, measured in the same run, the
throughput of the unavoidable C-level work (split at 0x00 + one CRC-32 per frame) as a floor
that shows how much the Python around it costs.
"""

from __future__ import annotations

import json
import os
import platform
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from aura_bridge._types import ImuSamples
from aura_bridge.aura import (
    AuraEncoder,
    AuraHello,
    AuraPacketDecoder,
    AuraStreamDecoder,
    samples_per_notification,
)

from ._timing import time_runs

__all__ = ["run_decode_bench"]

TARGET_MB_S = 10.0
#: serial / TCP (COBS, ``feed`` per read); BLE (``feed`` per notification); BLE drained in
#: batches of 32 notifications (``feed_packets``)
FRAMINGS = ("stream", "packet", "packet-batch")
HELLO = AuraHello.for_ranges(0xBE7C4, 100.0, 8, 2000)


def wrist_recording(n: int, rate: float = 100.0, seed: int = 0) -> ImuSamples:
    """A seeded wrist-like recording: arm swing, gravity, tremor and sensor noise (SI units)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    swing = 2 * np.pi * 0.9 * t
    acc = np.stack([3.0 * np.sin(swing), 1.5 * np.cos(swing), 9.81 + 0.8 * np.sin(2 * swing)], 1)
    gyro = np.stack([2.0 * np.cos(swing), 0.4 * np.sin(swing), 0.05 * np.ones(n)], 1)
    acc += rng.normal(0, 0.05, (n, 3))
    gyro += rng.normal(0, 0.01, (n, 3))
    return ImuSamples(acc, gyro, t=t)


def _encode(samples: ImuSamples, per_frame: int, framing: str) -> list[bytes]:
    enc = AuraEncoder(HELLO, framing="stream" if framing == "stream" else "packet",
                      samples_per_frame=per_frame)
    return [enc.hello_bytes(), *enc.encode(samples)]


def _pcts(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


def _count(dec: AuraStreamDecoder | AuraPacketDecoder, got: int, expect: int) -> None:
    if got != expect or dec.stats.frames_corrupt:
        raise RuntimeError(f"decoded {got} of {expect} samples: {dec.stats}")


def bench_one(samples: ImuSamples, per_frame: int, framing: str, read_size: int, warmup: int,
              reps: int) -> dict[str, Any]:
    """Decode one configuration ``reps`` times; a JSON-able row of results."""
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {FRAMINGS}, got {framing!r}")
    chunks = _encode(samples, per_frame, framing)
    n_bytes = sum(len(c) for c in chunks)
    n_samples = len(samples)
    data = b"".join(chunks)
    reads = [data[i:i + read_size] for i in range(0, len(data), read_size)]
    queues = [chunks[i:i + 32] for i in range(0, len(chunks), 32)]

    def decode_stream() -> None:
        dec = AuraStreamDecoder()
        _count(dec, sum(len(s) for r in reads for s in dec.feed(r)), n_samples)

    def decode_packet() -> None:
        dec = AuraPacketDecoder()
        _count(dec, sum(len(s) for c in chunks for s in dec.feed(c)), n_samples)

    def decode_batch() -> None:
        dec = AuraPacketDecoder()
        _count(dec, sum(len(s) for q in queues for s in dec.feed_packets(q)), n_samples)

    def floor_stream() -> None:  # the C-level work any decoder in Python has to do
        tail = b""
        for r in reads:
            parts = (tail + r).split(b"\x00")
            tail = parts.pop()
            for p in parts:
                zlib.crc32(p)

    def floor_packet() -> None:
        for c in chunks:
            zlib.crc32(c)

    decode = {"stream": decode_stream, "packet": decode_packet,
              "packet-batch": decode_batch}[framing]
    floor = floor_stream if framing == "stream" else floor_packet
    secs = time_runs(decode, warmup, reps)
    floor_secs = time_runs(floor, warmup, reps)
    mb_s = n_bytes / secs / 1e6
    return {
        "framing": framing,
        "samples_per_frame": per_frame,
        "frame_bytes": 11 + 12 * per_frame,
        "read_size": read_size if framing == "stream" else None,
        "bytes": n_bytes,
        "samples": n_samples,
        "runs": reps,
        "mb_per_s": _pcts(mb_s),
        "samples_per_s": _pcts(n_samples / secs),
        "wrists_at_100hz_p50": float(np.median(n_samples / secs) / 100.0),
        "floor_mb_per_s_p50": float(np.median(n_bytes / floor_secs / 1e6)),
        "slowdown_vs_floor_p50": float(np.median(secs) / np.median(floor_secs)),
    }


def run_decode_bench(
    per_frame: Sequence[int] = (1, 4, 10, 16, 19, 64), read_size: int = 4096,
    n_samples: int = 100_000, warmup: int = 2, reps: int = 9,
) -> dict[str, Any]:
    """Measure AURA decoder throughput for serial (COBS) and BLE (packet, single or batched).

    Args:
        per_frame: samples per frame to try (19 is what fits in one notification at MTU 247).
        read_size: bytes per ``feed`` call on the stream path (a typical serial read).
        n_samples: samples in the recording decoded by each run.
        warmup: untimed runs first.
        reps: timed runs per configuration.

    Returns:
        a JSON-able dict: environment, one row per configuration and the headline (serial,
        16 samples per frame) against the 10 MB/s target.
    """
    samples = wrist_recording(n_samples)
    rows = [bench_one(samples, k, framing, read_size, warmup, reps)
            for framing in FRAMINGS for k in per_frame]
    head = next((r for r in rows if r["framing"] == "stream" and r["samples_per_frame"] == 16),
                rows[0])
    return {
        "benchmark": "aura_decode",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus_visible": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads_used": 1,
        "ble_samples_per_frame_mtu247": samples_per_notification(247),
        "target_mb_per_s": TARGET_MB_S,
        "headline": {
            "config": f"{head['framing']}, {head['samples_per_frame']} samples/frame, "
                      f"{read_size}-byte reads",
            "mb_per_s_p50": head["mb_per_s"]["p50"],
            "mb_per_s_p10": head["mb_per_s"]["p10"],
            "samples_per_s_p50": head["samples_per_s"]["p50"],
            "meets_target_p10": head["mb_per_s"]["p10"] >= TARGET_MB_S,
        },
        "rows": rows,
    }


def markdown(res: dict[str, Any]) -> str:
    """A table of the result for humans."""
    lines = [
        f"AURA decoder, one core, Python {res['python']}, numpy {res['numpy']}: "
        f"{res['headline']['config']}: {res['headline']['mb_per_s_p50']:.1f} MB/s p50 "
        f"({res['headline']['mb_per_s_p10']:.1f} p10), target {res['target_mb_per_s']:.0f}",
        "",
        "| framing | samples/frame | frame B | MB/s p10 | p50 | p90 | Msamples/s p50 | "
        "wrists@100Hz | floor MB/s | x floor time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in res["rows"]:
        m = r["mb_per_s"]
        lines.append(
            f"| {r['framing']} | {r['samples_per_frame']} | {r['frame_bytes']} | "
            f"{m['p10']:.1f} | {m['p50']:.1f} | {m['p90']:.1f} | "
            f"{r['samples_per_s']['p50'] / 1e6:.2f} | {r['wrists_at_100hz_p50']:,.0f} | "
            f"{r['floor_mb_per_s_p50']:.0f} | {r['slowdown_vs_floor_p50']:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aura_bench.decode [--quick] [--out FILE] [--json]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m aura_bench.decode", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer samples and runs (a few seconds)")
    p.add_argument("--out", help="write the JSON result to this file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--read-size", type=int, default=4096, help="bytes per feed() on serial")
    a = p.parse_args(argv)
    if a.quick:
        res = run_decode_bench(per_frame=(4, 16, 19), read_size=a.read_size, n_samples=40_000,
                               warmup=1, reps=5)
    else:
        res = run_decode_bench(read_size=a.read_size)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2) if a.json else markdown(res))
    return 0
