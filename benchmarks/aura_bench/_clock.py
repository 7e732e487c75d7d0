"""Device -> host clock mapping: :meth:`ClockMapper.observe` cost per packet, full refit vs now.

A gateway calls ``observe`` once per packet per wrist. Each configuration plays the same seeded
stream (60 s of history, an 80 ppm crystal, radio-like delays: mostly milliseconds, now and
then a 100 ms stall) into the shipped incremental mapper and into the full refit it replaced
(rebuild the history and refit on every packet, kept here as the baseline). Both first fill
their history, then time one ``observe`` per run after warm-up runs, on the same packets in
the same process, so their ratio is like for like; the mean includes the amortised rebuilds
that the percentiles miss. The table also shows how far apart the two mappings are over the
packets that follow: the skew, and the host time of the newest packet.
"""

from __future__ import annotations

import json
import platform
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from aura_sdk.live import ClockMapper

from ._timing import time_runs

__all__ = ["FullRefitMapper", "run_clock_bench"]

HISTORY_S = 60.0


class _Mapper(Protocol):
    @property
    def skew(self) -> float: ...
    @property
    def offset(self) -> float | None: ...

    def observe(self, device_t: float, host_t: float) -> None: ...

    def to_host(self, device_t: float) -> np.ndarray: ...


class FullRefitMapper:
    """The mapper before it went incremental: rebuild the history and refit it on every packet.

    Bucket minima of ``host - device`` over ten equal tenths of the history, ``np.polyfit``
    through them for the skew, ``min(host - skew * device)`` for the offset: O(n) per packet.
    """

    def __init__(self, history_s: float = HISTORY_S, max_skew_ppm: float = 2000.0,
                 min_span_s: float = 5.0) -> None:
        self.history_s = history_s
        self.max_skew = max_skew_ppm * 1e-6
        self.min_span_s = min_span_s
        self._pts: deque[tuple[float, float]] = deque()
        self.skew = 1.0
        self.offset: float | None = None

    def observe(self, device_t: float, host_t: float) -> None:
        """Record that the sample at ``device_t`` had arrived by ``host_t``; refit."""
        self._pts.append((device_t, host_t))
        while self._pts and device_t - self._pts[0][0] > self.history_s:
            self._pts.popleft()
        d = np.fromiter((p[0] for p in self._pts), float, len(self._pts))
        h = np.fromiter((p[1] for p in self._pts), float, len(self._pts))
        skew = 1.0
        if d[-1] - d[0] >= self.min_span_s and d.size >= 3:
            edges = np.linspace(d[0], d[-1], 11)
            idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, 9)
            lows_d, lows_h = [], []
            for b in range(10):
                m = idx == b
                if m.any():
                    j = int(np.argmin(h[m] - d[m]))
                    lows_d.append(d[m][j])
                    lows_h.append(h[m][j])
            if len(lows_d) >= 3:
                slope = float(np.polyfit(np.array(lows_d) - d[0], np.array(lows_h), 1)[0])
                if abs(slope - 1.0) <= self.max_skew:
                    skew = slope
        self.skew = skew
        self.offset = float(np.min(h - skew * d))

    def to_host(self, device_t: float) -> np.ndarray:
        """Host time of a device time."""
        off = 0.0 if self.offset is None else self.offset
        return np.asarray(off + self.skew * device_t)


def _stream(rate: float, channels: int, seconds: float, seed: int
            ) -> tuple[list[float], list[float]]:
    """Device and host times of ``seconds`` of packets at ``rate`` per second.

    With two or more channels the packets take turns among them, each stamped with the time
    of its own last sample, 1.5 packet periods apart (accelerometer and gyroscope frames sent
    separately): device times then go back and forth.
    """
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    dev = 5_000.0 + np.arange(n) / rate  # a device up for a while
    delay = 0.004 + rng.exponential(0.006, n)
    stall = rng.random(n) < 0.01  # a busy radio now and then holds packets back
    delay[stall] += rng.uniform(0.05, 0.15, int(stall.sum()))
    host = 86_400.0 + (1 + 80e-6) * dev + delay  # time.monotonic() a day after boot
    stamped = dev - (np.arange(n) % channels) * 1.5 / rate
    return stamped.tolist(), host.tolist()


def _per_packet(mapper: _Mapper, dev: list[float], host: list[float], fill: int, warmup: int,
                reps: int) -> np.ndarray:
    """Fill ``mapper``'s history, then time ``observe`` and a fit once per run: seconds per
    packet (``ClockMapper`` fits when read, so ``skew`` is read after each packet here: the
    cost of a fit per packet, as the full refit pays)."""
    for k in range(fill):
        mapper.observe(dev[k], host[k])
    pos = fill

    def one() -> None:
        nonlocal pos
        mapper.observe(dev[pos], host[pos])
        _ = mapper.skew
        pos += 1

    return time_runs(one, warmup, reps)


def _disagreement(ref: _Mapper, new: _Mapper, dev: list[float], host: list[float]
                  ) -> tuple[float, float]:
    """Feed both the same further packets, untimed: largest skew and newest host-time gaps."""
    skew = mapped = 0.0
    for d, h in zip(dev, host, strict=True):
        ref.observe(d, h)
        new.observe(d, h)
        skew = max(skew, abs(new.skew - ref.skew))
        mapped = max(mapped, abs(float(new.to_host(d)) - float(ref.to_host(d))))
    return skew, mapped


def _pcts(us: np.ndarray) -> dict[str, float]:
    return {"p50": float(np.percentile(us, 50)), "p90": float(np.percentile(us, 90)),
            "p99": float(np.percentile(us, 99)), "mean": float(us.mean())}


#: (packets per second, channels): BLE-style batches at three rates, and a device that sends
#: accelerometer and gyroscope frames separately
CONFIGS = ((10.0, 1), (25.0, 1), (50.0, 1), (20.0, 2))


def run_clock_bench(configs: Sequence[tuple[float, int]] = CONFIGS, warmup: int = 200,
                    reps: int = 3000, check: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Per-packet ``observe`` cost, full refit vs incremental, per (packet rate, channels).

    After the timed packets both mappers, by then at the same point of the same stream, take
    ``check`` more packets untimed and are compared after each.

    Returns:
        a JSON-able dict: environment and one row per configuration (microseconds per
        packet, their ratio, and the largest differences between the two mappings).
    """
    rows = []
    for rate, channels in configs:
        fill = int(rate * HISTORY_S) + 1
        timed = fill + warmup + reps
        dev, host = _stream(rate, channels, (timed + check) / rate + 1.0, seed + int(rate))
        ref_m, new_m = FullRefitMapper(), ClockMapper(history_s=HISTORY_S)
        ref, new = (_pcts(_per_packet(m, dev, host, fill, warmup, reps) * 1e6)
                    for m in (ref_m, new_m))
        skew, mapped = _disagreement(ref_m, new_m, dev[timed:timed + check],
                                     host[timed:timed + check])
        rows.append({
            "packets_per_s": rate,
            "channels": channels,
            "history_points": fill,
            "full_refit_us": ref,
            "incremental_us": new,
            "speedup_p50": ref["p50"] / new["p50"],
            "speedup_mean": ref["mean"] / new["mean"],
            "max_skew_diff": skew,
            "max_host_time_diff_s": mapped,
        })
    return {
        "benchmark": "clock",
        "history_s": HISTORY_S,
        "warmup": warmup,
        "repetitions": reps,
        "checked_packets": check,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "machine": platform.machine(), "numpy": np.__version__},
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    """A markdown table of :func:`run_clock_bench`'s result."""
    lines = [
        "| packets/s | channels | history | full refit p50 / p90 / mean (us) "
        "| incremental p50 / p90 / mean (us) | speedup p50 (mean) | max skew diff "
        "| max host time diff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        a, b = r["full_refit_us"], r["incremental_us"]
        lines.append(
            f"| {r['packets_per_s']:g} | {r['channels']} | {r['history_points']} "
            f"| {a['p50']:.1f} / {a['p90']:.1f} / {a['mean']:.1f} "
            f"| {b['p50']:.1f} / {b['p90']:.1f} / {b['mean']:.1f} "
            f"| {r['speedup_p50']:.1f}x ({r['speedup_mean']:.1f}x) "
            f"| {r['max_skew_diff']:.1e} | {r['max_host_time_diff_s']:.1e} s |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aura_bench.clock [--quick] [--out FILE] [--json]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m aura_bench.clock", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer packets (a few seconds)")
    p.add_argument("--out", help="write the JSON result to this file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    res = (run_clock_bench(configs=((10.0, 1), (50.0, 1), (20.0, 2)), warmup=50, reps=500,
                           check=200) if a.quick
           else run_clock_bench())
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2) if a.json else markdown(res))
    return 0
