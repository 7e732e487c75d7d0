"""Decode a raw device capture into a :class:`~aura_sdk._recording.Recording` (``aura decode``).

A capture of a stream device (serial, TCP) is the raw byte stream, or hex text of it; a capture
of a packet device (BLE) holds one notification per line in hex. Samples keep the device's own
timestamps where the wire format has them; otherwise they are numbered at the nominal rate,
each sensor stream separately (acceleration and rotation may arrive in separate frames).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from aura_bridge import DecoderStats, ImuSamples
from aura_bridge.devices import get_profile, make_decoder

from ._errors import ConfigError
from ._recording import Recording

__all__ = ["DecodeResult", "decode_capture", "parse_hex_lines", "parse_hex_stream"]

_HEX_JUNK = re.compile(r"[\s:,-]|0x", re.IGNORECASE)


@dataclass(frozen=True)
class DecodeResult:
    """A decoded capture and the decoder's counters."""

    recording: Recording
    stats: DecoderStats
    bad_lines: int = 0


def parse_hex_stream(text: str) -> bytes:
    """Hex text of a byte stream (whitespace, ``:`` ``,`` ``-`` and ``0x`` ignored).

    Raises:
        ConfigError: a character that is not hex, or an odd number of digits.
    """
    digits = _HEX_JUNK.sub("", text)
    try:
        return bytes.fromhex(digits)
    except ValueError as exc:
        raise ConfigError(f"the capture is not hex text: {exc}; drop --hex for a binary "
                          "capture") from exc


def parse_hex_lines(text: str) -> tuple[list[bytes], int]:
    """One notification per non-empty line in hex (``#`` starts a comment).

    Returns:
        the notifications, and how many lines were not valid hex (skipped, counted).
    """
    notes: list[bytes] = []
    bad = 0
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        digits = _HEX_JUNK.sub("", line)
        if not digits:
            continue
        try:
            notes.append(bytes.fromhex(digits))
        except ValueError:
            bad += 1
    return notes, bad


def decode_capture(
    device: str, data: bytes, *, hex_text: bool = False, rate_hz: float | None = None,
    options: Mapping[str, Any] | None = None,
) -> DecodeResult:
    """Decode a capture of ``device``.

    Args:
        device: a profile name (``aura_bridge.devices.profile_names()``).
        data: the capture file's bytes.
        hex_text: for a stream device, the capture is hex text rather than raw bytes (packet
            devices are always hex lines).
        rate_hz: the sample rate used to number samples when the wire format has no
            timestamps; default the profile's nominal rate.
        options: decoder options (e.g. ranges), rejected if unknown.

    Raises:
        ValueError: unknown device or option (the message lists the valid ones).
        ConfigError: bad hex text, or nothing decodable.
    """
    profile = get_profile(device)
    decoder = make_decoder(device, **dict(options or {}))
    chunks: Iterable[bytes]
    bad = 0
    if profile.framing == "packet":
        chunks, bad = parse_hex_lines(data.decode("ascii", errors="replace"))
    elif hex_text:
        chunks = [parse_hex_stream(data.decode("ascii", errors="replace"))]
    else:
        chunks = [data]
    out: list[ImuSamples] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    flush = getattr(decoder, "flush", None)
    if callable(flush):  # end of capture: release anything a decoder still holds back
        out.extend(flush())
    if not out:
        raise ConfigError(
            f"no {device} samples in the capture ({decoder.stats.frames_corrupt} corrupt "
            f"frames, {decoder.stats.bytes_dropped} bytes skipped); check --device"
            + ("" if profile.framing == "packet" else " and --hex")
        )
    rate = rate_hz or profile.sample_rate_hz
    return DecodeResult(recording=_to_recording(out, rate), stats=decoder.stats,
                        bad_lines=bad)


def _to_recording(batches: list[ImuSamples], rate_hz: float) -> Recording:
    ts: list[np.ndarray] = []
    counters: dict[tuple[bool, bool], int] = {}
    for b in batches:
        if b.t is not None:
            ts.append(np.asarray(b.t, dtype=np.float64))
            continue
        # number samples per kind of stream: an accelerometer-only frame and a gyro-only frame
        # of the same instant must not be pushed apart in time
        has_acc = np.asarray(~np.isnan(b.acc).all(axis=1), dtype=bool).tolist()
        has_gyro = np.asarray(~np.isnan(b.gyro).all(axis=1), dtype=bool).tolist()
        kinds = list(zip(has_acc, has_gyro, strict=True))
        t = np.empty(len(b))
        for i, kind in enumerate(kinds):
            key = (bool(kind[0]), bool(kind[1]))
            n = counters.get(key, 0)
            t[i] = n / rate_hz
            counters[key] = n + 1
        ts.append(t)
    t = np.concatenate(ts)
    acc = np.concatenate([b.acc for b in batches])
    gyro = np.concatenate([b.gyro for b in batches])
    order = np.argsort(t, kind="stable")
    return Recording(t=t[order], acc=acc[order], gyro=gyro[order])
