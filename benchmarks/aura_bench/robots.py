"""Robots: several 1 kHz IMUs on one robot, one recogniser, read from one robot log.

``python -m aura_bench.robots --out docs/bench/robots.json --doc docs/benchmarks.md
[--seconds 60] [--imus 4] [--rate 1000] [--threads 1] [--speed 1]`` writes ``--imus``
synthetic IMUs (:func:`aura_sdk.sim.synthetic_wrist`, distinct seeds) at ``--rate`` Hz into a
temporary rosbag2 (MCAP storage) of ``sensor_msgs/msg/Imu``, topics ``/imu_0/data``,
``/imu_1/data`` ..., every message stamped on the log's one clock, and reads it into one
:class:`~aura_sdk.LiveRecognizer` with ``add_bag``: each topic is its own stream. Two passes
over the same log, after a warm-up pass over a short log of the same IMUs:

* **real time** (``add_bag(realtime=True, speed=--speed)``): the log plays at its stamps'
  pace. Measured: the process's CPU time (``time.process_time``: every thread; reading and
  decoding the log is part of it) per second of log, the share of one core it keeps busy
  and the IMUs at ``--rate`` one core could take at that cost (a linear extrapolation),
  label events per stream against the windows the log holds (from the model's window and
  hop), processing latency (``latency_ms``: the samples that complete a window arrive ->
  ``LabelEvent``) p50 / p90 / p99 and sensor to label (``sensor_latency_ms``: the window's
  last sample in host time -> ``LabelEvent``) p50 / p99, and whether processing latency
  grew from the first third of the log to the last.
* **as fast as possible** (``realtime=False``): wall seconds to label the whole log, IMU
  samples per second, and how many times real time that is.

It writes the JSON to ``--out`` and, with ``--doc``, puts the section ``## Robots: ...``
into that markdown page: replaced where it is, else inserted before ``## Jetson`` (or at the
end); nothing else in the page changes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aura_sdk import AuraModel, LabelEvent, LiveRecognizer, StatusEvent, load_bundle

from ._env import environment
from ._stats import latency_summary
from ._streaming import resampler_lookahead_s
from .soak import expected_windows

__all__ = ["SECTION", "main", "robots_markdown", "run_robots", "update_doc", "write_log"]

#: the heading of the docs section this benchmark owns
SECTION = "## Robots: four 1 kHz IMUs in one recogniser"
#: the section it goes before when the page has no robots section yet
_BEFORE = "## Jetson"
#: seconds of each topic the log hands the recogniser at once (``add_bag``'s default)
CHUNK_S = 0.1


def topic_name(i: int) -> str:
    """The log topic of IMU ``i``."""
    return f"/imu_{i}/data"


def write_log(path: Path, imus: int, rate_hz: float, seconds: float, seed: int = 0) -> int:
    """Write ``imus`` synthetic IMUs (seeds ``seed``, ``seed + 1`` ...) at ``rate_hz`` for
    ``seconds`` as one rosbag2 (MCAP) directory ``path``; returns the messages written.

    Raises:
        RuntimeError: the log's index does not hold each IMU's samples on its own topic.
    """
    from aura_sdk.ros import bag_topics, write_imu_bag
    from aura_sdk.sim import synthetic_wrist

    recs = {topic_name(i): synthetic_wrist(seconds, rate_hz, seed + i) for i in range(imus)}
    n = write_imu_bag(path, recs, storage="mcap")
    # a benchmark of a wrong log measures nothing: check every topic got its own samples
    want = {k: len(r.t) for k, r in recs.items()}
    got = {t.topic: t.count for t in bag_topics(path)}
    if got != want:
        raise RuntimeError(f"{path}: the log holds {got} messages per topic, not {want}")
    return n


@contextlib.contextmanager
def _thread_limit(threads: int | None) -> Iterator[str]:
    """numpy's BLAS pools held to ``threads`` (threadpoolctl, where installed); says how."""
    if not threads:
        yield "library defaults"
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield f"encoder {threads}; numpy's BLAS at its default (threadpoolctl absent)"
        return
    with threadpool_limits(limits=threads):
        yield f"encoder {threads}, numpy's BLAS {threads}"


async def _play(model: AuraModel, log: Path, realtime: bool, speed: float) -> dict[str, Any]:
    """One pass over ``log``: every label event's numbers, CPU and wall time."""
    rec = LiveRecognizer(model=model, health_log_s=None)
    names = rec.add_bag(log, realtime=realtime, speed=speed, chunk_s=CHUNK_S)
    proc: dict[str, list[float]] = {n: [] for n in names}
    sensor: dict[str, list[float]] = {n: [] for n in names}
    t_end: dict[str, list[float]] = {n: [] for n in names}
    statuses: dict[str, int] = {}
    missing_sensor = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    async for ev in rec.events():
        if isinstance(ev, LabelEvent):
            proc[ev.stream].append(ev.latency_ms)
            if ev.sensor_latency_ms is None:
                missing_sensor += 1
            else:
                sensor[ev.stream].append(ev.sensor_latency_ms)
            t_end[ev.stream].append(math.nan if ev.t_end_device is None else ev.t_end_device)
        elif isinstance(ev, StatusEvent):
            statuses[ev.kind] = statuses.get(ev.kind, 0) + 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    health = rec.health()
    return {"streams": names, "processing_ms": proc, "sensor_ms": sensor, "t_end": t_end,
            "sensor_missing": missing_sensor, "statuses": statuses, "wall_s": wall,
            "cpu_s": cpu, "inference_calls": rec.inference_calls,
            "inference_windows": rec.inference_windows, "health": health}


def _summary(ms: Sequence[float]) -> dict[str, float] | None:
    return latency_summary(np.asarray(ms, dtype=np.float64) / 1e3) if len(ms) else None


def _drift(raw: dict[str, Any], log_s: float) -> dict[str, Any]:
    """Processing latency of the windows ending in the first third of the log vs the last."""
    t = np.concatenate([np.asarray(raw["t_end"][n]) for n in raw["streams"]])
    lat = np.concatenate([np.asarray(raw["processing_ms"][n]) for n in raw["streams"]])
    first, last = lat[t <= log_s / 3], lat[t > 2 * log_s / 3]
    if not first.size or not last.size:
        return {"first_third": None, "last_third": None}
    return {"first_third": _summary(first.tolist()), "last_third": _summary(last.tolist())}


def _pass_result(raw: dict[str, Any], log_s: float, imus: int, rate_hz: float,
                 expected: int, speed: float, hop_s: float) -> dict[str, Any]:
    names = raw["streams"]
    per = {n: len(raw["processing_ms"][n]) for n in names}
    # every window once, in order: the device times of a stream's events strictly increase
    ordered = {n: bool(np.all(np.diff(np.asarray(raw["t_end"][n])) > 0)) for n in names}
    proc = [x for n in names for x in raw["processing_ms"][n]]
    sensor = [x for n in names for x in raw["sensor_ms"][n]]
    samples = imus * round(log_s * rate_hz)
    cpu_per_log_s = raw["cpu_s"] / log_s
    h = raw["health"]
    out: dict[str, Any] = {
        "speed": speed,
        "wall_s": raw["wall_s"],
        "cpu_s": raw["cpu_s"],
        "events": sum(per.values()),
        "events_per_stream": per,
        "expected_per_stream": expected,
        "lost": {n: expected - c for n, c in per.items() if c != expected},
        "in_order": all(ordered.values()),
        "processing_latency": _summary(proc),
        "sensor_latency": _summary(sensor),
        "sensor_latency_missing": raw["sensor_missing"],
        "processing_latency_drift": _drift(raw, log_s),
        "statuses": raw["statuses"],
        "inference_calls": raw["inference_calls"],
        "inference_windows": raw["inference_windows"],
        "windows_per_inference_call": (raw["inference_windows"] / raw["inference_calls"]
                                       if raw["inference_calls"] else None),
        "cpu_s_per_log_s": cpu_per_log_s,
        "cpu_s_per_imu_s": cpu_per_log_s / imus,
        "cores_busy": raw["cpu_s"] / raw["wall_s"] if raw["wall_s"] > 0 else None,
        "samples_per_s": samples / raw["wall_s"] if raw["wall_s"] > 0 else None,
        "x_realtime": log_s / raw["wall_s"] if raw["wall_s"] > 0 else None,
        # what the recogniser counted on the way: samples it lost, gaps it saw
        "health": {k: sum(s.get(k, 0.0) for s in h.values())
                   for k in sorted({k for s in h.values() for k in s}) if k.endswith(
                       ("lost", "gaps", "dropped", "samples", "windows", "errors"))},
    }
    out["samples_expected"] = samples
    # IMUs at this rate one core could carry at this cost (linear in the IMUs: an estimate)
    out["imus_per_core"] = 1.0 / out["cpu_s_per_imu_s"] if out["cpu_s_per_imu_s"] > 0 else None
    # the playback's own length, and how far the pass ran past it (real time only)
    out["playback_s"] = log_s / speed
    lat = out["processing_latency"]
    out["keeps_up"] = bool(not out["lost"] and lat is not None and out["in_order"]
                           and lat["p99_ms"] < hop_s * 1e3)
    return out


def _machine_note(env: dict[str, Any], load_end: list[float] | None) -> str:
    """What the machine was and how busy: the reader's reason to trust or discount."""
    vm = False
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        vm = any(line.startswith("flags") and " hypervisor" in line for line in fh)
    cpus = env.get("cpus_usable") or env.get("logical_cpus")
    kind = "virtual machine" if vm else "machine"
    load0 = env.get("load_average_at_start")
    load = ("load average " + " / ".join(
        f"{x[0]:.2f}" for x in (load0, load_end) if x) + " (1 min, at start / end)"
        if load0 else "load average unknown")
    return (f"{env.get('cpu_model')} ({env.get('machine')}), a {cpus}-core {kind} with "
            f"{env.get('ram_gb')} GB RAM; {env.get('os')}; Python {env.get('python')}, numpy "
            f"{env['packages'].get('numpy')}, onnxruntime {env['packages'].get('onnxruntime')}."
            f" The machine is shared: {load} (the 1-minute average also counts work that "
            "ended in the minute before); the CPU times are this process's own, the wall "
            "times and latencies feel any other jobs.")


def run_robots(seconds: float = 60.0, imus: int = 4, rate_hz: float = 1000.0, *,
               threads: int | None = 1, speed: float = 1.0, seed: int = 0,
               warmup_s: float | None = None, command: str | None = None,
               workdir: Path | None = None) -> dict[str, Any]:
    """Run both passes (see the module doc) and return the JSON-able result.

    Args:
        seconds: length of the log.
        imus: IMU topics in it.
        rate_hz: each IMU's sample rate.
        threads: encoder (and BLAS) threads; ``None``: the libraries' defaults.
        speed: the real-time pass's speed factor (2: the log plays in half its length).
        seed: the first IMU's seed.
        warmup_s: length of the warm-up log (default: one window and two hops).
        command: the command line to record.
        workdir: where to write the logs (default: a temporary folder, removed after).

    Raises:
        ValueError: a non-positive argument, or a log shorter than one window.
    """
    if seconds <= 0 or imus < 1 or rate_hz <= 0 or speed <= 0:
        raise ValueError(f"need seconds > 0, imus >= 1, rate > 0, speed > 0; got {seconds}, "
                         f"{imus}, {rate_hz}, {speed}")
    env = environment(False, command)
    model = load_bundle(threads=threads)
    spec = model.input_spec
    if seconds < spec.window_s:
        raise ValueError(f"a {seconds:g}-s log holds no {spec.window_s:g}-s window")
    expected = expected_windows(seconds, spec.window_s, spec.hop_s)
    warm_s = warmup_s if warmup_s is not None else spec.window_s + 2 * spec.hop_s
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="aura-robots-")))
        threads_note = stack.enter_context(_thread_limit(threads))
        log, warm = workdir / "robot_log", workdir / "warmup_log"
        t0 = time.perf_counter()
        messages = write_log(log, imus, rate_hz, seconds, seed)
        write_s = time.perf_counter() - t0
        write_log(warm, imus, rate_hz, warm_s, seed + 1000)
        log_bytes = sum(f.stat().st_size for f in log.rglob("*") if f.is_file())
        asyncio.run(_play(model, warm, False, 1.0))  # warm-up: sessions, caches, imports
        live = _pass_result(asyncio.run(_play(model, log, True, speed)), seconds, imus,
                            rate_hz, expected, speed, spec.hop_s)
        fast = _pass_result(asyncio.run(_play(model, log, False, 1.0)), seconds, imus,
                            rate_hz, expected, 1.0, spec.hop_s)
    load_end: list[float] | None
    try:
        load_end = [float(x) for x in os.getloadavg()]
    except OSError:
        load_end = None
    env["load_average_at_end"] = load_end
    return {
        "benchmark": "robots",
        "config": {"seconds": seconds, "imus": imus, "rate_hz": rate_hz, "threads": threads,
                   "threads_applied": threads_note, "speed": speed, "seed": seed,
                   "warmup_s": warm_s, "topics": [topic_name(i) for i in range(imus)],
                   "storage": "mcap", "bundle": f"{model.manifest.name} "
                   f"{model.manifest.version}", "precision": model.precision,
                   "backend": model.backend, "window_s": spec.window_s, "hop_s": spec.hop_s,
                   "model_rate_hz": spec.sample_rate_hz, "chunk_s": CHUNK_S,
                   "resampler_lookahead_s": resampler_lookahead_s(rate_hz,
                                                                  spec.sample_rate_hz)},
        "environment": env,
        "machine_note": _machine_note(env, load_end),
        "load_average_at_end": load_end,
        "log": {"messages": messages, "bytes": log_bytes, "write_s": write_s},
        "realtime": live,
        "fast": fast,
    }


def _f(x: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant figures (thousands separated), ``-`` for none."""
    if x is None or not math.isfinite(x):
        return "-"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _lat(s: dict[str, float] | None, keys: Sequence[str]) -> str:
    return "n/a" if s is None else " / ".join(_f(s[k]) for k in keys)


def robots_markdown(res: dict[str, Any]) -> str:
    """The docs section (heading included) of a :func:`run_robots` result."""
    cfg, env, rt, fast = res["config"], res["environment"], res["realtime"], res["fast"]
    n, rate = cfg["imus"], cfg["rate_hz"]
    git = env.get("git") or {}
    commit = (git.get("commit") or "unknown")[:10] + (" (dirty)" if git.get("dirty") else "")
    exp = rt["expected_per_stream"]

    def counts(p: dict[str, Any]) -> str:
        per = p["events_per_stream"].values()
        return (f"{p['events']} ({min(per)}-{max(per)} per IMU) / {n * exp} ({exp} per IMU)"
                + ("" if p["in_order"] else ", NOT in order"))

    d = rt["processing_latency_drift"]
    drift = ("n/a" if d["first_third"] is None else
             f"{_f(d['first_third']['p50_ms'])} / {_f(d['first_third']['p99_ms'])} ms in the "
             f"first third of the log, {_f(d['last_third']['p50_ms'])} / "
             f"{_f(d['last_third']['p99_ms'])} ms in the last")
    lost = {**rt["lost"], **{f"{k} (fast)": v for k, v in fast["lost"].items()}}
    speed = f"{rt['speed']:g}x" if rt["speed"] != 1 else "1x (its own pace)"
    lines = [
        SECTION,
        "",
        "<!-- Generated by `python -m aura_bench.robots`; rerun the command below to refresh "
        "this section (`aura bench --doc` keeps it, from docs/bench/robots.json). -->",
        "",
        f"`{env.get('command')}` · {env.get('timestamp_utc')} · commit {commit}",
        "",
        f"One robot, {n} IMUs at {rate:g} Hz: {n} synthetic wrists (`aura_sdk.sim`, seeds "
        f"{cfg['seed']}-{cfg['seed'] + n - 1}) written as one rosbag2 log (MCAP storage, "
        f"{res['log']['messages']:,} `sensor_msgs/msg/Imu` messages, "
        f"{res['log']['bytes'] / 2**20:.1f} MiB, {cfg['seconds']:g} s), topics "
        f"`{cfg['topics'][0]}` ... `{cfg['topics'][-1]}`, every message stamped on the log's "
        "one clock. One `LiveRecognizer` reads it with `add_bag` (each topic its own stream, "
        f"all on the log's clock) through `{cfg['bundle']}` ({cfg['precision']}, "
        f"{cfg['backend']}, threads: {cfg['threads_applied']}): windows of "
        f"{cfg['window_s']:g} s every {cfg['hop_s']:g} s at {cfg['model_rate_hz']:g} Hz, so "
        f"{exp} windows per IMU. A warm-up pass over a {cfg['warmup_s']:g}-s log of the same "
        "IMUs runs first. CPU is `time.process_time` of the process (every thread: reading "
        "and decoding the log, resampling, windowing, inference, scoring, smoothing) per "
        "second of log; the IMUs per core divide one core by the cost of one IMU (linear: "
        "fixed costs are spread over the IMUs measured). Processing latency: the samples "
        "that complete a window are handed over -> `LabelEvent`; sensor to label: the "
        "window's last sample, at its stamp's place on the playback clock -> `LabelEvent` "
        f"(the resampler's look-ahead, {cfg['resampler_lookahead_s']:g} s of log, and the "
        f"{cfg['chunk_s']:g}-s batches the log is handed over in on top).",
        "",
        f"Machine: {_machine_note(res['environment'], res.get('load_average_at_end'))}",
        "",
        f"**Real time**: the log played at {speed}.",
        "",
        "| IMUs x rate | log (s) | wall (s) | events / expected | processing p50 / p90 / p99 "
        "(ms) | sensor to label p50 / p99 (ms) | CPU s per s of log | one core busy | "
        f"IMUs at {rate:g} Hz per core (est.) | windows per inference call |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {n} x {rate:g} Hz | {cfg['seconds']:g} | {rt['wall_s']:.1f} | {counts(rt)} | "
        f"{_lat(rt['processing_latency'], ('p50_ms', 'p90_ms', 'p99_ms'))} | "
        f"{_lat(rt['sensor_latency'], ('p50_ms', 'p99_ms'))} | {_f(rt['cpu_s_per_log_s'])} | "
        f"{100 * (rt['cores_busy'] or 0):.1f} % | {_f(rt['imus_per_core'])} | "
        f"{_f(rt['windows_per_inference_call'])} |",
        "",
        "**As fast as possible**: the same log, not paced.",
        "",
        "| IMUs x rate | log (s) | wall (s) | events / expected | samples/s | x real time | "
        "CPU s per s of log | processing p50 / p99 (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {n} x {rate:g} Hz | {cfg['seconds']:g} | {fast['wall_s']:.2f} | {counts(fast)} | "
        f"{_f(fast['samples_per_s'])} | {_f(fast['x_realtime'])} | "
        f"{_f(fast['cpu_s_per_log_s'])} | "
        f"{_lat(fast['processing_latency'], ('p50_ms', 'p99_ms'))} |",
        "",
        f"Lost events: {lost or 'none'}. Processing latency p50 / p99 in real time: {drift}. "
        f"Real-time pass: {rt['wall_s']:.1f} s of wall time for {rt['playback_s']:.1f} s of "
        f"playback; kept up (every window, in order, processing p99 under the "
        f"{cfg['hop_s']:g}-s hop): {'yes' if rt['keeps_up'] else 'NO'}.",
    ]
    return "\n".join(lines) + "\n"


def update_doc(doc: Path, section: str) -> None:
    """Put ``section`` (starting with :data:`SECTION`) into the page ``doc``: in place of the
    one there, else before ``## Jetson``, else at the end; the rest stays byte for byte."""
    text = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    lines = text.splitlines(keepends=True)
    body = section.rstrip("\n") + "\n\n"

    def h2(i: int) -> bool:
        return lines[i].startswith("## ")

    start = next((i for i, ln in enumerate(lines) if ln.rstrip("\n") == SECTION), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if h2(i)), len(lines))
        if end == len(lines):  # the last section: the page ends where it ends
            body = body.rstrip("\n") + "\n"
        new = [*lines[:start], body, *lines[end:]]
    else:
        at = next((i for i, ln in enumerate(lines) if ln.rstrip("\n") == _BEFORE), None)
        if at is not None:
            new = [*lines[:at], body, *lines[at:]]
        else:
            sep = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
            new = [*lines, sep, body.rstrip("\n") + "\n"]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("".join(new), encoding="utf-8")


def _command_line(a: argparse.Namespace) -> str:
    parts = ["python", "-m", "aura_bench.robots", "--out", str(a.out)]
    if a.doc is not None:
        parts += ["--doc", str(a.doc)]
    parts += ["--seconds", f"{a.seconds:g}", "--imus", str(a.imus), "--rate", f"{a.rate:g}",
              "--threads", str(a.threads)]
    if a.speed != 1.0:
        parts += ["--speed", f"{a.speed:g}"]
    if a.seed:
        parts += ["--seed", str(a.seed)]
    return shlex.join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (see module doc); exit 1 when an event was lost."""
    p = argparse.ArgumentParser(prog="python -m aura_bench.robots", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the JSON result file")
    p.add_argument("--doc", type=Path, help="markdown page to put the section into")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the log")
    p.add_argument("--imus", type=int, default=4, help="IMU topics in the log")
    p.add_argument("--rate", type=float, default=1000.0, help="each IMU's rate (Hz)")
    p.add_argument("--threads", type=int, default=1,
                   help="encoder and BLAS threads (0: the libraries' defaults)")
    p.add_argument("--speed", type=float, default=1.0, help="real-time pass speed factor")
    p.add_argument("--seed", type=int, default=0, help="the first IMU's seed")
    a = p.parse_args(argv)
    if a.seconds <= 0 or a.imus < 1 or a.rate <= 0 or a.speed <= 0 or a.threads < 0:
        p.error("--seconds, --imus, --rate and --speed must be positive, --threads >= 0")
    res = run_robots(a.seconds, a.imus, a.rate, threads=a.threads or None, speed=a.speed,
                     seed=a.seed, command=_command_line(a))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    md = robots_markdown(res)
    if a.doc is not None:
        update_doc(a.doc, md)
    print(md)
    return 0 if not res["realtime"]["lost"] and not res["fast"]["lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
