"""Types every decoder, encoder and device profile in aura_bridge shares.

Data flows one way (STYLE.md): bytes -> frames -> :class:`ImuSamples`. Decoders are pure state
machines (no I/O, no clocks, no threads); transports live in aura_sdk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "Decoder",
    "DecoderStats",
    "DeviceProfile",
    "Encoder",
    "Framing",
    "ImuSamples",
    "Transport",
]

Transport = Literal["serial", "ble", "tcp"]
#: ``stream``: a byte stream that can be cut anywhere (serial, TCP): the decoder resynchronises.
#: ``packet``: one complete frame per ``feed`` call (one BLE notification).
Framing = Literal["stream", "packet"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ImuSamples:
    """Samples decoded from one frame or notification, in SI units.

    Attributes:
        acc: ``(n, 3)`` specific force in m/s^2; NaN in a column the device did not send.
        gyro: ``(n, 3)`` angular rate in rad/s; NaN where not sent.
        t: ``(n,)`` device time of each sample in seconds on the device's own clock, or
            ``None`` when the wire format carries no timestamp (the host then stamps arrival).
        seq: frame sequence number when the protocol has one, else ``None``.
    """

    acc: F64
    gyro: F64
    t: F64 | None = None
    seq: int | None = None

    def __post_init__(self) -> None:
        n = self.acc.shape[0]
        if self.acc.shape != (n, 3) or self.gyro.shape != (n, 3):
            raise ValueError(f"acc and gyro must both be (n, 3); got {self.acc.shape}, "
                             f"{self.gyro.shape}")
        if self.t is not None and self.t.shape != (n,):
            raise ValueError(f"t must be ({n},), got {self.t.shape}")

    def __len__(self) -> int:
        return int(self.acc.shape[0])

    def as_array(self) -> F64:
        """``(n, 6)`` array ``[ax ay az gx gy gz]``."""
        return np.concatenate([self.acc, self.gyro], axis=1)


@dataclass
class DecoderStats:
    """Counters a decoder keeps; every dropped byte or frame is counted, never silently lost."""

    frames_ok: int = 0
    frames_corrupt: int = 0  # failed checksum / CRC / length / field validation
    bytes_dropped: int = 0  # skipped while resynchronising
    samples: int = 0
    frames_lost: int = 0  # gaps in sequence numbers
    frames_duplicate: int = 0
    frames_reordered: int = 0
    extra: dict[str, int] = field(default_factory=dict)  # protocol-specific counters

    def as_dict(self) -> dict[str, int]:
        d = {k: v for k, v in vars(self).items() if k != "extra"}
        d.update(self.extra)
        return d


class Decoder(Protocol):
    """``feed(bytes)`` in, samples out. Never raises on bad input: drops and counts it."""

    stats: DecoderStats

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Consume bytes (stream framing) or one whole notification (packet framing)."""
        ...


class Encoder(Protocol):
    """Turns SI samples into the device's wire bytes (virtual devices, tests)."""

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """Return wire chunks: for packet framing, one notification per element."""
        ...


@dataclass(frozen=True)
class DeviceProfile:
    """Everything the SDK needs to talk to one kind of device.

    Attributes:
        name: the ``--device`` name (``"aura"``, ``"witmotion"``, ``"polar"``, ...).
        transport: how it connects.
        framing: ``"stream"`` or ``"packet"`` (see :data:`Framing`).
        sample_rate_hz: nominal rate with the default configuration.
        gravity_removed: whether its accelerometer output has gravity removed.
        has_timestamps: whether the wire format carries device time.
        service_uuid, notify_uuids, control_uuid: BLE GATT identifiers (None for serial).
        start_commands, stop_commands: bytes to write (to the control characteristic for BLE,
            to the port for serial) to start / stop streaming.
        description: one line for ``aura devices`` and docs, with the source of its facts.
    """

    name: str
    transport: Transport
    framing: Framing
    sample_rate_hz: float
    gravity_removed: bool
    has_timestamps: bool
    description: str
    service_uuid: str | None = None
    notify_uuids: tuple[str, ...] = ()
    control_uuid: str | None = None
    start_commands: tuple[bytes, ...] = ()
    stop_commands: tuple[bytes, ...] = ()
