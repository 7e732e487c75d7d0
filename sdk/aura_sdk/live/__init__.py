"""Live recognition: device streams -> windows -> batched inference -> smoothed label events."""

from .._scoring import UNKNOWN, Decision, HmmFilter, MovingAverage, NoSmoothing, Scorer
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
]
