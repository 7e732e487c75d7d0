"""A parser for ``tegrastats`` lines (NVIDIA Jetson): power rails, RAM, CPU, GPU, temperatures.

Pure: text in, values out; no process, no clock. The format is NVIDIA's, documented in the
L4T 32.5 Development Guide appendix "TegraStats"
(https://docs.nvidia.com/jetson/archives/l4t-archived/l4t-325/Tegra%20Linux%20Driver%20Package%20Development%20Guide/AppendixTegraStats.html),
the DRIVE OS "tegrastats Utility" page
(https://docs.nvidia.com/drive/drive-os-5.2.0.0L/drive-os/DRIVE_OS_Linux_SDK_Development_Guide/Utilities/util_tegrastats.html)
and, for Jetson Linux 35 and later, the Developer Guide's "tegrastats Utility" page:

* ``RAM X/YMB (lfb NxZMB)``: RAM in use / total, MB;
* ``CPU [X%@F,Y%@F,off,...]``: per-core load in percent at frequency F MHz (``off``: core
  powered down); older releases print ``CPU [X%,Y%]@F``;
* ``GR3D_FREQ X%@F`` (or ``X%@[F,F]`` on Orin): GPU load in percent;
* ``NAME@T C``: a thermal zone's temperature in degrees Celsius;
* ``RAIL X/Y``: a power rail's current power X and its average Y since tegrastats started, in
  milliwatts. L4T 32 prints bare numbers (``POM_5V_IN 1410/1410`` on Nano, ``VDD_IN
  3447/3447`` on Xavier NX, ``GPU 0/0 CPU 310/310 SOC 1086/1086`` on AGX Xavier); Jetson
  Linux 35+ appends the unit (``VDD_IN 5393mW/5393mW``, ``VIN_SYS_5V0 2800mW/2800mW``).
  Newer releases start each line with a ``MM-DD-YYYY HH:MM:SS`` timestamp.

A line without any recognisable field parses to ``None``; no line makes the parser raise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["INPUT_RAILS", "RailReading", "TegraSample", "parse_line", "parse_lines",
           "summarize_power"]

#: rails documented as the module's whole input power (Nano: POM_5V_IN; Xavier NX, Orin Nano
#: and NX: VDD_IN). Other modules (AGX Xavier, AGX Orin) list per-domain rails only; for
#: them the summary gives the sum of the rails and says so.
INPUT_RAILS = ("VDD_IN", "POM_5V_IN")

_TIME = re.compile(r"^\s*(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\b")
# an upper-case name, then "cur/avg" in mW with or without the unit; the look-ahead refuses
# "RAM 2448/62780MB" and "IRAM 0/252kB" (a unit other than mW follows the number)
_RAIL = re.compile(
    r"(?<![\w@])([A-Z][A-Z0-9_]*) (\d+(?:\.\d+)?)(?:mW)?/(\d+(?:\.\d+)?)(?:mW)?(?![\w/.%@])")
_RAM = re.compile(r"\bRAM (\d+)/(\d+)MB\b")
_CPU = re.compile(r"\bCPU \[([^\]]*)\](?:@(\d+))?")
_CORE = re.compile(r"^\s*(\d+(?:\.\d+)?)%(?:@(\d+))?\s*$")
_GPU = re.compile(r"\bGR3D_FREQ (\d+(?:\.\d+)?)%")
_TEMP = re.compile(r"(?<![\w@])([A-Za-z][\w-]*)@(-?\d+(?:\.\d+)?)C\b")
# (CPU and GPU are rail names on AGX Xavier: "GPU 0/0 CPU 310/310")
_NOT_RAILS = frozenset({"RAM", "SWAP", "IRAM", "EMC_FREQ", "GR3D_FREQ", "APE"})


@dataclass(frozen=True)
class RailReading:
    """One power rail in one line: current and running-average power, milliwatts."""

    name: str
    current_mw: float
    average_mw: float


@dataclass(frozen=True)
class TegraSample:
    """What one ``tegrastats`` line says."""

    timestamp: str | None = None
    rails: dict[str, RailReading] = field(default_factory=dict)
    ram_used_mb: int | None = None
    ram_total_mb: int | None = None
    cpu_load_pct: tuple[float | None, ...] = ()
    gpu_load_pct: float | None = None
    temperatures_c: dict[str, float] = field(default_factory=dict)


def parse_line(line: str) -> TegraSample | None:
    """Parse one line; ``None`` if it holds no field this parser knows."""
    if not isinstance(line, str):
        return None
    ts = _TIME.match(line)
    rails = {}
    for name, cur, avg in _RAIL.findall(line):
        if name not in _NOT_RAILS:
            rails[name] = RailReading(name, float(cur), float(avg))
    ram = _RAM.search(line)
    cpus: list[float | None] = []
    cpu = _CPU.search(line)
    if cpu:
        for part in cpu.group(1).split(","):
            m = _CORE.match(part)
            if m:
                cpus.append(float(m.group(1)))
            elif part.strip() == "off":
                cpus.append(None)
    gpu = _GPU.search(line)
    temps = {name: float(v) for name, v in _TEMP.findall(line)}
    if not (rails or ram or cpus or gpu or temps):
        return None
    return TegraSample(
        timestamp=ts.group(1) if ts else None, rails=rails,
        ram_used_mb=int(ram.group(1)) if ram else None,
        ram_total_mb=int(ram.group(2)) if ram else None,
        cpu_load_pct=tuple(cpus), gpu_load_pct=float(gpu.group(1)) if gpu else None,
        temperatures_c=temps)


def parse_lines(lines: Iterable[str]) -> list[TegraSample]:
    """Every parseable line (others are skipped)."""
    out = []
    for line in lines:
        s = parse_line(line)
        if s is not None:
            out.append(s)
    return out


def summarize_power(samples: Iterable[TegraSample]) -> dict[str, Any]:
    """Mean and peak of each rail's current power over the samples, and of the total.

    The total is the documented input rail (:data:`INPUT_RAILS`) when the module has one,
    else the per-line sum of every rail (``total_is``: ``"input rail NAME"`` or
    ``"sum of rails"``).

    Returns:
        ``{"samples", "rails": {name: {"mean_mw", "peak_mw", "samples"}}, "total_is",
        "total_mean_mw", "total_peak_mw"}`` (totals ``None`` without any rail).
    """
    values: dict[str, list[float]] = {}
    sums: list[float] = []
    n = 0
    for s in samples:
        n += 1
        for r in s.rails.values():
            values.setdefault(r.name, []).append(r.current_mw)
        if s.rails:
            sums.append(sum(r.current_mw for r in s.rails.values()))
    rails = {k: {"mean_mw": float(np.mean(v)), "peak_mw": float(np.max(v)), "samples": len(v)}
             for k, v in sorted(values.items())}
    name = next((r for r in INPUT_RAILS if r in rails), None)
    if name is not None:
        total_is, mean, peak = f"input rail {name}", rails[name]["mean_mw"], \
            rails[name]["peak_mw"]
    elif sums:
        total_is, mean, peak = "sum of rails", float(np.mean(sums)), float(np.max(sums))
    else:
        total_is, mean, peak = None, None, None
    return {"samples": n, "rails": rails, "total_is": total_is, "total_mean_mw": mean,
            "total_peak_mw": peak}
