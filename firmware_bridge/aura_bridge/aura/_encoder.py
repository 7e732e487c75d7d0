"""Device side of AURA v1: SI samples -> int16 counts -> frames -> wire bytes.

Used by virtual devices and tests; the C encoder in ``firmware_bridge/c`` produces the same
bytes from the same counts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._types import Framing, ImuSamples
from ._cobs import cobs_encode
from ._wire import AURA_MAX_SAMPLES_PER_FRAME, AuraAck, AuraCommand, AuraHello, samples_frame

__all__ = ["AuraEncoder", "quantize", "wrap_frame"]


def wrap_frame(frame: bytes, framing: Framing = "stream") -> bytes:
    """Put one frame on the wire: COBS + 0x00 delimiter for ``stream``, as is for ``packet``."""
    if framing == "stream":
        return cobs_encode(frame) + b"\x00"
    if framing == "packet":
        return bytes(frame)
    raise ValueError(f"framing must be 'stream' or 'packet', got {framing!r}")


def quantize(values: npt.ArrayLike, scale: float) -> tuple[npt.NDArray[np.int16], int]:
    """SI values -> int16 counts: round half to even, saturate at the int16 limits.

    Args:
        values: SI values (m/s^2 or rad/s); +/-inf saturates.
        scale: SI units per count (the HELLO's float32 scale).

    Returns:
        ``(counts, n_saturated)``: the int16 counts and how many values were clipped.

    Raises:
        ValueError: a value is NaN (no count represents "missing").
    """
    x = np.asarray(values, dtype=np.float64) / float(np.float32(scale))
    if np.isnan(x).any():
        raise ValueError("cannot quantise NaN: AURA frames carry all six channels")
    q = np.rint(x)
    low, high = q < -32768, q > 32767
    saturated = int(low.sum() + high.sum())
    return np.clip(q, -32768, 32767).astype(np.int16), saturated


class AuraEncoder:
    """Encode samples as a device would: HELLO first, then numbered SAMPLES frames.

    Args:
        hello: the configuration this device announces; its scales quantise the samples.
        framing: ``"stream"`` (COBS + 0x00, serial / TCP) or ``"packet"`` (one frame per BLE
            notification).
        samples_per_frame: samples per SAMPLES frame, 1..64 (for BLE see
            ``samples_per_notification(mtu)``).
        start_seq: sequence number of the first SAMPLES frame (u16, wraps).
        start_t_us: device time of the first sample when ``ImuSamples.t`` is None.

    Attributes:
        saturated: values clipped to the int16 range so far.
        seq: sequence number the next SAMPLES frame will carry.
    """

    def __init__(self, hello: AuraHello, *, framing: Framing = "stream",
                 samples_per_frame: int = 16, start_seq: int = 0, start_t_us: int = 0) -> None:
        if not 1 <= samples_per_frame <= AURA_MAX_SAMPLES_PER_FRAME:
            raise ValueError(f"samples_per_frame must be 1..{AURA_MAX_SAMPLES_PER_FRAME}, "
                             f"got {samples_per_frame}")
        if framing not in ("stream", "packet"):
            raise ValueError(f"framing must be 'stream' or 'packet', got {framing!r}")
        hello.to_frame()  # validates every field now, not at the first frame
        self.hello = hello
        self.framing: Framing = framing
        self.samples_per_frame = samples_per_frame
        self.seq = start_seq & 0xFFFF
        self.saturated = 0
        self._t0_us = start_t_us
        self._n_sent = 0  # samples sent so far, for the internal clock

    def hello_bytes(self) -> bytes:
        """The HELLO, ready for the wire."""
        return wrap_frame(self.hello.to_frame(), self.framing)

    def message_bytes(self, msg: AuraHello | AuraCommand | AuraAck) -> bytes:
        """Any control message ready for the wire in this encoder's framing.

        A virtual device answers commands with ``message_bytes(AuraAck(...))``; a host sends
        ``message_bytes(AuraCommand.start(token))``.
        """
        return wrap_frame(msg.to_frame(), self.framing)

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """Quantise and frame samples; one wire chunk per SAMPLES frame.

        Timestamps come from ``samples.t`` (seconds, device clock) when present, otherwise
        from an internal clock that starts at ``start_t_us`` and ticks at the HELLO's rate.

        Raises:
            ValueError: NaN in the samples.
        """
        acc, sat_a = quantize(samples.acc, self.hello.accel_scale)
        gyro, sat_g = quantize(samples.gyro, self.hello.gyro_scale)
        self.saturated += sat_a + sat_g
        raw = np.concatenate([acc, gyro], axis=1)
        t_us = None
        if samples.t is not None:
            t_us = np.rint(np.asarray(samples.t, np.float64) * 1e6).astype(np.int64)
        return self.encode_counts(raw, t_us)

    def encode_counts(self, raw: npt.NDArray[np.int16],
                      t_us: npt.NDArray[np.int64] | None = None) -> list[bytes]:
        """Frame int16 counts ``(n, 6)``; ``t_us`` optional per-sample device time in us.

        Raises:
            ValueError: ``raw`` is not ``(n, 6)`` int16 or ``t_us`` has the wrong shape.
        """
        raw = np.asarray(raw)
        if raw.dtype != np.int16 or raw.ndim != 2 or raw.shape[1] != 6:
            raise ValueError(f"raw must be (n, 6) int16, got {raw.dtype} {raw.shape}")
        if t_us is not None and np.shape(t_us) != (raw.shape[0],):
            raise ValueError(f"t_us must be ({raw.shape[0]},), got {np.shape(t_us)}")
        period_us = 1e6 / self.hello.sample_rate_hz
        chunks: list[bytes] = []
        step = self.samples_per_frame
        for start in range(0, raw.shape[0], step):
            part = raw[start:start + step]
            last = self._n_sent + part.shape[0] - 1
            if t_us is not None:
                stamp = int(t_us[start + part.shape[0] - 1])
            else:
                stamp = self._t0_us + round(last * period_us)
            frame = samples_frame(self.seq, stamp & 0xFFFFFFFF, part)
            chunks.append(wrap_frame(frame, self.framing))
            self.seq = (self.seq + 1) & 0xFFFF
            self._n_sent += part.shape[0]
        return chunks
