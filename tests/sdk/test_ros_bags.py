"""Robot logs in and labels out (issue #15): rosbag2 (MCAP, sqlite3), ROS 1 bags and bare MCAP,
written by other tools (rosbags' and mcap's writers), labelled through the real recogniser."""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import numpy as np
import pytest

rosbags = pytest.importorskip("rosbags")
pytest.importorskip("mcap")

from mcap.records import Channel, Message, Schema  # noqa: E402
from mcap.stream_reader import StreamReader  # noqa: E402
from rosbags.highlevel import AnyReader  # noqa: E402
from rosbags.rosbag1 import Writer as Ros1Writer  # noqa: E402
from rosbags.rosbag2 import StoragePlugin, Writer  # noqa: E402
from rosbags.typesys import Stores, get_typestore  # noqa: E402

from aura_sdk import BagError, ConfigError, LabelEvent, LiveRecognizer, load_bundle  # noqa: E402
from aura_sdk.cli import main  # noqa: E402
from aura_sdk.ros import (  # noqa: E402
    LABEL_TYPE,
    bag_topics,
    decode_imu,
    label_bag,
    read_messages,
    write_imu_bag,
)
from aura_sdk.sim import synthetic_wrist  # noqa: E402

IMU = "sensor_msgs/msg/Imu"
T0 = 1_700_000_000_000_000_000
ROS2 = get_typestore(Stores.ROS2_HUMBLE)
ROS1 = get_typestore(Stores.ROS1_NOETIC)


def _imu(store, ns: int, acc, gyro, *, seq: int | None = None, frame: str = "imu_link",
         gyro_cov: float = 0.0):
    t = store.types
    stamp = t["builtin_interfaces/msg/Time"](sec=ns // 10**9, nanosec=ns % 10**9)
    head = (t["std_msgs/msg/Header"](seq=seq, stamp=stamp, frame_id=frame) if seq is not None
            else t["std_msgs/msg/Header"](stamp=stamp, frame_id=frame))
    vec = t["geometry_msgs/msg/Vector3"]
    quat = t["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)
    return t[IMU](header=head, orientation=quat,
                  orientation_covariance=np.array([-1.0] + [0.0] * 8),
                  angular_velocity=vec(x=float(gyro[0]), y=float(gyro[1]), z=float(gyro[2])),
                  angular_velocity_covariance=np.array([gyro_cov] + [0.0] * 8),
                  linear_acceleration=vec(x=float(acc[0]), y=float(acc[1]), z=float(acc[2])),
                  linear_acceleration_covariance=np.zeros(9))


@pytest.fixture(scope="module")
def wrist():
    return synthetic_wrist(30.0, 200.0, seed=3)  # 200 Hz, as the bag


def _stamps(rec) -> np.ndarray:
    return T0 + np.round((rec.t - rec.t[0]) * 1e9).astype(np.int64)


def _write_rosbag2(path: Path, rec, storage) -> None:
    with Writer(path, version=9, storage_plugin=storage) as w:
        c = w.add_connection("/imu/data", IMU, typestore=ROS2)
        other = w.add_connection("/status", "std_msgs/msg/String", typestore=ROS2)
        for i, ns in enumerate(_stamps(rec)):
            w.write(c, int(ns), ROS2.serialize_cdr(_imu(ROS2, int(ns), rec.acc[i], rec.gyro[i]),
                                                   IMU))
            if i % 200 == 0:  # a non-IMU topic rides along and must be copied too
                msg = ROS2.types["std_msgs/msg/String"](data=f"tick {i}")
                w.write(other, int(ns), ROS2.serialize_cdr(msg, "std_msgs/msg/String"))


def _write_ros1(path: Path, rec) -> None:
    with Ros1Writer(path) as w:
        c = w.add_connection("/imu/data", IMU, typestore=ROS1)
        for i, ns in enumerate(_stamps(rec)):
            w.write(c, int(ns), ROS1.serialize_ros1(
                _imu(ROS1, int(ns), rec.acc[i], rec.gyro[i], seq=i), IMU))


def _write_bare_mcap(path: Path, rec) -> None:
    from mcap.writer import Writer as McapWriter

    text, _ = ROS2.generate_msgdef(IMU, ros_version=2)
    with open(path, "wb") as fh:
        w = McapWriter(fh, chunk_size=64 * 1024)
        w.start(profile="ros2", library="test")
        sid = w.register_schema(IMU, "ros2msg", text.encode())
        cid = w.register_channel("/imu/data", "cdr", sid)
        for i, ns in enumerate(_stamps(rec)):
            w.add_message(cid, int(ns), ROS2.serialize_cdr(
                _imu(ROS2, int(ns), rec.acc[i], rec.gyro[i]), IMU), int(ns), i)
        w.finish()


def _mcap_messages(path: Path) -> list[tuple[str, int, bytes, str]]:
    schemas: dict[int, Schema] = {}
    chans: dict[int, Channel] = {}
    out = []
    with open(path, "rb") as fh:
        for r in StreamReader(fh, validate_crcs=True).records:
            if isinstance(r, Schema):
                schemas[r.id] = r
            elif isinstance(r, Channel):
                chans[r.id] = r
            elif isinstance(r, Message):
                ch = chans[r.channel_id]
                out.append((ch.topic, r.log_time, bytes(r.data), schemas[ch.schema_id].name))
    return out


def _expected_windows(duration_s: float) -> int:
    spec = load_bundle().input_spec
    hop = spec.hop_samples / spec.sample_rate_hz
    return int(np.floor((duration_s - spec.window_s) / hop + 1e-9)) + 1


# -- the wire format ---------------------------------------------------------------------------
def test_decode_imu_reads_cdr_both_endians_and_ros1_exactly() -> None:
    acc, gyro = (0.25, -9.5, 3.125), (0.5, -0.75, 2.0)
    ns = T0 + 123_456_789
    for frame in ("", "imu", "a_longer_frame_id"):  # every padding case of the body
        le = ROS2.serialize_cdr(_imu(ROS2, ns, acc, gyro, frame=frame), IMU)
        be = ROS2.serialize_cdr(_imu(ROS2, ns, acc, gyro, frame=frame), IMU, little_endian=False)
        r1 = ROS1.serialize_ros1(_imu(ROS1, ns, acc, gyro, seq=7, frame=frame), IMU)
        for raw, enc in ((le, "cdr"), (be, "cdr"), (r1, "ros1")):
            d = decode_imu([bytes(raw)], enc)
            assert d.bad == ()
            assert d.stamp_ns.tolist() == [ns]
            assert d.acc.tolist() == [list(acc)] and d.gyro.tolist() == [list(gyro)]


def test_decode_imu_marks_absent_gyro_and_drops_malformed() -> None:
    ok = bytes(ROS2.serialize_cdr(_imu(ROS2, T0, (1, 2, 3), (4, 5, 6), gyro_cov=-1.0), IMU))
    d = decode_imu([ok, ok[:40], b"", b"\x00\x01\x00\x00" + b"\xff" * 12, ok], "cdr")
    assert d.bad == (1, 2, 3)
    assert len(d) == 2 and np.isnan(d.gyro).all() and d.acc[0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="only cdr"):
        decode_imu([ok], "json")


def test_decode_imu_fuzz_never_raises_and_never_invents() -> None:
    rng = np.random.default_rng(0)
    good = bytes(ROS2.serialize_cdr(_imu(ROS2, T0, (1, 2, 3), (4, 5, 6), frame="f"), IMU))
    for _ in range(3000):
        kind = rng.integers(3)
        if kind == 0:
            raw = rng.bytes(int(rng.integers(0, 400)))
        elif kind == 1:
            raw = good[: int(rng.integers(0, len(good)))]
        else:
            b = bytearray(good)
            b[int(rng.integers(0, len(b)))] ^= int(rng.integers(1, 256))
            raw = bytes(b)
        for enc in ("cdr", "ros1"):
            d = decode_imu([raw], enc)
            assert len(d) + len(d.bad) == 1
            if kind == 1 and enc == "cdr" and len(raw) < len(good) - 3:
                assert len(d) == 0  # a cut message is dropped, not read as zeros
    # a length field that points past the end
    bad = good[:12] + struct.pack("<I", 10**6) + good[16:]
    assert decode_imu([bad], "cdr").bad == (0,)


# -- bags in, labels out ------------------------------------------------------------------------
def test_rosbag2_mcap_labelled_by_the_cli_keeps_every_message(tmp_path, wrist, capsys) -> None:
    """The issue's Done-when: a rosbag2 (MCAP storage) written by rosbags at 200 Hz on
    /imu/data, labelled by `aura live --bag DIR --topic /imu/data --write-labels OUT.mcap`."""
    bag = tmp_path / "bag"
    _write_rosbag2(bag, wrist, StoragePlugin.MCAP)
    out = tmp_path / "labels.mcap"
    argv = ["live", "--bag", str(bag), "--topic", "/imu/data", "--write-labels", str(out)]
    assert main(argv) == 0
    written = _mcap_messages(out)
    src = [m for m in read_messages(bag)]
    copied = [(t, lt, d) for t, lt, d, _ in written if t != "/aura/activity"]
    assert copied == [(m.topic, m.log_time, m.data) for m in src]  # every message, unchanged
    labels = [m for m in written if m[0] == "/aura/activity"]
    n_win = _expected_windows(wrist.duration_s + 1 / 200)
    assert len(labels) == n_win
    assert {m[3] for m in labels} == {LABEL_TYPE}
    # any other reader decodes the labels from the definition stored with them
    spec = load_bundle().input_spec
    with AnyReader([out]) as r:
        cons = [c for c in r.connections if c.topic == "/aura/activity"]
        msgs = [r.deserialize(raw, c.msgtype) for c, _, raw in r.messages(connections=cons)]
    ends = [m.window_end.sec * 10**9 + m.window_end.nanosec for m in msgs]
    starts = [m.window_start.sec * 10**9 + m.window_start.nanosec for m in msgs]
    assert np.allclose(np.subtract(ends, starts) / 1e9, spec.window_s, atol=0.02)
    assert abs(ends[0] - (T0 + spec.window_s * 1e9)) < 0.02e9  # on the log's own clock
    assert all((m.stream == "/imu/data" and m.label == m.top_labels[0]) or m.unknown for m in msgs)
    assert all(0 < m.confidence <= 1 for m in msgs)
    err = capsys.readouterr().err
    assert f"{n_win} labels from 1 IMU topic(s)" in err


def test_every_log_format_gives_the_same_labels(tmp_path, wrist) -> None:
    paths = {"mcap": tmp_path / "r2mcap", "sqlite3": tmp_path / "r2sql",
             "ros1": tmp_path / "r1.bag", "bare": tmp_path / "bare.mcap"}
    _write_rosbag2(paths["mcap"], wrist, StoragePlugin.MCAP)
    _write_rosbag2(paths["sqlite3"], wrist, StoragePlugin.SQLITE3)
    _write_ros1(paths["ros1"], wrist)
    _write_bare_mcap(paths["bare"], wrist)
    got = {}
    for name, p in paths.items():
        events: list[object] = []
        res = label_bag(p, tmp_path / f"{name}-out.mcap", topics="/imu/data",
                        on_event=events.append)
        events = [e for e in events if isinstance(e, LabelEvent)]
        assert res.failure is None and res.streams == ("/imu/data",)
        got[name] = [(e.label, round(e.confidence, 5), round(e.t_end_device, 4)) for e in events]
        assert res.copied == res.messages == sum(t.count or 0 for t in bag_topics(p))
    assert got["mcap"] and all(v == got["mcap"] for v in got.values())
    # the ROS 1 log's copy is a ROS 1 MCAP: its labels are ROS 1 serialised
    from rosbags.typesys import get_types_from_msg

    from aura_sdk.ros._labels import _LABEL_MSG_ROS1

    written = _mcap_messages(tmp_path / "ros1-out.mcap")
    assert {m[0] for m in written} == {"/imu/data", "/aura/activity"}
    store = get_typestore(Stores.ROS1_NOETIC)
    store.register(get_types_from_msg(_LABEL_MSG_ROS1, LABEL_TYPE))
    first = next(m for m in written if m[0] == "/aura/activity")
    assert first[3] == "aura_msgs/ActivityLabel"
    msg = store.deserialize_ros1(first[2], LABEL_TYPE)
    assert (msg.label, round(float(msg.confidence), 5)) == got["ros1"][0][:2]


def _labels_up_to_the_break(cut: Path, out: Path, n_total: int, match: str) -> tuple[int, list]:
    """Label a broken log into ``out``: the error says ``match``, and ``out`` holds every IMU
    message before the break and one label per window wholly before it. Returns the count
    of messages read and what was written."""
    with pytest.raises(BagError, match=match) as info:
        label_bag(cut, out)
    n = info.value.messages
    assert 0 < n < n_total
    written = _mcap_messages(out)
    assert len([m for m in written if m[0] == "/imu/data"]) == n
    assert len([m for m in written if m[0] == "/aura/activity"]) == _expected_windows(
        (n - 1) / 200.0)
    return n, written


def test_a_truncated_log_gives_its_labels_then_a_clear_error(tmp_path, wrist) -> None:
    full = tmp_path / "full.mcap"
    _write_bare_mcap(full, wrist)
    data = full.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    n, written = _labels_up_to_the_break(cut, tmp_path / "out.mcap", len(wrist),
                                         "truncated or a chunk is corrupt")
    imu = [m for m in written if m[0] == "/imu/data"]
    assert [m[2] for m in imu] == [m.data for m in read_messages(full)][:n]  # unchanged
    # and the command line says so, exiting non-zero
    assert main(["live", "--bag", str(cut)]) != 0


def test_a_corrupt_chunk_is_an_error_not_a_silent_loss(tmp_path, wrist) -> None:
    full = tmp_path / "full.mcap"
    _write_bare_mcap(full, wrist)
    data = bytearray(full.read_bytes())
    ends = []  # where each chunk record ends
    with open(full, "rb") as fh:
        for r in StreamReader(fh, emit_chunks=True).records:
            if type(r).__name__ == "Chunk":
                ends.append(fh.tell())
    mid = ends[len(ends) // 2] - 300  # inside the middle chunk's compressed records
    data[mid : mid + 64] = bytes(64)
    bad = tmp_path / "bad.mcap"
    bad.write_bytes(bytes(data))
    got: list[object] = []
    with pytest.raises(BagError) as info:
        label_bag(bad, on_event=got.append)
    assert 0 < info.value.messages < len(wrist)
    assert any(isinstance(e, LabelEvent) for e in got)


def _write_one_topic(bag: Path, rec, edit) -> None:
    """A rosbag2 (MCAP) of ``rec`` on ``/imu``, each message's bytes passed through
    ``edit(i, ns, raw)``."""
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        c = w.add_connection("/imu", IMU, typestore=ROS2)
        for i, ns in enumerate(_stamps(rec)):
            raw = bytes(ROS2.serialize_cdr(_imu(ROS2, int(ns), rec.acc[i], rec.gyro[i]), IMU))
            w.write(c, int(ns), edit(i, int(ns), raw))


def test_zero_stamps_fall_back_to_the_log_time(tmp_path) -> None:
    rec = synthetic_wrist(12.0, 100.0, seed=1)
    bag = tmp_path / "bag"
    _write_one_topic(bag, rec, lambda i, ns, raw: bytes(ROS2.serialize_cdr(
        _imu(ROS2, 0, rec.acc[i], rec.gyro[i]), IMU)))  # every stamp left at 0
    rec2 = LiveRecognizer(health_log_s=None)
    rec2.add_bag(bag)
    ends = [e.t_end_device for e in rec2 if isinstance(e, LabelEvent)]
    assert len(ends) == _expected_windows(12.0)
    assert rec2.bag_stamp_ns("/imu", 0.0) == T0


def test_missing_and_wrong_topics_name_the_imu_topics(tmp_path, wrist) -> None:
    bag = tmp_path / "bag"
    _write_rosbag2(bag, wrist, StoragePlugin.MCAP)
    with pytest.raises(ConfigError, match=r"no topic '/nope'.*Imu topics: /imu/data"):
        LiveRecognizer(health_log_s=None).add_bag(bag, "/nope")
    with pytest.raises(ConfigError, match="carries std_msgs/msg/String"):
        LiveRecognizer(health_log_s=None).add_bag(bag, "/status")
    with pytest.raises(BagError, match="no such file"):
        LiveRecognizer(health_log_s=None).add_bag(tmp_path / "missing")
    junk = tmp_path / "junk.bag"
    junk.write_bytes(b"not a bag at all")
    with pytest.raises(BagError, match="cannot be read as a ROS bag"):
        LiveRecognizer(health_log_s=None).add_bag(junk)


def test_several_imus_share_the_log_clock(tmp_path) -> None:
    """Four IMUs at 1 kHz in one log: each its own stream, their windows on one clock."""
    recs = {f"/imu_{k}/data": synthetic_wrist(8.0, 1000.0, seed=k) for k in range(4)}
    bag = tmp_path / "robot"
    write_imu_bag(bag, recs)
    rec = LiveRecognizer(health_log_s=None)
    assert rec.add_bag(bag) == sorted(recs)
    ends: dict[str, list[float]] = {}
    for e in rec:
        if isinstance(e, LabelEvent):
            ends.setdefault(e.stream, []).append(round(e.t_end_device, 3))
    assert sorted(ends) == sorted(recs)
    assert all(len(v) == _expected_windows(8.0) for v in ends.values())
    assert len({tuple(v) for v in ends.values()}) == 1  # the same window ends on all four


def test_realtime_play_keeps_the_stamps_pace(tmp_path) -> None:
    import time

    bag = tmp_path / "bag"
    write_imu_bag(bag, {"/imu": synthetic_wrist(6.0, 100.0)})
    rec = LiveRecognizer(health_log_s=None)
    rec.add_bag(bag, realtime=True, speed=3.0)
    t = time.monotonic()
    n = sum(isinstance(e, LabelEvent) for e in rec)
    assert n == _expected_windows(6.0)
    assert time.monotonic() - t >= 6.0 / 3.0 * 0.9  # functional: it waited for the stamps


def test_simulate_to_bag_round_trips(tmp_path) -> None:
    bag = tmp_path / "sim"
    assert main(["simulate", "--to-bag", str(bag), "--synthetic", "4", "--rate", "200"]) == 0
    (topic,) = bag_topics(bag)
    assert (topic.topic, topic.msgtype, topic.count) == ("/imu/data", IMU, 800)
    msgs = list(read_messages(bag))
    d = decode_imu([m.data for m in msgs], "cdr")
    want = synthetic_wrist(4.0, 200.0)
    assert np.allclose(d.acc, want.acc) and np.allclose(d.gyro, want.gyro)
    assert np.allclose((d.stamp_ns - d.stamp_ns[0]) / 1e9, want.t - want.t[0], atol=1e-9)
    assert main(["simulate", "--to-bag", str(tmp_path / "x"), "--device", "aura"]) != 0
    assert not (tmp_path / "x").exists()
    assert main(["simulate", "--to-bag", str(bag), "--synthetic", "1"]) != 0  # exists


def test_ros2_node_says_what_it_needs() -> None:
    """The node is a thin layer over the same decoder and label bytes; rclpy comes only with
    a ROS 2 install, so here it must say so (and the live test below skips)."""
    from aura_sdk import MissingExtraError
    from aura_sdk.ros import run_node

    try:
        import rclpy  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match="rclpy"):
            run_node(["/imu/data"])
    with pytest.raises((ConfigError, MissingExtraError)):
        run_node([])


def test_ros2_node_publishes_labels() -> None:
    """Where ROS 2 is installed: IMU messages published on a topic come back as labels."""
    rclpy = pytest.importorskip("rclpy", reason="rclpy comes only with a ROS 2 install (not "
                                "on PyPI); this machine has none")
    import json
    import threading
    import time

    from sensor_msgs.msg import Imu  # type: ignore[import-not-found]
    from std_msgs.msg import String  # type: ignore[import-not-found]

    from aura_sdk.ros import run_node

    rclpy.init()
    try:
        rec = LiveRecognizer(health_log_s=None)
        runner = threading.Thread(target=run_node, args=(["/aura_test/imu"],),
                                  kwargs={"recognizer": rec, "rate_hz": 100.0}, daemon=True)
        runner.start()
        node = rclpy.create_node("aura_test")
        got: list[str] = []
        node.create_subscription(String, "/aura/activity", lambda m: got.append(m.data), 10)
        pub = node.create_publisher(Imu, "/aura_test/imu", 100)
        wrist = synthetic_wrist(12.0, 100.0)
        for i in range(len(wrist)):
            m = Imu()
            ns = T0 + round(float(wrist.t[i]) * 1e9)
            m.header.stamp.sec, m.header.stamp.nanosec = ns // 10**9, ns % 10**9
            a, g = wrist.acc[i], wrist.gyro[i]
            la, av = m.linear_acceleration, m.angular_velocity
            la.x, la.y, la.z = map(float, a)
            av.x, av.y, av.z = map(float, g)
            pub.publish(m)
            rclpy.spin_once(node, timeout_sec=0.0)
        end = time.monotonic() + 20
        while len(got) < 2 and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        rec.close()
        assert len(got) >= 2
        first = json.loads(got[0])
        assert first["stream"] == "/aura_test/imu" and 0 < first["confidence"] <= 1
    finally:
        rclpy.shutdown()


def test_live_bag_feeds_a_foxglove_view(tmp_path, capsys) -> None:
    """`aura live --bag ... --foxglove 0`: the view is fed every sample and label and the run
    ends cleanly (the view itself is tested with a real client in test_ros_foxglove)."""
    pytest.importorskip("foxglove")
    from aura_sdk.ros import FoxgloveView

    bag = tmp_path / "bag"
    write_imu_bag(bag, {"/imu": synthetic_wrist(8.0, 100.0)})
    seen = {"samples": 0, "labels": 0, "health": 0}
    orig = (FoxgloveView.samples, FoxgloveView.label, FoxgloveView.health)

    def samples(self, stream, t, acc, gyro):  # count, then publish for real
        seen["samples"] += len(t)
        return orig[0](self, stream, t, acc, gyro)

    def label(self, *a, **k):
        seen["labels"] += 1
        return orig[1](self, *a, **k)

    def health(self, *a, **k):
        seen["health"] += 1
        return orig[2](self, *a, **k)

    mp = pytest.MonkeyPatch()
    mp.setattr(FoxgloveView, "samples", samples)
    mp.setattr(FoxgloveView, "label", label)
    mp.setattr(FoxgloveView, "health", health)
    try:
        assert main(["live", "--bag", str(bag), "--foxglove", "0"]) == 0
    finally:
        mp.undo()
    n = _expected_windows(8.0)
    assert seen == {"samples": 800, "labels": n, "health": n}
    assert "foxglove: ws://127.0.0.1:" in capsys.readouterr().err


# -- ROS 1 bags, front to back ------------------------------------------------------------------
def _ros1_bytes(tmp_path: Path, rec, compression: str | None = None) -> bytes:
    path = tmp_path / f"r1-{compression}.bag"
    w = Ros1Writer(path)
    if compression is not None:
        w.set_compression(getattr(Ros1Writer.CompressionFormat, compression))
    with w:
        c = w.add_connection("/imu/data", IMU, typestore=ROS1)
        for i, ns in enumerate(_stamps(rec)):
            w.write(c, int(ns), ROS1.serialize_ros1(
                _imu(ROS1, int(ns), rec.acc[i], rec.gyro[i], seq=i), IMU))
    return path.read_bytes()


def test_ros1_parser_reads_every_compression_in_any_chunking(tmp_path) -> None:
    from aura_sdk.ros._ros1 import Ros1BagParser, Ros1Message

    rec = synthetic_wrist(3.0, 100.0, seed=2)
    want = [ROS1.serialize_ros1(_imu(ROS1, int(ns), rec.acc[i], rec.gyro[i], seq=i), IMU)
            for i, ns in enumerate(_stamps(rec))]
    rng = np.random.default_rng(1)
    for comp in (None, "BZ2", "LZ4"):
        data = _ros1_bytes(tmp_path, rec, comp)
        for _ in range(3):  # random chunkings give the same records
            p = Ros1BagParser()
            got = []
            i = 0
            while i < len(data):
                j = i + int(rng.integers(1, 5000))
                got += [m for m in p.feed(data[i:j]) if isinstance(m, Ros1Message)]
                i = j
            assert [bytes(m.data) for m in got] == [bytes(x) for x in want]
            assert [m.time_ns for m in got] == _stamps(rec).tolist()
            assert p.pending == 0
            (c,) = p.connections.values()
            assert (c.topic, c.msgtype) == ("/imu/data", "sensor_msgs/Imu")  # ROS 1 spelling


def test_ros1_parser_fuzz_raises_only_its_format_error(tmp_path) -> None:
    from aura_sdk.ros._ros1 import Ros1BagParser, Ros1FormatError

    data = _ros1_bytes(tmp_path, synthetic_wrist(2.0, 50.0), "BZ2")
    rng = np.random.default_rng(5)
    for _ in range(300):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        cut = int(rng.integers(0, len(b) + 1))
        with contextlib.suppress(Ros1FormatError):  # that error, or records: nothing else
            Ros1BagParser().feed(bytes(b[:cut]))
    with pytest.raises(Ros1FormatError, match="not a ROS 1 bag"):
        Ros1BagParser().feed(b"#ROSBAG V1.2\n")


def test_a_ros1_bag_cut_off_mid_recording_gives_its_labels(tmp_path, wrist) -> None:
    """No index (the recording was cut): read front to back, every message before the cut."""
    data = _ros1_bytes(tmp_path, wrist, "LZ4")
    cut = tmp_path / "cut.bag"
    cut.write_bytes(data[: len(data) // 2])
    _labels_up_to_the_break(cut, tmp_path / "out.mcap", len(wrist), "truncated")
    assert bag_topics(cut)[0].topic == "/imu/data"  # listed from a front-to-back pass


def test_undecodable_imu_messages_are_dropped_and_counted(tmp_path) -> None:
    rec = synthetic_wrist(12.0, 100.0, seed=4)
    bag = tmp_path / "bag"
    _write_one_topic(bag, rec, lambda i, ns, raw: raw[:30] if i % 50 == 7 else raw)  # 24 cut
    r = LiveRecognizer(health_log_s=None)
    r.add_bag(bag)
    n = sum(isinstance(e, LabelEvent) for e in r)
    h = r.health()["/imu"]
    assert h["bag_messages_dropped"] == 24 and h["samples"] == len(rec) - 24
    assert n == _expected_windows(12.0)
