"""Nordic Thingy:52 raw motion decoder / encoder: firmware-derived vectors, round trip, fuzz."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from device_vectors.helpers import decode_all, fuzz_packets, random_imu, stack

from aura_bridge._types import ImuSamples
from aura_bridge.devices import DeviceOptionError, get_profile, make_decoder, make_encoder
from aura_bridge.devices._thingy import ThingyRawDecoder, ThingyRawEncoder, config_command

G = 9.80665
DPS = math.pi / 180


def firmware_raw(acc_g, gyro_dps, compass_ut) -> bytes:
    """What the Thingy firmware sends for 16Q16 sensor values (derived vector builder).

    NordicSemiconductor/Nordic-Thingy52-FW source/modules/m_motion.c, DRV_MOTION_EVT_RAW:
    int16(p_raw >> 6) for acc, >> 11 for gyro, >> 12 for compass (compass x/y swapped and y
    negated there; irrelevant here), packed as ble_tms_raw_t (include/ble_services/ble_tms.h).
    """
    q16 = [int(v * 65536) for v in (*acc_g, *gyro_dps, *compass_ut)]
    shifts = [6] * 3 + [11] * 3 + [12] * 3
    return struct.pack("<9h", *[v >> s for v, s in zip(q16, shifts, strict=True)])


# Derived vector: acc (0.5, -1, 1) g, gyro (90, -45.5, 0) deg/s, compass (10, 0, 0) uT.
RAW = bytes.fromhex("00 02 00 fc 00 04 40 0b 50 fa 00 00 a0 00 00 00 00 00")


def test_firmware_derived_vector():
    assert firmware_raw((0.5, -1, 1), (90, -45.5, 0), (10, 0, 0)) == RAW
    dec = ThingyRawDecoder()
    (s,) = dec.feed(RAW)
    np.testing.assert_array_equal(s.acc, [[0.5 * G, -G, G]])
    np.testing.assert_array_equal(s.gyro, [[90 * DPS, -45.5 * DPS, 0.0]])
    assert s.t is None and dec.stats.frames_ok == 1


def test_arithmetic_shift_rounds_toward_minus_infinity():
    # -0.0001 g -> 16Q16 -6 -> >> 6 = -1 LSB (floor), so the decoder sees -1/1024 g
    (s,) = ThingyRawDecoder().feed(firmware_raw((-0.0001, 0, 0), (0, 0, 0), (0, 0, 0)))
    assert s.acc[0, 0] == -G / 1024


def test_encoder_byte_exact_and_round_trip():
    x = ImuSamples(acc=np.array([[0.5 * G, -G, G]]),
                   gyro=np.array([[90 * DPS, -45.5 * DPS, 0.0]]))
    assert ThingyRawEncoder(compass_ut=(10, 0, 0)).encode(x) == [RAW]
    acc, gyro = random_imu(np.random.default_rng(15), 400)
    notes = make_encoder("thingy52").encode(ImuSamples(acc=acc, gyro=gyro))
    a, g, _ = stack(decode_all(make_decoder("thingy52"), notes))
    assert np.abs(a - acc).max() <= G / 1024 / 2 + 1e-12
    assert np.abs(g - gyro).max() <= DPS / 32 / 2 + 1e-12


def test_wrong_length_is_dropped():
    dec = ThingyRawDecoder()
    assert dec.feed(RAW[:-1]) == [] and dec.feed(RAW + b"\x00") == [] and dec.feed(b"") == []
    assert dec.stats.frames_corrupt == 3 and dec.stats.bytes_dropped == 17 + 19


def test_fuzz():
    rng = np.random.default_rng(16)
    acc, gyro = random_imu(rng, 50)
    valid = ThingyRawEncoder().encode(ImuSamples(acc=acc, gyro=gyro))

    def check(s: ImuSamples) -> None:
        assert np.abs(s.acc).max() <= 32 * G and np.abs(s.gyro).max() <= 1024 * DPS

    fed, dec = fuzz_packets(ThingyRawDecoder, valid, rng, 1_000_000, check)
    assert fed >= 1_000_000 and dec.stats.frames_ok > 0 and dec.stats.frames_corrupt > 0


def test_valid_notifications_between_garbage_decode_exactly():
    # Any 18 bytes are a valid raw notification (no header, no checksum), so garbage here is
    # of other lengths; every valid one decodes, in order, and nothing else does.
    rng = np.random.default_rng(17)
    acc, gyro = random_imu(rng, 200)
    notes = ThingyRawEncoder().encode(ImuSamples(acc=acc, gyro=gyro))
    dec = ThingyRawDecoder()
    got = []
    for note in notes:
        for _ in range(int(rng.integers(0, 3))):
            n = int(rng.choice([k for k in range(40) if k != 18]))
            got += dec.feed(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        got += dec.feed(note)
    want = stack(decode_all(ThingyRawDecoder(), notes))
    np.testing.assert_array_equal(stack(got)[0], want[0])
    np.testing.assert_array_equal(stack(got)[1], want[1])


def test_profile_and_config():
    p = get_profile("thingy52")
    # ble_tms.c: base EF68xxxx-9B35-4933-9B10-52FFA9740042, service 0x0400, raw 0x0406,
    # config 0x0401
    assert p.service_uuid == "EF680400-9B35-4933-9B10-52FFA9740042"
    assert p.notify_uuids == ("EF680406-9B35-4933-9B10-52FFA9740042",)
    assert p.control_uuid == "EF680401-9B35-4933-9B10-52FFA9740042"
    # ble_tms_config_t: pedo 1000 ms, temp 500 ms, compass 500 ms, 50 Hz, wake-on-motion 1
    assert p.start_commands == (bytes.fromhex("e8 03 f4 01 f4 01 32 00 01"),)
    with pytest.raises(DeviceOptionError, match=r"1\.\.200"):
        config_command(250)
