"""End-to-end streaming latency and the gateway scale test, through ``LiveRecognizer``.

Virtual AURA wrists (:mod:`aura_bench._devices`, their own process) stream over TCP into one
``LiveRecognizer`` in this process, exactly as real devices on a gateway would. Each
``LabelEvent`` carries ``latency_ms``: from the arrival of the bytes that completed its window
to the event (decode, resample, window, encode, score, smooth). With N streams the recogniser
batches the windows that are ready together into one inference call; CPU time of this process
(``time.process_time``: every thread) per stream per second of data says what one stream
costs, and how many fit on a core.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import IO, Any

import numpy as np

from aura_sdk import AuraModel, LabelEvent, LiveRecognizer, StatusEvent
from aura_sdk.live import StreamConfig

from ._stats import cdf_points, latency_summary

__all__ = ["reference_row_id", "run_streams"]

#: the virtual wrists' sample rate: a common wearable rate, resampled to the model's
DEVICE_RATE_HZ = 100.0


def reference_row_id(model: AuraModel) -> str:
    """The encoder row that runs what ``model`` runs (backend, provider, precision)."""
    if model.backend == "tensorrt":
        return "trt-native-" + ("fp32" if model.precision == "fp32" else "fp16")
    first = model.providers[0] if model.providers else "CPUExecutionProvider"
    name = first[0] if isinstance(first, tuple) else first
    tag = {"CUDAExecutionProvider": "cuda", "TensorrtExecutionProvider": "trt"}.get(name, "cpu")
    return f"ort-{tag}-{model.precision}"


def _read_port(proc: subprocess.Popen[str], timeout_s: float) -> int:
    assert proc.stdout is not None  # Popen was given stdout=PIPE
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("PORT "):
        raise RuntimeError(f"the virtual devices did not start (got {line.strip()!r})")
    return int(line.split()[1])


async def _consume(model: AuraModel, port: int, streams: int, hop_s: float | None,
                   timeout_s: float) -> dict[str, Any]:
    rec = LiveRecognizer(model=model, hop_s=hop_s, include_status=True, health_log_s=None,
                         stream_config=StreamConfig(reconnect=False))
    for i in range(streams):
        rec.add_tcp("127.0.0.1", port, "aura", name=f"wrist{i:03d}")
    latencies: list[float] = []
    per_stream: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    errors: list[str] = []

    async def consume() -> None:
        async for ev in rec.events():
            if isinstance(ev, LabelEvent):
                latencies.append(ev.latency_ms)
                per_stream[ev.stream] += 1
            elif isinstance(ev, StatusEvent):
                statuses[ev.kind] += 1
                if ev.kind == "error" and len(errors) < 3:
                    errors.append(f"{ev.stream}: {ev.detail}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    timed_out = False
    try:
        await asyncio.wait_for(consume(), timeout_s)
    except TimeoutError:
        timed_out = True
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    health = rec.health()
    infer_ms = sum(h.get("inference_ms_total", 0.0) for h in health.values())
    windows = sum(h.get("windows", 0.0) for h in health.values())
    return {
        "latencies_ms": latencies, "per_stream": dict(per_stream), "statuses": dict(statuses),
        "errors": errors, "cpu_s": cpu, "wall_s": wall, "timed_out": timed_out,
        "inference_calls": rec.inference_calls, "inference_windows": rec.inference_windows,
        "sdk_inference_ms_per_window": infer_ms / windows if windows else None,
        "frames_lost": sum(h.get("decoder_frames_lost", 0.0) for h in health.values()),
        "frames_corrupt": sum(h.get("decoder_frames_corrupt", 0.0) for h in health.values()),
    }


def run_streams(model: AuraModel, streams: int, seconds: float, *, speed: float = 1.0,
                hop_s: float | None = None, rate_hz: float = DEVICE_RATE_HZ,
                timeout_s: float | None = None) -> dict[str, Any]:
    """Stream ``streams`` virtual wrists of ``seconds`` of data each into one recogniser.

    Args:
        model: the model the recogniser runs.
        streams: concurrent devices (TCP connections).
        seconds: data each device plays.
        speed: playback speed (4: each stream carries 4 s of data per second of wall time,
            the load of ``4 * streams`` real-time wrists).
        hop_s: time between windows (default: the model's hop).
        rate_hz: the devices' sample rate.
        timeout_s: give up after this long (default: twice the playing time plus 60 s).

    Returns:
        a JSON-able row: latency percentiles and CDF, events, events/s, CPU per stream.

    Raises:
        ValueError: ``streams < 1``, ``seconds`` not positive or ``speed`` not positive.
        RuntimeError: the virtual devices did not start.
    """
    if streams < 1 or seconds <= 0 or speed <= 0:
        raise ValueError(f"need streams >= 1, seconds > 0, speed > 0; got {streams}, "
                         f"{seconds}, {speed}")
    spec = model.input_spec
    hop = spec.hop_s if hop_s is None else hop_s
    play_s = seconds / speed
    timeout = timeout_s if timeout_s is not None else 2 * play_s + 60.0
    stagger = hop / speed if streams > 1 else 0.0
    cmd = [sys.executable, "-m", "aura_bench._devices", "--streams", str(streams),
           "--seconds", repr(seconds), "--speed", repr(speed), "--rate", repr(rate_hz),
           "--stagger", repr(stagger), "--timeout", repr(timeout + 30.0)]
    err: IO[bytes]
    with tempfile.TemporaryFile() as err, \
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
        try:
            try:
                port = _read_port(proc, 60.0)
            except RuntimeError:
                proc.kill()
                proc.wait()
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError("the virtual devices did not start: "
                                   + " | ".join(tail)) from None
            raw = asyncio.run(_consume(model, port, streams, hop_s, timeout))
        finally:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    lat = np.asarray(raw.pop("latencies_ms"), dtype=np.float64)
    counts = list(raw.pop("per_stream").values()) or [0]
    expected = max(0, math.floor((seconds - spec.window_s) / hop + 1e-9) + 1)
    out: dict[str, Any] = {
        "streams": streams, "seconds_of_data": seconds, "speed": speed, "hop_s": hop,
        "device_rate_hz": rate_hz, "model_rate_hz": spec.sample_rate_hz,
        "window_s": spec.window_s, "realtime_stream_equivalents": streams * speed,
        "events": int(lat.size), "events_per_stream_min": int(min(counts)),
        "events_per_stream_max": int(max(counts)),
        "windows_expected_per_stream": expected,
        "events_per_s": lat.size / raw["wall_s"] if raw["wall_s"] > 0 else None,
        "events_per_s_offered": streams * speed / hop,
        "cpu_s_per_stream_per_s": raw["cpu_s"] / (streams * seconds),
        "cores_busy": raw["cpu_s"] / raw["wall_s"] if raw["wall_s"] > 0 else None,
        "windows_per_inference_call": (raw["inference_windows"] / raw["inference_calls"]
                                       if raw["inference_calls"] else None),
        **raw,
    }
    if lat.size:
        out["latency"] = latency_summary(lat / 1e3)
        out["cdf_ms"] = cdf_points(lat)
    else:
        out["latency"] = None
        out["cdf_ms"] = []
    # kept up: every window came out, and even the slow ones within one hop (no backlog grew)
    out["keeps_up"] = bool(lat.size and lat.size >= streams * expected
                           and out["latency"]["p99_ms"] < hop * 1e3 and not raw["timed_out"])
    with contextlib.suppress(ZeroDivisionError, TypeError):
        # streams one core could carry at this cost (the recogniser's share only)
        out["streams_per_core"] = 1.0 / out["cpu_s_per_stream_per_s"]
    return out
