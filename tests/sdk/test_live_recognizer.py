"""LiveRecognizer end to end: replay, real pyserial over a pty, TCP; faults injected."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest
from live_support import session, toy_model

from aura_sdk import ConfigError, LabelEvent, LiveRecognizer, StatusEvent
from aura_sdk.live import StreamConfig
from aura_sdk.recording import Recording
from aura_sdk.sim import PtyLink, VirtualDevice, run_device, serve_tcp


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return toy_model(tmp_path_factory)


# The toy encoder's prototypes sit within 0.01-0.1 cosine of each other (it is an untrained
# format demonstrator), so its bundle's 0.02 unknown margin would reject most windows.
TOY = {"unknown_margin": 0.001}


def _labels(events) -> list[str]:
    return [e.label for e in events if isinstance(e, LabelEvent)]


def _accuracy(events, rec, t0: float) -> float:
    """Share of label events whose window centre (recording time) has that label."""
    hits = n = 0
    for e in events:
        if isinstance(e, LabelEvent):
            truth = rec.label_at((e.t_start + e.t_end) / 2 - t0)
            if truth is not None:
                n += 1
                hits += e.label == truth
    return hits / max(n, 1)


def test_replay_recognises_a_scripted_session(model) -> None:
    rec = session(["still", "walking", "running", "waving"], 8.0)
    # the toy's evidence per window is weak (see TOY), too weak for a sticky HMM to follow
    events = list(LiveRecognizer.from_replay(rec, model=model, realtime=False,
                                             smoothing="none", **TOY))
    labels = _labels(events)
    assert len(labels) == 31  # 32 s, 2 s windows, 1 s hop
    starts = [e.t_start for e in events if isinstance(e, LabelEvent)]
    np.testing.assert_allclose(np.diff(starts), 1.0, atol=1e-6)  # 1 s hop, in order
    # the first window starts at recording time 0; windows straddling a change in the script
    # may go either way, the rest must match it
    assert _accuracy(events, rec, starts[0]) > 0.75


def test_events_carry_their_windows_device_times(model) -> None:
    # a 40 Hz device whose timestamps jitter by up to 2 ms: the windows are resampled onto the
    # model's 50 Hz grid, which starts at the first sample; 2 s windows every 1 s
    rec = session(["still", "walking", "running"], 6.0, rate=40.0)
    t = rec.t + np.random.default_rng(5).uniform(-0.002, 0.002, rec.t.size)
    t[0] = 0.0
    rec = Recording(t=t, acc=rec.acc, gyro=rec.gyro, spans=rec.spans)
    events = [e for e in LiveRecognizer.from_replay(rec, model=model, realtime=False, **TOY)
              if isinstance(e, LabelEvent)]
    start = np.array([e.t_start_device for e in events])
    end = np.array([e.t_end_device for e in events])
    assert len(events) == 16  # windows that end by the last sample (17.975 s)
    np.testing.assert_allclose(start, np.arange(16.0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(end, start + 2.0, rtol=0, atol=1e-9)
    # a fast replay plays device time t at host time (its start + t): one offset for all
    host = np.array([(e.t_start, e.t_end) for e in events])
    offset = host - np.column_stack([start, end])
    assert np.ptp(offset) < 1e-6


def test_live_over_a_real_serial_pty_with_garbage_injected(model) -> None:
    rec = session(["walking", "running"], 6.0)
    dev = VirtualDevice("aura", rec, packet_s=0.04)
    rng = np.random.default_rng(3)

    async def scenario() -> tuple[list, dict]:
        with PtyLink() as link:
            class Noisy:  # a noisy line: garbage between frames
                async def send(self, data: bytes) -> None:
                    if rng.random() < 0.1:
                        await link.send(rng.integers(0, 256, 40, dtype=np.uint8).tobytes())
                    await link.send(data)

                async def recv(self, timeout: float) -> bytes:
                    return await link.recv(timeout)

            player = asyncio.create_task(run_device(dev, Noisy(), speed=4.0))
            rec_ = LiveRecognizer.from_serial(link.port, "aura", model=model, **TOY,
                                              stream_config=StreamConfig(reconnect=False))
            got = []

            async def consume() -> None:
                async for ev in rec_.events():
                    got.append(ev)
                    if sum(isinstance(e, LabelEvent) for e in got) >= 6:
                        await rec_.aclose()

            await asyncio.wait_for(consume(), 30)
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
            return got, rec_.health()

    events, health = asyncio.run(scenario())
    labels = _labels(events)
    assert len(labels) >= 6
    assert set(labels) <= {"walking", "running", "unknown"}
    h = next(iter(health.values()))
    assert h["decoder_bytes_dropped"] > 0 or h["decoder_frames_corrupt"] > 0  # garbage counted
    assert h["windows"] >= 6
    lat = [e.latency_ms for e in events if isinstance(e, LabelEvent)]
    assert all(0 <= x < 2000 for x in lat)


def test_unplug_and_replug_is_seen_only_as_a_gap(model, tmp_path) -> None:
    rec = session(["walking"], 30.0)
    link_path = tmp_path / "ttyAURA"

    async def scenario() -> list:
        dev = VirtualDevice("aura", rec)
        link = PtyLink(link_path)
        recog = LiveRecognizer.from_serial(
            str(link_path), "aura", model=model, **TOY,
            stream_config=StreamConfig(backoff_initial_s=0.05, stall_timeout_s=2.0))
        got: list = []

        async def device() -> None:
            nonlocal link
            # 16 s of stream time at 4x, then the cable is pulled for ~1 s, then plugged back
            # (the device reboots: idle, its clock restarted, until the host starts it again)
            await run_device(dev, link, speed=4.0, duration_s=16.0)
            link.close()
            await asyncio.sleep(1.0)
            link = PtyLink(link_path)
            await run_device(dev, link, speed=4.0, duration_s=16.0)
            await asyncio.sleep(0.5)
            link.close()

        async def consume() -> None:
            async for ev in recog.events():
                got.append(ev)

        consumer = asyncio.create_task(consume())
        await asyncio.wait_for(device(), 40)
        await recog.aclose()
        await asyncio.wait_for(consumer, 10)
        return got

    events = asyncio.run(scenario())
    gaps = [e for e in events if isinstance(e, StatusEvent)]
    assert [g.kind for g in gaps] == ["gap"]  # the caller sees one gap, nothing else
    assert gaps[0].gap_s is not None and 0.5 < gaps[0].gap_s < 5.0
    labels = _labels(events)
    before = [e for e in events if isinstance(e, LabelEvent) and e.t_end <= gaps[0].t_host]
    after = [e for e in events if isinstance(e, LabelEvent) and e.t_start >= gaps[0].t_host - 0.5]
    assert before and after  # labels on both sides of the unplug
    assert labels.count("walking") >= 0.7 * len(labels)


def test_tcp_device_and_a_10hz_and_a_1khz_device_together(model) -> None:
    slow = session(["running"], 12.0, rate=10.0)
    fast = session(["walking"], 12.0, rate=1000.0)
    dev_fast = VirtualDevice("aura", fast, packet_s=0.05)

    async def scenario() -> tuple[list, LiveRecognizer]:
        port_q: asyncio.Queue[int] = asyncio.Queue()
        server = asyncio.create_task(serve_tcp(dev_fast, realtime=True,
                                               ready=port_q.put_nowait, max_clients=1))
        port = await port_q.get()
        recog = LiveRecognizer(model=model, stream_config=StreamConfig(reconnect=False), **TOY)
        recog.add_tcp("127.0.0.1", port, "aura", name="fast")
        recog.add_replay(slow, realtime=True, name="slow")
        got = []
        async for ev in recog.events():
            got.append(ev)
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        return got, recog

    events, recog = asyncio.run(asyncio.wait_for(scenario(), 60))
    by = {"fast": [], "slow": []}
    for e in events:
        if isinstance(e, LabelEvent):
            by[e.stream].append(e.label)
    assert len(by["fast"]) >= 8 and len(by["slow"]) >= 8
    assert by["fast"].count("walking") >= 0.7 * len(by["fast"])
    assert by["slow"].count("running") >= 0.7 * len(by["slow"])


def test_windows_of_concurrent_streams_share_inference_calls(model) -> None:
    recog = LiveRecognizer(model=model, **TOY)
    for i in range(4):
        recog.add_replay(session(["waving"], 10.0, seed=i), realtime=False, name=f"w{i}")
    events = list(recog)
    assert len(_labels(events)) == 4 * 9
    assert recog.inference_windows == 36
    assert recog.inference_calls < recog.inference_windows  # batched across streams


def test_sync_iteration_callbacks_and_errors(model) -> None:
    rec = session(["still"], 6.0)
    seen: list = []
    r = LiveRecognizer.from_replay(rec, model=model, realtime=False, **TOY)
    r.on_event(seen.append)
    r.run(lambda e: None)
    assert len(seen) == 5 and all(e.label == "still" for e in seen)
    with pytest.raises(ConfigError, match="add a stream first"):
        list(LiveRecognizer(model=model))
    with pytest.raises(ConfigError, match="no prototype"):
        LiveRecognizer(model=model, labels=["cooking"])


def test_a_port_that_does_not_exist_is_reported_and_retried(model) -> None:
    recog = LiveRecognizer.from_serial("/dev/aura-does-not-exist", "aura", model=model,
                                       include_status=True,
                                       stream_config=StreamConfig(backoff_initial_s=0.05,
                                                                  backoff_max_s=0.1))

    async def scenario() -> list:
        got = []
        async for ev in recog.events():
            got.append(ev)
            if len(got) >= 3:
                await recog.aclose()
        return got

    events = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert [e.kind for e in events] == ["reconnecting"] * 3
    assert "cannot open the serial port" in events[0].detail


def test_a_silent_device_is_reported_stalled_reopened_and_resumes(model) -> None:
    rec = session(["running"], 40.0)
    dev = VirtualDevice("aura", rec)

    async def scenario() -> list:
        with PtyLink() as link:
            class Hiccup:  # the device goes quiet for 2.5 s after 4 s, link still up
                def __init__(self) -> None:
                    self.t0 = asyncio.get_running_loop().time()

                async def send(self, data: bytes) -> None:
                    now = asyncio.get_running_loop().time() - self.t0
                    if 4.0 < now < 6.5:
                        return
                    await link.send(data)

                async def recv(self, timeout: float) -> bytes:
                    return await link.recv(timeout)

            player = asyncio.create_task(run_device(dev, Hiccup(), speed=2.0,
                                                    duration_s=20.0))
            recog = LiveRecognizer.from_serial(
                link.port, "aura", model=model, include_status=True, **TOY,
                stream_config=StreamConfig(stall_timeout_s=1.0, backoff_initial_s=0.05))
            got: list = []

            async def consume() -> None:
                async for ev in recog.events():
                    got.append(ev)

            consumer = asyncio.create_task(consume())
            await asyncio.wait_for(player, 30)
            await asyncio.sleep(0.3)
            await recog.aclose()
            await asyncio.wait_for(consumer, 10)
            return got

    events = asyncio.run(scenario())
    kinds = [e.kind for e in events if isinstance(e, StatusEvent)]
    assert "stalled" in kinds and "gap" in kinds
    assert kinds.index("stalled") < kinds.index("gap")
    i = kinds.index("gap")
    labels_after = [e for e in events[i:] if isinstance(e, LabelEvent)]
    assert len(labels_after) >= 3  # recognition resumed after the silence


def test_a_10hz_device_without_timestamps_whose_clock_runs_2_percent_slow(model) -> None:
    # a "10 Hz" WitMotion that really samples at 9.8 Hz: the count-based timeline learns the
    # drift from arrivals instead of piling up a false gap every few seconds
    rec = session(["waving"], 14.0, rate=10.0)
    dev = VirtualDevice("witmotion", rec, packet_s=0.1)

    async def scenario() -> tuple[list, dict]:
        with PtyLink() as link:
            player = asyncio.create_task(run_device(dev, link, speed=0.98))
            recog = LiveRecognizer.from_serial(link.port, "witmotion", model=model, **TOY,
                                               smoothing="none",
                                               stream_config=StreamConfig(reconnect=False))
            got: list = []

            async def consume() -> None:
                async for ev in recog.events():
                    got.append(ev)

            consumer = asyncio.create_task(consume())
            await asyncio.wait_for(player, 30)
            await asyncio.sleep(0.3)
            health = recog.health()
            await recog.aclose()
            await asyncio.wait_for(consumer, 10)
            return got, health

    events, health = asyncio.run(scenario())
    h = next(iter(health.values()))
    assert h["gaps"] == 0 and h["preprocess_gaps"] == 0
    labels = _labels(events)
    assert len(labels) >= 8
    assert labels.count("waving") >= 0.7 * len(labels), labels
