"""AURA v1 incremental decoders: known answers, chunkings, sequence tracking, holding, packets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from aura_vectors import hello_from_fields, load_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_bridge._types import DecoderStats, ImuSamples
from aura_bridge.aura import (
    AuraAck,
    AuraCommand,
    AuraEncoder,
    AuraHello,
    AuraPacketDecoder,
    AuraSampleFrame,
    AuraStreamDecoder,
    wrap_frame,
)

VECTORS = load_vectors()
BY_NAME = {v["name"]: v for v in VECTORS["vectors"]}
HELLO = hello_from_fields(BY_NAME["hello_nano33_100hz"]["fields"])


def wire(name: str) -> bytes:
    return bytes.fromhex(BY_NAME[name]["wire"])


def sample_frame(seq: int, t_us: int, n: int = 2, base: int = 0) -> bytes:
    raw = (np.arange(n * 6).reshape(n, 6) + base % 30000).astype(np.int16)
    return AuraSampleFrame(seq, t_us, raw).to_frame()


def stream_of(seqs: list[int], *, hello: bool = True, step_us: int = 20_000) -> bytes:
    out = [wrap_frame(HELLO.to_frame())] if hello else []
    out += [wrap_frame(sample_frame(s, 1000 + i * step_us, base=s)) for i, s in enumerate(seqs)]
    return b"".join(out)


def test_vector_stream_known_answer() -> None:
    s = VECTORS["streams"][0]
    dec = AuraStreamDecoder()
    msgs = dec.feed_messages(bytes.fromhex(s["wire"]))
    kinds = [type(m).__name__ for m in msgs]
    assert kinds == ["AuraHello", "ImuSamples", "AuraCommand", "ImuSamples", "AuraAck"]
    assert msgs[0] == HELLO
    one, wrap = msgs[1], msgs[3]
    assert isinstance(one, ImuSamples) and isinstance(wrap, ImuSamples)
    # SI units with the HELLO's float32 scales: 32767 counts at +/-4 g, 256 counts at 2000 dps
    raw = np.array([[32767, -32768, 0, -1, 1, 256]], np.float64)
    np.testing.assert_array_equal(one.acc, raw[:, :3] * HELLO.accel_scale)
    np.testing.assert_array_equal(one.gyro, raw[:, 3:] * HELLO.gyro_scale)
    assert one.acc[0, 0] == pytest.approx(4 * 9.80665, rel=1e-4)
    assert one.seq == 0 and one.t is not None and one.t[0] == 0.0
    assert wrap.seq == 65535
    assert wrap.t is not None
    # t_us 0xFFFFFFFF right after t_us 0 is 1 us earlier (nearest unwrap), not 71.6 min later
    np.testing.assert_allclose(wrap.t, [-10_001e-6, -1e-6], rtol=0, atol=1e-12)
    st_ = dec.stats
    assert (st_.frames_ok, st_.frames_corrupt, st_.bytes_dropped) == (
        s["frames_ok"], s["frames_corrupt"], s["bytes_dropped"])
    assert st_.extra["frames_unknown_type"] == s["frames_ignored"]
    assert st_.samples == 3
    # seq 0 -> 65535 is a backwards step of one inside the window: one late frame
    assert st_.frames_reordered == 1 and st_.frames_lost == 0


def test_feed_returns_samples_and_sets_control_aside() -> None:
    dec = AuraStreamDecoder()
    data = (wire("hello_nano33_100hz") + wire("command_start") + wire("samples_wrist_4")
            + wire("ack_start_ok"))
    out = dec.feed(data)
    assert [len(s) for s in out] == [4]
    control = dec.pop_control()
    assert [type(m) for m in control] == [AuraHello, AuraCommand, AuraAck]
    assert dec.pop_control() == []
    assert dec.config == HELLO


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_chunking_gives_the_same_samples(cuts: list[int]) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, [3, 3, 9, 1, 1, 1], size=(157, 6))
    enc = AuraEncoder(HELLO, samples_per_frame=7)
    data = b"\x00" + enc.hello_bytes() + b"".join(enc.encode(ImuSamples(x[:, :3], x[:, 3:])))
    reference = np.concatenate([s.as_array() for s in AuraStreamDecoder().feed(data)])
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    dec = AuraStreamDecoder()
    got = [s for a, b in itertools.pairwise(bounds) for s in dec.feed(data[a:b])]
    arr = np.concatenate([s.as_array() for s in got])
    np.testing.assert_array_equal(arr, reference)
    np.testing.assert_allclose(arr, x, atol=max(HELLO.accel_scale, HELLO.gyro_scale) / 2 + 1e-12)
    assert [s.seq for s in got] == list(range(23))
    assert dec.stats.frames_corrupt == 0 and dec.stats.samples == 157


@pytest.mark.parametrize(("seqs", "lost", "dup", "reord"), [
    ([0, 1, 2, 3], 0, 0, 0),
    ([0, 1, 3, 4], 1, 0, 0),
    ([0, 1, 3, 2, 4], 0, 0, 1),  # late frame takes its loss back
    ([0, 1, 1, 2, 2, 2], 0, 3, 0),
    ([65534, 65535, 0, 1], 0, 0, 0),  # wraparound is not a loss
    ([65535, 1], 1, 0, 0),
    ([65535, 1, 0], 0, 0, 1),
    ([65534, 1, 65535, 0, 0], 0, 1, 2),
    ([10, 20, 15, 15], 8, 1, 1),
    ([5, 4, 3], 0, 0, 2),  # before the first frame seen: late, never counted lost
    ([1000, 2000], 999, 0, 0),
])
def test_sequence_loss_duplicates_reorders(seqs: list[int], lost: int, dup: int,
                                           reord: int) -> None:
    dec = AuraStreamDecoder()
    out = dec.feed(stream_of(seqs))
    s = dec.stats
    assert (s.frames_lost, s.frames_duplicate, s.frames_reordered) == (lost, dup, reord)
    assert len(out) == len(seqs) - dup
    # each emitted frame carries the samples its sender put under that seq
    for samples in out:
        assert samples.seq is not None
        expect = np.arange(12).reshape(2, 6) + samples.seq % 30000
        np.testing.assert_array_equal(np.rint(samples.acc / HELLO.accel_scale), expect[:, :3])


def test_far_backwards_sequence_is_a_restart_not_a_loss() -> None:
    dec = AuraStreamDecoder()
    dec.feed(stream_of([5000, 5001, 0, 1, 2]))
    assert dec.stats.extra["seq_resets"] == 1
    assert (dec.stats.frames_lost, dec.stats.frames_reordered) == (0, 0)
    assert dec.stats.samples == 10


def test_hello_restarts_sequence_tracking() -> None:
    dec = AuraStreamDecoder()
    data = stream_of([100, 101]) + stream_of([0, 1])  # the device rebooted and said HELLO
    assert len(dec.feed(data)) == 4
    assert (dec.stats.frames_lost, dec.stats.extra["seq_resets"]) == (0, 0)


def test_timestamps_unwrap_across_u32_wrap_and_use_the_hello_rate() -> None:
    enc = AuraEncoder(HELLO, samples_per_frame=5, start_t_us=0xFFFFFFFF - 60_000)
    data = enc.hello_bytes() + b"".join(enc.encode_counts(np.zeros((20, 6), np.int16)))
    got = AuraStreamDecoder().feed(data)
    t = np.concatenate([s.t for s in got if s.t is not None])
    expect = (0xFFFFFFFF - 60_000) * 1e-6 + np.arange(20) * 0.01
    np.testing.assert_allclose(t, expect, rtol=0, atol=1e-6)  # monotone through the wrap


def test_frames_before_hello_are_held_then_released() -> None:
    dec = AuraStreamDecoder(max_held_frames=2)
    assert dec.feed(stream_of([7, 8, 9], hello=False)) == []
    assert dec.stats.extra["frames_held"] == 3
    assert dec.stats.extra["frames_dropped_no_hello"] == 1
    msgs = dec.feed_messages(wrap_frame(HELLO.to_frame()) + wrap_frame(sample_frame(10, 99_000)))
    assert isinstance(msgs[0], AuraHello)
    assert [m.seq for m in msgs[1:] if isinstance(m, ImuSamples)] == [8, 9, 10]
    assert dec.stats.samples == 6


def test_config_decodes_without_waiting_for_hello() -> None:
    dec = AuraStreamDecoder(config=HELLO)
    out = dec.feed(stream_of([3], hello=False))
    assert len(out) == 1 and dec.stats.extra["frames_held"] == 0


def test_a_new_hello_changes_the_scale_for_later_frames_only() -> None:
    h2 = AuraHello.for_ranges(1, 50.0, 16, 250)
    data = (stream_of([0]) + wrap_frame(h2.to_frame())
            + wrap_frame(sample_frame(1, 5_000_000)))
    a, b = AuraStreamDecoder().feed(data)
    assert a.acc[1, 0] == pytest.approx(6 * HELLO.accel_scale)
    assert b.acc[1, 0] == pytest.approx(6 * h2.accel_scale)
    assert b.t is not None and b.t[1] - b.t[0] == pytest.approx(1 / 50.0)


def test_overlong_garbage_is_dropped_with_bounded_memory() -> None:
    dec = AuraStreamDecoder()
    rng = np.random.default_rng(11)
    junk = rng.integers(1, 256, 5000, dtype=np.uint8).tobytes()
    for i in range(0, len(junk), 100):
        assert dec.feed(junk[i:i + 100]) == []
        assert dec.pending_bytes <= 783
    out = dec.feed(b"\x00" + stream_of([1, 2]))
    assert [s.seq for s in out] == [1, 2]
    assert dec.stats.bytes_dropped == 5000 and dec.stats.frames_corrupt == 1


def test_packet_decoder_one_frame_per_notification() -> None:
    dec = AuraPacketDecoder()
    assert dec.feed(bytes.fromhex(BY_NAME["samples_wrist_4"]["frame"])) == []  # held: no HELLO
    out = dec.feed(HELLO.to_frame())
    assert [len(s) for s in out] == [4]
    for bad in (b"", b"\x02\x00", bytes(800), bytes.fromhex(VECTORS["reject"][0]["frame"])):
        assert dec.feed(bad) == []
    assert dec.stats.frames_corrupt == 4
    ack = bytes.fromhex(BY_NAME["nak_start_mtu_too_small"]["frame"])
    assert dec.feed_messages(ack) == [AuraAck(1, 7, 5)]
    # a COBS-framed notification is not a frame: packet mode does not unstuff
    assert dec.feed(wire("samples_wrist_4")) == [] and dec.stats.frames_corrupt == 5


@pytest.mark.parametrize("r", VECTORS["reject"], ids=lambda r: r["name"])
def test_rejected_vectors_are_counted_not_raised(r: dict) -> None:
    for dec in (AuraStreamDecoder(config=HELLO), AuraPacketDecoder(config=HELLO)):
        frame = bytes.fromhex(r["frame"])
        data = wrap_frame(frame) if isinstance(dec, AuraStreamDecoder) else frame
        assert dec.feed_messages(data) == []
        ignored = r["error"] in ("type", "version")
        assert dec.stats.frames_corrupt == (0 if ignored else 1)
        assert dec.stats.frames_ok == 0


def test_control_queue_is_bounded_and_counts_drops() -> None:
    dec = AuraStreamDecoder(max_control=2)
    dec.feed(wire("command_start") * 3)
    assert len(dec.pop_control()) == 2 and dec.stats.extra["control_dropped"] == 1


def test_stats_type_and_dict() -> None:
    dec = AuraStreamDecoder()
    assert isinstance(dec.stats, DecoderStats)
    d = dec.stats.as_dict()
    assert d["frames_ok"] == 0 and d["frames_held"] == 0 and "extra" not in d
    with pytest.raises(ValueError):
        AuraStreamDecoder(max_held_frames=-1)


def test_feed_packets_equals_feeding_one_by_one() -> None:
    enc = AuraEncoder(HELLO, framing="packet", samples_per_frame=5, start_seq=65533)
    raw = np.random.default_rng(8).integers(-2000, 2000, (33, 6)).astype(np.int16)
    packets = [enc.hello_bytes(), *enc.encode_counts(raw)]
    packets.insert(3, b"\x00garbage")
    packets.insert(5, packets[4])  # a duplicate
    packets[6] = packets[6][:9] + packets[6][10:] if len(packets[6]) > 10 else packets[6]
    one = AuraPacketDecoder()
    singles = [s for p in packets for s in one.feed(p)]
    many = AuraPacketDecoder()
    batched = many.feed_packets(packets[:4]) + many.feed_packets(packets[4:])
    assert [s.seq for s in batched] == [s.seq for s in singles]
    np.testing.assert_array_equal(np.concatenate([s.as_array() for s in batched]),
                                  np.concatenate([s.as_array() for s in singles]))
    assert many.stats.as_dict() == one.stats.as_dict()
    assert one.stats.frames_duplicate == 1 and one.stats.frames_corrupt == 2
    assert [type(m) for m in many.pop_control()] == [AuraHello]
