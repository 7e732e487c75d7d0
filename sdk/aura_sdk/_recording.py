"""Recordings on disk: the CSV that ``aura decode`` writes (and replay reads), NPZ, label spans.

CSV: a header ``t,ax,ay,az,gx,gy,gz`` then one sample per line; time in seconds, acceleration
in m/s^2, angular rate in rad/s; a field is empty where the device did not send that channel.
NPZ: arrays ``t`` ``(n,)``, ``acc`` ``(n, 3)``, ``gyro`` ``(n, 3)`` (NaN where not sent) and,
optionally, a ground-truth timeline ``span_start``, ``span_end``, ``span_label``. Label files:
CSV ``start,end,label`` (seconds, on the recording's time base).

Readers never execute or unpickle anything; malformed CSV rows are dropped and counted, not
guessed at.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ._errors import ConfigError

# The public names are listed in aura_sdk.recording.

F64 = npt.NDArray[np.float64]
CSV_HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")


@dataclass(frozen=True)
class LabelSpan:
    """A labelled time span ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class Recording:
    """Timestamped SI samples of one device, optionally with a ground-truth timeline.

    Attributes:
        t: ``(n,)`` seconds.
        acc: ``(n, 3)`` m/s^2, NaN where not sent.
        gyro: ``(n, 3)`` rad/s, NaN where not sent.
        spans: ground-truth activity spans, if known.
        dropped_rows: malformed rows skipped while reading.
    """

    t: F64
    acc: F64
    gyro: F64
    spans: tuple[LabelSpan, ...] = ()
    dropped_rows: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        n = self.t.shape[0]
        if self.t.shape != (n,) or self.acc.shape != (n, 3) or self.gyro.shape != (n, 3):
            raise ConfigError(
                f"a recording needs t (n,), acc (n, 3), gyro (n, 3); got {self.t.shape}, "
                f"{self.acc.shape}, {self.gyro.shape}"
            )

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def imu(self) -> F64:
        """``(n, 6)`` ``[ax ay az gx gy gz]``."""
        return np.concatenate([self.acc, self.gyro], axis=1)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self) > 1 else 0.0

    def nominal_rate_hz(self) -> float:
        """The median sample rate, from timestamps.

        Raises:
            ConfigError: fewer than two samples, or timestamps that never increase.
        """
        d = np.diff(self.t)
        d = d[d > 0]
        if d.size == 0:
            raise ConfigError("cannot infer a sample rate: need two increasing timestamps")
        return float(1.0 / np.median(d))

    def label_at(self, t: float) -> str | None:
        """Ground-truth label at time ``t`` (``None`` outside every span)."""
        for s in self.spans:
            if s.start_s <= t < s.end_s:
                return s.label
        return None


def _fmt(v: float) -> str:
    return "" if math.isnan(v) else repr(float(v))


def write_recording(path: str | os.PathLike[str], rec: Recording) -> None:
    """Write a recording as CSV (``.csv``) or NPZ (``.npz``), chosen by suffix.

    Raises:
        ConfigError: another suffix.
    """
    p = Path(path)
    if p.suffix == ".npz":
        arrays: dict[str, npt.NDArray[np.generic]] = {"t": rec.t, "acc": rec.acc,
                                                      "gyro": rec.gyro}
        if rec.spans:
            arrays["span_start"] = np.array([s.start_s for s in rec.spans])
            arrays["span_end"] = np.array([s.end_s for s in rec.spans])
            arrays["span_label"] = np.array([s.label for s in rec.spans], dtype=np.str_)
        np.savez_compressed(p, allow_pickle=False, **arrays)
    elif p.suffix == ".csv":
        with p.open("w", newline="") as f:
            f.write(format_csv(rec))
    else:
        raise ConfigError(f"{p}: write a recording as .csv or .npz")


def format_csv(rec: Recording) -> str:
    """The CSV text of a recording (header plus one line per sample)."""
    out = io.StringIO()
    out.write(",".join(CSV_HEADER) + "\n")
    for i in range(len(rec)):
        vals = [rec.t[i], *rec.acc[i], *rec.gyro[i]]
        out.write(",".join(_fmt(v) for v in vals) + "\n")
    return out.getvalue()


def parse_csv(text: str, *, source: str = "<csv>") -> Recording:
    """Parse recording CSV text; malformed rows are dropped and counted.

    Raises:
        ConfigError: the header is not ``t,ax,ay,az,gx,gy,gz`` or no row is valid.
    """
    lines = text.splitlines()
    if not lines or tuple(h.strip() for h in lines[0].split(",")) != CSV_HEADER:
        raise ConfigError(
            f"{source}: the first line must be the header {','.join(CSV_HEADER)} "
            "(the format `aura decode` writes)"
        )
    rows: list[list[float]] = []
    dropped = 0
    for line in lines[1:]:
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 7:
            dropped += 1
            continue
        try:
            vals = [float(x) if x.strip() else math.nan for x in parts]
        except ValueError:
            dropped += 1
            continue
        if not math.isfinite(vals[0]) or any(math.isinf(v) for v in vals[1:]):
            dropped += 1
            continue
        rows.append(vals)
    if not rows:
        raise ConfigError(f"{source}: no valid sample rows ({dropped} malformed)")
    arr = np.asarray(rows, dtype=np.float64)
    return Recording(t=arr[:, 0].copy(), acc=arr[:, 1:4].copy(), gyro=arr[:, 4:7].copy(),
                     dropped_rows=dropped)


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording written by :func:`write_recording` or ``aura decode``.

    Raises:
        ConfigError: missing file, unknown suffix, malformed content (names the problem).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such recording file")
    if p.suffix == ".csv":
        return parse_csv(p.read_text(encoding="utf-8", errors="replace"), source=str(p))
    if p.suffix != ".npz":
        raise ConfigError(f"{p}: a recording is a .csv or .npz file")
    try:
        with np.load(p, allow_pickle=False) as z:
            t = np.asarray(z["t"], dtype=np.float64)
            acc = np.asarray(z["acc"], dtype=np.float64)
            gyro = np.asarray(z["gyro"], dtype=np.float64)
            spans: tuple[LabelSpan, ...] = ()
            if "span_start" in z.files:
                spans = tuple(
                    LabelSpan(float(a), float(b), str(c))
                    for a, b, c in zip(z["span_start"], z["span_end"], z["span_label"],
                                       strict=True)
                )
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(
            f"{p}: not a recording NPZ (needs arrays t, acc, gyro; no pickled objects): {exc}"
        ) from exc
    return Recording(t=t, acc=acc, gyro=gyro, spans=spans)


def read_labels(path: str | os.PathLike[str]) -> tuple[LabelSpan, ...]:
    """Read a ``start,end,label`` CSV of labelled spans (a header line is optional).

    Raises:
        ConfigError: a malformed row (named by line number) or overlapping / empty spans.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such labels file")
    spans: list[LabelSpan] = []
    with p.open(newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.reader(f), start=1):
            if not row or (lineno == 1 and row[:2] == ["start", "end"]):
                continue
            try:
                start, end, label = float(row[0]), float(row[1]), row[2].strip()
            except (IndexError, ValueError) as exc:
                raise ConfigError(
                    f"{p}:{lineno}: expected 'start,end,label' in seconds, got {row!r}"
                ) from exc
            if not (math.isfinite(start) and math.isfinite(end) and end > start and label):
                raise ConfigError(f"{p}:{lineno}: a span needs end > start and a label")
            spans.append(LabelSpan(start, end, label))
    spans.sort(key=lambda s: s.start_s)
    for a, b in itertools.pairwise(spans):
        if b.start_s < a.end_s:
            raise ConfigError(f"{p}: spans {a} and {b} overlap")
    return tuple(spans)


def write_labels(path: str | os.PathLike[str], spans: tuple[LabelSpan, ...]) -> None:
    """Write spans as a ``start,end,label`` CSV with a header."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["start", "end", "label"])
        for s in spans:
            w.writerow([repr(s.start_s), repr(s.end_s), s.label])
