"""``label_bag``: a robot log in, its activity labels out (the API behind
``aura live --bag ... --write-labels``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._errors import BagError
from ..live import LabelEvent, LiveRecognizer
from ..live._events import Event
from ._labels import DEFAULT_LABELS_TOPIC, LabelWriter

__all__ = ["BagLabels", "label_bag"]


@dataclass(frozen=True)
class BagLabels:
    """What :func:`label_bag` did.

    Attributes:
        streams: the IMU topics labelled.
        labels: label messages (one per window and topic).
        messages: input messages read (all topics).
        copied: input messages copied to the output (0 without one).
        out: the written file, or ``None``.
        failure: why the log ended early (the labels before it were written), or ``None``.
    """

    streams: tuple[str, ...]
    labels: int
    messages: int
    copied: int
    out: Path | None
    failure: BagError | None = None


def label_bag(path: str | Path, out: str | Path | None = None, *,
              recognizer: LiveRecognizer | None = None,
              topics: str | Sequence[str] | None = None, realtime: bool = False,
              labels_topic: str = DEFAULT_LABELS_TOPIC,
              on_event: Callable[[Event], None] | None = None,
              raise_failure: bool = True) -> BagLabels:
    """Label the IMU topics of a robot log and, with ``out``, write the log with its labels.

    Args:
        path: a rosbag2 directory (sqlite3 or MCAP storage), a ROS 1 ``.bag`` or an
            ``.mcap`` file.
        out: the ``.mcap`` to write: every input message unchanged plus one
            ``aura_msgs/msg/ActivityLabel`` per window on ``labels_topic``.
        recognizer: a configured recogniser without streams (default: the default bundle's).
        topics: the IMU topics (default: all of the log's).
        realtime: play at the stamps' pace (default: as fast as possible).
        on_event: called with every event as it comes.
        raise_failure: raise a log's fault (after writing what came before it); else return
            it in :attr:`BagLabels.failure`.

    Raises:
        BagError: the log cannot be read, or broke part way (``out`` then holds every
            message and label up to the fault).
        ConfigError: a topic is missing or not an IMU topic.
    """
    rec = recognizer if recognizer is not None else LiveRecognizer()
    streams = rec.add_bag(path, topics, realtime=realtime)
    feed = rec._bags[streams[0]]  # the one pass over the log its streams share
    writer = (LabelWriter(out, path, encoding=feed.encodings[streams[0]], topic=labels_topic)
              if out is not None else None)
    failure: BagError | None = None
    labels = 0
    try:
        for ev in rec:
            if on_event is not None:
                on_event(ev)
            labels += isinstance(ev, LabelEvent)
            if (writer is not None and isinstance(ev, LabelEvent)
                    and ev.t_start_device is not None and ev.t_end_device is not None):
                writer.add(ev.stream, ev, rec.bag_stamp_ns(ev.stream, ev.t_start_device),
                           rec.bag_stamp_ns(ev.stream, ev.t_end_device))
    except BagError as exc:
        failure = exc
    counts = (writer.close(messages=feed.messages if failure is not None else None)
              if writer is not None else {"messages": 0})
    result = BagLabels(tuple(streams), labels, feed.messages,
                       counts["messages"], Path(out) if out is not None else None, failure)
    if failure is not None and raise_failure:
        raise failure
    return result
