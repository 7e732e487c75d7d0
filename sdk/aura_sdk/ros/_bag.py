"""Reading robot logs: rosbag2 (sqlite3 or MCAP storage), ROS 1 bags and bare MCAP files.

One pass over a log yields its messages, raw and in the order stored, with what a copy needs
(topic, schema, encodings, times). MCAP (bare or a rosbag2's storage) is read as a stream with
the ``mcap`` package: a truncated file or a chunk that fails its CRC yields every message
before the fault and then raises :class:`~aura_sdk.BagError`, and a file that delivers fewer
messages than its own statistics count raises too, so nothing is lost silently. Everything
else (sqlite3 storage, ROS 1 bags, compressed rosbag2) goes through ``rosbags``' readers.
Both packages are the ``ros`` extra, imported only here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import BagError, ConfigError, MissingExtraError

__all__ = ["BagMessage", "BagTopic", "bag_topics", "read_messages"]


@dataclass(frozen=True)
class BagTopic:
    """One topic of a log: its name, message type, encoding and (when the index says) count."""

    topic: str
    msgtype: str
    encoding: str
    count: int | None = None


@dataclass(frozen=True)
class BagMessage:
    """One stored message, raw.

    Attributes:
        topic, msgtype: where it was published and its type (ROS 2 spelling,
            ``pkg/msg/Name``).
        encoding: ``"cdr"`` (ROS 2) or ``"ros1"``.
        schema_name, schema_encoding, schema: the message definition as MCAP stores it
            (``ros2msg`` / ``ros1msg`` text).
        log_time, publish_time: nanoseconds.
        data: the serialised message, unchanged.
    """

    topic: str
    msgtype: str
    encoding: str
    schema_name: str
    schema_encoding: str
    schema: bytes
    log_time: int
    publish_time: int
    data: bytes


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError("ros", "reading ROS bags and MCAP files",
                                module.split(".")[0]) from exc


def _ros2_type(name: str) -> str:
    """``sensor_msgs/Imu`` (ROS 1 / MCAP ros1msg) -> ``sensor_msgs/msg/Imu``."""
    parts = name.split("/")
    return f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 else name


def _mcap_files(path: Path) -> list[Path] | None:
    """The MCAP files to stream, or ``None`` when rosbags must read the log."""
    if path.is_file():
        return [path] if path.suffix == ".mcap" else None
    files = list(path.glob("*.mcap"))
    if not files or not (path / "metadata.yaml").is_file():
        return None

    def order(p: Path) -> tuple[int, str]:  # rosbag2 splits: name_0.mcap, name_1.mcap, ...
        m = re.search(r"_(\d+)$", p.stem)
        return (int(m.group(1)) if m else -1, p.name)

    return sorted(files, key=order)


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise BagError("no such file or directory; give a rosbag2 directory (metadata.yaml "
                       "with .db3 or .mcap files), a ROS 1 .bag or an .mcap file", path=path)


def _stream_mcap(path: Path, counter: list[int]) -> Iterator[BagMessage]:
    _need("mcap")
    from mcap.records import Channel, Message, Schema, Statistics
    from mcap.stream_reader import StreamReader

    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    seen = 0
    stated: int | None = None
    with open(path, "rb") as fh:
        try:
            for rec in StreamReader(fh, emit_chunks=False, validate_crcs=True).records:
                if isinstance(rec, Message):
                    ch = channels.get(rec.channel_id)
                    if ch is None:
                        raise BagError(f"message {seen + 1} names channel {rec.channel_id}, "
                                       "which the file never defined (corrupt)", path=path,
                                       messages=counter[0])
                    sc = schemas.get(ch.schema_id)
                    name = sc.name if sc is not None else ""
                    seen += 1
                    counter[0] += 1
                    yield BagMessage(
                        topic=ch.topic, msgtype=_ros2_type(name), encoding=ch.message_encoding,
                        schema_name=name, schema_encoding=sc.encoding if sc else "",
                        schema=sc.data if sc else b"", log_time=rec.log_time,
                        publish_time=rec.publish_time, data=bytes(rec.data))
                elif isinstance(rec, Channel):
                    channels[rec.id] = rec
                elif isinstance(rec, Schema):
                    schemas[rec.id] = rec
                elif isinstance(rec, Statistics):
                    stated = rec.message_count
        except BagError:
            raise
        except Exception as exc:  # McapError, and the decompressors' own (zstd, lz4)
            raise BagError(f"the MCAP file breaks after {seen} messages ({type(exc).__name__}"
                           f"{': ' + str(exc) if str(exc) else ''}): it is truncated or a chunk "
                           "is corrupt; what came before was read", path=path,
                           messages=counter[0]) from exc
    if stated is not None and stated != seen:
        raise BagError(f"the file's statistics count {stated} messages but {seen} could be "
                       "read: a chunk is corrupt", path=path, messages=counter[0])


def _rosbags_reader(path: Path) -> Any:
    _need("rosbags")
    from rosbags.highlevel import AnyReader, AnyReaderError

    try:
        reader = AnyReader([path])
        reader.open()
    except (AnyReaderError, OSError, ValueError, KeyError) as exc:
        raise BagError(f"cannot be read as a ROS bag ({exc}); give a rosbag2 directory "
                       "(metadata.yaml with .db3 or .mcap files), a ROS 1 .bag or an .mcap "
                       "file (a ROS 1 bag without its index needs `rosbag reindex`)",
                       path=path) from exc
    return reader


def _read_rosbags(path: Path, counter: list[int]) -> Iterator[BagMessage]:
    reader = _rosbags_reader(path)  # a rosbag2 directory: ROS 1 bags go to _read_ros1
    try:
        expected = sum(c.msgcount for c in reader.connections)
        seen = 0
        try:
            for con, t, raw in reader.messages(connections=reader.connections):
                seen += 1
                counter[0] += 1
                yield BagMessage(
                    topic=con.topic, msgtype=con.msgtype, encoding="cdr",
                    schema_name=con.msgtype, schema_encoding="ros2msg",
                    schema=con.msgdef.data.encode(), log_time=t, publish_time=t,
                    data=bytes(raw))
        except Exception as exc:  # rosbags raises many kinds on a damaged file
            raise BagError(f"the log breaks after {seen} messages ({type(exc).__name__}: "
                           f"{exc}); what came before was read", path=path,
                           messages=counter[0]) from exc
        if seen != expected:
            raise BagError(f"the index counts {expected} messages but {seen} could be read: "
                           "the file is damaged", path=path, messages=counter[0])
    finally:
        reader.close()


def _read_ros1(path: Path, counter: list[int]) -> Iterator[BagMessage]:
    """A ROS 1 bag front to back (:mod:`._ros1`): a bag cut off mid-recording (no index)
    gives every message before the cut."""
    from ._ros1 import Ros1BagParser, Ros1FormatError, Ros1Message

    parser = Ros1BagParser()
    seen = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                items = parser.feed(block)
            except Ros1FormatError as exc:
                raise BagError(f"the bag breaks after {seen} messages ({exc}); what came "
                               "before was read", path=path, messages=counter[0]) from exc
            for it in items:
                if not isinstance(it, Ros1Message):
                    continue
                c = parser.connections[it.conn]
                seen += 1
                counter[0] += 1
                yield BagMessage(topic=c.topic, msgtype=_ros2_type(c.msgtype), encoding="ros1",
                                 schema_name=c.msgtype, schema_encoding="ros1msg",
                                 schema=c.definition.encode(), log_time=it.time_ns,
                                 publish_time=it.time_ns, data=it.data)
    if parser.pending:
        raise BagError(f"the bag ends inside a record after {seen} messages: it is truncated "
                       "(a recording cut off?); what came before was read", path=path,
                       messages=counter[0])


def read_messages(path: str | Path) -> Iterator[BagMessage]:
    """Every message of a log, raw, in the order stored.

    Raises:
        BagError: the path is not a readable log, or it breaks part way (after the messages
            before the fault were yielded).
        MissingExtraError: ``rosbags`` / ``mcap`` are not installed.
    """
    p = Path(path)
    _check_exists(p)
    counter = [0]
    if p.is_file() and p.suffix == ".bag":
        yield from _read_ros1(p, counter)
        return
    files = _mcap_files(p)
    if files is None:
        yield from _read_rosbags(p, counter)
        return
    for f in files:
        yield from _stream_mcap(f, counter)


def bag_topics(path: str | Path) -> list[BagTopic]:
    """The topics of a log, from its index or summary (no pass over the messages).

    Raises:
        BagError: the path is not a readable log.
    """
    p = Path(path)
    _check_exists(p)
    files = _mcap_files(p)
    if files is None:
        try:
            reader = _rosbags_reader(p)
        except BagError:
            if not (p.is_file() and p.suffix == ".bag"):
                raise
            # a ROS 1 bag without a usable index (cut off): what a front-to-back pass finds
            passed: dict[str, BagTopic] = {}
            for m in read_messages_until_error(p):
                old = passed.get(m.topic)
                passed[m.topic] = BagTopic(m.topic, m.msgtype, m.encoding,
                                           (old.count or 0 if old else 0) + 1)
            if not passed:
                raise
            return list(passed.values())
        try:
            ros1 = not p.is_dir() and p.suffix == ".bag"
            found: dict[str, BagTopic] = {}
            for c in reader.connections:
                old = found.get(c.topic)
                n = c.msgcount + (old.count or 0 if old else 0)
                found[c.topic] = BagTopic(c.topic, c.msgtype, "ros1" if ros1 else "cdr", n)
            return list(found.values())
        finally:
            reader.close()
    _need("mcap")
    from mcap.exceptions import McapError
    from mcap.reader import make_reader

    topics: dict[str, BagTopic] = {}
    for f in files:
        try:
            with open(f, "rb") as fh:
                summary = make_reader(fh).get_summary()
        except McapError:
            summary = None
        if summary is None:  # no summary (truncated or streamed): one pass finds them
            for m in read_messages_until_error(f):
                topics.setdefault(m.topic, BagTopic(m.topic, m.msgtype, m.encoding))
            continue
        counts = summary.statistics.channel_message_counts if summary.statistics else {}
        for cid, ch in summary.channels.items():
            sc = summary.schemas.get(ch.schema_id)
            old = topics.get(ch.topic)
            n = counts.get(cid, 0) + (old.count or 0 if old else 0)
            topics[ch.topic] = BagTopic(ch.topic, _ros2_type(sc.name if sc else ""),
                                        ch.message_encoding, n)
    return list(topics.values())


def read_messages_until_error(path: str | Path) -> Iterator[BagMessage]:
    """Like :func:`read_messages`, but stop quietly at a fault (for listing topics only)."""
    try:
        yield from read_messages(path)
    except BagError:
        return


def imu_topic_names(topics: Sequence[BagTopic]) -> list[str]:
    """The topics that carry ``sensor_msgs/msg/Imu``."""
    return [t.topic for t in topics if t.msgtype == "sensor_msgs/msg/Imu"]


def check_topics(path: str | Path, wanted: Sequence[str] | None) -> list[BagTopic]:
    """The wanted topics (``None``: every IMU topic of the log), checked to exist and to
    carry ``sensor_msgs/msg/Imu``; the log is listed once.

    Raises:
        ConfigError: a topic is missing or of another type (the message lists the log's IMU
            topics), or ``None`` was given and the log has no IMU topic.
    """
    topics = {t.topic: t for t in bag_topics(path)}
    imus = imu_topic_names(list(topics.values()))
    if wanted is None:
        if not imus:
            raise ConfigError(f"{path}: no sensor_msgs/msg/Imu topic in this log")
        wanted = imus
    out = []
    for name in wanted:
        t = topics.get(name)
        if t is None:
            raise ConfigError(f"{path}: no topic {name!r}; its sensor_msgs/msg/Imu topics: "
                              f"{', '.join(imus) or 'none'}")
        if t.msgtype != "sensor_msgs/msg/Imu":
            raise ConfigError(f"{path}: topic {name!r} carries {t.msgtype}, not "
                              f"sensor_msgs/msg/Imu; its IMU topics: {', '.join(imus) or 'none'}")
        out.append(t)
    return out
