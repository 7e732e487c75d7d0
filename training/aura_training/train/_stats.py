"""Normalisation statistics of the model input, from the training split as the model sees it."""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

import numpy as np

from ..corpus import CorpusReader
from ._data import ClipWindower

__all__ = ["STATS_EPOCH", "compute_norm_stats", "stream_mix"]

logger = logging.getLogger(__name__)

#: The epoch number whose augmentation draws the statistics use (no training epoch reaches it).
STATS_EPOCH = 2**31 - 1

Vec6 = tuple[float, float, float, float, float, float]


def compute_norm_stats(
    root: str | os.PathLike[str],
    split: str,
    windower: ClipWindower,
    *,
    max_clips: int = 200,
    pool_axes: bool = True,
) -> tuple[Vec6, Vec6]:
    """Per-channel mean and std of the training windows, before normalisation.

    Windows are made exactly as in training (one stream per clip, augmentation on), with
    the windower's spec's statistics replaced by 0 / 1. With random rotation the three axes
    of each sensor are exchangeable, so ``pool_axes`` gives them one shared mean and std
    (what a rotated device sees does not depend on how it was mounted).

    Args:
        root: the corpus.
        split: the training split.
        windower: the training windower.
        max_clips: the first clips of the split (manifest order) to use.
        pool_axes: share statistics across the axes of the accelerometer and of the gyro.

    Returns:
        ``(mean, std)``, six floats each.

    Raises:
        ValueError: no window could be made.
    """
    ident = windower.spec.model_copy(update={"norm_mean": (0.0,) * 6, "norm_std": (1.0,) * 6})
    probe = ClipWindower(ident, ("imu",), {}, np.zeros(0, np.int64), seed=windower.seed,
                         augment=windower.augment, hop_samples=windower.hop_samples,
                         pad_min_fraction=windower.pad_min_fraction,
                         locations=windower.locations)
    s1 = np.zeros(6)
    s2 = np.zeros(6)
    n = 0
    reader = CorpusReader(root, split, modalities=("imu",))
    for k, sample in enumerate(reader):
        if k >= max_clips:
            break
        got = probe.imu_windows(sample, STATS_EPOCH)
        if got is None or len(got[0]) == 0:
            continue
        x = got[0].x.astype(np.float64).reshape(-1, 6)
        s1 += x.sum(axis=0)
        s2 += (x * x).sum(axis=0)
        n += x.shape[0]
    if n == 0:
        raise ValueError(f"no window in the first {max_clips} clips of split {split!r}")
    mean = s1 / n
    sq = s2 / n
    if pool_axes:
        for a in (slice(0, 3), slice(3, 6)):
            mean[a] = mean[a].mean()
            sq[a] = sq[a].mean()
    std = np.sqrt(np.maximum(sq - mean * mean, 1e-12))
    logger.info("input statistics over %d samples: mean %s, std %s", n,
                np.round(mean, 4).tolist(), np.round(std, 4).tolist())
    m = tuple(float(v) for v in mean)
    s = tuple(float(v) for v in std)
    return m, s  # type: ignore[return-value]


def stream_mix(root: str | os.PathLike[str], split: str) -> dict[str, Any]:
    """What devices a split's IMU streams come from: rates and gravity conventions.

    Returns:
        ``{"streams": n, "gravity_removed": fraction, "rates_hz": {rate: count},
        "low_rate": fraction at or below 25 Hz}``.
    """
    rates: Counter[float] = Counter()
    removed = 0
    total = 0
    for sample in CorpusReader(root, split, modalities=("imu",)):
        for st in sample.imu.values():
            rates[st.spec.sample_rate_hz] += 1
            removed += int(st.spec.gravity_removed)
            total += 1
    low = sum(c for r, c in rates.items() if r <= 25.0)
    return {"streams": total, "gravity_removed": removed / max(total, 1),
            "rates_hz": dict(sorted(rates.items())), "low_rate": low / max(total, 1)}

