"""One live stream: source -> clock -> acc/gyro join -> preprocessing -> windows.

A :class:`Stream` owns its source and keeps it alive: a lost link or a stalled device is
reported (status events, health counters), the source is reopened with exponential backoff,
and the data gap shows up as one ``gap`` event.

Reading and processing are apart. The stream's task only reads: what arrives is put in the
stream's inbox and the recogniser is told (``on_ready``). The recogniser's tick then
processes every stream with new data together (:func:`process_streams`): each stream decodes
its reads, maps its clock and joins its channels (:meth:`Stream.stage`), the resampling of all
of them runs as one vectorised pass (:func:`~aura_sdk.preprocessing.resolve_plans`), and each
stream windows its output (:meth:`Stream.complete`). Complete windows go to the recogniser
through ``on_windows``; nothing here runs the model. When the link is lost or the source ends
the stream processes what is left in its inbox itself (:meth:`Stream.drain`) before it resets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aura_bridge import ImuSamples
from aura_bridge.aura import AuraStreamDecoder, decode_streams

from .._errors import AuraError, TransportError
from .._spec import ModelInputSpec, SensorSpec
from ..preprocessing import (
    PreprocessConfig,
    Preprocessor,
    PreprocessPlan,
    ResampledChunk,
    Windows,
    resolve_plans,
)
from ..preprocessing._resample import ON_GRID_S
from ..preprocessing._window import normalize
from ._clock import ClockMapper, CountingClock
from ._events import StatusEvent, StatusKind
from ._lanes import LaneGroup, LaneOutput, group_key
from ._merge import ChannelMerger
from ._sources import SampleSource

__all__ = ["HostTimes", "Stream", "StreamConfig", "process_streams"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamConfig:
    """How a stream deals with its link.

    Attributes:
        read_timeout_s: longest single wait for data (bounds shutdown latency).
        stall_timeout_s: no samples for this long means the device stalled: reconnect.
        reconnect: reopen a lost link (``False``: the stream ends).
        backoff_initial_s, backoff_max_s: exponential backoff between reconnection attempts.
        clock_reset_s: a device timestamp this far behind the last one means its clock
            restarted (a reboot).
    """

    read_timeout_s: float = 0.2
    stall_timeout_s: float = 5.0
    reconnect: bool = True
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    clock_reset_s: float = 1.0


@dataclass(frozen=True)
class HostTimes:
    """Where delivered windows sit on the host clock (``time.monotonic()`` seconds).

    Fixed when the windows are delivered: a lost link or a restarted device clock resets the
    clock mapping right after the last windows are flushed, before they are scored.

    Attributes:
        t_start, t_end: ``(N,)`` the windows' spans.
        t_last: ``(N,)`` their last samples (one model period before ``t_end``); ``None``
            where the stream has no real-time clock (a fast replay).
    """

    t_start: npt.NDArray[np.float64]
    t_end: npt.NDArray[np.float64]
    t_last: npt.NDArray[np.float64] | None


WindowSink = Callable[["Stream", Windows, npt.NDArray[np.float64], HostTimes], None]
StatusSink = Callable[[StatusEvent], None]
ReadySink = Callable[["Stream"], None]
#: sees every sample a stream takes: ``(stream name, timeline times, acc, gyro)``
SampleTap = Callable[[str, npt.NDArray[np.float64], npt.NDArray[np.float64],
                      npt.NDArray[np.float64]], None]


@dataclass
class _Staged:
    """A stream's reads of one tick, decoded, clock-mapped, joined and planned.

    Attributes:
        plan: the preprocessing plan (its resampling is resolved with other streams').
        last_t: ``(R,)`` timeline time of the last joined row of each read (non-decreasing).
        arrival: ``(R,)`` host time each read arrived.
    """

    plan: PreprocessPlan
    last_t: npt.NDArray[np.float64]
    arrival: npt.NDArray[np.float64]


#: device seconds over which a stream keeps only the earliest packet for its clock fit
_CLOCK_BUCKET_S = 1.0

#: clean ticks a stream processes on its own before it (re)joins a lane
_LANE_AFTER_CLEAN_TICKS = 3
#: ticks a stream stays on its own path after its lane could not take its data
_LANE_COOLDOWN_TICKS = 50


@dataclass
class _LaneInput:
    """A lane stream's reads of one tick: joined samples, and per read its last time and
    arrival (for crediting windows)."""

    t: list[npt.NDArray[np.float64]]
    acc: list[npt.NDArray[np.float64]]
    gyro: list[npt.NDArray[np.float64]]
    last_t: list[float]
    arrival: list[float]


def _joined(parts: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


#: lane streams with raw bytes a tick needs before their decoding goes through
#: :func:`~aura_bridge.aura.decode_streams` together (one stream decodes faster alone)
_DECODE_TOGETHER_FROM = 4


def _decode_together(streams: list[Stream]) -> None:
    """The raw AURA bytes of lane streams, decoded for all of them in one pass; a stream the
    batch decoder leaves (anything unusual) keeps its bytes for its own decoder."""
    todo = [s for s in streams if s.lane is not None and s.raw and not s.inbox
            and isinstance(getattr(s.source, "decoder", None), AuraStreamDecoder)]
    if len(todo) < _DECODE_TOGETHER_FROM:
        return
    got = decode_streams([s.source.decoder for s in todo],  # type: ignore[attr-defined]
                         [s.raw[0] if len(s.raw) == 1 else b"".join(s.raw) for s in todo])
    for s, g in zip(todo, got, strict=True):
        s.decoded = g


def _per_frame(t: npt.NDArray[np.float64], per: int, frames: list[int], arrivals: list[float],
               since: list[float]) -> tuple[list[int], list[float]]:
    """Reads of one frame each for chunks that brought several frames at once (a polled
    link's): the chunk's last frame came at its arrival (the kernel's stamp of its last
    bytes), each earlier frame earlier by the device time between their last samples, and
    none before ``since`` (the previous poll). Chunks of a pushing link (``since`` equal to
    the arrival) stay as they are."""
    if all(f <= 1 or s >= a for f, a, s in zip(frames, arrivals, since, strict=True)):
        return frames, arrivals
    ends = t[per - 1 :: per]  # each frame's last sample
    out_f: list[int] = []
    out_a: list[float] = []
    at = 0
    for f, a, s in zip(frames, arrivals, since, strict=True):
        if f > 1 and s < a:
            e = ends[at : at + f]
            out_f += [1] * f
            out_a += np.maximum(s, a - (e[-1] - e)).tolist()
        else:
            out_f.append(f)
            out_a.append(a)
        at += f
    return out_f, out_a


def process_streams(streams: list[Stream]) -> None:
    """Process the inboxes of ``streams`` together (the recogniser's tick).

    Streams in a lane (:mod:`._lanes`) hand their samples to their lane group, which
    resamples and windows all of them at once; the others stage their own preprocessing
    plans, whose resampling is resolved in one vectorised pass, and window their output. A
    lane stream that receives anything unusual leaves its lane and goes the second way; a
    stream that has been clean for a few ticks joins a lane (see module doc)."""
    own: list[Stream] = []
    by_group: dict[int, tuple[LaneGroup, list[tuple[Stream, _LaneInput]]]] = {}
    _decode_together(streams)
    for s in streams:
        got = s.collect_for_lane()
        if got is None:
            own.append(s)
        else:
            assert s.lane is not None
            by_group.setdefault(id(s.lane[0]), (s.lane[0], []))[1].append((s, got))
    late: list[tuple[Stream, _LaneInput]] = []
    for group, members in by_group.values():
        outs, evicted = group.step(
            [m[0].lane_slot for m in members], [_joined(m[1].t) for m in members],
            [_joined(m[1].acc) for m in members], [_joined(m[1].gyro) for m in members])
        slot_stream = {m[0].lane_slot: m for m in members}
        for o in outs:
            stream, got = slot_stream[o.slot]
            stream.deliver_lane(o, got)
        for i in evicted:
            stream, got = members[i]
            stream.leave_lane(cooldown=True)
            late.append((stream, got))
    staged = [(s, s.stage()) for s in own]
    staged += [(s, s.stage_collected(got)) for s, got in late]
    plans = [st.plan.resample for _, sts in staged for st in sts]
    chunks = iter(resolve_plans(plans))
    for stream, sts in staged:
        for st in sts:
            stream.complete(st, next(chunks))
        stream.maybe_join_lane()


class Stream:
    """A device stream kept alive (see module doc).

    Args:
        name: the stream's name in events.
        source: where samples come from.
        model_spec: the model's input spec (rate, window, gravity, normalisation).
        preprocess: preprocessing knobs (hop, gap tolerance).
        config: link behaviour.
        on_windows: receives ``(stream, windows, arrival, host_times)`` for complete windows
            (``arrival``: ``(N,)``, when the bytes that completed each window arrived).
        on_status: receives status events.
        on_ready: told when the inbox gets data (default: process it at once, alone).
        lanes: the recogniser's lane groups by setup (shared by its streams), which this
            stream joins when its data is clean; ``None``: never in a lane.
    """

    def __init__(self, name: str, source: SampleSource, model_spec: ModelInputSpec,
                 preprocess: PreprocessConfig, config: StreamConfig, on_windows: WindowSink,
                 on_status: StatusSink, on_ready: ReadySink | None = None,
                 lanes: dict[tuple[object, ...], LaneGroup] | None = None) -> None:
        self.name = name
        self.source = source
        self.model_spec = model_spec
        self.preprocess_config = preprocess
        self.config = config
        self._on_windows = on_windows
        self._on_status = on_status
        self._on_ready: ReadySink = on_ready or (lambda s: s.drain())
        self.inbox: list[tuple[list[ImuSamples], float]] = []
        self.raw: list[bytes] = []  # chunks a pushing link left, decoded at the next tick
        self.raw_arrival: list[float] = []
        #: per raw chunk, a time before which none of its bytes came (a polled link's last
        #: poll; the arrival itself for a link that pushes each chunk as it comes)
        self.raw_since: list[float] = []
        self.lanes = lanes
        self.lane: tuple[LaneGroup, int] | None = None
        self._obs: tuple[float, float] | None = None  # the clock bucket's earliest arrival
        self._obs_from = 0.0
        self._clean_ticks = 0
        self.mapper = ClockMapper()
        self.merger = ChannelMerger()
        self._pre: Preprocessor | None = None
        self._counting: CountingClock | None = None
        self._last_dev_t: float | None = None
        self._last_arrival: float | None = None
        self._gap_open_since: float | None = None
        self._fault: AuraError | None = None
        #: this tick's raw bytes, decoded already (by :func:`_decode_together`)
        self.decoded: ImuSamples | None = None
        #: sees every sample as the stream takes it (a live view; see ``on_samples``)
        self.tap: SampleTap | None = None
        self.health: dict[str, float] = {
            "batches": 0, "samples": 0, "windows": 0, "gaps": 0, "reconnects": 0,
            "disconnects": 0, "stalls": 0, "clock_resets": 0, "open_failures": 0,
            "inference_ms_total": 0.0, "windows_encoded_early": 0,
            "windows_encoded_early_unused": 0,
            "early_inference_ms_total": 0.0,
        }

    @property
    def realtime(self) -> bool:
        """Whether the samples come at the pace they were taken (a fast replay's do not)."""
        return bool(getattr(self.source, "realtime", True))

    def host_time(self, t: np.ndarray) -> np.ndarray:
        """Host (``time.monotonic()``) time of stream timeline times: a replay's own schedule,
        else the clock mapping, whose line lies under every arrival in its history (so a
        sample's host time is never after the arrival of the bytes that carried it)."""
        own = getattr(self.source, "host_time", None)
        if callable(own):  # a replay knows exactly when it plays each sample
            return np.asarray(own(t), dtype=np.float64)
        self._observe_pending()
        return self.mapper.to_host(t)

    def _stamp(self, n: int, arrival: float) -> np.ndarray:
        """Timeline times for ``n`` samples of a device that sends no timestamps."""
        if self._counting is None:
            rate = self.source.nominal_rate_hz
            self._counting = CountingClock(rate, max(0.5, 10.0 / rate))
        return self._counting.stamp(n, arrival)

    def _observe(self, device_t: float, arrival: float) -> None:
        """Tell the clock mapper about a batch, through per-bucket minima: of the batches in
        each :data:`_CLOCK_BUCKET_S` of device time only the earliest arrival (least
        ``arrival - device_t``) reaches it, which is all its lower-envelope fit uses inside
        a bucket, at a fraction of the cost (the fit is refreshed once a window)."""
        p = self._obs
        if p is not None and 0.0 <= device_t - self._obs_from < _CLOCK_BUCKET_S:
            if arrival - device_t < p[1] - p[0]:
                self._obs = (device_t, arrival)
            return
        if p is not None:
            self.mapper.observe(*p)
        self._obs = (device_t, arrival)
        self._obs_from = device_t

    def _observe_pending(self) -> None:
        if self._obs is not None:
            self.mapper.observe(*self._obs)
            self._obs = None

    def _reset_clock(self) -> None:
        self._obs = None
        self.mapper.reset()

    # -- status -----------------------------------------------------------------------------
    def _status(self, kind: StatusKind, detail: str = "", gap_s: float | None = None) -> None:
        ev = StatusEvent(stream=self.name, kind=kind, t_host=time.monotonic(), detail=detail,
                         gap_s=gap_s)
        log = logger.warning if kind in ("disconnected", "stalled", "error") else logger.info
        log("%s: %s %s", self.name, kind, detail)
        self._on_status(ev)

    def stats(self) -> dict[str, float]:
        """Health counters, including the decoder's and the preprocessor's."""
        if self.lane is not None and self._pre is not None:
            self.lane[0].sync_counts(self.lane[1], self._pre, self.merger)
        out = dict(self.health)
        dec = getattr(self.source, "decoder", None)
        if dec is not None:
            out.update({f"decoder_{k}": v for k, v in dec.stats.as_dict().items()})
        if self._pre is not None:
            out.update({f"preprocess_{k}": v for k, v in self._pre.stats.as_dict().items()})
        out.update({f"merge_{k}": v for k, v in self.merger.counters.items()})
        own = getattr(self.source, "counters", None)  # a source's own (a bag's dropped messages)
        if own is not None:
            out.update(own)
        return out

    # -- the loop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Read, process and reconnect until ``stop`` is set or the source ends."""
        backoff = self.config.backoff_initial_s
        first = True
        while not stop.is_set():
            try:
                await self.source.open()
            except TransportError as exc:
                self.health["open_failures"] += 1
                if not self.config.reconnect:
                    self._status("error", str(exc))
                    return
                self._status("reconnecting", f"{exc}; retrying in {backoff:.1f} s")
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, self.config.backoff_max_s)
                continue
            if not first:
                self.health["reconnects"] += 1
            first = False
            self._status("connected", self.source.name)
            try:
                ended = await self._read_loop(stop)
            except TransportError as exc:
                self.drain()  # what arrived before the link went belongs to the old session
                self.health["disconnects"] += 1
                self._status("disconnected", str(exc))
                self._link_lost()
                await self.source.close()
                if not self.config.reconnect:
                    self._status("ended", "link lost and reconnect is off")
                    return
                backoff = self.config.backoff_initial_s
                await _sleep_or_stop(stop, backoff)
                continue
            except AuraError as exc:  # bad data the pipeline cannot take: report, stop
                self.drop_pending()
                self._status("error", str(exc))
                await self.source.close()
                return
            await self.source.close()
            if ended:
                self.drain()
                self._flush()
                self._status("ended", "the source has no more data")
                return

    async def _read_loop(self, stop: asyncio.Event) -> bool:
        if getattr(self.source, "can_push", False):
            return await self._push_loop(stop)
        last_data = time.monotonic()
        while not stop.is_set():
            batches, arrival = await self.source.next_batch(self.config.read_timeout_s)
            if self._fault is not None:
                raise self._fault
            if batches:
                last_data = arrival
                self.inbox.append((batches, arrival))
                if len(self.inbox) == 1:
                    self._on_ready(self)
                if self._fault is not None:
                    raise self._fault
            elif self.source.finished:
                return True
            elif time.monotonic() - last_data > self.config.stall_timeout_s:
                self.health["stalls"] += 1
                self._status("stalled", f"no samples for {self.config.stall_timeout_s:g} s")
                raise TransportError(
                    f"no samples for {self.config.stall_timeout_s:g} s (device stalled)",
                    device=self.name)
        return False

    async def _push_loop(self, stop: asyncio.Event) -> bool:
        """A link that pushes its bytes: samples land in the inbox as they arrive (no task
        wakes per packet); this loop only watches for a lost link, a stall and faults. A
        stall is time without new samples, not without bytes: a device whose frames cannot
        be decoded (its HELLO was lost, so the decoder holds them) is reconnected too."""
        ready = self._on_ready

        def sink(data: bytes, arrival: float, since: float) -> None:  # raw until the tick
            raw = self.raw  # (the tick swaps in a fresh list when it takes them)
            raw.append(data)
            self.raw_arrival.append(arrival)
            self.raw_since.append(since)
            if len(raw) == 1 and not self.inbox:
                ready(self)

        # a stall is noticed within 1.5 stall timeouts; a gateway's thousand streams wake
        # for it a few times a minute each, not every second
        every = max(self.config.read_timeout_s, self.config.stall_timeout_s / 2)
        seen, progress = self.health["samples"], time.monotonic()
        self.source.attach(sink)  # type: ignore[attr-defined]
        try:
            while not stop.is_set():
                await self.source.watch(every)  # type: ignore[attr-defined]
                if self._fault is not None:
                    raise self._fault
                now = time.monotonic()
                if self.health["samples"] != seen:
                    seen, progress = self.health["samples"], now
                # (bytes the tick has not taken yet are judged at the next look)
                if now - progress > self.config.stall_timeout_s and not self.raw:
                    self.health["stalls"] += 1
                    self._status("stalled", f"no samples for {self.config.stall_timeout_s:g} s")
                    raise TransportError(
                        f"no samples for {self.config.stall_timeout_s:g} s (device stalled)",
                        device=self.name)
        finally:
            self.source.attach(None)  # type: ignore[attr-defined]
        return False

    # -- processing -------------------------------------------------------------------------
    def _preprocessor(self) -> Preprocessor:
        if self._pre is None:
            spec = SensorSpec(sample_rate_hz=self.source.nominal_rate_hz,
                              gravity_removed=self.source.gravity_removed)
            self._pre = Preprocessor(spec, self.model_spec, self.preprocess_config)
        return self._pre

    def drop_pending(self) -> None:
        """Forget what arrived and was not processed (after a fault)."""
        self.inbox.clear()
        self.raw, self.raw_arrival, self.raw_since = [], [], []
        self.decoded = None

    def drain(self) -> None:
        """Process the inbox now, alone (a lost link, the end, or a stream outside a tick)."""
        if self.inbox or self.raw:
            process_streams([self])

    def _take_raw(self) -> tuple[ImuSamples, list[int], list[float]] | None:
        """Decode the chunks a pushing link left since the last tick, in one decoder call.
        Returns the samples merged, how many equal frames each chunk completed and the
        chunks' arrivals, when the decoder says so; otherwise the samples go to the inbox
        at the last chunk's arrival (the time by which every byte had come) and ``None``."""
        chunks, arrivals, since = self.raw, self.raw_arrival, self.raw_since
        self.raw, self.raw_arrival, self.raw_since = [], [], []
        done, self.decoded = self.decoded, None
        if done is not None:
            got: list[ImuSamples] = [done]
            frames: list[int] | None = [c.count(0) for c in chunks]
        else:
            got, frames = self.source.decode_chunks(chunks)  # type: ignore[attr-defined]
        if not got:
            return None
        if frames is not None:
            (b,) = got
            total, n = sum(frames), len(b)
            if total and n % total == 0 and b.t is not None:
                if len(since) == len(arrivals):
                    frames, arrivals = _per_frame(b.t, n // total, frames, arrivals, since)
                return b, frames, arrivals
        self.inbox.append((got, arrivals[-1]))
        return None

    def _unpack_raw(self) -> None:
        """The raw chunks into inbox reads: each chunk's samples with its own arrival where
        the decoder says which chunk completed which frames (see :meth:`_take_raw`)."""
        if not self.raw:
            return
        taken = self._take_raw()
        if taken is None:
            return
        self._split_into_inbox(*taken)

    def _split_into_inbox(self, b: ImuSamples, frames: list[int], arrivals: list[float]
                          ) -> None:
        """Merged samples back into one inbox read per chunk that completed frames."""
        per = len(b) // sum(frames)
        at = 0
        assert b.t is not None
        for f, arrival in zip(frames, arrivals, strict=True):
            if f:
                k = at + f * per
                self.inbox.append(([ImuSamples(b.acc[at:k], b.gyro[at:k], b.t[at:k])],
                                   arrival))
                at = k

    def stage_collected(self, got: _LaneInput) -> list[_Staged]:
        """The preprocessing plan of samples a lane gave back (their clock bookkeeping is
        done): through the channel join, then one plan."""
        try:
            ts, rows = [], []
            for t, a, g in zip(got.t, got.acc, got.gyro, strict=True):
                t_rows, r = self.merger.feed(t, a, g)
                if t_rows.size:
                    ts.append(t_rows)
                    rows.append(r)
            if not ts:
                return []
            plan = self._preprocessor().plan(_joined(rows), _joined(ts))
            return [_Staged(plan, np.asarray(got.last_t), np.asarray(got.arrival))]
        except AuraError as exc:
            self._fault = exc
            return []

    def stage(self, items: list[tuple[list[ImuSamples], float]] | None = None
              ) -> list[_Staged]:
        """Take the inbox: decode-side bookkeeping, clock, channel join, and the preprocessing
        plan of the rows (one per tick unless the device clock restarts in between). A fault
        the pipeline cannot take (an :class:`~aura_sdk.AuraError`) is kept for the stream's
        task to report, and the inbox is dropped."""
        if items is None:
            self._unpack_raw()
            items, self.inbox = self.inbox, []
        self.leave_lane()
        try:
            return self._stage(items)
        except AuraError as exc:
            self._fault = exc
            return []

    def _stage(self, items: list[tuple[list[ImuSamples], float]]) -> list[_Staged]:
        out: list[_Staged] = []
        ts: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        last_t: list[float] = []
        arrivals: list[float] = []

        def plan() -> None:
            if ts:
                out.append(_Staged(self._preprocessor().plan(_joined(rows), _joined(ts)),
                                   np.asarray(last_t), np.asarray(arrivals)))
                ts.clear()
                rows.clear()
                last_t.clear()
                arrivals.clear()

        for batches, arrival in items:
            self.health["batches"] += 1
            self._resumed(arrival)
            got = False
            for b in batches:
                n = len(b)
                if n == 0:
                    continue
                self.health["samples"] += n
                if b.t is not None:
                    t = b.t
                    if self._restarted(float(t[0]), self._last_dev_t):
                        self.health["clock_resets"] += 1
                        plan()
                        # the old timeline's rows are windowed before the flush closes it
                        for st in out:
                            self.complete(st, st.plan.resample.resolve())
                        out.clear()
                        self._flush()
                        self._reset_clock()
                        self._status("gap", "the device clock restarted", gap_s=0.0)
                    self._last_dev_t = float(t[-1])
                else:
                    t = self._stamp(n, arrival)
                self._observe(float(t[-1]), arrival)
                if self.tap is not None:
                    self.tap(self.name, t, b.acc, b.gyro)
                t_rows, r = self.merger.feed(t, b.acc, b.gyro)
                if t_rows.size:
                    ts.append(t_rows)
                    rows.append(r)
                    got = True
            if got:
                last_t.append(float(ts[-1][-1]))
                arrivals.append(arrival)
            self._last_arrival = arrival
        plan()
        return out

    def complete(self, staged: _Staged, chunk: ResampledChunk) -> None:
        """Window a staged plan's resolved resampling and deliver the windows."""
        w = staged.plan.finish(chunk)
        if len(w) or w.gaps:
            self._deliver(w, self._credit(w, staged.last_t, staged.arrival))

    def _credit(self, w: Windows, last_t: npt.NDArray[np.float64],
                arrival: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """When the bytes that completed each window arrived: the arrival of the first read
        whose samples reach beyond the window's last sample by more than the resampler's
        look-ahead (``last_t``, ``arrival``: per read)."""
        ahead = 0.0 if self._pre is None else self._pre.lookahead_s
        need = w.t_end - 1.0 / self.model_spec.sample_rate_hz + ahead
        at = np.minimum(np.searchsorted(last_t, need, side="right"), arrival.size - 1)
        return arrival[at]

    def _deliver(self, w: Windows, arrival: np.ndarray) -> None:
        for g in w.gaps:
            self.health["gaps"] += 1
            self._status("gap", "the device stopped sending for a while", gap_s=g.length_s)
        if len(w):
            self.health["windows"] += len(w)
            last = w.t_end - 1.0 / self.model_spec.sample_rate_hz
            # one clock mapping for the starts, ends and last samples of all the windows
            t_start, t_end, t_last = np.split(
                self.host_time(np.concatenate([w.t_start, w.t_end, last])), 3)
            host = HostTimes(t_start, t_end, t_last if self.realtime else None)
            self._on_windows(self, w, np.broadcast_to(arrival, (len(w),)).astype(np.float64),
                             host)

    def _resumed(self, arrival: float) -> None:
        """The first data since a lost link came back: one ``gap`` event for the hole."""
        if self._gap_open_since is not None:
            self.health["gaps"] += 1
            self._status("gap", "data resumed after the link came back",
                         gap_s=arrival - self._gap_open_since)
            self._gap_open_since = None

    def _restarted(self, first_t: float, last_t: float | None) -> bool:
        """Whether a batch starting at device time ``first_t`` after one ending at
        ``last_t`` means the device clock restarted (a reboot)."""
        return last_t is not None and first_t < last_t - self.config.clock_reset_s

    # -- lanes ------------------------------------------------------------------------------
    @property
    def lane_slot(self) -> int:
        assert self.lane is not None
        return self.lane[1]

    def collect_for_lane(self) -> _LaneInput | None:
        """Take the inbox for the stream's lane: clock bookkeeping per batch and the joined
        samples, or ``None`` (inbox untouched) when the stream is not in a lane or its reads
        need the full path (a restarted device clock)."""
        if self.lane is None:
            return None
        if self.raw and not self.inbox:
            fast = self._collect_raw()
            if fast is not None:
                return fast
        self._unpack_raw()
        if not self.inbox:
            return None
        last = self._last_dev_t
        for batches, _ in self.inbox:  # a restart goes the full path
            for b in batches:
                if b.t is not None and len(b):
                    if self._restarted(float(b.t[0]), last):
                        self.leave_lane()
                        return None
                    last = float(b.t[-1])
        items, self.inbox = self.inbox, []
        got = _LaneInput([], [], [], [], [])
        health = self.health
        for batches, arrival in items:
            health["batches"] += 1
            self._resumed(arrival)
            n_read = 0
            for b in batches:
                n = len(b)
                if n == 0:
                    continue
                health["samples"] += n
                if b.t is not None:
                    t = b.t
                    self._last_dev_t = float(t[-1])
                else:
                    t = self._stamp(n, arrival)
                self._observe(float(t[-1]), arrival)
                if self.tap is not None:
                    self.tap(self.name, t, b.acc, b.gyro)
                got.t.append(t)
                got.acc.append(b.acc)
                got.gyro.append(b.gyro)
                n_read += n
            if n_read:
                got.last_t.append(float(got.t[-1][-1]))
                got.arrival.append(arrival)
            self._last_arrival = arrival
        if not got.t:
            return None
        return got

    def _collect_raw(self) -> _LaneInput | None:
        """:meth:`collect_for_lane` straight from the merged samples of the raw chunks (no
        object per chunk); ``None`` with the samples in the inbox when they need more (a
        restarted clock, or frames the decoder could not merge)."""
        taken = self._take_raw()
        if taken is None:
            return None
        b, frames, arrivals = taken
        t = b.t
        assert t is not None
        if self._restarted(float(t[0]), self._last_dev_t):
            self._split_into_inbox(b, frames, arrivals)  # a restart goes the full path
            self.leave_lane()
            return None
        per = len(b) // sum(frames)
        if self.tap is not None:
            self.tap(self.name, t, b.acc, b.gyro)
        got = _LaneInput([t], [b.acc], [b.gyro], [], [])
        self._resumed(arrivals[0])
        end = 0
        reads = 0
        for f, arrival in zip(frames, arrivals, strict=True):
            if f:
                end += f * per
                last_t = float(t[end - 1])
                self._observe(last_t, arrival)
                got.last_t.append(last_t)
                got.arrival.append(arrival)
                reads += 1
        self.health["batches"] += reads
        self.health["samples"] += len(b)
        self._last_dev_t = float(t[-1])
        self._last_arrival = arrivals[-1]
        return got

    def deliver_lane(self, out: LaneOutput, got: _LaneInput) -> None:
        """Deliver a lane's windows, each credited to the read that completed it."""
        w = Windows(out.x, out.t_start, out.t_end, np.zeros(out.x.shape[0], bool))
        self._deliver(w, self._credit(w, np.asarray(got.last_t), np.asarray(got.arrival)))

    def leave_lane(self, cooldown: bool = False) -> None:
        """Take the preprocessing state back from the lane (before anything the lane does
        not do); ``cooldown``: the data was unusual, stay out for a while."""
        if self.lane is not None:
            assert self._pre is not None
            group, slot = self.lane
            group.leave(slot, self._pre, self.merger)
            self.lane = None
        if cooldown:
            self._clean_ticks = -_LANE_COOLDOWN_TICKS

    def next_window(self) -> npt.NDArray[np.float32] | None:
        """The stream's next window as the encoder will read it, ahead of the samples that
        complete it, where it is already settled up to that check: a device at the model's
        rate whose pending samples sit on the model's grid, where the resampler's output
        will be the samples themselves (``row_values``'s matched fast path) once the
        look-ahead that confirms it arrives. ``None`` otherwise (another rate, gravity
        tracking, a lane, too few samples yet). Whoever uses it compares it with the window
        that comes: a settled window may still differ (a late jittered sample)."""
        pre = self._pre
        if pre is None or self.lane is not None or pre._gravity is not None:
            return None
        rs, wd = pre._resampler, pre._windower
        if rs.matched is None or rs.origin is None:
            return None
        m = wd._buf.shape[0] if wd._buf.size else 0
        need = wd.window - m
        if need <= 0 or need > rs._t.size or (m and wd._k0 + m != rs._next_k):
            return None
        tau = rs.origin + (rs._next_k + np.arange(need)).astype(np.float64) * rs.period_s
        idx = np.minimum(np.searchsorted(rs._t, tau - ON_GRID_S), rs._t.size - 1)
        if not bool((np.abs(rs._t[idx] - tau) <= ON_GRID_S).all()):
            return None
        x = rs._x[idx] if not m else np.concatenate([wd._buf, rs._x[idx]], axis=0)
        return normalize(x[None], pre._mean, pre._std)[0]

    def maybe_join_lane(self) -> None:
        """After a tick on the stream's own path: join a lane once it has been clean for a
        few ticks and its state is one a lane carries."""
        if self.lanes is None or self.lane is not None or self._pre is None:
            return
        self._clean_ticks += 1
        if self._clean_ticks < _LANE_AFTER_CLEAN_TICKS:
            return
        key = group_key(self._pre)
        group = self.lanes.get(key)
        if group is None:
            group = self.lanes[key] = LaneGroup(self._pre)
        if group.can_take(self._pre, self.merger):
            self.lane = (group, group.enter(self._pre))

    def _flush(self) -> None:
        self.leave_lane()
        if self._pre is not None:
            self._deliver(self._pre.flush(), np.asarray(time.monotonic()))
        self.merger.reset()
        if self._counting is not None:
            self._counting.reset()
        self._last_dev_t = None

    def _link_lost(self) -> None:
        self._flush()
        self._pre = None  # the next connection may announce another rate (AURA HELLO)
        self._reset_clock()  # ...and may be a rebooted device whose clock restarted
        self._gap_open_since = self._last_arrival


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
