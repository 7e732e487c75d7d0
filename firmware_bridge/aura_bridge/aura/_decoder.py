"""Incremental AURA v1 decoders: byte streams (COBS, serial / TCP) and BLE notifications.

Both are pure state machines (STYLE.md rule 3): ``feed`` in, messages out, no I/O, and they
never raise on bad input; every rejected byte or frame is counted in :class:`DecoderStats`.

Policy decisions (docs/protocol.md, "Receiver rules"):

* Sample frames that arrive before any HELLO are **held** (up to ``max_held_frames``, oldest
  dropped first and counted) and released, converted with the HELLO's scale factors, right
  after the HELLO. A decoder built with ``config=`` decodes at once instead.
* Duplicated frames are dropped; late (reordered) frames are emitted with their own ``seq`` and
  ``t``; ``frames_lost`` is the number of sequence numbers currently missing, so a late frame
  takes back the loss it had been counted as.
* A HELLO restarts sequence tracking (a device announces itself after a reboot); timestamps
  keep unwrapping continuously.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from struct import Struct
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .._types import DecoderStats, ImuSamples
from ._cobs import cobs_max_encoded_len, decode_or_none
from ._wire import (
    AURA_MAX_FRAME_LEN,
    AURA_MAX_SAMPLES_PER_FRAME,
    AURA_PROTOCOL_VERSION,
    CRC_RESIDUE,
    HELLO_LEN,
    MIN_FRAME_LEN,
    SAMPLE_LEN,
    AuraAck,
    AuraCommand,
    AuraFrameError,
    AuraHello,
    MessageType,
    parse_frame,
    parse_hello_body,
)

__all__ = ["AuraMessage", "AuraPacketDecoder", "AuraStreamDecoder"]

#: What ``feed_messages`` yields: samples in SI units, or a control message.
AuraMessage: TypeAlias = ImuSamples | AuraHello | AuraCommand | AuraAck
Control: TypeAlias = AuraHello | AuraCommand | AuraAck

_HEAD = Struct("<HI")  # seq, t_us after the type byte
_SAMPLES = int(MessageType.SAMPLES)
_HELLO = int(MessageType.HELLO)
_OVERHEAD = 11  # type + seq + t_us + crc
_SEQ_WINDOW = 256  # how far back a late frame is recognised as reordered / duplicate
_SEQ_MASK = (1 << _SEQ_WINDOW) - 1
MAX_ENCODED_LEN = cobs_max_encoded_len(AURA_MAX_FRAME_LEN)
#: SAMPLES frame length -> sample count, for the lengths that are valid
_COUNT_OF_LEN = {_OVERHEAD + SAMPLE_LEN * k: k for k in range(1, AURA_MAX_SAMPLES_PER_FRAME + 1)}

# (seq, unwrapped t_us of the last sample, frame, sample count)
_Pending: TypeAlias = tuple[int, int, bytes | bytearray, int]


class _AuraDecoderCore:
    """Frame-level logic shared by the stream and packet decoders."""

    def __init__(self, config: AuraHello | None = None, *, max_held_frames: int = 256,
                 max_control: int = 256) -> None:
        if max_held_frames < 0 or max_control < 1:
            raise ValueError("max_held_frames must be >= 0 and max_control >= 1")
        self.stats = DecoderStats()
        self.stats.extra.update(hello=0, commands=0, acks=0, frames_held=0,
                                frames_dropped_no_hello=0, frames_unknown_type=0,
                                seq_resets=0, control_dropped=0, hello_unsupported_version=0)
        self._config = config
        self._max_held = max_held_frames
        self._held: deque[_Pending] = deque()
        self._control: deque[Control] = deque()
        self._max_control = max_control
        self._batch: list[_Pending] = []
        self._seq_hi = -1
        self._seen = 0  # bit k: seq (hi - k) arrived
        self._missing = 0  # bit k: seq (hi - k) counted in frames_lost
        self._t_raw = -1
        self._t_us = 0
        self._offset_cache: dict[tuple[int, float], npt.NDArray[np.float64]] = {}
        #: emit consecutive, in-order sample frames of one :meth:`feed` as one ImuSamples
        #: (``seq`` of the first) instead of one per frame: a receiver that collects a
        #: tick's bytes and decodes them in one call builds one object, not dozens
        self.merge_frames = False

    @property
    def config(self) -> AuraHello | None:
        """The configuration in force: the last HELLO received, else the ``config`` given."""
        return self._config

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Consume bytes; return the samples decoded, in arrival order.

        HELLO / ACK / COMMAND messages are kept for :meth:`pop_control` (the newest
        ``max_control``; older ones are dropped and counted). Never raises on bad input.
        """
        return self._split_control(self.feed_messages(data))

    def _split_control(self, msgs: list[AuraMessage]) -> list[ImuSamples]:
        out: list[ImuSamples] = []
        for msg in msgs:
            if isinstance(msg, ImuSamples):
                out.append(msg)
            else:
                if len(self._control) >= self._max_control:
                    self._control.popleft()
                    self.stats.extra["control_dropped"] += 1
                self._control.append(msg)
        return out

    def feed_messages(self, data: bytes) -> list[AuraMessage]:
        """Consume bytes; return every decoded message (samples and control) in order."""
        raise NotImplementedError

    def pop_control(self) -> list[Control]:
        """Return and forget the control messages :meth:`feed` has set aside."""
        out = list(self._control)
        self._control.clear()
        return out

    # -- frames ---------------------------------------------------------------------------

    def _corrupt(self, nbytes: int) -> None:
        self.stats.frames_corrupt += 1
        self.stats.bytes_dropped += nbytes

    def _consume(self, frames: Sequence[bytes | bytearray], wire_lens: Sequence[int],
                 out: list[AuraMessage]) -> None:
        """Validate and dispatch de-stuffed frames (``wire_lens``: bytes each took on the wire).

        SAMPLES frames, the hot path, are handled inline; the rest go to :meth:`_other`.
        """
        stats = self.stats
        crc32 = zlib.crc32
        unpack = _HEAD.unpack_from
        count_of_len = _COUNT_OF_LEN
        residue, min_len, samples_type = CRC_RESIDUE, MIN_FRAME_LEN, _SAMPLES
        for frame, wire_len in zip(frames, wire_lens, strict=True):
            n = len(frame)
            if n < min_len or crc32(frame) != residue:
                stats.frames_corrupt += 1
                stats.bytes_dropped += wire_len
                continue
            if frame[0] != samples_type:
                self._other(frame, wire_len, out)
                continue
            count = count_of_len.get(n)
            if count is None:
                stats.frames_corrupt += 1
                stats.bytes_dropped += wire_len
                continue
            stats.frames_ok += 1
            seq, t_raw = unpack(frame, 1)
            hi = self._seq_hi
            if hi >= 0 and (seq - hi) & 0xFFFF == 1 and not self._missing:
                self._seq_hi = seq  # in order and nothing outstanding: the common case
                self._seen = ((self._seen << 1) | 1) & _SEQ_MASK
            elif not self._accept_seq(seq):
                continue
            if self._t_raw >= 0:
                dt = (t_raw - self._t_raw) & 0xFFFFFFFF
                self._t_us += dt - 0x100000000 if dt & 0x80000000 else dt
            else:
                self._t_us = t_raw
            self._t_raw = t_raw
            self._batch.append((seq, self._t_us, frame, count))

    def _other(self, frame: bytes | bytearray, wire_len: int, out: list[AuraMessage]) -> None:
        """A CRC-valid frame that is not SAMPLES: HELLO, COMMAND, ACK or unknown."""
        kind = frame[0]
        n = len(frame)
        if kind == _HELLO and n == HELLO_LEN:
            if frame[1] != AURA_PROTOCOL_VERSION:
                # Valid CRC, foreign version: not corruption, but nothing we can decode with.
                self.stats.extra["hello_unsupported_version"] += 1
                return
            try:
                hello = parse_hello_body(bytes(frame))
            except AuraFrameError:
                self._corrupt(wire_len)
                return
            self.stats.frames_ok += 1
            self.stats.extra["hello"] += 1
            self._flush(out)
            self._config = hello
            self._seq_hi = -1
            out.append(hello)
            if self._held:
                self._emit(list(self._held), out)
                self._held.clear()
            return
        try:
            msg = parse_frame(bytes(frame))
        except AuraFrameError as exc:
            if exc.code == "type":
                self.stats.extra["frames_unknown_type"] += 1  # a later version's message
            else:
                self._corrupt(wire_len)
            return
        self.stats.frames_ok += 1
        self.stats.extra["commands" if isinstance(msg, AuraCommand) else "acks"] += 1
        self._flush(out)
        out.append(msg)  # type: ignore[arg-type]  # HELLO / SAMPLES were handled above

    def _accept_seq(self, seq: int) -> bool:
        """Track one sequence number; False means a duplicate (drop the frame)."""
        hi = self._seq_hi
        stats = self.stats
        if hi < 0:
            self._seq_hi, self._seen, self._missing = seq, 1, 0
            return True
        d = (seq - hi) & 0xFFFF
        if d == 1:
            self._seq_hi = seq
            self._seen = ((self._seen << 1) | 1) & _SEQ_MASK
            if self._missing:
                self._missing = (self._missing << 1) & _SEQ_MASK
            return True
        if d == 0:
            stats.frames_duplicate += 1
            return False
        if d < 0x8000:  # forward jump: d - 1 frames missing
            stats.frames_lost += d - 1
            gap = ((1 << (d - 1)) - 1) << 1  # bits 1 .. d-1 relative to the new hi
            self._seq_hi = seq
            self._seen = ((self._seen << d) | 1) & _SEQ_MASK
            self._missing = ((self._missing << d) | gap) & _SEQ_MASK
            return True
        back = 0x10000 - d
        if back >= _SEQ_WINDOW:
            # Too far behind to be a late frame: the device restarted its counter without a
            # HELLO reaching us. Start tracking afresh.
            stats.extra["seq_resets"] += 1
            self._seq_hi, self._seen, self._missing = seq, 1, 0
            return True
        bit = 1 << back
        if self._seen & bit:
            stats.frames_duplicate += 1
            return False
        self._seen |= bit
        stats.frames_reordered += 1
        if self._missing & bit:
            self._missing &= ~bit
            stats.frames_lost -= 1
        return True

    # -- samples ----------------------------------------------------------------------------

    def _flush(self, out: list[AuraMessage]) -> None:
        """Turn the pending sample frames into ImuSamples (or hold them until a HELLO)."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        if self._config is None:
            extra = self.stats.extra
            for item in batch:
                if len(self._held) >= self._max_held:
                    if not self._max_held:
                        extra["frames_dropped_no_hello"] += 1
                        continue
                    self._held.popleft()
                    extra["frames_dropped_no_hello"] += 1
                self._held.append(item)
                extra["frames_held"] += 1
            return
        self._emit(batch, out)

    def _emit(self, batch: list[_Pending], out: list[AuraMessage]) -> None:
        """Convert frames to SI in one numpy pass and emit one ImuSamples per frame."""
        cfg = self._config
        assert cfg is not None  # callers check; not an input check
        if len(batch) == 1:
            payload: bytes | bytearray = batch[0][2][7:-4]
        else:
            payload = b"".join([f[7:-4] for _, _, f, _ in batch])
        raw = np.frombuffer(payload, "<i2").reshape(-1, 6)
        acc = raw[:, :3] * cfg.accel_scale
        gyro = raw[:, 3:] * cfg.gyro_scale
        n0 = batch[0][3]
        total = 0
        if len(batch) > 1 and all(c == n0 for _, _, _, c in batch):
            # the usual case, every frame the same size: all times in one broadcast
            times = np.array([t for _, t, _, _ in batch]) * 1e-6
            t_all = times[:, None] + self._offsets(n0, cfg.sample_rate_hz)
            if self.merge_frames and bool((t_all[1:, 0] > t_all[:-1, -1]).all()):
                out.append(ImuSamples(acc, gyro, t_all.reshape(-1), batch[0][0]))
                self.stats.samples += acc.shape[0]
                return
            for k, (seq, _, _, _) in enumerate(batch):
                out.append(ImuSamples(acc[total:total + n0], gyro[total:total + n0], t_all[k],
                                      seq))
                total += n0
        else:
            for seq, t_us, _, n in batch:
                t = self._offsets(n, cfg.sample_rate_hz) + t_us * 1e-6
                out.append(ImuSamples(acc[total:total + n], gyro[total:total + n], t, seq))
                total += n
        self.stats.samples += total

    def _offsets(self, n: int, rate_hz: float) -> npt.NDArray[np.float64]:
        """Time of each of n samples relative to the last one, in seconds (cached)."""
        key = (n, rate_hz)
        cached = self._offset_cache.get(key)
        if cached is not None:
            return cached
        if len(self._offset_cache) > 256:
            self._offset_cache.clear()
        off = np.asarray((np.arange(n) - (n - 1)) * (1.0 / rate_hz), dtype=np.float64)
        off.flags.writeable = False
        self._offset_cache[key] = off
        return off


class AuraStreamDecoder(_AuraDecoderCore):
    """Decode an AURA byte stream (COBS frames delimited by 0x00), cut anywhere.

    Args:
        config: decode sample frames with this configuration until a HELLO arrives (without
            it, frames are held until the first HELLO).
        max_held_frames: how many sample frames to hold while waiting for a HELLO.
        max_control: how many control messages :meth:`feed` keeps for :meth:`pop_control`.

    Example:
        >>> dec = AuraStreamDecoder()
        >>> for chunk in serial_reads:              # doctest: +SKIP
        ...     for samples in dec.feed(chunk):
        ...         print(samples.seq, samples.as_array())
    """

    def __init__(self, config: AuraHello | None = None, *, max_held_frames: int = 256,
                 max_control: int = 256) -> None:
        super().__init__(config, max_held_frames=max_held_frames, max_control=max_control)
        self._tail = b""
        self._skipping = False  # inside a chunk already too long to be a frame

    @property
    def pending_bytes(self) -> int:
        """Bytes received since the last 0x00 and kept until the next one completes a frame."""
        return len(self._tail)

    def feed_messages(self, data: bytes) -> list[AuraMessage]:
        """Consume any number of bytes; return the messages completed by them, in order."""
        if not isinstance(data, bytes):
            data = bytes(data)
        out: list[AuraMessage] = []
        if self._tail:
            data = self._tail + data
        parts = data.split(b"\x00")
        tail = parts.pop()
        if self._skipping and parts:
            self.stats.bytes_dropped += len(parts[0])
            parts[0] = b""
            self._skipping = False
        frames: list[bytes | bytearray] = []
        lens: list[int] = []
        for chunk in parts:
            if not chunk:
                continue  # back-to-back delimiters are allowed (senders flush with 0x00)
            frame = decode_or_none(chunk) if len(chunk) <= MAX_ENCODED_LEN else None
            if frame is None:
                self._corrupt(len(chunk))
            else:
                frames.append(frame)
                lens.append(len(chunk))
        self._consume(frames, lens, out)
        if len(tail) > MAX_ENCODED_LEN or self._skipping:
            # No frame is this long: drop it now rather than buffer garbage without bound.
            if not self._skipping:
                self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(tail)
            self._skipping = True
            tail = b""
        self._tail = tail
        self._flush(out)
        return out


class AuraPacketDecoder(_AuraDecoderCore):
    """Decode BLE notifications: each ``feed`` is exactly one frame, without COBS.

    Args:
        config: decode sample frames with this configuration until a HELLO arrives.
        max_held_frames: how many sample frames to hold while waiting for a HELLO.
        max_control: how many control messages :meth:`feed` keeps for :meth:`pop_control`.
    """

    def feed_messages(self, data: bytes) -> list[AuraMessage]:
        """Consume one notification (one frame); return the messages it holds."""
        return self.feed_packets_messages([data])

    def feed_packets(self, packets: Iterable[bytes]) -> list[ImuSamples]:
        """Consume several notifications at once (e.g. a queue drained by a BLE host).

        Same result as calling :meth:`feed` on each in turn, in one numpy pass, which is
        several times faster per notification.
        """
        return self._split_control(self.feed_packets_messages(packets))

    def feed_packets_messages(self, packets: Iterable[bytes]) -> list[AuraMessage]:
        """:meth:`feed_packets`, returning every message in order (see ``feed_messages``)."""
        out: list[AuraMessage] = []
        frames: list[bytes | bytearray] = []
        lens: list[int] = []
        for data in packets:
            frame = data if isinstance(data, bytes) else bytes(data)
            if len(frame) > AURA_MAX_FRAME_LEN:
                self._corrupt(len(frame))
            else:
                frames.append(frame)
                lens.append(len(frame))
        self._consume(frames, lens, out)
        self._flush(out)
        return out
