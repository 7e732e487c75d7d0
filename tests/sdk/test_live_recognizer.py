"""LiveRecognizer end to end: replay, real pyserial over a pty, TCP; faults injected."""

from __future__ import annotations

import asyncio
import contextlib
import time

import numpy as np
import pytest
from live_support import session, toy_model

from aura_sdk import ConfigError, LabelEvent, LiveRecognizer, StatusEvent
from aura_sdk.live import StreamConfig
from aura_sdk.preprocessing import KernelSpec
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


# The resampler's look-ahead: 10 zero crossings of the lower rate, 0.2 s from 50 Hz or more
# into the toy's 50 Hz model, 1 s from a 10 Hz device.
def _lookahead_ms(device_rate_hz: float) -> float:
    return 1e3 * KernelSpec.design(device_rate_hz, 50.0).half_width_s


def test_real_time_events_carry_their_sensor_to_label_latency(model) -> None:
    # 5.5 s of a 100 Hz wrist played at 1x: windows end at 2, 3, 4 and 5 s (2 s windows, 1 s
    # hop); the last sample of each, 20 ms before its end, needs the input up to 0.2 s past
    # it, so the window is complete once the sample 0.21 s past it arrives, and the replay's
    # 40 ms chunks end exactly there (x.19 s). Nothing is left for the end-of-data flush.
    rec = session(["walking"], 5.5, rate=100.0)
    assert _lookahead_ms(100.0) == pytest.approx(200.0)
    got = [(e, time.monotonic())
           for e in LiveRecognizer.from_replay(rec, model=model, realtime=True, **TOY)]
    events = [e for e, _ in got if isinstance(e, LabelEvent)]
    assert [e.t_end_device for e in events] == pytest.approx([2.0, 3.0, 4.0, 5.0])
    sensor = np.array([e.sensor_latency_ms for e in events], dtype=float)
    processing = np.array([e.latency_ms for e in events])
    before_arrival = sensor - processing  # from the last sample to the completing bytes
    assert (processing >= 0).all()
    assert (before_arrival >= 210.0 - 1e-3).all(), before_arrival
    # the replay wakes when each chunk is due; a loaded machine may wake it late, but not
    # for every window
    assert before_arrival.min() < 216.0, before_arrival
    assert (sensor < 1000.0).all(), sensor
    # on the clock of the event's host span (time.monotonic): the last sample, one model
    # period before t_end, plus the latency is when the event was made, just before we got it
    for e, received in got:
        if isinstance(e, LabelEvent):
            made = e.t_end - 0.02 + e.sensor_latency_ms / 1e3
            assert 0.0 <= received - made < 0.1, (received, made)


def test_a_fast_replay_has_processing_latency_but_no_sensor_time(model) -> None:
    # played as fast as possible, a recording's samples have no moment on the host clock
    rec = session(["walking"], 5.5, rate=100.0)
    events = [e for e in LiveRecognizer.from_replay(rec, model=model, realtime=False, **TOY)
              if isinstance(e, LabelEvent)]
    assert len(events) == 4
    assert all(e.sensor_latency_ms is None for e in events)
    assert all(np.isfinite(e.latency_ms) and 0 <= e.latency_ms < 2000 for e in events)
    assert StatusEvent("s", "gap", 0.0).sensor_latency_ms is None  # uniform printing


def test_the_window_flushed_when_a_device_hangs_up_keeps_its_place_on_the_host_clock(
        model) -> None:
    # 6 s of a 100 Hz wrist in whole 4-sample packets (0 ... 5.99 s) over TCP at 4x: the
    # window ending at 6 s lacks its look-ahead until the device hangs up, and comes out when
    # the lost link flushes the stream, which also resets the clock mapping.
    full = session(["walking"], 6.5, rate=100.0)
    rec = Recording(t=full.t[:600], acc=full.acc[:600], gyro=full.gyro[:600])
    dev = VirtualDevice("aura", rec, packet_s=0.04)

    async def scenario() -> list:
        port_q: asyncio.Queue[int] = asyncio.Queue()
        server = asyncio.create_task(serve_tcp(dev, realtime=True, speed=4.0,
                                               ready=port_q.put_nowait, max_clients=1))
        recog = LiveRecognizer(model=model, stream_config=StreamConfig(reconnect=False), **TOY)
        recog.add_tcp("127.0.0.1", await port_q.get(), "aura")
        got = [e async for e in recog.events() if isinstance(e, LabelEvent)]
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        return got

    t0 = time.monotonic()
    events = asyncio.run(asyncio.wait_for(scenario(), 30))
    t1 = time.monotonic()
    assert [e.t_end_device for e in events] == pytest.approx([2.0, 3.0, 4.0, 5.0, 6.0])
    # every window, the flushed one included, is placed by the mapping it was delivered
    # under: its last sample (one model period before its end) inside this test's run on
    # the host clock, in order
    last = np.array([e.t_end for e in events]) - 0.02
    assert (t0 < last).all() and (last < t1).all(), (t0, last, t1)
    assert (np.diff(last) > 0).all(), last
    # at 4x the device's clock runs too fast for the mapping to follow, which keeps a skew of
    # 1: the time before the bytes arrive is counted in device seconds
    sensor = np.array([e.sensor_latency_ms for e in events])
    assert (sensor >= [e.latency_ms for e in events]).all(), sensor
    assert (sensor[:-1] >= _lookahead_ms(100.0) - 1.0).all(), sensor  # device seconds
    assert sensor[-1] < _lookahead_ms(100.0), sensor  # completed without its look-ahead
    assert (sensor < 1000.0).all(), sensor


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
    # Sensor to label: the 1 kHz device's sample times come from the clock mapping (the
    # earliest arrivals), the 10 Hz replay's from its schedule. Either way the time from a
    # window's last sample to the bytes that complete it is at least the resampler's
    # look-ahead: 0.2 s at 1 kHz, 1 s at 10 Hz; and at most that plus a device period, a
    # packet (50 ms; 0.1 s at 10 Hz) and scheduling. The last window of each stream is
    # completed by the end of its data, without look-ahead.
    for name, rate, packet_ms in (("fast", 1000.0, 50.0), ("slow", 10.0, 100.0)):
        mine = [e for e in events if isinstance(e, LabelEvent) and e.stream == name]
        ahead = _lookahead_ms(rate)
        before = np.array([e.sensor_latency_ms - e.latency_ms for e in mine[:-1]])
        assert (before >= ahead - 1.0).all(), (name, before)
        assert (before < ahead + 1e3 / rate + packet_ms + 150.0).all(), (name, before)
        last = mine[-1]
        assert last.latency_ms <= last.sensor_latency_ms < ahead + 500.0, (name, last)


def test_windows_of_concurrent_streams_share_inference_calls(model) -> None:
    # windows encoded when they come (a few streams' windows encoded ahead go one stream at
    # a time, and a stream's last one ahead may never come: tests/sdk/test_live_early.py)
    recog = LiveRecognizer(model=model, early=False, **TOY)
    for i in range(4):
        recog.add_replay(session(["waving"], 10.0, seed=i), realtime=False, name=f"w{i}")
    events = list(recog)
    assert len(_labels(events)) == 4 * 9
    assert recog.inference_windows == 36
    assert recog.inference_calls < recog.inference_windows  # batched across streams


def test_a_streams_labels_do_not_depend_on_the_streams_beside_it() -> None:
    # one tick encodes the windows of every stream together: with the shipped bundle (an
    # int8 encoder with fixed activation scales) each stream must get exactly the labels it
    # gets alone, however its windows were batched with other wearers'
    from aura_sdk import load_bundle
    from aura_sdk.sim import synthetic_wrist

    model = load_bundle()
    recs = [synthetic_wrist(16.0, rate, seed) for rate, seed in
            ((100.0, 1), (50.0, 2), (100.0, 3), (52.0, 4), (100.0, 5))]

    def run(which: list[int]) -> dict[str, list[tuple]]:
        recog = LiveRecognizer(model=model, smoothing="none")
        for i in which:
            recog.add_replay(recs[i], realtime=False, name=f"w{i}")
        out: dict[str, list[tuple]] = {}
        for e in recog:
            if isinstance(e, LabelEvent):
                out.setdefault(e.stream, []).append(
                    (e.t_start_device, e.label, e.unknown, e.confidence, e.similarity))
        if len(which) > 1:
            assert recog.inference_calls < recog.inference_windows  # really batched
        return out

    together = run([0, 1, 2, 3, 4])
    for i in range(5):
        alone = run([i])[f"w{i}"]
        mixed = together[f"w{i}"]
        assert len(alone) == len(mixed) == 5
        for a, b in zip(alone, mixed, strict=False):
            assert a[:3] == b[:3]
            assert a[3] == pytest.approx(b[3], abs=1e-9)
            assert a[4] == pytest.approx(b[4], abs=1e-9)


def test_many_streams_in_lanes_get_what_each_gets_on_its_own_path(monkeypatch) -> None:
    # with 16 or more streams the recogniser preprocesses clean streams in lanes (arrays over
    # streams); their events must be those of each stream's own preprocessing
    import aura_sdk.live._recognizer as recognizer
    from aura_sdk import load_bundle
    from aura_sdk.sim import synthetic_wrist

    model = load_bundle()
    recs = [synthetic_wrist(14.0, (50.0, 100.0, 104.0)[i % 3], 100 + i) for i in range(16)]

    def run() -> tuple[dict[str, list[tuple]], int]:
        recog = LiveRecognizer(model=model, smoothing="hmm")
        for i, r in enumerate(recs):
            recog.add_replay(r, realtime=False, name=f"w{i:02d}")
        out: dict[str, list[tuple]] = {}
        for e in recog:
            if isinstance(e, LabelEvent):
                out.setdefault(e.stream, []).append(
                    (e.t_start_device, e.label, e.unknown, round(e.confidence, 9)))
        laned = sum(1 for s in recog._streams.values() if s.lanes)  # a lane group was made
        return out, laned

    with_lanes, laned = run()
    monkeypatch.setattr(recognizer, "LANES_FROM_STREAMS", 10**6)
    alone, none = run()
    assert laned == 16 and none == 0
    assert with_lanes == alone
    assert all(len(v) == 4 for v in alone.values()) and len(alone) == 16


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


def test_a_gateways_tcp_links_are_polled_and_give_what_pushed_links_give(monkeypatch) -> None:
    # from 16 streams on the recogniser reads its TCP links once a tick (polled: no loop
    # wake-up per packet); the labels are those of links that push every packet, and the
    # arrivals (kernel stamps) keep both latencies real
    import aura_sdk.live._recognizer as recognizer
    from aura_sdk import load_bundle
    from aura_sdk.sim import synthetic_wrist

    model = load_bundle()
    devs = [VirtualDevice("aura", synthetic_wrist(9.0, (50.0, 100.0)[i % 2], 40 + i),
                          packet_s=0.04) for i in range(16)]

    async def scenario() -> tuple[dict[str, list[tuple]], list[LabelEvent], list[bool]]:
        servers, ports = [], []
        for dev in devs:
            q: asyncio.Queue[int] = asyncio.Queue()
            servers.append(asyncio.create_task(serve_tcp(dev, realtime=True, speed=3.0,
                                                         ready=q.put_nowait, max_clients=1)))
            ports.append(await q.get())
        recog = LiveRecognizer(model=model, stream_config=StreamConfig(reconnect=False))
        for i, p in enumerate(ports):
            recog.add_tcp("127.0.0.1", p, "aura", name=f"w{i:02d}")
        events = [e async for e in recog.events() if isinstance(e, LabelEvent)]
        polled = [bool(s.source.link.polled) for s in recog._streams.values()]
        for t in servers:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        out: dict[str, list[tuple]] = {}
        for e in events:
            out.setdefault(e.stream, []).append((e.t_start_device, e.label,
                                                 round(e.confidence, 6)))
        return out, events, polled

    gateway, events, polled = asyncio.run(asyncio.wait_for(scenario(), 60))
    monkeypatch.setattr(recognizer, "LANES_FROM_STREAMS", 10**6)
    pushed, _, pushed_polled = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert all(polled) and not any(pushed_polled)
    assert gateway == pushed
    assert len(gateway) == 16 and all(len(v) == 2 for v in gateway.values())
    lat = np.array([e.latency_ms for e in events])
    sensor = np.array([e.sensor_latency_ms for e in events])
    assert (lat >= 0).all() and (lat < 1500).all(), lat
    assert (sensor >= lat).all()


def test_a_polled_link_reads_everything_stamps_it_and_sees_the_end() -> None:
    from aura_sdk import TransportError
    from aura_sdk.live._tcp import TcpLink

    async def scenario() -> None:
        got: list[tuple[bytes, float, float]] = []
        writers: list[asyncio.StreamWriter] = []

        async def handle(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            writers.append(w)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        link = TcpLink("127.0.0.1", server.sockets[0].getsockname()[1])
        link.polled = True
        await link.open()
        link.attach(lambda d, a, s: got.append((d, a, s)))
        await asyncio.sleep(0.05)
        off = time.time() - time.monotonic()
        link.poll(off)
        assert got == []  # nothing came: nothing pushed, and no wait
        t_send = time.monotonic()
        writers[0].write(b"abc")
        await writers[0].drain()
        await asyncio.sleep(0.05)
        writers[0].write(b"defg")
        await writers[0].drain()
        await asyncio.sleep(0.05)
        link.poll(time.time() - time.monotonic())
        (data, arrival, since), = got
        assert data == b"abcdefg"
        # the kernel's stamp of the last bytes: after the first send and the previous poll,
        # before this poll
        assert since < t_send + 0.045 < arrival < time.monotonic() - 0.03
        with pytest.raises(TransportError, match="polled"):
            await link.read(0.01)
        writers[0].close()
        await asyncio.sleep(0.05)
        link.poll(time.time() - time.monotonic())
        with pytest.raises(TransportError, match="closed the connection"):
            await link.watch(1.0)
        await link.close()
        server.close()

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_polled_gateway_link_that_drops_reconnects_and_resumes() -> None:
    # a gateway's device hangs up and comes back (a new session, its clock restarted): the
    # stream reconnects, still polled, reports one gap and keeps labelling
    from aura_sdk import load_bundle
    from aura_sdk.sim import synthetic_wrist

    model = load_bundle()
    devs = [VirtualDevice("aura", synthetic_wrist(8.0, 50.0, 60 + i), packet_s=0.04)
            for i in range(16)]

    async def scenario() -> tuple[list, LiveRecognizer]:
        servers, ports = [], []
        for i, dev in enumerate(devs):
            q: asyncio.Queue[int] = asyncio.Queue()
            servers.append(asyncio.create_task(serve_tcp(
                dev, realtime=True, speed=2.0, ready=q.put_nowait,
                max_clients=2 if i == 0 else 1)))
            ports.append(await q.get())
        recog = LiveRecognizer(model=model, include_status=True, stream_config=StreamConfig(
            backoff_initial_s=0.05, backoff_max_s=0.2, stall_timeout_s=3.0))
        for i, p in enumerate(ports):
            recog.add_tcp("127.0.0.1", p, "aura", name=f"w{i:02d}")
        got: list = []

        async def consume() -> None:
            async for ev in recog.events():
                got.append(ev)

        consumer = asyncio.create_task(consume())
        await asyncio.wait_for(servers[0], 30)  # the first device played twice
        await asyncio.sleep(0.5)
        await recog.aclose()
        await asyncio.wait_for(consumer, 10)
        for t in servers[1:]:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        return got, recog

    events, recog = asyncio.run(asyncio.wait_for(scenario(), 60))
    first = [e for e in events if e.stream == "w00"]
    kinds = [e.kind for e in first if isinstance(e, StatusEvent)]
    assert kinds.count("connected") == 2 and "gap" in kinds, kinds
    labels = [e for e in first if isinstance(e, LabelEvent)]
    assert [e.t_start_device for e in labels] == pytest.approx([0.0, 2.5, 0.0, 2.5])
    # two windows before the gap event, two (of the new session) after it
    at = first.index(next(e for e in first if isinstance(e, StatusEvent) and e.kind == "gap"))
    assert [first.index(e) < at for e in labels] == [True, True, False, False]
    assert all(s.source.link.polled for s in recog._streams.values())
    assert recog.health()["w00"]["reconnects"] == 1
