"""Live recognition: device streams -> windows -> batched inference -> smoothed label events.

The scoring names (:class:`Scorer`, :func:`cosine_similarities`, :class:`Decision`,
:class:`Decisions`, the smoothers) are the one scoring path of the SDK, also used by
``AuraModel.classify`` / ``recognize`` and by the evaluation and export packages.
"""

from .._scoring import (
    UNKNOWN,
    Decision,
    Decisions,
    HmmFilter,
    MovingAverage,
    NoSmoothing,
    Scorer,
    cosine_similarities,
)
from ._clock import ClockMapper, CountingClock
from ._events import Event, LabelEvent, StatusEvent, StatusKind
from ._merge import ChannelMerger
from ._recognizer import LiveRecognizer
from ._sources import BleLink, DecodedSource, ReplaySource, SerialLink, TcpLink
from ._stream import Stream, StreamConfig

__all__ = [
    "UNKNOWN",
    "BleLink",
    "ChannelMerger",
    "ClockMapper",
    "CountingClock",
    "Decision",
    "Decisions",
    "DecodedSource",
    "Event",
    "HmmFilter",
    "LabelEvent",
    "LiveRecognizer",
    "MovingAverage",
    "NoSmoothing",
    "ReplaySource",
    "Scorer",
    "SerialLink",
    "StatusEvent",
    "StatusKind",
    "Stream",
    "StreamConfig",
    "TcpLink",
    "cosine_similarities",
]
