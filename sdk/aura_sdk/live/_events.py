"""What a :class:`~aura_sdk.LiveRecognizer` yields: label events and status events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Event", "LabelEvent", "StatusEvent", "StatusKind"]

StatusKind = Literal["connected", "disconnected", "reconnecting", "stalled", "gap", "ended",
                     "error"]


@dataclass(frozen=True)
class LabelEvent:
    """One window of one stream, recognised.

    Attributes:
        stream: the stream's name.
        label: the winning label, or ``"unknown"``.
        confidence: (smoothed) probability of ``label``'s class.
        similarity: cosine similarity of the window to the winning prototype.
        top_k: ``(label, probability)`` pairs, most likely first.
        unknown: whether the window was rejected as matching no label.
        t_start, t_end: the window's span in host time (``time.monotonic()`` seconds).
        latency_ms: processing latency, in milliseconds: from the arrival of the bytes that
            completed the window to this event (decoding, clock mapping, resampling,
            windowing, inference, scoring, smoothing; queueing between them included).
            A gateway's polled TCP links (16 streams or more) read the packets of a tick at
            once; the kernel stamps when the last of them arrived, and each earlier one is
            placed before it by the device time between them (never before the previous
            poll), so the time the bytes waited in the socket is counted too.
        t_start_device, t_end_device: the same span on the stream's own timeline, in
            seconds: the device's clock where its samples carry timestamps (the restarted
            clock after a reboot), a sample-counting clock where they do not, and seconds
            since the recording's first sample for a replay. ``None`` when not known
            (:class:`LiveRecognizer` always fills them in).
        sensor_latency_ms: sensor-to-label latency, in milliseconds: from the window's last
            sample (one model period before ``t_end``), in host time, to this event, on the
            same ``time.monotonic()`` clock as ``latency_ms``. On top of ``latency_ms`` it
            holds the resampler's look-ahead (the samples it needs after that one: its
            kernel's half width, ten periods of the lower of the device's and the model's
            rates, so 0.2 s for a 50 Hz model fed at 50 Hz or more, 1 s from a 10 Hz device,
            plus up to one device period), the device's packetisation, and the transport
            delay above its minimum (a device sample's host time comes from the lower
            envelope of arrivals, so the fastest delivery counts as zero). ``None`` where the
            stream has no real-time clock (a replay with ``realtime=False`` runs ahead of
            it) or when not known.
    """

    stream: str
    label: str
    confidence: float
    similarity: float
    top_k: tuple[tuple[str, float], ...]
    unknown: bool
    t_start: float
    t_end: float
    latency_ms: float
    kind: Literal["label"] = "label"
    t_start_device: float | None = None
    t_end_device: float | None = None
    sensor_latency_ms: float | None = None


@dataclass(frozen=True)
class StatusEvent:
    """Something happened to a stream: (re)connection, a gap in the data, its end.

    Attributes:
        stream: the stream's name.
        kind: ``connected``, ``disconnected``, ``reconnecting``, ``stalled``, ``gap``,
            ``ended`` or ``error``.
        t_host: when it happened (``time.monotonic()`` seconds).
        detail: a human-readable explanation.
        gap_s: for ``gap``: how long the data stopped, in seconds.
    """

    stream: str
    kind: StatusKind
    t_host: float
    detail: str = ""
    gap_s: float | None = None

    # uniform printing: `event.label`, `event.confidence`, `event.latency_ms` and
    # `event.sensor_latency_ms` work on any event
    @property
    def label(self) -> None:
        return None

    @property
    def confidence(self) -> float:
        return 0.0

    @property
    def latency_ms(self) -> None:
        return None

    @property
    def sensor_latency_ms(self) -> None:
        return None


Event = LabelEvent | StatusEvent
