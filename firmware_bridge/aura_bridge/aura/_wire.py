"""AURA stream protocol v1: frame layouts, CRC and the message types (docs/protocol.md).

Every frame is ``type:u8 | body | crc32:u32 LE``; the CRC is CRC-32/IEEE (``zlib.crc32``) over
``type | body``. This module builds and parses single frames; :func:`parse_frame` raises
:class:`AuraFrameError` on anything malformed. The incremental decoders in ``_decoder`` wrap it
and never raise.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "AURA_MAX_FRAME_LEN",
    "AURA_MAX_SAMPLES_PER_FRAME",
    "AURA_PROTOCOL_VERSION",
    "AckStatus",
    "AuraAck",
    "AuraCommand",
    "AuraFrameError",
    "AuraHello",
    "AuraSampleFrame",
    "MessageType",
    "Opcode",
    "parse_frame",
]

AURA_PROTOCOL_VERSION = 1
AURA_MAX_SAMPLES_PER_FRAME = 64
SAMPLES_HEADER_LEN = 7  # type, seq u16, t_us u32
CRC_LEN = 4
SAMPLE_LEN = 12  # six int16
AURA_MAX_FRAME_LEN = SAMPLES_HEADER_LEN + SAMPLE_LEN * AURA_MAX_SAMPLES_PER_FRAME + CRC_LEN
HELLO_LEN = 32
ACK_LEN = 8
MIN_FRAME_LEN = 7  # a COMMAND without arguments
MAX_COMMAND_ARGS = 32

#: ``zlib.crc32(frame)`` of any frame whose last four bytes are its own CRC (LE): the CRC-32
#: residue. Checking it needs no slicing, which matters on the decoder's hot path.
CRC_RESIDUE = 0x2144DF1C

GRAVITY_REMOVED = 0x01  # HELLO flags bit 0

_HELLO = struct.Struct("<BBBBQIHHff")
_SAMPLES_HEAD = struct.Struct("<BHI")
_CRC = struct.Struct("<I")
_U32 = struct.Struct("<I")
_RANGE = struct.Struct("<HH")


class MessageType(IntEnum):
    """First byte of every frame."""

    HELLO = 0x01
    SAMPLES = 0x02
    COMMAND = 0x03
    ACK = 0x04


class Opcode(IntEnum):
    """Host-to-device command opcodes."""

    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03
    SET_RANGE = 0x04
    GET_HELLO = 0x05


#: Argument length in bytes of each known opcode.
OPCODE_ARG_LEN = {Opcode.START: 0, Opcode.STOP: 0, Opcode.SET_RATE: 4, Opcode.SET_RANGE: 4,
                  Opcode.GET_HELLO: 0}


class AckStatus(IntEnum):
    """Status byte of an ACK frame; anything but ``OK`` is a NAK."""

    OK = 0x00
    UNKNOWN_OPCODE = 0x01
    BAD_LENGTH = 0x02
    BAD_VALUE = 0x03
    BAD_STATE = 0x04
    MTU_TOO_SMALL = 0x05
    INTERNAL = 0x06


class AuraFrameError(ValueError):
    """A frame is refused.

    Attributes:
        code: ``"short"``, ``"crc"``, ``"length"``, ``"type"`` (unknown message type),
            ``"version"`` (HELLO of another protocol version) or ``"value"`` (a HELLO field out
            of range), as in the test vectors and the C ``AURA_ERR_*`` codes. ``"type"`` and
            ``"version"`` frames are valid frames of a newer protocol: receivers ignore them.
        reason: a readable description.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"not a valid AURA v1 frame: {reason}; drop it and wait for the next")


def _seal(body: bytes) -> bytes:
    return body + _CRC.pack(zlib.crc32(body))


@dataclass(frozen=True)
class AuraHello:
    """A device's announcement: who it is and how to turn its int16 counts into SI units.

    Attributes:
        device_id: 64-bit device identifier (e.g. the MCU's factory id).
        sample_rate_hz: output data rate; sent on the wire in millihertz (u32).
        accel_range_g: accelerometer full scale, +/- g.
        gyro_range_dps: gyroscope full scale, +/- deg/s.
        accel_scale: m/s^2 per LSB (sent as float32).
        gyro_scale: rad/s per LSB (sent as float32).
        gravity_removed: True when the accelerometer reports linear acceleration (gravity
            removed) rather than raw specific force.
        version: protocol version; 1 for this implementation.
    """

    device_id: int
    sample_rate_hz: float
    accel_range_g: int
    gyro_range_dps: int
    accel_scale: float
    gyro_scale: float
    gravity_removed: bool = False
    version: int = AURA_PROTOCOL_VERSION

    @classmethod
    def for_ranges(cls, device_id: int, sample_rate_hz: float, accel_range_g: int,
                   gyro_range_dps: int, *, gravity_removed: bool = False) -> AuraHello:
        """A HELLO whose scales map the full int16 span onto the given full-scale ranges.

        Uses the datasheet convention ``scale = range / 32768`` (9.80665 m/s^2 per g).
        """
        acc = float(np.float32(accel_range_g * 9.80665 / 32768.0))
        gyr = float(np.float32(math.radians(gyro_range_dps) / 32768.0))
        return cls(device_id, sample_rate_hz, accel_range_g, gyro_range_dps, acc, gyr,
                   gravity_removed)

    @property
    def sample_rate_mhz(self) -> int:
        """Sample rate in millihertz, as sent on the wire."""
        return round(self.sample_rate_hz * 1000)

    def to_frame(self) -> bytes:
        """The HELLO frame (32 bytes, CRC included, not COBS-encoded).

        Raises:
            ValueError: a field does not fit its wire type.
        """
        if not 0 <= self.device_id < 1 << 64:
            raise ValueError(f"device_id must fit in u64, got {self.device_id}")
        if not 0 < self.sample_rate_mhz < 1 << 32:
            raise ValueError(f"sample_rate_hz must be in (0, 4294967.295], got "
                             f"{self.sample_rate_hz}")
        for name in ("accel_range_g", "gyro_range_dps"):
            if not 0 <= getattr(self, name) < 1 << 16:
                raise ValueError(f"{name} must fit in u16, got {getattr(self, name)}")
        if not (self.accel_scale > 0 and self.gyro_scale > 0 and math.isfinite(self.accel_scale)
                and math.isfinite(self.gyro_scale)):
            raise ValueError("accel_scale and gyro_scale must be finite and positive")
        flags = GRAVITY_REMOVED if self.gravity_removed else 0
        return _seal(_HELLO.pack(MessageType.HELLO, self.version, flags, 0, self.device_id,
                                 self.sample_rate_mhz, self.accel_range_g, self.gyro_range_dps,
                                 self.accel_scale, self.gyro_scale))


@dataclass(frozen=True, eq=False)
class AuraSampleFrame:
    """One SAMPLES frame in wire units (int16 counts, raw u32 microsecond timestamp).

    Attributes:
        seq: u16 frame sequence number (wraps).
        t_us: u32 device time in microseconds of the LAST sample (wraps).
        raw: ``(n, 6)`` int16 ``[ax ay az gx gy gz]`` counts, 1 <= n <= 64.
    """

    seq: int
    t_us: int
    raw: npt.NDArray[np.int16]

    def to_frame(self) -> bytes:
        """The SAMPLES frame (``11 + 12 n`` bytes).

        Raises:
            ValueError: seq / t_us out of range, or ``raw`` not ``(n, 6)`` with 1 <= n <= 64.
        """
        return samples_frame(self.seq, self.t_us, self.raw)


def samples_frame(seq: int, t_us: int, raw: npt.NDArray[np.int16]) -> bytes:
    """Build a SAMPLES frame from int16 counts; see :class:`AuraSampleFrame`.

    Raises:
        ValueError: seq / t_us out of range, or ``raw`` not ``(n, 6)`` int16 with 1 <= n <= 64.
    """
    if not 0 <= seq <= 0xFFFF or not 0 <= t_us <= 0xFFFFFFFF:
        raise ValueError(f"seq must be u16 and t_us u32, got {seq}, {t_us}")
    arr = np.asarray(raw)
    if arr.dtype != np.int16 or arr.ndim != 2 or arr.shape[1] != 6:
        raise ValueError(f"raw must be an (n, 6) int16 array, got {arr.dtype} {arr.shape}")
    if not 1 <= arr.shape[0] <= AURA_MAX_SAMPLES_PER_FRAME:
        raise ValueError(f"a frame carries 1..{AURA_MAX_SAMPLES_PER_FRAME} samples, "
                         f"got {arr.shape[0]}")
    body = _SAMPLES_HEAD.pack(MessageType.SAMPLES, seq, t_us) + arr.astype("<i2").tobytes()
    return _seal(body)


@dataclass(frozen=True)
class AuraCommand:
    """A host-to-device command.

    Attributes:
        opcode: an :class:`Opcode` value (unknown opcodes parse too: the device NAKs them).
        token: host-chosen u8 echoed in the ACK, to match replies to requests.
        args: opcode-specific argument bytes (little-endian).
    """

    opcode: int
    token: int = 0
    args: bytes = b""

    @classmethod
    def start(cls, token: int = 0) -> AuraCommand:
        """Start streaming SAMPLES frames."""
        return cls(Opcode.START, token)

    @classmethod
    def stop(cls, token: int = 0) -> AuraCommand:
        """Stop streaming."""
        return cls(Opcode.STOP, token)

    @classmethod
    def get_hello(cls, token: int = 0) -> AuraCommand:
        """Ask the device to (re)send its HELLO."""
        return cls(Opcode.GET_HELLO, token)

    @classmethod
    def set_rate(cls, rate_hz: float, token: int = 0) -> AuraCommand:
        """Request an output data rate; the device answers with the rate it chose in a HELLO."""
        mhz = round(rate_hz * 1000)
        if not 0 < mhz < 1 << 32:
            raise ValueError(f"rate_hz out of range: {rate_hz}")
        return cls(Opcode.SET_RATE, token, _U32.pack(mhz))

    @classmethod
    def set_range(cls, accel_range_g: int, gyro_range_dps: int, token: int = 0) -> AuraCommand:
        """Request full-scale ranges (+/- g, +/- deg/s)."""
        if not (0 <= accel_range_g < 1 << 16 and 0 <= gyro_range_dps < 1 << 16):
            raise ValueError("ranges must fit in u16")
        return cls(Opcode.SET_RANGE, token, _RANGE.pack(accel_range_g, gyro_range_dps))

    @property
    def rate_hz(self) -> float | None:
        """The SET_RATE argument in Hz, or None for another opcode / bad length."""
        if self.opcode != Opcode.SET_RATE or len(self.args) != 4:
            return None
        return float(_U32.unpack(self.args)[0]) / 1000.0

    @property
    def ranges(self) -> tuple[int, int] | None:
        """The SET_RANGE arguments ``(accel_range_g, gyro_range_dps)``, or None."""
        if self.opcode != Opcode.SET_RANGE or len(self.args) != 4:
            return None
        acc, gyr = _RANGE.unpack(self.args)
        return int(acc), int(gyr)

    def to_frame(self) -> bytes:
        """The COMMAND frame (``7 + len(args)`` bytes).

        Raises:
            ValueError: opcode / token not u8, or more than 32 argument bytes.
        """
        if not (0 <= self.opcode <= 0xFF and 0 <= self.token <= 0xFF):
            raise ValueError("opcode and token must be u8")
        if len(self.args) > MAX_COMMAND_ARGS:
            raise ValueError(f"at most {MAX_COMMAND_ARGS} argument bytes")
        return _seal(bytes((MessageType.COMMAND, self.opcode, self.token)) + bytes(self.args))



@dataclass(frozen=True)
class AuraAck:
    """The device's reply to a command; ``status != OK`` makes it a NAK.

    Attributes:
        opcode: opcode of the command answered.
        token: token of the command answered.
        status: an :class:`AckStatus` value.
    """

    opcode: int
    token: int
    status: int = AckStatus.OK

    @property
    def ok(self) -> bool:
        """True for an ACK, False for a NAK."""
        return self.status == AckStatus.OK

    def to_frame(self) -> bytes:
        """The ACK frame (8 bytes).

        Raises:
            ValueError: a field is not u8.
        """
        if not all(0 <= v <= 0xFF for v in (self.opcode, self.token, self.status)):
            raise ValueError("opcode, token and status must be u8")
        return _seal(bytes((MessageType.ACK, self.opcode, self.token, self.status)))


def parse_hello_body(frame: bytes) -> AuraHello:
    """Parse a CRC-checked HELLO frame of the right length; raise on bad fields."""
    (_, version, flags, _reserved, device_id, rate_mhz, acc_range, gyr_range, acc_scale,
     gyr_scale) = _HELLO.unpack_from(frame)
    if version != AURA_PROTOCOL_VERSION:
        raise AuraFrameError("version", f"HELLO announces protocol version {version}, this is v1")
    if rate_mhz == 0:
        raise AuraFrameError("value", "HELLO sample rate is zero")
    if not (acc_scale > 0 and gyr_scale > 0 and math.isfinite(acc_scale)
            and math.isfinite(gyr_scale)):
        raise AuraFrameError("value", "HELLO scale factors must be finite and positive")
    return AuraHello(device_id, rate_mhz / 1000.0, acc_range, gyr_range, acc_scale, gyr_scale,
                     bool(flags & GRAVITY_REMOVED), version)


def parse_frame(frame: bytes) -> AuraHello | AuraSampleFrame | AuraCommand | AuraAck:
    """Parse one whole frame (already COBS-decoded, CRC included).

    Raises:
        AuraFrameError: bad CRC, unknown type, wrong length for the type, bad HELLO fields.
    """
    n = len(frame)
    if n < MIN_FRAME_LEN:
        raise AuraFrameError("short", f"too short ({n} bytes)")
    if zlib.crc32(frame) != CRC_RESIDUE:
        raise AuraFrameError("crc", "CRC mismatch")
    kind = frame[0]
    if kind == MessageType.SAMPLES:
        count, rem = divmod(n - SAMPLES_HEADER_LEN - CRC_LEN, SAMPLE_LEN)
        if rem or not 1 <= count <= AURA_MAX_SAMPLES_PER_FRAME:
            raise AuraFrameError("length", f"SAMPLES frame of {n} bytes")
        _, seq, t_us = _SAMPLES_HEAD.unpack_from(frame)
        raw = np.frombuffer(frame, "<i2", count * 6, SAMPLES_HEADER_LEN).reshape(count, 6)
        return AuraSampleFrame(seq, t_us, raw.astype(np.int16))
    if kind == MessageType.HELLO:
        if n != HELLO_LEN:
            raise AuraFrameError("length", f"HELLO frame of {n} bytes")
        return parse_hello_body(frame)
    if kind == MessageType.COMMAND:
        if n > 7 + MAX_COMMAND_ARGS:
            raise AuraFrameError("length", f"COMMAND frame of {n} bytes")
        return AuraCommand(frame[1], frame[2], bytes(frame[3:-4]))
    if kind == MessageType.ACK:
        if n != ACK_LEN:
            raise AuraFrameError("length", f"ACK frame of {n} bytes")
        return AuraAck(frame[1], frame[2], frame[3])
    raise AuraFrameError("type", f"unknown message type 0x{kind:02x}")
