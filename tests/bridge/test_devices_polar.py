"""Polar PMD decoder / encoder: the SDK's own test vectors, delta codec, timing, fuzzing."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from device_vectors import polar_sdk as V
from device_vectors.helpers import decode_all, fuzz_packets, mutate, random_imu, rows, stack
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_bridge._types import ImuSamples
from aura_bridge.devices import (
    DeviceOptionError,
    get_profile,
    make_decoder,
    make_encoder,
    parse_start_response,
)
from aura_bridge.devices._polar import PolarPmdDecoder, PolarPmdEncoder
from aura_bridge.devices._polar_delta import decode_delta, encode_delta

G = 9.80665
MG = G / 1000
DPS = math.pi / 180
F32_2_44E_4 = float(np.float32(2.44e-4))  # the SDK test passes 2.44E-4f


def _with_stamp(frame: bytes, stamp_ns: int) -> bytes:
    return frame[:1] + stamp_ns.to_bytes(8, "little") + frame[9:]


def test_sdk_acc_raw_type1():
    dec = PolarPmdDecoder(sample_rate_hz=52)
    (s,) = dec.feed(V.ACC_RAW1_HEADER + V.ACC_RAW1_CONTENT)
    assert len(s) == 216 // 6 == 36
    np.testing.assert_array_equal(s.acc[:2] / MG, [[-9, -1, 999], [-8, -2, 997]])
    assert np.isnan(s.gyro).all()
    assert s.t is not None and s.t[-1] == 2.0  # 2_000_000_000 ns: the LAST sample's time
    np.testing.assert_allclose(np.diff(s.t), 1 / 52, rtol=0, atol=1e-12)


def test_sdk_acc_delta_type0_with_factor_and_interpolated_times():
    dec = PolarPmdDecoder(acc_factor=F32_2_44E_4, timing="interpolate")
    dec.feed(_with_stamp(V.ACC_DELTA0_HEADER + V.ACC_DELTA0_CONTENT, 100))  # previous frame
    (s,) = dec.feed(V.ACC_DELTA0_HEADER + V.ACC_DELTA0_CONTENT)
    assert len(s) == 57
    raw0, raw1 = np.array([1905, 27376, -29282]), np.array([2095, 27271, -29367])
    np.testing.assert_array_equal(s.acc[0], raw0 * F32_2_44E_4 * G)
    np.testing.assert_array_equal(s.acc[1], raw1 * F32_2_44E_4 * G)
    # the SDK truncates to integer mG; ours keeps the fraction: within 1 mG of its answer
    sdk_mg = np.trunc(np.float32(F32_2_44E_4) * raw1.astype(np.float32) * np.float32(1000))
    assert np.abs(s.acc[1] / MG - sdk_mg).max() < 1
    assert np.abs(s.acc).max() <= 8 * G
    assert s.t is not None
    delta = (2_000_000_000 - 100) / 57  # PmdTimeStampUtils.deltaFromTimeStamps
    assert s.t[0] == pytest.approx((100 + delta) / 1e9, abs=1e-12) and s.t[-1] == 2.0


def test_sdk_acc_delta_type1():
    dec = PolarPmdDecoder(timing="interpolate")
    dec.feed(_with_stamp(V.ACC_DELTA1_FRAME, 100))
    (s,) = dec.feed(V.ACC_DELTA1_FRAME)
    np.testing.assert_array_equal(s.acc / MG, [[-15, 20, 1008], [-20, 17, 1008]])
    # SDK: 100 and 101 ns (it rounds 100.5 to an integer); we keep 100.5 ns
    np.testing.assert_allclose(s.t, [100.5e-9, 101e-9], rtol=0, atol=1e-18)


def test_sdk_truncated_frame_is_rejected():
    dec = PolarPmdDecoder()
    assert dec.feed(V.ACC_DELTA0_HEADER + V.ACC_SHORT_CONTENT) == []
    assert dec.stats.frames_corrupt == 1 and dec.stats.frames_ok == 0


def test_sdk_gyro_delta_types():
    dec = PolarPmdDecoder(gyro_factor=1.0)
    (s,) = dec.feed(V.GYRO_DELTA0_FRAME)
    np.testing.assert_array_equal(s.gyro / DPS, [[-22, 8, 13], [-23, 11, 16]])
    assert np.isnan(s.acc).all() and s.t is not None
    assert s.t[-1] == pytest.approx(0x7FFF_FFFF_FFFF_FFFF / 1e9, rel=1e-15)
    (s,) = dec.feed(V.GYRO_DELTA1_FRAME)
    f32 = struct.unpack("<f", bytes.fromhex("cdcc8c3f"))[0]  # intBitsToFloat(0x3F8CCCCD)
    np.testing.assert_allclose(s.gyro / DPS, [[1, 10, 20], [10, 20, f32]], rtol=1e-15)
    (s,) = PolarPmdDecoder(gyro_factor=0.5).feed(V.GYRO_DELTA1_FRAME)
    np.testing.assert_allclose(s.gyro / DPS, [[0.5, 5, 10], [5, 10, f32 / 2]], rtol=1e-15)


def test_start_response_and_commands():
    r = parse_start_response(V.START_RESPONSE_FACTOR_2_5)
    assert r is not None and r.factor == 2.5 and r.status == 0 and r.measurement_type == 1
    assert parse_start_response(V.SETTINGS_RESPONSE) is None
    assert parse_start_response(V.START_RESPONSE_FACTOR_2_5[:-1]) is None  # truncated
    verity = get_profile("polar-verity")
    assert verity.service_uuid == "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"
    assert verity.control_uuid == "FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8"
    assert verity.notify_uuids == ("FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8",)
    # Derived from PmdSetting.serializeSelected / BlePMDClient.startMeasurement: op 02, type,
    # then (setting type, count 1, LE value): rate 52, resolution 16, range 8 | 2000, channels 3
    assert verity.start_commands == (
        bytes.fromhex("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"),
        bytes.fromhex("02 05 00 01 34 00 01 01 10 00 02 01 d0 07 04 01 03"),
    )
    assert verity.stop_commands == (b"\x03\x02", b"\x03\x05")  # STOP_MEASUREMENT = 3
    assert get_profile("polar-h10").start_commands == (
        bytes.fromhex("02 02 00 01 32 00 01 01 10 00 02 01 08 00"),)


def test_unsupported_and_other_frames_are_counted():
    dec = PolarPmdDecoder()
    assert dec.feed(bytes.fromhex("02 01 00 00 00 00 00 00 00 83 00")) == []  # ACC delta type 3
    assert dec.feed(bytes.fromhex("05 01 00 00 00 00 00 00 00 00 01 00 02 00 03 00")) == []
    assert dec.feed(bytes.fromhex("00 01 00 00 00 00 00 00 00 00 01 02 03")) == []  # ECG
    assert dec.feed(b"\x02\x00") == []
    assert dec.stats.frames_corrupt == 3 and dec.stats.extra == {"other_measurements": 1}


def _signal(n: int, seed: int, rate: float = 52.0, t0: float = 7.5e8) -> ImuSamples:
    acc, gyro = random_imu(np.random.default_rng(seed), n)
    return ImuSamples(acc=acc, gyro=gyro, t=t0 + np.arange(n) / rate)


@pytest.mark.parametrize("acc_frame,gyro_frame", [("delta", "delta16"), ("raw16", "float32")])
@pytest.mark.parametrize("timing", ["rate", "interpolate"])
def test_round_trip(acc_frame, gyro_frame, timing):
    x = _signal(500, seed=7)
    enc = PolarPmdEncoder(acc_frame=acc_frame, gyro_frame=gyro_frame, acc_factor=0.5,
                          gyro_factor=0.0625)
    frames = enc.encode(x)
    assert max(map(len, frames)) <= 232
    dec = PolarPmdDecoder(acc_factor=0.5, gyro_factor=0.0625, timing=timing)
    out = decode_all(dec, frames)
    acc = np.concatenate([s.acc for s in out if not np.isnan(s.acc).all()])
    gyro = np.concatenate([s.gyro for s in out if not np.isnan(s.gyro).all()])
    t_acc = np.concatenate([s.t for s in out if not np.isnan(s.acc).all()])  # type: ignore[misc]
    acc_lsb = MG * (1.0 if acc_frame == "raw16" else 0.5)
    assert np.abs(acc - x.acc).max() <= acc_lsb / 2 + 1e-9
    gyro_tol = 1e-6 * np.abs(x.gyro).max() if gyro_frame == "float32" else 0.0625 * DPS / 2
    assert np.abs(gyro - x.gyro).max() <= gyro_tol + 1e-12
    assert np.abs(t_acc - x.t).max() < 1e-6  # type: ignore[operator]
    assert dec.stats.frames_corrupt == 0 and dec.stats.samples == 1000


def test_encoder_without_times_continues_the_clock_and_unix_time():
    x = ImuSamples(acc=np.zeros((10, 3)), gyro=np.full((10, 3), np.nan))
    enc = make_encoder("polar-h10", start_time_s=100.0)
    frames = enc.encode(x) + enc.encode(x)
    _, _, t = stack(decode_all(make_decoder("polar-h10", unix_time=True), frames))
    np.testing.assert_allclose(t, 946_684_800 + 100 + np.arange(20) / 50, rtol=0, atol=1e-6)


@settings(max_examples=80, derandomize=True, deadline=None, database=None)
@given(values=st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=1, max_size=120),
       block=st.integers(1, 255), budget=st.one_of(st.none(), st.integers(10, 300)))
def test_delta_codec_round_trip(values, block, budget):
    payload, used = encode_delta(values, 16, block=block, max_bytes=budget)
    assert used >= 1 and (budget is None or len(payload) <= max(budget, 6))
    assert decode_delta(payload, 3, 16) == [list(v) for v in values[:used]]


def test_delta_decoder_rejects_malformed_payloads():
    ref = bytes(6)
    assert decode_delta(ref, 3, 16) == [[0, 0, 0]]
    assert decode_delta(ref + b"\x04", 3, 16) is None  # half a block header
    assert decode_delta(ref + b"\x21\x01" + bytes(13), 3, 16) is None  # width 33
    assert decode_delta(ref + b"\x04\x02" + bytes(2), 3, 16) is None  # 24 bits need 3 bytes
    assert decode_delta(ref + b"\x04\x01" + bytes(2) + b"\x00", 3, 16) is None  # leftover
    assert decode_delta(ref + b"\x00\x05", 3, 16) == [[0, 0, 0]]  # width 0: no samples (SDK)
    assert decode_delta(b"\xff\x7f" + bytes(4) + b"\x02\x01\x01", 3, 16) is None  # 32767 + 1
    # 1-bit deltas are two's complement here: bits 1,0,1 -> -1, 0, -1
    assert decode_delta(ref + b"\x01\x01\x05", 3, 16) == [[0, 0, 0], [-1, 0, -1]]


def test_fuzz_never_raises_and_output_is_finite():
    rng = np.random.default_rng(8)
    x = _signal(300, seed=9)
    valid = (PolarPmdEncoder(delta_block=8).encode(x)
             + PolarPmdEncoder(acc_frame="raw16", gyro_frame="float32").encode(x))

    def check(s: ImuSamples) -> None:
        assert s.t is not None and np.isfinite(s.t).all()
        measured = s.acc if not np.isnan(s.acc).all() else s.gyro
        assert np.isfinite(measured).all()

    fed, dec = fuzz_packets(PolarPmdDecoder, valid, rng, 1_000_000, check)
    assert fed >= 1_000_000 and dec.stats.frames_corrupt > 0 and dec.stats.frames_ok > 0


def test_valid_frames_between_garbage_decode_exactly():
    rng = np.random.default_rng(10)
    x = _signal(200, seed=11)
    valid = PolarPmdEncoder().encode(x)
    want = stack(decode_all(PolarPmdDecoder(), valid))
    dec = PolarPmdDecoder()
    got = []
    for f in valid:
        for _ in range(int(rng.integers(0, 4))):
            junk = bytearray(mutate(f, rng))
            if len(junk) >= 1:
                junk[0] = int(rng.choice([0, 1, 3, 9, 0x3F]))  # a measurement we skip
            got += dec.feed(bytes(junk))
        got += dec.feed(f)
    acc, gyro, t = stack(got)
    assert rows(acc) == rows(want[0]) and rows(gyro) == rows(want[1])
    np.testing.assert_array_equal(t, want[2])


def test_bad_options():
    with pytest.raises(DeviceOptionError, match="timing"):
        PolarPmdDecoder(timing="fast")
    with pytest.raises(DeviceOptionError, match="acc_frame"):
        PolarPmdEncoder(acc_frame="raw8")
