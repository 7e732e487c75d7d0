"""``sensor_msgs/msg/Imu`` on the wire: decoding its ROS 2 (CDR) and ROS 1 serialisations.

A parser, so no I/O: bytes in, numbers out. The message's layout is fixed but for the
``frame_id`` string, so each message is read with two ``struct`` calls instead of a generic
deserialiser (rosbags' takes about 50 µs a message; a robot logs four IMUs at 1 kHz).

REP 145: linear acceleration in m/s^2 *including* gravity, angular velocity in rad/s; a
covariance whose first element is -1 says the field is not provided.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["IMU_TYPE", "ImuMessages", "decode_imu"]

#: the message type this module reads (rosbags' and ROS 2's spelling)
IMU_TYPE = "sensor_msgs/msg/Imu"
#: the 37 float64 after the header: orientation (4), its covariance (9), angular velocity (3),
#: its covariance (9), linear acceleration (3), its covariance (9)
_BODY = 37 * 8
_GYRO, _ACC = 13, 25  # where angular velocity and linear acceleration start, in float64s
_BODY_LE, _BODY_BE = struct.Struct("<37d"), struct.Struct(">37d")
_U32_LE, _U32_BE = struct.Struct("<I"), struct.Struct(">I")
_STAMP_LE, _STAMP_BE = struct.Struct("<iI"), struct.Struct(">iI")
_ROS1_HEAD = struct.Struct("<III")  # seq, stamp sec, stamp nsec


@dataclass(frozen=True)
class ImuMessages:
    """Decoded messages of one topic, in the order given.

    Attributes:
        stamp_ns: ``(n,)`` ``header.stamp`` in nanoseconds (0 where the publisher left it 0).
        acc: ``(n, 3)`` m/s^2; NaN where the message says it has none (covariance -1).
        gyro: ``(n, 3)`` rad/s; NaN likewise.
        bad: indices (into the input) of messages that could not be decoded (dropped).
    """

    stamp_ns: NDArray[np.int64]
    acc: NDArray[np.float64]
    gyro: NDArray[np.float64]
    bad: tuple[int, ...] = ()

    def __len__(self) -> int:
        return int(self.stamp_ns.shape[0])


def _cdr(raw: bytes) -> tuple[int, tuple[float, ...]]:
    if len(raw) < 4 or raw[0] != 0 or raw[1] not in (0, 1):
        raise ValueError("not a plain CDR encapsulation")
    little = raw[1] == 1
    u32, stamp, body = ((_U32_LE, _STAMP_LE, _BODY_LE) if little
                        else (_U32_BE, _STAMP_BE, _BODY_BE))
    sec, nsec = stamp.unpack_from(raw, 4)
    (n,) = u32.unpack_from(raw, 12)  # frame_id's length, its terminating NUL included
    start = 16 + n
    start += -(start - 4) % 8  # doubles align to 8 from the end of the encapsulation header
    if n == 0 or start + _BODY > len(raw) or nsec >= 1_000_000_000:
        raise ValueError("truncated or malformed sensor_msgs/Imu")
    return sec * 1_000_000_000 + nsec, body.unpack_from(raw, start)


def _ros1(raw: bytes) -> tuple[int, tuple[float, ...]]:
    if len(raw) < 16:
        raise ValueError("truncated sensor_msgs/Imu")
    _seq, sec, nsec = _ROS1_HEAD.unpack_from(raw, 0)
    (n,) = _U32_LE.unpack_from(raw, 12)
    if 16 + n + _BODY > len(raw) or nsec >= 1_000_000_000:
        raise ValueError("truncated or malformed sensor_msgs/Imu")
    return sec * 1_000_000_000 + nsec, _BODY_LE.unpack_from(raw, 16 + n)


def decode_imu(raws: Sequence[bytes], encoding: str) -> ImuMessages:
    """Decode serialised ``sensor_msgs/Imu`` messages.

    Args:
        raws: the messages' bytes.
        encoding: ``"cdr"`` (ROS 2) or ``"ros1"``.

    Returns:
        The decoded messages; ones that cannot be decoded are dropped and listed in ``bad``.

    Raises:
        ValueError: an unknown encoding.
    """
    if encoding not in ("cdr", "ros1"):
        raise ValueError(f"sensor_msgs/Imu in {encoding!r} encoding: only cdr (ROS 2) and "
                         "ros1 are read")
    one = _cdr if encoding == "cdr" else _ros1
    stamps: list[int] = []
    bodies: list[tuple[float, ...]] = []
    bad: list[int] = []
    for i, raw in enumerate(raws):
        try:
            stamp, body = one(raw)
        except (ValueError, struct.error):
            bad.append(i)
            continue
        stamps.append(stamp)
        bodies.append(body)
    b = np.asarray(bodies, dtype=np.float64).reshape(-1, 37)
    acc, gyro = b[:, _ACC:_ACC + 3].copy(), b[:, _GYRO:_GYRO + 3].copy()
    acc[b[:, _ACC + 3] == -1.0] = np.nan  # covariance[0] == -1: "no data" (REP 145)
    gyro[b[:, _GYRO + 3] == -1.0] = np.nan
    return ImuMessages(np.asarray(stamps, dtype=np.int64), acc, gyro, tuple(bad))
