"""AURA v1 encoder (quantisation, saturation, framing, clocks) and the device profiles."""

from __future__ import annotations

import re

import numpy as np
import pytest
from aura_vectors import C_DIR, ROOT

import aura_bridge
from aura_bridge._types import DeviceProfile, ImuSamples
from aura_bridge.aura import (
    AURA_BLE_PROFILE,
    AURA_CONTROL_UUID,
    AURA_DATA_UUID,
    AURA_PROFILES,
    AURA_SERIAL_PROFILE,
    AURA_SERVICE_UUID,
    AckStatus,
    AuraAck,
    AuraCommand,
    AuraEncoder,
    AuraHello,
    AuraPacketDecoder,
    AuraSampleFrame,
    AuraStreamDecoder,
    Opcode,
    cobs_decode,
    parse_frame,
    quantize,
    samples_per_notification,
)

HELLO = AuraHello.for_ranges(0xABC, 100.0, 4, 500)


def test_decode_of_encode_is_within_half_a_count() -> None:
    rng = np.random.default_rng(2024)
    acc = rng.uniform(-39, 39, (500, 3))  # inside +/-4 g
    gyro = rng.uniform(-8.7, 8.7, (500, 3))  # inside +/-500 deg/s
    enc = AuraEncoder(HELLO, samples_per_frame=13)
    data = enc.hello_bytes() + b"".join(enc.encode(ImuSamples(acc, gyro)))
    out = AuraStreamDecoder().feed(data)
    got_acc = np.concatenate([s.acc for s in out])
    got_gyro = np.concatenate([s.gyro for s in out])
    assert np.abs(got_acc - acc).max() <= HELLO.accel_scale / 2 * (1 + 1e-9)
    assert np.abs(got_gyro - gyro).max() <= HELLO.gyro_scale / 2 * (1 + 1e-9)
    assert np.abs(got_acc - acc).max() > HELLO.accel_scale / 4  # really quantised
    assert enc.saturated == 0 and enc.seq == 39  # ceil(500 / 13) frames


def test_saturation_clips_to_int16_and_counts() -> None:
    big = 5 * 9.80665  # beyond +/-4 g
    acc = np.array([[big, -big, 0.0], [np.inf, -np.inf, 1e9]])
    gyro = np.zeros((2, 3))
    enc = AuraEncoder(HELLO, framing="packet")
    (frame,) = enc.encode(ImuSamples(acc, gyro))
    msg = parse_frame(frame)
    assert isinstance(msg, AuraSampleFrame)
    np.testing.assert_array_equal(msg.raw[:, :3], [[32767, -32768, 0], [32767, -32768, 32767]])
    assert enc.saturated == 5


def test_quantize_rounds_half_to_even_and_refuses_nan() -> None:
    q, sat = quantize([0.5, 1.5, 2.5, -0.5, -1.5, 32767.4, 32767.6, -32768.6], 1.0)
    assert q.tolist() == [0, 2, 2, 0, -2, 32767, 32767, -32768] and sat == 2
    with pytest.raises(ValueError, match="NaN"):
        quantize([0.0, np.nan], 1.0)


def test_encoder_clock_and_explicit_timestamps() -> None:
    enc = AuraEncoder(HELLO, samples_per_frame=4, start_seq=65535, start_t_us=500)
    frames = enc.encode_counts(np.zeros((10, 6), np.int16))
    msgs = [parse_frame(cobs_decode(f[:-1])) for f in frames]
    assert [(m.seq, m.t_us, len(m.raw)) for m in msgs] == [  # type: ignore[union-attr]
        (65535, 500 + 30_000, 4), (0, 500 + 70_000, 4), (1, 500 + 90_000, 2)]
    t = np.array([4294.967295, 4294.967296, 4294.967297])  # seconds; wraps the u32 in us
    (frame,) = AuraEncoder(HELLO, framing="packet").encode(
        ImuSamples(np.zeros((3, 3)), np.zeros((3, 3)), t=t))
    msg = parse_frame(frame)
    assert isinstance(msg, AuraSampleFrame) and msg.t_us == 1  # (4294967297) mod 2^32


def test_packet_framing_round_trip_through_packet_decoder() -> None:
    enc = AuraEncoder(HELLO, framing="packet", samples_per_frame=samples_per_notification(247))
    dec = AuraPacketDecoder()
    dec.feed(enc.hello_bytes())
    chunks = enc.encode_counts(np.ones((40, 6), np.int16))
    assert [len(c) for c in chunks] == [239, 239, 35]
    assert all(len(c) <= 247 - 3 for c in chunks)
    out = [s for c in chunks for s in dec.feed(c)]
    assert sum(len(s) for s in out) == 40 and dec.stats.frames_corrupt == 0


@pytest.mark.parametrize("kwargs", [dict(samples_per_frame=0), dict(samples_per_frame=65),
                                    dict(framing="tcp")])
def test_encoder_rejects_bad_options(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AuraEncoder(HELLO, **kwargs)


@pytest.mark.parametrize(("mtu", "n"), [(23, 0), (25, 0), (26, 1), (35, 1), (65, 4),
                                        (185, 14), (247, 19), (512, 41), (2000, 64)])
def test_samples_per_notification(mtu: int, n: int) -> None:
    assert samples_per_notification(mtu) == n
    if n:
        assert 11 + 12 * n <= mtu - 3 < 11 + 12 * (n + 1) or n == 64


def test_profiles_are_device_profiles_with_working_commands() -> None:
    assert [p.name for p in AURA_PROFILES] == ["aura", "aura-ble"]
    assert all(isinstance(p, DeviceProfile) for p in AURA_PROFILES)
    assert AURA_SERIAL_PROFILE.framing == "stream" and AURA_BLE_PROFILE.framing == "packet"
    assert AURA_BLE_PROFILE.service_uuid == AURA_SERVICE_UUID
    assert AURA_BLE_PROFILE.notify_uuids == (AURA_DATA_UUID, AURA_CONTROL_UUID)
    dec = AuraStreamDecoder()
    dec.feed(b"".join(AURA_SERIAL_PROFILE.start_commands + AURA_SERIAL_PROFILE.stop_commands))
    ops = [m.opcode for m in dec.pop_control() if isinstance(m, AuraCommand)]
    assert ops == [Opcode.GET_HELLO, Opcode.START, Opcode.STOP]
    ble = [parse_frame(c) for c in AURA_BLE_PROFILE.start_commands]
    assert [m.opcode for m in ble] == [Opcode.GET_HELLO, Opcode.START]  # type: ignore[union-attr]


def test_uuids_match_the_doc_and_the_c_header() -> None:
    header = (C_DIR / "aura_proto.h").read_text()
    doc = (ROOT / "docs" / "protocol.md").read_text()
    for name, uuid in [("SERVICE", AURA_SERVICE_UUID), ("DATA", AURA_DATA_UUID),
                       ("CONTROL", AURA_CONTROL_UUID)]:
        assert re.search(rf'AURA_BLE_{name}_UUID "{uuid}"', header)
        assert uuid in doc
    assert len({AURA_SERVICE_UUID, AURA_DATA_UUID, AURA_CONTROL_UUID}) == 3


def test_public_api_is_exactly_all() -> None:
    from aura_bridge import aura

    public = {n for n in dir(aura) if not n.startswith("_")}
    assert public == set(aura.__all__)
    for name in ("AuraStreamDecoder", "AuraPacketDecoder", "AuraEncoder", "AuraHello",
                 "AURA_SERIAL_PROFILE", "AURA_BLE_PROFILE"):
        assert name in aura_bridge.__all__ and getattr(aura_bridge, name) is getattr(aura, name)


def test_message_bytes_in_each_framing() -> None:
    nak = AuraAck(Opcode.SET_RATE, 3, AckStatus.BAD_VALUE)
    stream = AuraEncoder(HELLO).message_bytes(nak)
    packet = AuraEncoder(HELLO, framing="packet").message_bytes(nak)
    assert packet.hex() == "040303036bf4441e"  # the vector nak_set_rate_bad_value
    assert stream.hex() == "09040303036bf4441e00"
    dec = AuraStreamDecoder()
    assert dec.feed_messages(AuraEncoder(HELLO).message_bytes(AuraCommand.stop(9))) == [
        AuraCommand(Opcode.STOP, 9)]
