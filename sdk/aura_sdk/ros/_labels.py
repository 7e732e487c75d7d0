"""Labels out: a copy of a robot log with the activity labels beside the signals.

:class:`LabelWriter` writes an MCAP file holding every message of the input log unchanged
(same bytes, log time, topic and message definition) plus one ``aura_msgs/msg/ActivityLabel``
message per window on a labels topic (default ``/aura/activity``), in log-time order, so
Foxglove or ROS tools replay the labels beside the IMU. The label message is serialised the
way the log's IMU messages are (CDR for ROS 2 logs, ROS 1 otherwise) and its definition is
stored with it, so any MCAP reader decodes it::

    std_msgs/Header header              # stamp: the window's end; frame_id: the IMU's frame
    string stream                       # the input topic the window came from
    string label                        # the best label ("unknown" when rejected)
    float32 confidence                  # its smoothed probability
    bool unknown                        # the window was rejected as none of the labels
    float32 similarity                  # cosine similarity of the window to the label
    string[] top_labels                 # the top-k labels, best first
    float32[] top_confidences           # and their probabilities
    builtin_interfaces/Time window_start
    builtin_interfaces/Time window_end
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from ..live._events import LabelEvent
from ._bag import BagMessage, _need, read_messages

__all__ = ["DEFAULT_LABELS_TOPIC", "LABEL_MSG", "LABEL_TYPE", "LabelWriter"]

LABEL_TYPE = "aura_msgs/msg/ActivityLabel"
DEFAULT_LABELS_TOPIC = "/aura/activity"
_FIELDS = """string stream
string label
float32 confidence
bool unknown
float32 similarity
string[] top_labels
float32[] top_confidences
"""
#: the message definition (ROS 2 ``.msg`` syntax)
LABEL_MSG = ("std_msgs/Header header\n" + _FIELDS
             + "builtin_interfaces/Time window_start\nbuiltin_interfaces/Time window_end\n")
_LABEL_MSG_ROS1 = "std_msgs/Header header\n" + _FIELDS + "time window_start\ntime window_end\n"


@dataclass(order=True)
class _Label:
    log_time: int
    data: bytes = field(compare=False)


class _Codec:
    """Builds and serialises label messages for one encoding (``cdr`` or ``ros1``)."""

    def __init__(self, encoding: str) -> None:
        _need("rosbags")
        from rosbags.typesys import Stores, get_types_from_msg, get_typestore

        self.encoding = encoding
        ros1 = encoding == "ros1"
        self.store = get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_HUMBLE)
        self.store.register(get_types_from_msg(_LABEL_MSG_ROS1 if ros1 else LABEL_MSG,
                                               LABEL_TYPE))
        text, _ = self.store.generate_msgdef(LABEL_TYPE, ros_version=1 if ros1 else 2)
        self.schema_name = "aura_msgs/ActivityLabel" if ros1 else LABEL_TYPE
        self.schema_encoding = "ros1msg" if ros1 else "ros2msg"
        self.schema = text.encode()
        self._seq = 0

    def message(self, stream: str, ev: LabelEvent, start_ns: int, end_ns: int,
                frame_id: str) -> bytes:
        import numpy as np

        t = self.store.types
        time_t = t["builtin_interfaces/msg/Time"]

        def stamp(ns: int) -> Any:
            return time_t(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)

        head = t["std_msgs/msg/Header"]
        header = (head(seq=self._seq, stamp=stamp(end_ns), frame_id=frame_id)
                  if self.encoding == "ros1" else head(stamp=stamp(end_ns), frame_id=frame_id))
        self._seq += 1
        msg = t[LABEL_TYPE](
            header=header, stream=stream, label=ev.label, confidence=float(ev.confidence),
            unknown=bool(ev.unknown), similarity=float(ev.similarity),
            top_labels=[k for k, _ in ev.top_k],
            top_confidences=np.array([p for _, p in ev.top_k], dtype=np.float32),
            window_start=stamp(start_ns), window_end=stamp(end_ns))
        if self.encoding == "ros1":
            return bytes(self.store.serialize_ros1(msg, LABEL_TYPE))
        return bytes(self.store.serialize_cdr(msg, LABEL_TYPE))


class LabelWriter:
    """Collects label events of a log's streams; :meth:`close` writes ``out``: the input log
    copied unchanged with the labels merged in by log time.

    Args:
        out: the ``.mcap`` file to write.
        source: the input log (a rosbag2 directory, ROS 1 ``.bag`` or ``.mcap``).
        encoding: ``"cdr"`` (ROS 2) or ``"ros1"``, the way the log's IMU messages are stored.
        topic: the labels topic.

    Raises:
        ConfigError: ``out`` is the input itself, or an unknown encoding.
    """

    def __init__(self, out: str | Path, source: str | Path, *, encoding: str = "cdr",
                 topic: str = DEFAULT_LABELS_TOPIC) -> None:
        self.out = Path(out)
        self.source = Path(source)
        if self.out.resolve() == self.source.resolve():
            raise ConfigError(f"--write-labels {out}: that is the input log; write a new file")
        if encoding not in ("cdr", "ros1"):
            raise ConfigError(f"label encoding {encoding!r}: cdr or ros1")
        if not topic.startswith("/"):
            raise ConfigError(f"labels topic {topic!r}: a ROS topic starts with '/'")
        self.topic = topic
        self.codec = _Codec(encoding)
        self._labels: list[_Label] = []
        self.copied = 0

    def add(self, stream: str, event: LabelEvent, start_ns: int, end_ns: int,
            frame_id: str = "") -> None:
        """Queue one label message (``start_ns`` / ``end_ns``: the window on the log's
        clock; the message's log time is the window's end)."""
        bisect.insort(self._labels, _Label(end_ns, self.codec.message(
            stream, event, start_ns, end_ns, frame_id)))

    @property
    def labels(self) -> int:
        return len(self._labels)

    def close(self, messages: int | None = None) -> dict[str, int]:
        """Write the file: the input's messages (the first ``messages`` of them when the
        input broke part way; by default all) and the labels. Returns the counts."""
        _need("mcap")
        from mcap.writer import Writer

        self.out.parent.mkdir(parents=True, exist_ok=True)
        with open(self.out, "wb") as fh:
            w = Writer(fh)
            w.start(profile="ros1" if self.codec.encoding == "ros1" else "ros2",
                    library="aura-sdk")
            schemas: dict[tuple[str, str, bytes], int] = {}
            channels: dict[tuple[str, int, str], int] = {}

            def channel(topic: str, name: str, sc_enc: str, schema: bytes, enc: str) -> int:
                key = (name, sc_enc, schema)
                if key not in schemas:
                    schemas[key] = w.register_schema(name, sc_enc, schema)
                ck = (topic, schemas[key], enc)
                if ck not in channels:
                    channels[ck] = w.register_channel(topic, enc, schemas[key])
                return channels[ck]

            labels = iter(self._labels)
            nxt = next(labels, None)
            lab_ch = channel(self.topic, self.codec.schema_name, self.codec.schema_encoding,
                             self.codec.schema, self.codec.encoding)
            seq = 0

            def put_labels(until: int | None) -> None:
                nonlocal nxt, seq
                while nxt is not None and (until is None or nxt.log_time <= until):
                    w.add_message(lab_ch, nxt.log_time, nxt.data, nxt.log_time, seq)
                    seq += 1
                    nxt = next(labels, None)

            copied = 0
            m: BagMessage
            if messages is None or messages > 0:
                for m in read_messages(self.source):
                    put_labels(m.log_time)
                    ch = channel(m.topic, m.schema_name, m.schema_encoding, m.schema,
                                 m.encoding)
                    w.add_message(ch, m.log_time, m.data, m.publish_time, copied)
                    copied += 1
                    if messages is not None and copied >= messages:
                        break
            put_labels(None)
            w.finish()
        self.copied = copied
        return {"messages": copied, "labels": len(self._labels)}
