"""PAMAP2 (Reiss & Stricker, 2012; UCI repository): protocol/optional ``.dat`` files.

Format, per the data set's readme: one whitespace-separated row per 100 Hz tick, 54
columns: timestamp (s), activity id, heart rate (bpm, ~9 Hz, NaN between readings), then
three IMUs -- hand (on the dominant wrist), chest, ankle (dominant side) -- of 17 columns
each: temperature (°C), 3D acceleration ±16 g (m/s^2), 3D acceleration ±6 g (m/s^2; it
saturates in fast motion), 3D gyroscope (rad/s), 3D magnetometer (µT), 4 orientation values
(invalid in this release). Missing values (wireless drops) are NaN. Activity 0 marks
transients between activities and is dropped.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ConfigError, SensorSpec

from ..corpus import CorpusError, ImuStream, Sample, TimelineEntry
from ..text import Split, TextContext, describe

__all__ = [
    "PAMAP2_ACTIVITIES",
    "PAMAP2_IMUS",
    "PAMAP2_RATE_HZ",
    "Pamap2Recording",
    "load_pamap2",
    "read_pamap2_dat",
]

PAMAP2_RATE_HZ = 100.0
#: Activity ids and names as listed in the PAMAP2 readme (0 = transient, dropped).
PAMAP2_ACTIVITIES: dict[int, str] = {
    1: "lying", 2: "sitting", 3: "standing", 4: "walking", 5: "running", 6: "cycling",
    7: "nordic walking", 9: "watching TV", 10: "computer work", 11: "car driving",
    12: "ascending stairs", 13: "descending stairs", 16: "vacuum cleaning", 17: "ironing",
    18: "folding laundry", 19: "house cleaning", 20: "playing soccer", 24: "rope jumping",
}  # fmt: skip
#: The three IMUs: name in the readme -> location in the sample schema.
PAMAP2_IMUS: dict[str, str] = {"hand": "dominant_wrist", "chest": "chest", "ankle": "ankle"}
_N_COLUMNS = 54
_IMU_FIRST = {"hand": 3, "chest": 20, "ankle": 37}


@dataclass(frozen=True, eq=False)
class Pamap2Recording:
    """The columns of one ``.dat`` file, named.

    Attributes:
        subject: subject number from the file name (``subject105.dat`` -> 105), or -1.
        t: (n,) timestamps in seconds.
        activity: (n,) activity ids.
        heart_rate: (n,) bpm, NaN where no reading.
        acc16, acc6, gyro, mag: ``{imu: (n, 3)}`` per IMU, SI units (µT for ``mag``).
        temperature: ``{imu: (n,)}`` in °C.
    """

    subject: int
    t: NDArray[np.float64]
    activity: NDArray[np.int64]
    heart_rate: NDArray[np.float64]
    acc16: dict[str, NDArray[np.float64]]
    acc6: dict[str, NDArray[np.float64]]
    gyro: dict[str, NDArray[np.float64]]
    mag: dict[str, NDArray[np.float64]]
    temperature: dict[str, NDArray[np.float64]]


def read_pamap2_dat(path: str | os.PathLike[str]) -> Pamap2Recording:
    """Parse one PAMAP2 ``.dat`` file.

    Raises:
        CorpusError: the file does not have 54 numeric columns.
    """
    path = Path(path)
    try:
        raw = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise CorpusError(f"not a PAMAP2 .dat file (non-numeric row?): {exc}", path=path) from exc
    if raw.shape[1] != _N_COLUMNS:
        raise CorpusError(f"PAMAP2 rows have {_N_COLUMNS} columns, this file has "
                          f"{raw.shape[1]}", path=path)
    m = re.search(r"subject(\d+)", path.stem)
    blocks = {k: raw[:, i : i + 17] for k, i in _IMU_FIRST.items()}
    return Pamap2Recording(
        subject=int(m.group(1)) if m else -1,
        t=raw[:, 0],
        activity=np.nan_to_num(raw[:, 1], nan=0.0).astype(np.int64),
        heart_rate=raw[:, 2],
        acc16={k: b[:, 1:4] for k, b in blocks.items()},
        acc6={k: b[:, 4:7] for k, b in blocks.items()},
        gyro={k: b[:, 7:10] for k, b in blocks.items()},
        mag={k: b[:, 10:13] for k, b in blocks.items()},
        temperature={k: b[:, 0] for k, b in blocks.items()},
    )


def _runs(labels: NDArray[np.int64]) -> list[tuple[int, int]]:
    """[start, end) index ranges of constant, non-zero activity."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], edges, [labels.size]])
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)
            if labels[a] != 0]


def load_pamap2(
    path: str | os.PathLike[str],
    *,
    imus: Iterable[str] = ("hand", "chest", "ankle"),
    use_6g: bool = False,
    max_clip_s: float | None = None,
    min_clip_s: float = 1.0,
    split: str = "",
    text_split: Split = "test",
    n_texts: int = 4,
) -> list[Sample]:
    """Read a PAMAP2 ``.dat`` file into corpus samples, one per activity bout.

    IMU rows with any missing (NaN) accelerometer or gyroscope value are dropped from that
    IMU's stream, leaving a gap in its timestamps, as a device that lost packets would.

    Args:
        path: a ``subjectNNN.dat`` file (Protocol or Optional folder).
        imus: which IMUs to keep (``"hand"``, ``"chest"``, ``"ankle"``).
        use_6g: take the ±6 g accelerometer (finer, but it saturates) instead of ±16 g.
        max_clip_s: cut longer bouts into clips of at most this length.
        min_clip_s: drop clips shorter than this.
        split: the split to stamp on the samples.
        text_split: grammar frames for the descriptions (``"train"`` or ``"test"``).
        n_texts: descriptions per clip (they can only say the activity).

    Returns:
        Samples with IMU streams in m/s^2 and rad/s at 100 Hz, gravity included.

    Raises:
        ConfigError: an unknown IMU name.
        CorpusError: the file is not in PAMAP2 format.
    """
    wanted = list(imus)
    bad = set(wanted) - set(PAMAP2_IMUS)
    if bad:
        raise ConfigError(f"unknown PAMAP2 IMU(s) {sorted(bad)}; choose from {list(PAMAP2_IMUS)}")
    rec = read_pamap2_dat(path)
    spec = SensorSpec(sample_rate_hz=PAMAP2_RATE_HZ, accel_unit="m/s^2", gyro_unit="rad/s",
                      gravity_removed=False)
    subject = f"pamap2-{rec.subject}"
    out: list[Sample] = []
    for a, b in _runs(rec.activity):
        pieces = [(a, b)]
        if max_clip_s is not None:
            step = max(1, round(max_clip_s * PAMAP2_RATE_HZ))
            pieces = [(i, min(b, i + step)) for i in range(a, b, step)]
        for i0, i1 in pieces:
            t0 = rec.t[i0]
            duration = float(rec.t[i1 - 1] - t0) + 1.0 / PAMAP2_RATE_HZ
            if duration < min_clip_s:
                continue
            act_id = int(rec.activity[i0])
            name = PAMAP2_ACTIVITIES.get(act_id, f"activity {act_id}")
            streams = {}
            for imu in wanted:
                acc = (rec.acc6 if use_6g else rec.acc16)[imu][i0:i1]
                data = np.concatenate([acc, rec.gyro[imu][i0:i1]], axis=1)
                ok = np.isfinite(data).all(axis=1)
                loc = PAMAP2_IMUS[imu]
                streams[loc] = ImuStream(t=rec.t[i0:i1][ok] - t0,
                                         data=data[ok].astype(np.float32), spec=spec,
                                         location=loc)
            hr = rec.heart_rate[i0:i1]
            clip_id = f"{subject}-{round(t0 * 100):08d}"
            rng = np.random.default_rng([rec.subject & 0xFFFF, round(t0 * 100)])
            texts = tuple(describe(TextContext(name), rng, n_texts, text_split))
            params = {"activity_id": act_id, "dataset": "PAMAP2",
                      "heart_rate_bpm": float(np.nanmean(hr)) if np.isfinite(hr).any()
                      else None}
            out.append(Sample(
                clip_id=clip_id, source="pamap2", split=split, subject=subject,
                duration_s=duration, imu=streams,
                timeline=(TimelineEntry(0.0, duration, name, texts, {"activity_id": act_id}),),
                texts=texts, params=params))
    return out
