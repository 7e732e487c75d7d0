"""Line-based text over serial, in the style of the Edge Impulse data forwarder.

One sample per line, values separated by ``,`` or TAB (spaces are accepted too), lines ended
by LF, CRLF or CR. By default six values ``ax,ay,az,gx,gy,gz``; ``columns`` maps the values of
a line to channels (``"-"`` ignores one), ``timestamp`` adds a leading time column in ms or s,
and ``accel_unit`` / ``gyro_unit`` say what the numbers mean. Channels with no column, or a
value written ``nan``, come out as NaN.

A line is dropped and counted in ``stats.frames_corrupt`` when its number of values differs
from the mapping, a value is not a plain decimal number (``1e-3`` is fine, ``inf``, ``0x10``,
``1_0`` are not), or it is not ASCII. Empty lines are skipped. A line longer than
``max_line_bytes`` is dropped as soon as it gets that long: the decoder forgets its bytes and
skips to the next line end, so its buffer never exceeds ``max_line_bytes``.

Source: Edge Impulse data forwarder documentation, "Protocol" (one line per reading, values
split with ``,`` or TAB, 115200 baud; its Arduino example prints m/s^2):
https://docs.edgeimpulse.com/docs/tools/edge-impulse-cli/cli-data-forwarder
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from .._types import DecoderStats, ImuSamples
from ._common import DEG, DeviceOptionError, G, VendorProfile

__all__ = ["PROFILE", "TextLineDecoder", "TextLineEncoder"]

CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")
IGNORE = "-"
ACCEL_UNITS = {"m/s^2": 1.0, "g": G}
GYRO_UNITS = {"rad/s": 1.0, "deg/s": DEG}
TIME_UNITS = {"ms": 1e-3, "s": 1.0}
_LINE_END = re.compile(rb"([\r\n])")
_SPLIT = re.compile(r"\s*[,\t]\s*| +")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan", re.IGNORECASE)


def _parse_columns(columns: Sequence[str] | str) -> tuple[str, ...]:
    cols = tuple(c.strip() for c in (columns.split(",") if isinstance(columns, str)
                                     else columns))
    bad = [c for c in cols if c not in CHANNELS and c != IGNORE]
    named = [c for c in cols if c != IGNORE]
    if bad or not named or len(set(named)) != len(named):
        raise DeviceOptionError(
            f"columns {columns!r}: use each of {', '.join(CHANNELS)} at most once, "
            f"'{IGNORE}' to skip a value, at least one channel")
    return cols


def _check_units(accel_unit: str, gyro_unit: str, timestamp: str | None) -> None:
    if accel_unit not in ACCEL_UNITS:
        raise DeviceOptionError(f"accel_unit {accel_unit!r}; valid: {', '.join(ACCEL_UNITS)}")
    if gyro_unit not in GYRO_UNITS:
        raise DeviceOptionError(f"gyro_unit {gyro_unit!r}; valid: {', '.join(GYRO_UNITS)}")
    if timestamp is not None and timestamp not in TIME_UNITS:
        raise DeviceOptionError(f"timestamp {timestamp!r}; valid: None, 'ms', 's'")


class TextLineDecoder:
    """Stream decoder for one-sample-per-line text (any chunking of the byte stream).

    Args:
        columns: channel of each value after the timestamp, as a sequence or a
            comma-separated string, e.g. ``"ax,ay,az"``; ``"-"`` skips a value.
        accel_unit: ``"m/s^2"`` or ``"g"``.
        gyro_unit: ``"deg/s"`` or ``"rad/s"``.
        timestamp: None, or ``"ms"`` / ``"s"`` for a leading time column (device clock).
        max_line_bytes: longest line accepted (line end excluded).
    """

    def __init__(self, *, columns: Sequence[str] | str = CHANNELS, accel_unit: str = "m/s^2",
                 gyro_unit: str = "deg/s", timestamp: str | None = None,
                 max_line_bytes: int = 256) -> None:
        self.columns = _parse_columns(columns)
        _check_units(accel_unit, gyro_unit, timestamp)
        if int(max_line_bytes) < 8:
            raise DeviceOptionError(f"max_line_bytes must be >= 8, got {max_line_bytes!r}")
        self.timestamp = timestamp
        self.max_line_bytes = int(max_line_bytes)
        scale = {c: ACCEL_UNITS[accel_unit] if c[0] == "a" else GYRO_UNITS[gyro_unit]
                 for c in CHANNELS}
        self._targets = [(k, CHANNELS.index(c), scale[c])
                         for k, c in enumerate(self.columns) if c != IGNORE]
        self._n_values = len(self.columns) + (timestamp is not None)
        self._time_scale = TIME_UNITS[timestamp] if timestamp else 0.0
        self.stats = DecoderStats()
        self._line = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Consume any number of bytes; return the samples of the lines they complete."""
        rows: list[list[float]] = []
        times: list[float] = []
        for piece in _LINE_END.split(bytes(data)):
            if piece in (b"\r", b"\n"):
                if self._skipping:
                    self._skipping = False
                elif self._line:
                    self._parse(bytes(self._line), rows, times)
                self._line.clear()
            elif piece:
                self._append(piece)
        if not rows:
            return []
        self.stats.samples += len(rows)
        arr = np.array(rows, dtype=np.float64)
        t = np.array(times, dtype=np.float64) if self.timestamp else None
        return [ImuSamples(acc=arr[:, :3].copy(), gyro=arr[:, 3:].copy(), t=t)]

    def _append(self, piece: bytes) -> None:
        if self._skipping:
            self.stats.bytes_dropped += len(piece)
            return
        if len(self._line) + len(piece) > self.max_line_bytes:
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(self._line) + len(piece)
            self._line.clear()
            self._skipping = True
            return
        self._line += piece

    def _parse(self, line: bytes, rows: list[list[float]], times: list[float]) -> None:
        try:
            text = line.decode("ascii").strip()
        except UnicodeDecodeError:
            text = "\x00"
        if not text:
            return
        fields = _SPLIT.split(text)
        if len(fields) != self._n_values or not all(_NUMBER.fullmatch(f) for f in fields):
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(line)
            return
        values = [float(f) for f in fields]
        if self.timestamp:
            if math.isnan(values[0]):
                self.stats.frames_corrupt += 1
                self.stats.bytes_dropped += len(line)
                return
            times.append(values[0] * self._time_scale)
            values = values[1:]
        row = [math.nan] * 6
        for k, channel, scale in self._targets:
            row[channel] = values[k] * scale
        rows.append(row)
        self.stats.frames_ok += 1


class TextLineEncoder:
    """SI samples -> text lines the :class:`TextLineDecoder` with the same options reads.

    Args:
        columns, accel_unit, gyro_unit, timestamp: as the decoder's.
        separator: ``","``, ``"\\t"`` or ``" "``.
        newline: ``"\\n"``, ``"\\r\\n"`` or ``"\\r"``.
        decimals: digits after the decimal point (values are written ``%.{decimals}f``).
        sample_rate_hz: times written when ``timestamp`` is set and ``samples.t`` is None.
    """

    def __init__(self, *, columns: Sequence[str] | str = CHANNELS, accel_unit: str = "m/s^2",
                 gyro_unit: str = "deg/s", timestamp: str | None = None,
                 separator: str = ",", newline: str = "\r\n", decimals: int = 6,
                 sample_rate_hz: float = 50.0) -> None:
        self.columns = _parse_columns(columns)
        _check_units(accel_unit, gyro_unit, timestamp)
        if separator not in (",", "\t", " ") or newline not in ("\n", "\r\n", "\r"):
            raise DeviceOptionError("separator must be ',', TAB or space; newline LF, CRLF or CR")
        if not 0 <= int(decimals) <= 12 or not sample_rate_hz > 0:
            raise DeviceOptionError("decimals must be 0..12 and sample_rate_hz > 0")
        self.accel_scale, self.gyro_scale = ACCEL_UNITS[accel_unit], GYRO_UNITS[gyro_unit]
        self.timestamp = timestamp
        self.separator, self.newline, self.decimals = separator, newline, int(decimals)
        self.period_s = 1.0 / float(sample_rate_hz)
        self._sent = 0

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One line per sample."""
        data = samples.as_array()
        n = len(samples)
        t = samples.t if samples.t is not None else (self._sent + np.arange(n)) * self.period_s
        self._sent += n
        fmt = f"{{:.{self.decimals}f}}"
        out = []
        for i in range(n):
            fields = []
            if self.timestamp:
                fields.append(fmt.format(t[i] / TIME_UNITS[self.timestamp]))
            for c in self.columns:
                if c == IGNORE:
                    fields.append("0")
                    continue
                k = CHANNELS.index(c)
                v = data[i, k] / (self.accel_scale if k < 3 else self.gyro_scale)
                fields.append("nan" if math.isnan(v) else fmt.format(v))
            out.append((self.separator.join(fields) + self.newline).encode("ascii"))
        return out


PROFILE = VendorProfile(
    name="text",
    transport="serial",
    framing="stream",
    sample_rate_hz=50.0,
    gravity_removed=False,
    has_timestamps=False,
    description=("Text lines 'ax,ay,az,gx,gy,gz' (m/s^2, deg/s) over serial at 115200 baud, "
                 "Edge Impulse data-forwarder style; rate set by the device (50 Hz in EI's "
                 "example)"),
    baud_rate=115200,
    scale=(("acc", "decimal text, m/s^2 by default (accel_unit)"),
           ("gyro", "decimal text, deg/s by default (gyro_unit)")),
    timestamps="none by default; optional leading column in ms or s (timestamp option)",
    sources=("https://docs.edgeimpulse.com/docs/tools/edge-impulse-cli/cli-data-forwarder",),
)
