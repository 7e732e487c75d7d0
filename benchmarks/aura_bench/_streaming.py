"""End-to-end streaming latency and the gateway scale test, through ``LiveRecognizer``.

Virtual AURA wrists (:mod:`aura_bench._devices`, their own process) stream over TCP into one
``LiveRecognizer`` in this process, exactly as real devices on a gateway would. Each
``LabelEvent`` carries two latencies, both summarised per run: ``latency_ms``, processing, from
the arrival of the bytes that completed its window to the event (decode, resample, window,
encode, score, smooth), and ``sensor_latency_ms``, sensor to label, from the window's last
sample in host time to the event (the resampler's look-ahead, packetisation and transport on
top). With N streams the recogniser
batches the windows that are ready together into one inference call; CPU time of this process
(``time.process_time``: every thread) per stream per second of data says what one stream
costs, and how many fit on a core.

With ``cpu=`` the recogniser's thread runs pinned to that core and the virtual devices on the
others (Linux). :func:`quietest_cpu` picks the core: on a virtual machine the cores are not
alike (one services the disk's and network's interrupts, and a thread there loses the CPU
for milliseconds several times a second), so it takes the core with the fewest device
interrupts, then the one a spinning probe saw lose the least time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from aura_sdk import AuraModel, LabelEvent, LiveRecognizer, StatusEvent
from aura_sdk.live import StreamConfig
from aura_sdk.preprocessing import KernelSpec, PreprocessConfig

from ._stats import cdf_points, latency_summary

__all__ = ["device_interrupts", "idle_calls", "latency_rows", "quietest_cpu", "reference_row_id",
           "resampler_lookahead_s", "run_streams"]

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


def resampler_lookahead_s(device_rate_hz: float, model_rate_hz: float) -> float:
    """How far past a sample the resampler must see before it can emit it: its kernel's half
    width (the recogniser's default preprocessing). The wait for the first input beyond it
    adds up to one device period more."""
    zeros = PreprocessConfig().kernel_zeros
    return KernelSpec.design(device_rate_hz, model_rate_hz, zeros=zeros).half_width_s


def latency_rows(processing_ms: Sequence[float], sensor_ms: Sequence[float | None]
                 ) -> dict[str, Any]:
    """Both latencies of a run's label events, summarised (p50 / p90 / p99 / ..., CDF points).

    Args:
        processing_ms: each event's ``latency_ms``.
        sensor_ms: each event's ``sensor_latency_ms``; ``None`` (no real-time clock) is
            counted in ``sensor_latency_missing`` and left out of the summary.

    Returns:
        ``latency`` and ``cdf_ms`` (processing), ``sensor_latency`` and ``sensor_cdf_ms``
        (sensor to label); a summary is ``None`` when it has no values.
    """
    proc = np.asarray(processing_ms, dtype=np.float64)
    known = [x for x in sensor_ms if x is not None]
    sensor = np.asarray(known, dtype=np.float64)
    return {
        "latency": latency_summary(proc / 1e3) if proc.size else None,
        "cdf_ms": cdf_points(proc),
        "sensor_latency": latency_summary(sensor / 1e3) if sensor.size else None,
        "sensor_cdf_ms": cdf_points(sensor),
        "sensor_latency_missing": len(sensor_ms) - len(known),
    }


#: the probe of one core: spin for a while, add up the pauses longer than 0.3 ms (the thread was
#: off the CPU: another task, the hypervisor) and print them
_PROBE = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
end = time.perf_counter() + float(sys.argv[2])
last = time.perf_counter()
lost, n, worst = 0.0, 0, 0.0
while last < end:
    t = time.perf_counter()
    if t - last > 3e-4:
        lost, n, worst = lost + t - last, n + 1, max(worst, t - last)
    last = t
print(lost, n, worst)
"""


def usable_cpus() -> list[int]:
    """The cores this process may run on (empty where the OS does not say)."""
    getter = getattr(os, "sched_getaffinity", None)
    return sorted(getter(0)) if getter is not None else []


def device_interrupts(text: str | None = None) -> dict[int, int]:
    """Device interrupts each core has serviced since boot (Linux ``/proc/interrupts``, or
    ``text`` in its format: the numbered lines, i.e. disks, network and other devices, not
    timers or IPIs); empty where the file cannot be read."""
    if text is None:
        try:
            text = Path("/proc/interrupts").read_text()
        except OSError:
            return {}
    lines = text.splitlines()
    if not lines:
        return {}
    cpus = [int(c[3:]) for c in lines[0].split() if c.startswith("CPU") and c[3:].isdigit()]
    out = dict.fromkeys(cpus, 0)
    for line in lines[1:]:
        parts = line.split()
        if not parts or not parts[0].rstrip(":").isdigit():
            continue
        for c, v in zip(cpus, parts[1 : 1 + len(cpus)], strict=False):
            if v.isdigit():
                out[c] += int(v)
    return out


def quietest_cpu(seconds: float = 3.0) -> dict[str, Any] | None:
    """The core to run a latency-bound thread on, with every core's figures (``None``: one
    core, or no way to pin).

    The core that has serviced the fewest device interrupts (a disk's or network card's
    interrupts land on one core of a virtual machine, and a thread there is held up for
    milliseconds at a time; the usual real-time advice keeps latency-bound threads off that
    core), ties broken by a probe that spins on every usable core at once for ``seconds`` and
    adds up the pauses longer than 0.3 ms each one saw.

    Raises:
        RuntimeError: a probe failed.
    """
    cpus = usable_cpus()
    if len(cpus) < 2 or not hasattr(os, "sched_setaffinity"):
        return None
    procs = {c: subprocess.Popen([sys.executable, "-c", _PROBE, str(c), repr(seconds)],
                                 stdout=subprocess.PIPE, text=True) for c in cpus}
    probe: dict[int, dict[str, float]] = {}
    for c, proc in procs.items():
        out, _ = proc.communicate(timeout=seconds + 60.0)
        if proc.returncode != 0:
            raise RuntimeError(f"the probe of core {c} failed (exit {proc.returncode})")
        lost, n, worst = (float(v) for v in out.split())
        probe[c] = {"lost_ms_per_s": lost * 1e3 / seconds, "pauses_per_s": n / seconds,
                    "worst_pause_ms": worst * 1e3}
    irqs = device_interrupts()
    for c in probe:
        probe[c]["device_interrupts"] = float(irqs.get(c, 0))
    best = min(probe, key=lambda c: (probe[c]["device_interrupts"],
                                     probe[c]["lost_ms_per_s"], c))
    return {"cpu": best, "seconds": seconds,
            "probe": {str(c): v for c, v in sorted(probe.items())}}


def _one_node_session(window: int) -> Any:
    """An onnxruntime session of a one-node graph (``y = x + x`` on one window): the cost of
    a call with next to no work in it."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    v = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "add",
                              [v("x", TensorProto.FLOAT, [1, window, 6])],
                              [v("y", TensorProto.FLOAT, [1, window, 6])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


@contextlib.contextmanager
def pinned_to(cpu: int | None) -> Iterator[None]:
    """Run the calling thread on core ``cpu`` alone inside the block (``None``: as it is),
    then on every core it had before."""
    if cpu is None:
        yield
        return
    before = set(usable_cpus())
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def idle_calls(model: AuraModel, *, gap_s: float = 0.05, runs: int = 40,
               cpu: int | None = None) -> dict[str, Any]:
    """How long a batch-1 encoder call takes after the thread idled ``gap_s`` (as a live
    recogniser calls it: once per window, packets apart) and back to back, and the same for
    a one-node onnxruntime graph; p50 / p90 in ms, on core ``cpu`` when given."""
    x = np.zeros((1, model.input_spec.window_samples, 6), np.float32)
    tiny = _one_node_session(x.shape[1])
    feed = {"x": x}
    calls = {"encoder": lambda: model.encode_windows(x, features=False),
             "one_node": lambda: tiny.run(["y"], feed)}
    out: dict[str, Any] = {"gap_s": gap_s, "runs": runs}
    with pinned_to(cpu):
        for name, call in calls.items():
            for _ in range(5):
                call()
            for mode, gap in (("idle", gap_s), ("back_to_back", 0.0)):
                ts = []
                for _ in range(runs):
                    if gap:
                        time.sleep(gap)
                    t0 = time.perf_counter()
                    call()
                    ts.append((time.perf_counter() - t0) * 1e3)
                p50, p90 = np.percentile(ts, [50, 90])
                out[f"{name}_{mode}_ms"] = {"p50": float(p50), "p90": float(p90)}
    return out


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
    sensor: list[float | None] = []
    per_stream: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    errors: list[str] = []

    async def consume() -> None:
        async for ev in rec.events():
            if isinstance(ev, LabelEvent):
                latencies.append(ev.latency_ms)
                sensor.append(ev.sensor_latency_ms)
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
    early = sum(h.get("windows_encoded_early", 0.0) for h in health.values())
    early_ms = sum(h.get("early_inference_ms_total", 0.0) for h in health.values())
    windows = sum(h.get("windows", 0.0) for h in health.values())
    return {
        "latencies_ms": latencies, "sensor_latencies_ms": sensor,
        "per_stream": dict(per_stream), "statuses": dict(statuses),
        "errors": errors, "cpu_s": cpu, "wall_s": wall, "timed_out": timed_out,
        "inference_calls": rec.inference_calls, "inference_windows": rec.inference_windows,
        "sdk_inference_ms_per_window": infer_ms / windows if windows else None,
        "windows_encoded_early": int(early),
        "early_inference_ms_per_window": early_ms / early if early else None,
        "frames_lost": sum(h.get("decoder_frames_lost", 0.0) for h in health.values()),
        "frames_corrupt": sum(h.get("decoder_frames_corrupt", 0.0) for h in health.values()),
    }


def run_streams(model: AuraModel, streams: int, seconds: float, *, speed: float = 1.0,
                hop_s: float | None = None, rate_hz: float = DEVICE_RATE_HZ,
                timeout_s: float | None = None, cpu: int | None = None) -> dict[str, Any]:
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
        cpu: run the recogniser's thread on this core alone and the devices on the others
            (``None``: wherever the OS puts them).

    Returns:
        a JSON-able row: processing (``latency``) and sensor-to-label (``sensor_latency``)
        percentiles and CDFs, the resampler's look-ahead, events, events/s, CPU per stream.

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
    others = [c for c in usable_cpus() if c != cpu] if cpu is not None else []
    with tempfile.TemporaryFile() as err, \
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
        try:
            if others:  # (it is still starting: nothing timed has begun)
                os.sched_setaffinity(proc.pid, others)
            with pinned_to(cpu):
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
    sensor = raw.pop("sensor_latencies_ms")
    counts = list(raw.pop("per_stream").values()) or [0]
    expected = max(0, math.floor((seconds - spec.window_s) / hop + 1e-9) + 1)
    out: dict[str, Any] = {
        "streams": streams, "seconds_of_data": seconds, "speed": speed, "hop_s": hop,
        "device_rate_hz": rate_hz, "model_rate_hz": spec.sample_rate_hz,
        "window_s": spec.window_s, "realtime_stream_equivalents": streams * speed,
        "resampler_lookahead_s": resampler_lookahead_s(rate_hz, spec.sample_rate_hz),
        "pinned_cpu": cpu,
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
        **latency_rows(lat.tolist(), sensor),
    }
    # kept up: every window came out, and even the slow ones within one hop (no backlog grew)
    out["keeps_up"] = bool(lat.size and lat.size >= streams * expected
                           and out["latency"]["p99_ms"] < hop * 1e3 and not raw["timed_out"])
    with contextlib.suppress(ZeroDivisionError, TypeError):
        # streams one core could carry at this cost (the recogniser's share only)
        out["streams_per_core"] = 1.0 / out["cpu_s_per_stream_per_s"]
    return out
