"""Nordic Thingy:52 motion service, raw data characteristic.

GATT: motion service ``EF680400-9B35-4933-9B10-52FFA9740042``, raw data (notify)
``EF680406-...``, configuration (read / write) ``EF680401-...``. Each raw notification is
9 int16 little-endian: accelerometer x y z in Q6.10 g, gyroscope x y z in Q11.5 deg/s,
compass in Q12.4 uT (ignored here). The firmware produces them from 16Q16 values by
arithmetic right shifts of 6, 11 and 12 bits. No timestamps.

The configuration characteristic holds ``ble_tms_config_t`` (little-endian, 9 bytes):
pedometer interval ms (u16), temperature interval ms (u16), compass interval ms (u16),
motion processing frequency Hz (u16, 1..200), wake-on-motion (u8). The firmware default is
1000 / 500 / 500 / 10 Hz / 1; the profile writes the same with 50 Hz on start. Raw data
streams while notifications on the raw characteristic are enabled (the firmware enables and
disables the raw feature on the CCCD write), so there is no stop command.

Sources (facts only; no code copied): NordicSemiconductor/Nordic-Thingy52-FW
``include/ble_services/ble_tms.h`` (``ble_tms_raw_t``, ``ble_tms_config_t``, limits),
``source/ble_services/ble_tms.c`` (UUID base and characteristic ids),
``source/modules/m_motion.c`` (Q formats: ``RAW_Q_FORMAT_*_INTEGER_BITS`` 6 / 11 / 12, units in
its debug log, raw feature on CCCD), ``include/modules/m_motion.h`` (``MOTION_DEFAULT_CONFIG``).
"""

from __future__ import annotations

import struct

import numpy as np

from .._types import DecoderStats, ImuSamples
from ._common import DEG, DeviceOptionError, G, VendorProfile, make_samples, quantize

__all__ = ["PROFILE", "ThingyRawDecoder", "ThingyRawEncoder", "config_command"]

RAW_LEN = 18
ACC_LSB = G / 1024.0  # Q6.10 g
GYRO_LSB = DEG / 32.0  # Q11.5 deg/s
COMPASS_LSB_UT = 1.0 / 16.0  # Q12.4 uT
_RAW = struct.Struct("<9h")
_CONFIG = struct.Struct("<HHHHB")


def config_command(motion_freq_hz: int = 50, *, pedo_interval_ms: int = 1000,
                   temp_interval_ms: int = 500, compass_interval_ms: int = 500,
                   wake_on_motion: bool = True) -> bytes:
    """Bytes for the motion configuration characteristic (``ble_tms_config_t``).

    Raises:
        DeviceOptionError: a value outside the firmware's limits.
    """
    if not 1 <= motion_freq_hz <= 200:
        raise DeviceOptionError(f"motion_freq_hz must be 1..200, got {motion_freq_hz!r}")
    for name, value in (("pedo_interval_ms", pedo_interval_ms),
                        ("temp_interval_ms", temp_interval_ms),
                        ("compass_interval_ms", compass_interval_ms)):
        if not 100 <= value <= 5000:
            raise DeviceOptionError(f"{name} must be 100..5000, got {value!r}")
    return _CONFIG.pack(pedo_interval_ms, temp_interval_ms, compass_interval_ms,
                        motion_freq_hz, int(bool(wake_on_motion)))


class ThingyRawDecoder:
    """Decoder for Thingy:52 raw motion notifications (exactly 18 bytes each).

    Notifications of another length are dropped and counted in ``stats.frames_corrupt``.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Decode one notification: one sample with acc and gyro."""
        if len(data) != RAW_LEN:
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(data)
            return []
        v = _RAW.unpack(data)
        self.stats.frames_ok += 1
        self.stats.samples += 1
        acc = np.array([v[0:3]], dtype=np.float64) * ACC_LSB
        gyro = np.array([v[3:6]], dtype=np.float64) * GYRO_LSB
        return [make_samples(acc, gyro)]


class ThingyRawEncoder:
    """SI samples -> Thingy:52 raw notifications (compass written as zero, NaN as zero).

    Args:
        compass_ut: compass x y z in uT written into every notification.
    """

    def __init__(self, *, compass_ut: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        if len(compass_ut) != 3:
            raise DeviceOptionError(f"compass_ut needs 3 values, got {compass_ut!r}")
        self.compass = tuple(round(c / COMPASS_LSB_UT) for c in compass_ut)
        if not all(-32768 <= c <= 32767 for c in self.compass):
            raise DeviceOptionError(f"compass_ut {compass_ut!r} outside Q12.4 range")

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One notification per sample."""
        acc = quantize(samples.acc, ACC_LSB, -32768, 32767)
        gyro = quantize(samples.gyro, GYRO_LSB, -32768, 32767)
        return [_RAW.pack(*(int(x) for x in acc[k]), *(int(x) for x in gyro[k]), *self.compass)
                for k in range(len(samples))]


_UUID = "-9B35-4933-9B10-52FFA9740042"

PROFILE = VendorProfile(
    name="thingy52",
    transport="ble",
    framing="packet",
    sample_rate_hz=50.0,
    gravity_removed=False,
    has_timestamps=False,
    description=("Nordic Thingy:52 motion service raw data (acc Q6.10 g, gyro Q11.5 deg/s), "
                 "set to 50 Hz on start (NordicSemiconductor/Nordic-Thingy52-FW)"),
    service_uuid="EF680400" + _UUID,
    notify_uuids=("EF680406" + _UUID,),
    control_uuid="EF680401" + _UUID,
    start_commands=(config_command(50),),
    scale=(("acc", "int16 / 2^10 g (Q6.10)"), ("gyro", "int16 / 2^5 deg/s (Q11.5)"),
           ("compass", "int16 / 2^4 uT (Q12.4, not decoded)")),
    sources=(
        "github.com/NordicSemiconductor/Nordic-Thingy52-FW include/ble_services/ble_tms.h",
        "github.com/NordicSemiconductor/Nordic-Thingy52-FW source/ble_services/ble_tms.c",
        "github.com/NordicSemiconductor/Nordic-Thingy52-FW source/modules/m_motion.c",
        "github.com/NordicSemiconductor/Nordic-Thingy52-FW include/modules/m_motion.h",
    ),
)
