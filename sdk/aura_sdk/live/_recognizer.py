"""``LiveRecognizer``: live zero-shot labels from one or many device streams.

Async first: :meth:`LiveRecognizer.events` is an async iterator; iterating the recogniser
synchronously runs the same machinery on a private event loop in a background thread, and
:meth:`LiveRecognizer.run` calls a callback per event.

One pipeline for every stream: each stream's task only reads (into its inbox); a *tick*
processes all streams with new data together (decode-side bookkeeping per stream, then one
vectorised resampling pass over all of them, see :func:`~aura_sdk.live._stream.process_streams`),
sends every complete window of every stream through the encoder in bounded batches, and scores
them in one pass. A tick runs as soon as data arrives when the last one was at least
``tick_s`` ago, else at that time; windows go to the encoder when the last encoder call was
at least ``infer_s`` ago. Both spacings grow with the number of streams by default (0.2 ms
per stream, at most 250 ms): one device gets its label within milliseconds of the bytes that
complete its window, and a gateway with a thousand devices runs five ticks and five encoder
calls a second, each over every stream, instead of one per packet and one per window (its
labels then come up to a quarter second later: a small part of a 2.5-s hop).

A recogniser of a few streams (fewer than 16) also encodes a stream's next window as soon as
it is settled, after the tick's labels are out (``early=True``): a device at the model's rate
whose samples sit on the model's grid has its window's numbers fixed before the resampler's
look-ahead (0.2 s) confirms them, so when the bytes that complete it come, the window is
compared with the one encoded and its label waits for no encoder call. The encoder runs once
per window either way (twice for a window that changed in between: a late sample off the
grid); the events are exactly those of encoding each window when it comes
(``tests/sdk/test_live_early.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError
from .._model import AuraModel, Labels, load_bundle
from .._recording import Recording
from .._scoring import Scorer, Smoother, SmoothingName, make_smoother
from .._spec import UPRIGHT_SUFFIX, SensorSpec, check_placement
from ..preprocessing import (
    WALKING_PLACEMENTS,
    PreprocessConfig,
    UprightTracker,
    Windows,
    upright_rotation,
)
from ._bag import BagFeed, BagSource
from ._events import Event, LabelEvent, StatusEvent
from ._lanes import LaneGroup
from ._sources import (
    BleLink,
    DecodedSource,
    ReplaySource,
    SampleSource,
    SerialLink,
    TcpLink,
    device_profile,
)
from ._stream import HostTimes, SampleTap, Stream, StreamConfig, process_streams

__all__ = ["LiveRecognizer"]

logger = logging.getLogger(__name__)

_END = object()

#: streams a recogniser must have for them to use lanes (:mod:`._lanes`) and for its TCP
#: links to be polled by the tick (see :mod:`._tcp`)
LANES_FROM_STREAMS = 16
#: shortest time between two polls of a gateway's links: 50 polls a second at most, so an
#: idle gateway of a few dozen devices does not spend more on empty reads than it saved on
#: wake-ups (its labels come up to 20 ms later, a small part of a hop)
_MIN_POLL_S = 0.02

# complete windows waiting for inference: their stream, the windows, when the bytes that
# completed each arrived, and where they sit on the host clock
_Pending = tuple[Stream, Windows, np.ndarray, HostTimes]
#: what ``upright=`` takes: a direction in the device's axes, ``"auto"`` or ``None``
Upright = npt.ArrayLike | str | None


class LiveRecognizer:
    """Recognise activities live from device streams.

    Args:
        model: the model (default: the embedded default bundle via :func:`load_bundle`).
        labels: what to score: ``None`` for the model's default label set (``"everyday"``
            where the bundle has it, else ``"all"``) plus enrolled labels, a label set's name
            (``"sports"``, ``"all"``), or words: bundle labels, enrolled labels or free text
            (see :meth:`AuraModel.resolve_labels`).
        smoothing: ``"hmm"`` (default), ``"average"`` or ``"none"``.
        smoothing_options: e.g. ``{"stay": 0.9}`` for the HMM, ``{"n": 3}`` for the average.
        hop_s: time between windows (default: the model's hop).
        top_k: how many labels each event lists.
        include_status: also yield status events (connected, disconnected, ...); ``gap``
            events are always yielded.
        unknown_threshold, unknown_margin: override the bundle's unknown-rejection settings
            (similarity floor, and gap between the best two similarities).
        health_log_s: log every stream's health counters this often (``None``: never).
        stream_config: reconnection and stall behaviour.
        tick_s: shortest time between two processing ticks (data that arrives sooner after
            a tick waits for the next); 0 processes every arrival at once; ``None``
            (default): 0.2 ms per stream, at most 250 ms. With 16 streams or more the TCP
            links are polled once a tick (:mod:`aura_sdk.live._tcp`), at most every 20 ms.
        infer_s: shortest time between two encoder calls (complete windows wait for the next
            unless ``max_batch`` of them are waiting); ``None`` (default): 0.2 ms per
            stream, at most 250 ms.
        max_batch: most windows per encoder call.
        early: with fewer than 16 streams, encode a stream's next window as soon as it is
            settled (a device at the model's rate whose samples sit on the model's grid: the
            window is known before the look-ahead that confirms it arrives), so its label
            waits only for the samples that complete it, not for the encoder; the window
            that comes is compared with the one encoded and encoded again if they differ.

    Raises:
        ConfigError: unknown label set, labels without a prototype, or unknown smoothing.
        BundleError: no model given and the default bundle cannot be loaded.
    """

    def __init__(
        self, model: AuraModel | None = None, *, labels: Labels = None,
        smoothing: SmoothingName = "hmm", smoothing_options: Mapping[str, float] | None = None,
        hop_s: float | None = None, top_k: int = 3, include_status: bool = False,
        stream_config: StreamConfig | None = None, unknown_threshold: float | None = None,
        unknown_margin: float | None = None, health_log_s: float | None = 60.0,
        tick_s: float | None = None, infer_s: float | None = None, max_batch: int = 256,
        early: bool = True,
    ) -> None:
        if (tick_s or 0) < 0 or (infer_s or 0) < 0 or max_batch < 1:
            raise ConfigError(f"need tick_s >= 0, infer_s >= 0 and max_batch >= 1; got "
                              f"{tick_s}, {infer_s}, {max_batch}")
        self.tick_s = tick_s
        self.infer_s = infer_s
        self.early = early
        #: per stream, its next window encoded ahead: (window, embedding, feature row)
        self._early: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        self.max_batch = max_batch
        self.model = model if model is not None else load_bundle()
        # known labels, enrolled ones (with their few-shot head), or free text through the
        # bundle's text encoder: the same scorer AuraModel.classify uses
        self.scorer: Scorer = self.model.scorer(labels, unknown_threshold=unknown_threshold,
                                                unknown_margin=unknown_margin)
        self._smoothing = smoothing
        self._smoothing_options = dict(smoothing_options or {})
        make_smoother(smoothing, **self._smoothing_options)  # validate now
        spec = self.model.input_spec
        hop = spec.hop_samples if hop_s is None else max(1, round(hop_s * spec.sample_rate_hz))
        if hop > spec.window_samples:
            raise ConfigError(f"hop_s={hop_s} is longer than the {spec.window_s:g} s window")
        self.preprocess_config = PreprocessConfig(hop_samples=hop)
        self.top_k = top_k
        self.health_log_s = health_log_s
        self.include_status = include_status
        self.stream_config = stream_config or StreamConfig()
        self._sources: dict[str, SampleSource] = {}
        #: the log each bag stream reads (:meth:`add_bag`)
        self._bags: dict[str, BagFeed] = {}
        self._placements: dict[str, str | None] = {}
        #: per stream told its wearer's upright (and read so by the encoder): the turn of its
        #: normalised windows, ``x -> x @ rot.T + shift``
        self._turns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: streams finding their wearer's upright as they go (``upright="auto"``)
        self._trackers: dict[str, tuple[str, UprightTracker]] = {}
        self._fed: set[str] = set()
        self._streams: dict[str, Stream] = {}
        self._smoothers: dict[str, Smoother] = {}
        self._callbacks: list[Callable[[Event], None]] = []
        self._sample_callbacks: list[SampleTap] = []
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running = False
        self.inference_calls = 0
        self.inference_windows = 0

    # -- building ---------------------------------------------------------------------------
    def _add(self, source: SampleSource, name: str | None, placement: str | None,
             upright: Upright = None) -> str:
        if self._running:
            raise ConfigError("add streams before iterating the recogniser")
        key = name or source.name
        if key in self._sources:
            raise ConfigError(f"a stream named {key!r} exists; pass name=...")
        check_placement(placement)
        if upright is not None and placement is None:
            raise ConfigError("upright= needs placement=: the upright axis it is turned "
                              "to is the placement's")
        reads = self.model.reads_upright(placement)
        if isinstance(upright, str):
            if upright != "auto":
                raise ConfigError(f"upright={upright!r}: pass 'auto', a 3-vector or None")
            if placement not in WALKING_PLACEMENTS:
                raise ConfigError(
                    f"upright='auto' finds up from the wearer's walking, which only a device "
                    f"at {' or '.join(WALKING_PLACEMENTS)} shows reliably (at the "
                    f"{placement}, chores and sports repeat too); pass the upright as a "
                    "direction in the device's axes instead")
            if reads:
                self._trackers[key] = (placement, UprightTracker(
                    self.model.input_spec.sample_rate_hz))
        elif upright is not None:
            told = SensorSpec(sample_rate_hz=1.0, placement=placement,  # checks the direction
                              upright=tuple(np.asarray(upright, dtype=np.float64).reshape(-1)))
            if reads:
                assert told.upright is not None and placement is not None
                self._turns[key] = self._window_turn(upright_rotation(told.upright, placement))
                placement += UPRIGHT_SUFFIX
        self._placements[key] = placement
        self._sources[key] = source
        return key

    def _window_turn(self, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The turn ``rot`` of both triads as a map of normalised windows: resampling is
        linear and alike for every channel, so turning the windows equals turning the
        samples, once the normalisation's offset is carried across."""
        spec = self.model.input_spec
        mean, std = np.asarray(spec.norm_mean), np.asarray(spec.norm_std)
        full = np.zeros((6, 6))
        full[:3, :3] = full[3:, 3:] = rot
        m = (full * std[None, :]) / std[:, None]  # (x * std + mean) turned, normalised again
        shift = (full @ mean - mean) / std
        return m.astype(np.float32), shift.astype(np.float32)

    def add_serial(self, port: str, device: str = "aura", *, baudrate: int = 115200,
                   rate_hz: float | None = None, options: Mapping[str, Any] | None = None,
                   name: str | None = None, placement: str | None = None,
                   upright: Upright = None) -> str:
        """Add a serial device (pyserial; URLs such as ``loop://`` work). Returns its name.

        ``placement`` (every ``add_*``): where the device is worn, one of
        ``SensorSpec.PLACEMENTS`` (``None``: not said); encoders with a placement input
        read it. ``upright`` (every ``add_*``, with ``placement``): the wearer's upright in
        the device's axes (:attr:`SensorSpec.upright`, e.g. from
        :func:`aura_sdk.preprocessing.estimate_upright` over a recording of the wearer
        walking), or ``"auto"`` (a waist or pocket device): found from the stream's own
        walking as it comes (until about 5 s of walking agree the stream is read as it
        sits); encoders trained on frames turned to it read the stream turned."""
        if device_profile(device).transport == "ble":
            raise ConfigError(f"{device!r} is a BLE profile; use add_ble")
        src = DecodedSource(SerialLink(port, baudrate), device, options=options, rate_hz=rate_hz)
        return self._add(src, name, placement, upright)

    def add_tcp(self, host: str, port: int, device: str = "aura", *,
                rate_hz: float | None = None, options: Mapping[str, Any] | None = None,
                name: str | None = None, placement: str | None = None,
                upright: Upright = None) -> str:
        """Add a device streaming over TCP. Returns its name."""
        src = DecodedSource(TcpLink(host, port), device, options=options, rate_hz=rate_hz)
        return self._add(src, name, placement, upright)

    def add_ble(self, target: str, device: str = "aura-ble", *, rate_hz: float | None = None,
                options: Mapping[str, Any] | None = None, name: str | None = None,
                scan_timeout_s: float = 10.0, client_backend: Any = None,
                scanner_backend: Any = None,
                backend_kwargs: Mapping[str, Any] | None = None,
                placement: str | None = None, upright: Upright = None) -> str:
        """Add a BLE device by advertised name or address (bleak). Returns its name."""
        link = BleLink(target, device_profile(device), scan_timeout_s=scan_timeout_s,
                       client_backend=client_backend, scanner_backend=scanner_backend,
                       backend_kwargs=backend_kwargs)
        return self._add(DecodedSource(link, device, options=options, rate_hz=rate_hz), name,
                         placement, upright)

    def add_replay(self, recording: Recording | str, *, realtime: bool = True,
                   speed: float = 1.0, loop: bool = False, gravity_removed: bool = False,
                   name: str | None = None, placement: str | None = None,
                   chunk_s: float = 0.04, upright: Upright = None) -> str:
        """Add a replayed recording (``aura decode`` CSV, NPZ). Returns its name.

        ``chunk_s``: how much of the recording each delivered batch holds (a device's
        packet)."""
        src = ReplaySource(recording, realtime=realtime, speed=speed, loop=loop,
                           gravity_removed=gravity_removed, name=name, chunk_s=chunk_s)
        return self._add(src, name, placement, upright)

    def add_bag(self, path: str | Path, topics: str | Sequence[str] | None = None, *,
                realtime: bool = False, speed: float = 1.0, gravity_removed: bool = False,
                placement: str | None = None, upright: Upright = None,
                chunk_s: float = 0.1) -> list[str]:
        """Add the ``sensor_msgs/msg/Imu`` topics of a robot log, each its own stream named
        by its topic, all on the log's clock. Returns their names.

        Args:
            path: a rosbag2 directory (sqlite3 or MCAP storage), a ROS 1 ``.bag`` or a bare
                ``.mcap`` file.
            topics: a topic or topics (default: every IMU topic of the log).
            realtime: play at the stamps' pace (default: as fast as possible).
            speed: real-time speed factor.
            gravity_removed: the IMU publishes acceleration without gravity (REP 145 says
                with; some drivers differ).
            placement, upright: as for :meth:`add_serial`, for every topic added.
            chunk_s: how much of a topic each delivered batch covers.

        Raises:
            BagError: the log cannot be read (a log that breaks part way is raised by the
                iteration, after the labels of what came before).
            ConfigError: a topic is missing or not an IMU topic.
            MissingExtraError: the ``ros`` extra is not installed.
        """
        names = [topics] if isinstance(topics, str) else topics
        feed = BagFeed(path, names, realtime=realtime, speed=speed, chunk_s=chunk_s)
        added = []
        for topic in feed.topics:
            key = self._add(BagSource(feed, topic, gravity_removed=gravity_removed), None,
                            placement, upright)
            self._bags[key] = feed
            added.append(key)
        return added

    def bag_stamp_ns(self, stream: str, t_device: float) -> int:
        """The ROS time (ns) of a bag stream's device time (``LabelEvent.t_end_device``).

        Raises:
            ConfigError: ``stream`` is not a bag stream, or has delivered no sample yet.
        """
        feed = self._bags.get(stream)
        if feed is None or feed.t0_ns is None:
            raise ConfigError(f"{stream!r} is not a bag stream that has started")
        return feed.t0_ns + round(t_device * 1e9)

    @classmethod
    def from_bag(cls, path: str | Path, topic: str | Sequence[str] | None = None,
                 **kw: Any) -> LiveRecognizer:
        """The IMU topics of a robot log (:meth:`add_bag`); recogniser options in ``kw``."""
        rec, rest = cls._split(kw)
        rec.add_bag(path, topic, **rest)
        return rec

    @classmethod
    def from_serial(cls, port: str, device: str = "aura", **kw: Any) -> LiveRecognizer:
        """One serial device; recogniser options (``model``, ``labels``, ...) go in ``kw``."""
        rec, rest = cls._split(kw)
        rec.add_serial(port, device, **rest)
        return rec

    @classmethod
    def from_tcp(cls, host: str, port: int, device: str = "aura", **kw: Any) -> LiveRecognizer:
        """One TCP device."""
        rec, rest = cls._split(kw)
        rec.add_tcp(host, port, device, **rest)
        return rec

    @classmethod
    def from_ble(cls, target: str, device: str = "aura-ble", **kw: Any) -> LiveRecognizer:
        """One BLE device by name or address."""
        rec, rest = cls._split(kw)
        rec.add_ble(target, device, **rest)
        return rec

    @classmethod
    def from_replay(cls, recording: Recording | str, **kw: Any) -> LiveRecognizer:
        """One replayed recording."""
        rec, rest = cls._split(kw)
        rec.add_replay(recording, **rest)
        return rec

    _OWN = ("model", "labels", "smoothing", "smoothing_options", "hop_s", "top_k",
            "include_status", "stream_config", "unknown_threshold", "unknown_margin",
            "health_log_s", "tick_s", "infer_s", "max_batch", "early")

    @classmethod
    def _split(cls, kw: dict[str, Any]) -> tuple[LiveRecognizer, dict[str, Any]]:
        own = {k: kw.pop(k) for k in list(kw) if k in cls._OWN}
        return cls(**own), kw

    # -- running ----------------------------------------------------------------------------
    def on_event(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback`` for every event, before it is yielded."""
        self._callbacks.append(callback)

    def on_samples(self, callback: SampleTap) -> None:
        """Call ``callback(stream, t, acc, gyro)`` with every stream's samples as the
        recogniser takes them (``t``: seconds on the stream's timeline, the device's clock
        where it sends one; SI units), e.g. to show them live. It runs inside the
        processing tick: keep it short."""
        self._sample_callbacks.append(callback)

    def health(self) -> dict[str, dict[str, float]]:
        """Per-stream counters (frames, CRC errors, lost samples, gaps, reconnects, ...)."""
        return {name: s.stats() for name, s in self._streams.items()}

    async def events(self) -> AsyncIterator[Event]:
        """Yield events until every stream has ended or :meth:`aclose` is called.

        Raises:
            ConfigError: no stream was added.
        """
        if not self._sources:
            raise ConfigError("add a stream first (add_serial, add_ble, add_tcp, add_replay, "
                              "add_bag)")
        if self._running:
            raise ConfigError("this recogniser is already running")
        self._running = True
        stop = self._stop = asyncio.Event()
        out: asyncio.Queue[Any] = asyncio.Queue()
        wake = asyncio.Event()
        dirty: list[Stream] = []
        ready: list[_Pending] = []

        def on_status(ev: StatusEvent) -> None:
            if self.include_status or ev.kind == "gap":
                out.put_nowait(ev)

        def on_ready(stream: Stream) -> None:  # the stream's inbox just got data
            dirty.append(stream)
            wake.set()

        def on_windows(stream: Stream, w: Windows, arrival: np.ndarray, host: HostTimes) -> None:
            ready.append((stream, w, arrival, host))
            wake.set()

        n_streams = len(self._sources)
        early = self.early and n_streams < LANES_FROM_STREAMS
        tick_gap = self.tick_s if self.tick_s is not None else min(0.25, 2e-4 * n_streams)
        infer_gap = self.infer_s if self.infer_s is not None else min(0.25, 2e-4 * n_streams)
        last_infer = [-math.inf]

        def tick(force: bool = False) -> None:
            streams = dirty[:]
            dirty.clear()
            process(streams, force)
            if early and streams:  # after this tick's labels are out: off their path
                self._encode_early(streams)

        def process(streams: list[Stream], force: bool) -> None:
            if streams:
                try:
                    process_streams(streams)
                except Exception as exc:  # a bug must not stop every other stream
                    logger.exception("processing failed")
                    for stream in streams:
                        stream.drop_pending()
                        out.put_nowait(StatusEvent(stream=stream.name, kind="error",
                                                   t_host=time.monotonic(),
                                                   detail=f"processing failed: {exc}"))
            if not ready:
                return
            now = time.monotonic()
            if (not force and now - last_infer[0] < infer_gap
                    and sum(len(w) for _, w, _, _ in ready) < self.max_batch):
                # more windows may join them: come back when the encoder is due
                asyncio.get_running_loop().call_later(last_infer[0] + infer_gap - now,
                                                      wake.set)
                return
            last_infer[0] = now
            items = ready[:]
            ready.clear()
            i = 0
            while i < len(items):  # bounded encoder calls, whole streams in each
                n = self._batch_streams(items[i:])
                self._infer(items[i : i + n], out)
                i += n

        # streams of one setup share a lane group; a lane pays off with many streams (one
        # stream's tick is cheaper on its own path, which the one-device latency feels)
        lanes: dict[tuple[object, ...], LaneGroup] | None = (
            {} if len(self._sources) >= LANES_FROM_STREAMS else None)
        for name, src in self._sources.items():
            self._streams[name] = Stream(name, src, self.model.input_spec,
                                         self.preprocess_config, self.stream_config,
                                         on_windows, on_status, on_ready, lanes=lanes)
            self._smoothers[name] = make_smoother(self._smoothing, **self._smoothing_options)
        if self._sample_callbacks:
            taps = tuple(self._sample_callbacks)

            def tap(name: str, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray) -> None:
                for cb in taps:
                    cb(name, t, acc, gyro)

            for s in self._streams.values():
                s.tap = tap
        # a gateway polls its TCP links once a tick instead of waking for every packet
        polled = [s for s in self._streams.values()
                  if lanes is not None and getattr(s.source, "can_poll", False)]
        for s in polled:
            s.source.set_polled(True)  # type: ignore[attr-defined]
        runners = [asyncio.create_task(s.run(stop), name=f"aura-stream-{s.name}")
                   for s in self._streams.values()]

        async def ticker() -> None:
            last = -math.inf
            while True:
                if polled:  # a tick every tick_gap, reading every polled link first
                    wait = last + max(tick_gap, _MIN_POLL_S) - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    wake.clear()
                    real_minus_mono = time.time() - time.monotonic()
                    for s in polled:
                        s.source.poll(real_minus_mono)  # type: ignore[attr-defined]
                else:
                    await wake.wait()
                    wait = last + tick_gap - time.monotonic()
                    if wait > 0:  # busy: let the next tick take more at once
                        await asyncio.sleep(wait)
                wake.clear()
                last = time.monotonic()
                tick()

        tasks = [asyncio.create_task(ticker(), name="aura-tick")]
        if self.health_log_s:
            tasks.append(asyncio.create_task(self._log_health(self.health_log_s),
                                             name="aura-health"))

        async def finish() -> None:
            await asyncio.gather(*runners, return_exceptions=True)
            tick(force=True)  # what the streams left (they drained their inboxes as they ended)
            failures = {id(f): f for s in self._streams.values()
                        if (f := getattr(s.source, "failure", None)) is not None}
            for f in failures.values():  # raised once the labels before the fault are out
                out.put_nowait(f)
            out.put_nowait(_END)

        closer = asyncio.create_task(finish(), name="aura-finish")
        try:
            while True:
                item = await out.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                for cb in self._callbacks:
                    cb(item)
                yield item
        finally:
            stop.set()
            for t in (*runners, closer, *tasks):
                t.cancel()
            for t in (*runners, closer, *tasks):
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            for s in self._streams.values():
                with contextlib.suppress(Exception):
                    await s.source.close()
            self._running = False

    async def _log_health(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            for name, h in self.health().items():
                logger.info("%s health: %s", name,
                            ", ".join(f"{k}={v:g}" for k, v in sorted(h.items()) if v))

    def _batch_streams(self, items: list[_Pending]) -> int:
        """How many of ``items`` (from the first) fit in one encoder call (at least one)."""
        total = 0
        for n, (_, w, _, _) in enumerate(items):
            total += len(w)
            if total > self.max_batch:
                return max(1, n)
        return len(items)

    def _infer(self, items: list[_Pending], out: asyncio.Queue[Any]) -> None:
        """Encode, score and smooth the windows of ``items`` in one pass; emit their events.
        A window encoded ahead (:meth:`_encode_early`) that equals the one that came is not
        encoded again."""
        try:
            if self._trackers:
                self._track_upright(items)
            done = [self._encoded_early(s, w) for s, w, _, _ in items]
            todo = [it for it, d in zip(items, done, strict=True) if d is None]
            t0 = time.perf_counter()
            fresh: tuple[np.ndarray, np.ndarray | None] | None = None
            if todo:
                fresh = self._encode([(s, w.x) for s, w, _, _ in todo])
                self.inference_calls += 1
                self.inference_windows += int(fresh[0].shape[0])
            infer_ms = (time.perf_counter() - t0) * 1000.0
            embs: list[np.ndarray] = []
            feats: list[np.ndarray | None] = []
            j = 0
            for (_, w, _, _), d in zip(items, done, strict=True):
                if d is None:
                    assert fresh is not None
                    n = len(w)
                    embs.append(fresh[0][j : j + n])
                    feats.append(None if fresh[1] is None else fresh[1][j : j + n])
                    j += n
                else:
                    embs.append(d[0])
                    feats.append(d[1])
            emb = embs[0] if len(embs) == 1 else np.concatenate(embs, axis=0)
            feat = (None if any(f is None for f in feats) else
                    feats[0] if len(feats) == 1 else np.concatenate(feats, axis=0))  # type: ignore[arg-type]
            cos, probs = self.scorer.score(emb, feat)
        except Exception as exc:  # an inference failure must not hang the caller
            logger.exception("inference failed")
            for stream, _, _, _ in items:
                out.put_nowait(StatusEvent(stream=stream.name, kind="error",
                                           t_host=time.monotonic(),
                                           detail=f"inference failed: {exc}"))
            return
        i = 0
        n_todo = sum(len(w) for _, w, _, _ in todo)
        for (stream, w, arrival, host), d in zip(items, done, strict=True):
            n = len(w)
            if d is None:
                stream.health["inference_ms_total"] += infer_ms * n / n_todo
            self._emit_labels(stream, w, cos[i : i + n], probs[i : i + n], arrival, host, out)
            i += n

    def _encode(self, items: list[tuple[Stream, np.ndarray]]
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Embeddings (and feature rows, when the scorer needs them) of each stream's windows
        ``(N, W, 6)``, turned to its wearer's upright and read at its placement."""
        parts = [self._turned(s, x) for s, x in items]
        x = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        places = {self._placements[s.name] for s, _ in items}
        where: str | list[str | None] | None = (
            next(iter(places)) if len(places) == 1 else
            [self._placements[s.name] for s, xs in items for _ in range(len(xs))])
        return self.model.encode_windows(x, features=self.scorer.needs_features,
                                         placement=where)

    def _encoded_early(self, stream: Stream, w: Windows
                       ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The embedding (and feature row) of ``w`` when it is one window that was encoded
        ahead exactly as it came."""
        got = self._early.pop(stream.name, None)
        if got is None:
            return None
        if len(w) != 1 or not np.array_equal(got[0], w.x[0]):
            stream.health["windows_encoded_early_unused"] += 1
            return None
        stream.health["windows_encoded_early"] += 1
        return got[1][None], None if got[2] is None else got[2][None]

    def _encode_early(self, streams: list[Stream]) -> None:
        """Encode the next window of every stream whose next window is settled (see
        :meth:`Stream.next_window`), unless it was already; streams turned to an upright they
        are still finding are left alone (their turn may change before the window comes)."""
        todo: list[tuple[Stream, np.ndarray]] = []
        for stream in streams:
            if stream.name in self._trackers:
                continue
            x = stream.next_window()
            if x is None:
                continue
            had = self._early.get(stream.name)
            if had is not None and np.array_equal(had[0], x):
                continue
            todo.append((stream, x[None]))
        if not todo:
            return
        try:
            t0 = time.perf_counter()
            emb, feats = self._encode(todo)
            ms = (time.perf_counter() - t0) * 1000.0 / len(todo)
            self.inference_calls += 1
            self.inference_windows += len(todo)
        except Exception:  # the window is encoded when it comes instead
            logger.exception("encoding a window ahead failed")
            return
        for i, (stream, x) in enumerate(todo):
            self._early[stream.name] = (x[0], emb[i], None if feats is None else feats[i])
            stream.health["early_inference_ms_total"] += ms

    def _track_upright(self, items: list[_Pending]) -> None:
        """Feed the windows of ``upright="auto"`` streams to their trackers; a stream whose
        wearer's upright is found (or moved) is read turned to it from these windows on."""
        spec = self.model.input_spec
        mean, std = np.asarray(spec.norm_mean[:3]), np.asarray(spec.norm_std[:3])
        hop = self.preprocess_config.hop_samples or spec.hop_samples
        for stream, w, _, _ in items:
            got = self._trackers.get(stream.name)
            if got is None or not len(w):
                continue
            placement, tracker = got
            changed = False
            for x in w.x:  # each window's samples the one before did not hold
                new = x if stream.name not in self._fed else x[-min(hop, len(x)):]
                self._fed.add(stream.name)
                changed |= tracker.feed(new[:, :3] * std + mean)
            if changed and tracker.upright is not None:
                self._turns[stream.name] = self._window_turn(
                    upright_rotation(tracker.upright, placement))
                self._placements[stream.name] = placement + UPRIGHT_SUFFIX
                logger.info("%s: the wearer's upright found from walking: %s", stream.name,
                            np.round(tracker.upright, 3).tolist())

    def _turned(self, stream: Stream, x: np.ndarray) -> np.ndarray:
        """A stream's windows ``x`` as its encoder reads them (turned to its wearer's
        upright)."""
        turn = self._turns.get(stream.name)
        if turn is None:
            return x
        return (x @ turn[0].T + turn[1]).astype(np.float32)

    def _emit_labels(self, stream: Stream, w: Windows, cos: np.ndarray, probs: np.ndarray,
                     arrival: np.ndarray, host: HostTimes, out: asyncio.Queue[Any]) -> None:
        smoother = self._smoothers[stream.name]
        smoothed = np.stack([smoother.update(p) for p in probs])
        t_last = host.t_last
        for j, d in enumerate(self.scorer.decisions(cos, smoothed, self.top_k)):
            now = time.monotonic()  # `arrival` and the host times are on this clock
            out.put_nowait(LabelEvent(
                stream=stream.name, label=d.label, confidence=d.confidence,
                similarity=d.similarity, top_k=d.top_k, unknown=d.unknown,
                t_start=float(host.t_start[j]), t_end=float(host.t_end[j]),
                latency_ms=(now - float(arrival[j])) * 1000.0,
                t_start_device=float(w.t_start[j]), t_end_device=float(w.t_end[j]),
                sensor_latency_ms=None if t_last is None else (now - float(t_last[j])) * 1000.0))

    async def aclose(self) -> None:
        """Stop every stream; the iteration of :meth:`events` then ends."""
        if self._stop is not None:
            self._stop.set()

    async def __aenter__(self) -> LiveRecognizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sync wrappers ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Event]:
        """Iterate events synchronously (the async machinery runs in a background thread)."""
        q: queue.Queue[Any] = queue.Queue()
        ready = threading.Event()

        async def pump() -> None:
            self._thread_loop = asyncio.get_running_loop()
            ready.set()
            try:
                async for ev in self.events():
                    q.put(ev)
            except BaseException as exc:  # hand errors to the caller's thread
                q.put(exc)
            finally:
                q.put(_END)

        self._thread = threading.Thread(target=asyncio.run, args=(pump(),), daemon=True,
                                        name="aura-live")
        self._thread.start()
        ready.wait(5.0)
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def run(self, callback: Callable[[Event], None], *, duration_s: float | None = None) -> None:
        """Call ``callback`` for each event until the streams end or ``duration_s`` passes."""
        end = None if duration_s is None else time.monotonic() + duration_s
        for ev in self:
            callback(ev)
            if end is not None and time.monotonic() >= end:
                break

    def close(self) -> None:
        """Stop everything (safe from any thread, idempotent); joins the background thread."""
        loop, stop = self._thread_loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(10.0)
        self._thread = None

    def __enter__(self) -> LiveRecognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
