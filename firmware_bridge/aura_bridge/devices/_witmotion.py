"""WitMotion IMUs: the serial stream (JY901 / WT901 family) and the BWT901BLE notifications.

Serial ("WIT standard protocol"): 11-byte frames ``55 TT d0..d7 SUM`` with
``SUM = sum(bytes 0..9) & 0xFF`` and four little-endian int16 in ``d0..d7``:

* ``0x51`` acceleration: ``int16 / 32768 * 16`` g, temperature (``/100`` degC) in ``d6..d7``;
* ``0x52`` angular velocity: ``int16 / 32768 * 2000`` deg/s;
* ``0x53`` angle (``/32768 * 180`` deg), ``0x50`` time, ``0x54`` magnetic field, ... are
  checked and counted but carry no IMU sample.

Acc and gyro come in separate frames, acc first in each output cycle; the decoder pairs
them with :class:`~aura_bridge.devices._common.AccGyroPairer` (an acc row waits for the next
gyro frame; nothing is invented). The stream carries no timestamps.

BLE (BWT901BLE 5.0): service ``0000ffe5-...``, notify ``0000ffe4-...``, write ``0000ffe9-...``;
each notification holds one or more 20-byte packets ``55 61`` + 9 int16 LE (acc x y z,
gyro x y z, angle x y z) with the serial scales; ``55 71`` packets answer register reads.
BLE packets carry no checksum, so a decoder can only check the two header bytes.

Sources (facts only; no code copied):
* WITMOTION/WitStandardProtocol_JY901 ``Linux_C/normal/wit_c_sdk.c`` (frame sync and checksum,
  register map in ``ESP32/main/REG.h``: RRATE codes, KEY_UNLOCK 0xB588);
* WitMotion WT901 datasheet v20-0702 section 5.1 (scales, temperature, defaults 10 Hz / 9600
  baud; http://wiki.wit-motion.com/english);
* WITMOTION/WitBluetooth_BWT901BLE5_0 ``Android_Java/wit-example-ble5/.../Bwt901bleResolver.java``
  and ``Bwt901bleProcessor.java`` (0x61 layout and scales), ``BleUUID.java`` (UUIDs),
  ``WitSDK/.../DeviceModel.java`` ``SetRRate`` (50 Hz = ``FF AA 03 08 00``),
  ``Old_Example/.../Bwt901ble.java`` (unlock ``FF AA 69 88 B5``);
* WT901BLECL datasheet v20-0707 section 6.1.2 (``55 71`` register reply example).
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

__all__ = [
    "BLE_PROFILE",
    "SERIAL_PROFILE",
    "UNLOCK_COMMAND",
    "WitMotionBleDecoder",
    "WitMotionBleEncoder",
    "WitMotionSerialDecoder",
    "WitMotionSerialEncoder",
    "rate_command",
    "write_register",
]

HEADER = 0x55
FRAME_LEN = 11
TYPE_TIME, TYPE_ACC, TYPE_GYRO, TYPE_ANGLE = 0x50, 0x51, 0x52, 0x53
#: Output frame types defined by the WIT standard protocol (REG.h OUTPUTHEAD).
KNOWN_TYPES = frozenset(range(0x50, 0x5B)) | {0x5F}
BLE_PACKET_LEN = 20
BLE_DATA, BLE_REGISTER = 0x61, 0x71

ACC_LSB = 16.0 * G / 32768.0  # m/s^2 per LSB
GYRO_LSB = 2000.0 * DEG / 32768.0  # rad/s per LSB
ANGLE_LSB = 180.0 / 32768.0  # deg per LSB

_I16x4 = struct.Struct("<4h")
_I16x9 = struct.Struct("<9h")

#: ``FF AA 69 88 B5``: unlocks register writes for about 10 s (KEY register 0x69 = 0xB588).
UNLOCK_COMMAND = bytes((0xFF, 0xAA, 0x69, 0x88, 0xB5))
_RATE_CODES = {0.2: 0x01, 0.5: 0x02, 1: 0x03, 2: 0x04, 5: 0x05, 10: 0x06, 20: 0x07, 50: 0x08,
               100: 0x09, 125: 0x0A, 200: 0x0B}


def write_register(register: int, value: int) -> bytes:
    """The command ``FF AA reg valueL valueH`` that writes one WitMotion register."""
    if not 0 <= register <= 0xFF or not 0 <= value <= 0xFFFF:
        raise DeviceOptionError(f"register 0..255 and value 0..65535, got {register}, {value}")
    return bytes((0xFF, 0xAA, register, value & 0xFF, value >> 8))


def rate_command(hz: float) -> bytes:
    """The RRATE (register 0x03) command for an output rate in Hz.

    Raises:
        DeviceOptionError: a rate the protocol has no code for.
    """
    if hz not in _RATE_CODES:
        raise DeviceOptionError(f"WitMotion output rate {hz!r} Hz not supported; "
                                f"valid: {sorted(_RATE_CODES)}")
    return write_register(0x03, _RATE_CODES[hz])


def _checksum(frame: bytes | bytearray) -> int:
    return sum(frame[:10]) & 0xFF


class WitMotionSerialDecoder:
    """Stream decoder for WitMotion serial frames (any chunking of the byte stream).

    Resynchronisation: at a ``0x55`` with a bad checksum or unknown type the decoder drops
    that one byte and searches again, so a real frame after garbage is never skipped. The
    buffer never holds more than one partial frame (10 bytes).

    Args:
        pair: pair each acc frame with the following gyro frame (see module docstring);
            False emits every frame as its own sample with NaN in the other sensor.

    Counters in ``stats.extra``: ``angle_frames``, ``other_frames`` (valid frames of types
    that carry no IMU sample), ``temperature_centi_c`` (last temperature * 100).
    """

    def __init__(self, *, pair: bool = True) -> None:
        self.pair = bool(pair)
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._pairer = AccGyroPairer(self.pair, self.stats)

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Consume any number of bytes; return the samples completed by them."""
        buf = self._buf
        buf += data
        i, n = 0, len(buf)
        while True:
            j = buf.find(HEADER, i)
            if j < 0:
                self.stats.bytes_dropped += n - i
                i = n
                break
            self.stats.bytes_dropped += j - i
            i = j
            if n - i < FRAME_LEN:
                break
            kind = buf[i + 1]
            if kind not in KNOWN_TYPES or _checksum(buf[i:i + FRAME_LEN]) != buf[i + 10]:
                self.stats.frames_corrupt += 1
                self.stats.bytes_dropped += 1
                i += 1
                continue
            self._frame(kind, _I16x4.unpack_from(buf, i + 2))
            i += FRAME_LEN
        del buf[:i]
        return self._pairer.take()

    def flush(self) -> list[ImuSamples]:
        """Release an acc row still waiting for its gyro frame (end of stream)."""
        self._pairer.flush()
        return self._pairer.take()

    def _frame(self, kind: int, v: tuple[int, ...]) -> None:
        self.stats.frames_ok += 1
        extra = self.stats.extra
        if kind == TYPE_ACC:
            extra["temperature_centi_c"] = v[3]
            row: Row = (v[0] * ACC_LSB, v[1] * ACC_LSB, v[2] * ACC_LSB)
            self._pairer.push_acc([row])
        elif kind == TYPE_GYRO:
            row = (v[0] * GYRO_LSB, v[1] * GYRO_LSB, v[2] * GYRO_LSB)
            self._pairer.push_gyro([row])
        elif kind == TYPE_ANGLE:
            extra["angle_frames"] = extra.get("angle_frames", 0) + 1
        else:
            extra["other_frames"] = extra.get("other_frames", 0) + 1


def _frame(kind: int, values: tuple[int, int, int, int]) -> bytes:
    body = bytes((HEADER, kind)) + _I16x4.pack(*values)
    return body + bytes((_checksum(body),))


class WitMotionSerialEncoder:
    """SI samples -> WitMotion serial frames (what a JY901 / WT901 sends).

    Each sample becomes a ``0x51`` frame (if it has acc) then a ``0x52`` frame (if it has
    gyro), optionally followed by a ``0x53`` angle frame of zeros. Values are rounded to the
    nearest LSB and clipped to int16 (+-16 g, +-2000 deg/s).

    Args:
        temperature_c: temperature written into acc frames.
        angle_frames: also send an all-zero ``0x53`` frame per sample, as the device's
            default output content does (the decoder counts and skips it).
    """

    def __init__(self, *, temperature_c: float = 25.0, angle_frames: bool = False) -> None:
        self.temperature = round(temperature_c * 100)
        if not -32768 <= self.temperature <= 32767:
            raise DeviceOptionError(f"temperature_c {temperature_c!r} out of int16/100 range")
        self.angle_frames = bool(angle_frames)

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One chunk of frames per sample."""
        acc = quantize(samples.acc, ACC_LSB, -32768, 32767)
        gyro = quantize(samples.gyro, GYRO_LSB, -32768, 32767)
        out = []
        for k, (a, g) in enumerate(sample_rows(samples)):
            chunk = b""
            if a is not None:
                ax, ay, az = (int(x) for x in acc[k])
                chunk += _frame(TYPE_ACC, (ax, ay, az, self.temperature))
            if g is not None:
                gx, gy, gz = (int(x) for x in gyro[k])
                chunk += _frame(TYPE_GYRO, (gx, gy, gz, self.temperature))
            if self.angle_frames:
                chunk += _frame(TYPE_ANGLE, (0, 0, 0, 0))
            out.append(chunk)
        return out


class WitMotionBleDecoder:
    """Decoder for BWT901BLE notifications (one call per notification).

    A notification may pack several 20-byte packets. Within it the decoder walks packet by
    packet: ``55 61`` -> one sample (acc + gyro; the angle is ignored), ``55 71`` (register
    read reply) -> counted in ``stats.extra["register_replies"]``; anything else -> the byte
    is dropped and the search resumes at the next byte. A trailing partial packet is dropped
    and counted as corrupt. No state is kept between notifications.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Decode one notification."""
        acc: list[Row] = []
        gyro: list[Row] = []
        i, n = 0, len(data)
        while i < n:
            if data[i] != HEADER or i + 1 >= n or data[i + 1] not in (BLE_DATA, BLE_REGISTER):
                self.stats.bytes_dropped += 1
                i += 1
                continue
            if n - i < BLE_PACKET_LEN:
                self.stats.frames_corrupt += 1
                self.stats.bytes_dropped += n - i
                break
            if data[i + 1] == BLE_DATA:
                v = _I16x9.unpack_from(data, i + 2)
                acc.append((v[0] * ACC_LSB, v[1] * ACC_LSB, v[2] * ACC_LSB))
                gyro.append((v[3] * GYRO_LSB, v[4] * GYRO_LSB, v[5] * GYRO_LSB))
                self.stats.samples += 1
            else:
                extra = self.stats.extra
                extra["register_replies"] = extra.get("register_replies", 0) + 1
            self.stats.frames_ok += 1
            i += BLE_PACKET_LEN
        if not acc:
            return []
        pairer = AccGyroPairer()
        for a, g in zip(acc, gyro, strict=True):
            pairer.push_pair(a, g)
        return pairer.take()


class WitMotionBleEncoder:
    """SI samples -> BWT901BLE notifications.

    Each sample becomes one ``55 61`` packet (angles written as zero); NaN becomes 0
    because the format has no "not sent" value.

    Args:
        packets_per_notification: how many 20-byte packets to pack into one notification.
    """

    def __init__(self, *, packets_per_notification: int = 1) -> None:
        if int(packets_per_notification) < 1:
            raise DeviceOptionError("packets_per_notification must be >= 1, got "
                                    f"{packets_per_notification!r}")
        self.packets_per_notification = int(packets_per_notification)

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One element per notification."""
        acc = quantize(samples.acc, ACC_LSB, -32768, 32767)
        gyro = quantize(samples.gyro, GYRO_LSB, -32768, 32767)
        packets = [
            bytes((HEADER, BLE_DATA)) + _I16x9.pack(*map(int, acc[k]), *map(int, gyro[k]), 0, 0, 0)
            for k in range(len(samples))
        ]
        step = self.packets_per_notification
        return [b"".join(packets[k:k + step]) for k in range(0, len(packets), step)]


_SCALE = (("acc", "int16 / 32768 * 16 g (g = 9.80665 m/s^2)"),
          ("gyro", "int16 / 32768 * 2000 deg/s"),
          ("angle", "int16 / 32768 * 180 deg (not decoded)"))

SERIAL_PROFILE = VendorProfile(
    name="witmotion",
    transport="serial",
    framing="stream",
    sample_rate_hz=10.0,
    gravity_removed=False,
    has_timestamps=False,
    description=(
        "WitMotion JY901/WT901 serial IMU, 11-byte 0x55 frames with checksum; factory "
        "default 10 Hz at 9600 baud (WitStandardProtocol_JY901, WT901 datasheet)"
    ),
    baud_rate=9600,
    scale=_SCALE,
    sources=(
        "github.com/WITMOTION/WitStandardProtocol_JY901 Linux_C/normal/wit_c_sdk.c",
        "github.com/WITMOTION/WitStandardProtocol_JY901 ESP32/main/REG.h",
        "WT901 datasheet v20-0702 sections 2.4.2, 5.1, 5.2 (wiki.wit-motion.com/english)",
    ),
)

BLE_PROFILE = VendorProfile(
    name="witmotion-ble",
    transport="ble",
    framing="packet",
    sample_rate_hz=50.0,
    gravity_removed=False,
    has_timestamps=False,
    description=(
        "WitMotion BWT901BLE (BLE 5.0) IMU, 20-byte 0x55 0x61 notifications, set to 50 Hz "
        "on start (WITMOTION/WitBluetooth_BWT901BLE5_0)"
    ),
    service_uuid="0000ffe5-0000-1000-8000-00805f9a34fb",
    notify_uuids=("0000ffe4-0000-1000-8000-00805f9a34fb",),
    control_uuid="0000ffe9-0000-1000-8000-00805f9a34fb",
    start_commands=(UNLOCK_COMMAND, rate_command(50)),
    scale=_SCALE,
    sources=(
        "github.com/WITMOTION/WitBluetooth_BWT901BLE5_0 Android_Java/wit-example-ble5/app/src/"
        "main/java/com/wit/example/ble5/components/Bwt901bleResolver.java",
        "github.com/WITMOTION/WitBluetooth_BWT901BLE5_0 .../bluetooth/constant/BleUUID.java",
        "github.com/WITMOTION/WitBluetooth_BWT901BLE5_0 Android_Java/wit-example-ble5/WitSDK/"
        "src/main/java/com/wit/witsdk/Device/DeviceModel.java (SetRRate)",
        "WT901BLECL datasheet v20-0707 section 6.1 (wiki.wit-motion.com/english)",
    ),
)
