"""MetaWear decoder / encoder: the MetaWear SDK's own test vectors, pairing, fuzzing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from device_vectors.helpers import decode_all, fuzz_packets, random_imu, rows, stack
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_bridge._types import ImuSamples
from aura_bridge.devices import DeviceOptionError, get_profile, make_decoder, make_encoder
from aura_bridge.devices._metawear import MetaWearDecoder, MetaWearEncoder

G = 9.80665
DPS = math.pi / 180

# SDK vectors, github.com/mbientlab/MetaWear-SDK-Cpp test/test_accelerometer_bmi160.py:
# TestBmi160AccelerationData.test_get_acceleration_data_g (range 4 g) asserts
# (-1.872, -2.919, -1.495) g; the SDK compares floats rounded to 3 decimals.
ACC_4G = bytes.fromhex("03 04 16 c4 94 a2 2a d0")
ACC_4G_EXPECTED_G = [-1.872, -2.919, -1.495]
# TestBmi160HighFreqAccData.test_get_acceleration_data_g (packed, range 8 g):
ACC_PACKED_8G = bytes.fromhex("03 1c 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01")
ACC_PACKED_8G_EXPECTED_G = [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146],
                            [-0.029, 0.352, 0.065]]
# test/test_accelerometer_bmi270.py TestBmi270HighFreqAccData: same data, BMI270 register 0x05.
ACC_PACKED_8G_BMI270 = bytes.fromhex(
    "03 05 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01")
# test/test_gyro_bmi160.py TestGyroBmi160DataHandler.test_rotation_data_handler (500 deg/s):
GYRO_500 = bytes.fromhex("13 05 3e 43 ff 7f 00 80")
GYRO_500_EXPECTED_DPS = [262.409, 499.497, -499.512]
# TestGyroBmi160HighFreqDataHandler.test_rotation_data_handler (packed, 1000 deg/s):
GYRO_PACKED_1000 = bytes.fromhex("13 07 09 15 ad 26 08 de 8a 1a 0d 26 65 e4 8d 20 ac 27 73 ec")
GYRO_PACKED_1000_EXPECTED_DPS = [[164.177, 301.860, -265.122], [207.134, 296.982, -215.457],
                                 [254.055, 309.634, -152.591]]


def test_sdk_acc_vectors():
    (s,) = MetaWearDecoder(acc_range_g=4, pair=False).feed(ACC_4G)
    np.testing.assert_allclose(s.acc / G, [ACC_4G_EXPECTED_G], rtol=0, atol=5e-4)
    np.testing.assert_array_equal(s.acc, np.array([[-15338, -23916, -12246]]) * (G / 8192))
    (s,) = MetaWearDecoder(acc_range_g=8, pair=False).feed(ACC_PACKED_8G)
    np.testing.assert_allclose(s.acc / G, ACC_PACKED_8G_EXPECTED_G, rtol=0, atol=5e-4)
    (s,) = MetaWearDecoder(acc_range_g=8, imu="bmi270", pair=False).feed(ACC_PACKED_8G_BMI270)
    np.testing.assert_allclose(s.acc / G, ACC_PACKED_8G_EXPECTED_G, rtol=0, atol=5e-4)
    # the BMI270 packed register is not a BMI160 acc register
    dec = MetaWearDecoder(imu="bmi160")
    assert dec.feed(ACC_PACKED_8G_BMI270) == [] and dec.stats.extra == {"other_packets": 1}


def test_sdk_gyro_vectors():
    dec = MetaWearDecoder(gyro_range_dps=500)
    (s,) = dec.feed(GYRO_500)
    np.testing.assert_allclose(s.gyro / DPS, [GYRO_500_EXPECTED_DPS], rtol=0, atol=5e-4)
    np.testing.assert_array_equal(s.gyro, np.array([[17214, 32767, -32768]]) * (DPS / 65.6))
    assert np.isnan(s.acc).all()
    (s,) = MetaWearDecoder(gyro_range_dps=1000).feed(GYRO_PACKED_1000)
    np.testing.assert_allclose(s.gyro / DPS, GYRO_PACKED_1000_EXPECTED_DPS, rtol=0, atol=5e-4)


def test_pairing_acc_then_gyro():
    dec = MetaWearDecoder(acc_range_g=8, gyro_range_dps=1000)
    assert dec.feed(ACC_PACKED_8G) == []  # waits for its gyro notification
    (s,) = dec.feed(GYRO_PACKED_1000)
    np.testing.assert_allclose(s.acc / G, ACC_PACKED_8G_EXPECTED_G, atol=5e-4)
    np.testing.assert_allclose(s.gyro / DPS, GYRO_PACKED_1000_EXPECTED_DPS, atol=5e-4)
    assert dec.stats.samples == 3 and dec.stats.frames_ok == 2


def test_wrong_length_and_other_modules():
    dec = MetaWearDecoder()
    assert dec.feed(ACC_4G[:-1]) == [] and dec.feed(GYRO_500 + b"\x00") == []
    assert dec.feed(bytes.fromhex("01 01 01")) == [] and dec.feed(b"\x03") == []  # switch; short
    assert dec.stats.frames_corrupt == 3 and dec.stats.extra == {"other_packets": 1}


def test_profile_commands():
    p = get_profile("metawear")
    assert p.service_uuid == "326a9000-85cb-9195-d9dd-464cfbbae75a"
    assert p.notify_uuids == ("326a9006-85cb-9195-d9dd-464cfbbae75a",)
    assert p.control_uuid == "326a9001-85cb-9195-d9dd-464cfbbae75a"
    # SDK test vectors for the individual commands (test_accelerometer_bmi160.py,
    # test_gyro_bmi160.py): subscribe 03 04 01 / 13 05 01, enable 03 02 01 00 / 13 02 01 00,
    # gyro active 13 01 01; config 03 03 28 08 is derived (100 Hz = 0x28 as in test_set_range,
    # 8 g = 0x08 as in test_set_odr_and_range); 13 03 28 00 = 100 Hz, 2000 deg/s (range 0).
    assert p.start_commands == tuple(bytes.fromhex(h) for h in (
        "03032808", "13032800", "030401", "130501", "03020100", "13020100", "030101", "130101"))
    assert bytes.fromhex("030400") in p.stop_commands and bytes.fromhex("130100") in p.stop_commands


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("imu", ["bmi160", "bmi270"])
def test_round_trip(packed, imu):
    acc, gyro = random_imu(np.random.default_rng(12), 301)
    x = ImuSamples(acc=acc, gyro=gyro)
    notes = make_encoder("metawear", packed=packed, imu=imu, acc_range_g=16).encode(x)
    dec = make_decoder("metawear", imu=imu, acc_range_g=16)
    a, g, t = stack(decode_all(dec, notes))
    assert t is None and a.shape == (301, 3)
    assert np.abs(a - acc).max() <= G / 2048 / 2 + 1e-12
    assert np.abs(g - gyro).max() <= DPS / 16.4 / 2 + 1e-12
    assert len(notes) == (2 * 100 + 2 if packed else 602)


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(order=st.lists(st.sampled_from(["a", "g", "A", "G"]), max_size=40))
def test_pairing_never_invents_or_reorders(order):
    # any interleaving of acc / gyro notifications (single "a"/"g" or packed "A"/"G")
    rng = np.random.default_rng(13)
    notes, sent_a, sent_g = [], [], []
    for kind in order:
        n = 3 if kind.isupper() else 1
        v = rng.integers(-30000, 30000, (n, 3))
        reg = {"a": 0x04, "A": 0x1C, "g": 0x05, "G": 0x07}[kind]
        module = 0x03 if kind.lower() == "a" else 0x13
        notes.append(bytes((module, reg)) + v.astype("<i2").tobytes())
        (sent_a if module == 0x03 else sent_g).extend(v.tolist())
    a, g, _ = stack(decode_all(MetaWearDecoder(acc_range_g=2, gyro_range_dps=125), notes))
    assert [list(r) for r in np.rint(np.array(rows(a)) / G * 16384).astype(int)] == sent_a or (
        not sent_a and not rows(a))
    assert [list(r) for r in np.rint(np.array(rows(g)) / DPS * 262.4).astype(int)] == sent_g or (
        not sent_g and not rows(g))


def test_fuzz():
    rng = np.random.default_rng(14)
    acc, gyro = random_imu(rng, 100)
    valid = MetaWearEncoder(packed=True).encode(ImuSamples(acc=acc, gyro=gyro))

    def check(s: ImuSamples) -> None:
        assert np.nanmax(np.abs(s.acc), initial=0) <= 8 * G
        assert np.nanmax(np.abs(s.gyro), initial=0) <= 32768 / 16.4 * DPS

    fed, dec = fuzz_packets(MetaWearDecoder, valid, rng, 1_000_000, check)
    assert fed >= 1_000_000 and dec.stats.frames_ok > 0 and dec.stats.frames_corrupt > 0


def test_valid_notifications_between_garbage_decode_exactly():
    rng = np.random.default_rng(15)
    acc, gyro = random_imu(rng, 120)
    notes = MetaWearEncoder(packed=True).encode(ImuSamples(acc=acc, gyro=gyro))
    want = stack(decode_all(MetaWearDecoder(), notes))
    dec = MetaWearDecoder()
    got = []
    for note in notes:
        for _ in range(int(rng.integers(0, 3))):
            junk = rng.integers(0, 256, int(rng.integers(0, 30)), dtype=np.uint8).tobytes()
            if junk[:1] in (b"\x03", b"\x13"):
                junk = b"\x01" + junk[1:]  # other modules only: a data header can't be faked
            got += dec.feed(junk)
        got += dec.feed(note)
    got += dec.flush()
    assert rows(stack(got)[0]) == rows(want[0]) and rows(stack(got)[1]) == rows(want[1])
    np.testing.assert_array_equal(stack(got)[0], want[0])


def test_bad_options():
    with pytest.raises(DeviceOptionError, match="acc_range_g 3"):
        MetaWearDecoder(acc_range_g=3)
    with pytest.raises(DeviceOptionError, match="valid"):
        MetaWearEncoder(imu="bmi088")
