"""MbientLab MetaWear (MetaMotion R / C / RL with BMI160, MetaMotion S with BMI270) over BLE.

GATT: service ``326a9000-85cb-9195-d9dd-464cfbbae75a``, commands written to ``326a9001-...``,
notifications from ``326a9006-...``. Each notification is ``[module][register][data]``:

============  ==========  =============================  =====================
module        register    BMI160                         BMI270
============  ==========  =============================  =====================
0x03 (acc)    data        0x04, int16 x y z              0x04
0x03 (acc)    packed      0x1C, 3 samples x y z          0x05
0x13 (gyro)   data        0x05, int16 x y z              0x04
0x13 (gyro)   packed      0x07, 3 samples x y z          0x05
============  ==========  =============================  =====================

Scales depend on the configured range, so the decoder takes the range as an option:
acc LSB/g 16384 / 8192 / 4096 / 2048 for +-2 / 4 / 8 / 16 g; gyro LSB/(deg/s) 16.4 / 32.8 /
65.6 / 131.2 / 262.4 for +-2000 / 1000 / 500 / 250 / 125 deg/s (the SDK's values). Acc and
gyro arrive in separate notifications without timestamps; they are paired like WitMotion's
(:class:`~aura_bridge.devices._common.AccGyroPairer`).

Commands (profile, BMI160 at 100 Hz, +-8 g, +-2000 deg/s): config ``03 03 28 08`` and
``13 03 28 00``; subscribe ``03 04 01`` / ``13 05 01``; enable sampling ``03 02 01 00`` /
``13 02 01 00``; start ``03 01 01`` / ``13 01 01``; stop, disable and unsubscribe reverse them.

Sources (facts only; no code copied): mbientlab/MetaWear-SDK-Cpp
``src/metawear/sensor/cpp/accelerometer_bosch_register.h``, ``gyro_bosch_register.h``,
``accelerometer_bosch.cpp`` (FSR scales, start / enable commands), ``gyro_bosch.cpp``
(FSR_SCALE), ``src/metawear/impl/cpp/metawearboard.cpp`` (GATT UUIDs), and the SDK's tests
``test/test_accelerometer_bmi160.py``, ``test/test_gyro_bmi160.py``,
``test/test_accelerometer_bmi270.py`` (command bytes and data vectors).
"""

from __future__ import annotations

import struct

from .._types import DecoderStats, ImuSamples
from ._common import (
    DEG,
    AccGyroPairer,
    DeviceOptionError,
    G,
    Row,
    VendorProfile,
    quantize,
    sample_rows,
)

__all__ = ["PROFILE", "MetaWearDecoder", "MetaWearEncoder"]

MODULE_ACC, MODULE_GYRO = 0x03, 0x13
#: (acc data, acc packed, gyro data, gyro packed) registers per IMU.
REGISTERS = {"bmi160": (0x04, 0x1C, 0x05, 0x07), "bmi270": (0x04, 0x05, 0x04, 0x05)}
ACC_LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
GYRO_LSB_PER_DPS = {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2, 125: 262.4}
_XYZ = struct.Struct("<3h")


def _check_options(acc_range_g: int, gyro_range_dps: int, imu: str) -> tuple[float, float]:
    if acc_range_g not in ACC_LSB_PER_G:
        raise DeviceOptionError(f"acc_range_g {acc_range_g!r} not supported; "
                                f"valid: {sorted(ACC_LSB_PER_G)}")
    if gyro_range_dps not in GYRO_LSB_PER_DPS:
        raise DeviceOptionError(f"gyro_range_dps {gyro_range_dps!r} not supported; "
                                f"valid: {sorted(GYRO_LSB_PER_DPS)}")
    if imu not in REGISTERS:
        raise DeviceOptionError(f"imu {imu!r} not supported; valid: {sorted(REGISTERS)}")
    return G / ACC_LSB_PER_G[acc_range_g], DEG / GYRO_LSB_PER_DPS[gyro_range_dps]


class MetaWearDecoder:
    """Decoder for MetaWear notifications (one call per notification).

    Args:
        acc_range_g: configured accelerometer range (2, 4, 8, 16).
        gyro_range_dps: configured gyroscope range (125, 250, 500, 1000, 2000).
        imu: ``"bmi160"`` (MetaMotion R / C / RL) or ``"bmi270"`` (MetaMotion S).
        pair: pair acc and gyro notifications; False emits each alone (NaN elsewhere).

    Data notifications of the wrong length are counted in ``stats.frames_corrupt``;
    notifications from other modules / registers in ``stats.extra["other_packets"]``.
    """

    def __init__(self, *, acc_range_g: int = 8, gyro_range_dps: int = 2000,
                 imu: str = "bmi160", pair: bool = True) -> None:
        self.acc_lsb, self.gyro_lsb = _check_options(acc_range_g, gyro_range_dps, imu)
        self.registers = REGISTERS[imu]
        self.pair = bool(pair)
        self.stats = DecoderStats()
        self._pairer = AccGyroPairer(self.pair, self.stats)

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Decode one notification."""
        rows = self._rows(data)
        if rows is not None:
            is_acc, values = rows
            if is_acc:
                self._pairer.push_acc(values)
            else:
                self._pairer.push_gyro(values)
        return self._pairer.take()

    def flush(self) -> list[ImuSamples]:
        """Release acc rows still waiting for a gyro notification."""
        self._pairer.flush()
        return self._pairer.take()

    def _rows(self, data: bytes) -> tuple[bool, list[Row]] | None:
        if len(data) < 2:
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(data)
            return None
        module, register = data[0], data[1]
        acc_data, acc_packed, gyro_data, gyro_packed = self.registers
        if module == MODULE_ACC and register in (acc_data, acc_packed):
            is_acc, lsb, packed = True, self.acc_lsb, register == acc_packed
        elif module == MODULE_GYRO and register in (gyro_data, gyro_packed):
            is_acc, lsb, packed = False, self.gyro_lsb, register == gyro_packed
        else:
            extra = self.stats.extra
            extra["other_packets"] = extra.get("other_packets", 0) + 1
            return None
        if len(data) != 2 + (18 if packed else 6):
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(data)
            return None
        self.stats.frames_ok += 1
        rows: list[Row] = []
        for off in range(2, len(data), 6):
            x, y, z = _XYZ.unpack_from(data, off)
            rows.append((x * lsb, y * lsb, z * lsb))
        return is_acc, rows


class MetaWearEncoder:
    """SI samples -> MetaWear notifications (acc then gyro, per sample or per 3 samples).

    Args:
        acc_range_g, gyro_range_dps, imu: as the decoder's; must match it.
        packed: send the packed registers (3 samples per notification); a remainder of
            fewer than 3 samples is sent unpacked.
    """

    def __init__(self, *, acc_range_g: int = 8, gyro_range_dps: int = 2000,
                 imu: str = "bmi160", packed: bool = False) -> None:
        self.acc_lsb, self.gyro_lsb = _check_options(acc_range_g, gyro_range_dps, imu)
        self.registers = REGISTERS[imu]
        self.packed = bool(packed)

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One element per notification."""
        acc = quantize(samples.acc, self.acc_lsb, -32768, 32767)
        gyro = quantize(samples.gyro, self.gyro_lsb, -32768, 32767)
        present = sample_rows(samples)
        acc_data, acc_packed, gyro_data, gyro_packed = self.registers
        out: list[bytes] = []
        step = 3 if self.packed else 1
        k = 0
        while k < len(samples):
            group = range(k, min(k + step, len(samples)))
            full = len(group) == 3 and all(a is not None and g is not None
                                           for a, g in (present[i] for i in group))
            if not full:
                group = range(k, k + 1)
            a_reg, g_reg = (acc_packed, gyro_packed) if full else (acc_data, gyro_data)
            if present[k][0] is not None:
                out.append(bytes((MODULE_ACC, a_reg)) + b"".join(
                    _XYZ.pack(*(int(v) for v in acc[i])) for i in group))
            if present[k][1] is not None:
                out.append(bytes((MODULE_GYRO, g_reg)) + b"".join(
                    _XYZ.pack(*(int(v) for v in gyro[i])) for i in group))
            k = group.stop
        return out


_UUID = "-85cb-9195-d9dd-464cfbbae75a"

PROFILE = VendorProfile(
    name="metawear",
    transport="ble",
    framing="packet",
    sample_rate_hz=100.0,
    gravity_removed=False,
    has_timestamps=False,
    description=("MbientLab MetaWear / MetaMotion (BMI160) acc +-8 g and gyro +-2000 deg/s "
                 "at 100 Hz (mbientlab/MetaWear-SDK-Cpp)"),
    service_uuid="326a9000" + _UUID,
    notify_uuids=("326a9006" + _UUID,),
    control_uuid="326a9001" + _UUID,
    start_commands=(
        bytes.fromhex("03032808"),  # acc config: 100 Hz (odr 8, bwp 2), range 8 g
        bytes.fromhex("13032800"),  # gyro config: 100 Hz, range 2000 deg/s
        bytes.fromhex("030401"),  # subscribe acc data
        bytes.fromhex("130501"),  # subscribe gyro data
        bytes.fromhex("03020100"),  # enable acc sampling
        bytes.fromhex("13020100"),  # enable gyro sampling
        bytes.fromhex("030101"),  # acc active
        bytes.fromhex("130101"),  # gyro active
    ),
    stop_commands=(
        bytes.fromhex("030100"),
        bytes.fromhex("130100"),
        bytes.fromhex("03020001"),
        bytes.fromhex("13020001"),
        bytes.fromhex("030400"),
        bytes.fromhex("130500"),
    ),
    scale=(("acc", "int16 / 4096 g at +-8 g (16384/8192/4096/2048 LSB/g)"),
           ("gyro", "int16 / 16.4 deg/s at +-2000 deg/s (16.4 ... 262.4 LSB/(deg/s))")),
    sources=(
        "github.com/mbientlab/MetaWear-SDK-Cpp src/metawear/sensor/cpp/accelerometer_bosch.cpp",
        "github.com/mbientlab/MetaWear-SDK-Cpp src/metawear/sensor/cpp/gyro_bosch.cpp",
        "github.com/mbientlab/MetaWear-SDK-Cpp src/metawear/impl/cpp/metawearboard.cpp",
        "github.com/mbientlab/MetaWear-SDK-Cpp test/test_accelerometer_bmi160.py, "
        "test/test_gyro_bmi160.py",
    ),
)
