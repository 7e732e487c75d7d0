"""Per-window features for few-shot heads: robust statistics of the motion itself.

The encoder's embedding keeps what text can name; the statistics below keep what a few
examples of one person's activity share and text does not: the gravity direction in the
device frame (posture), log-scaled variability and jerk per axis, orientation-free magnitudes,
how the energy of the motion is spread over frequency bands (cadence, tremor), and
percentiles. Everything is computed from windows in SI units (m/s^2, rad/s) at the model rate,
vectorised over windows; nothing depends on other windows, so live and batch agree.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

__all__ = ["BAND_EDGES_HZ", "STATS_VERSION", "n_statistics", "window_statistics"]

F64 = npt.NDArray[np.float64]

#: Bumped whenever the statistics change: enrolled features of another version are refit.
STATS_VERSION = 1
#: Edges of the frequency bands whose share of the motion energy is measured (Hz); the
#: cadence of walking (1.5-2.5 Hz) and running (2.5-3.5 Hz) and tremor (4-12 Hz) fall apart.
BAND_EDGES_HZ = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, np.inf)
_EPS = 1e-3
#: below this acceleration magnitude (m/s^2) the mean direction is not a gravity direction
#: (a gravity-removed device): it shrinks toward zero instead of blowing up noise
_GRAVITY_FLOOR = 1.0


def _band_features(s: F64, rate_hz: float) -> F64:
    """Log band energies, their shares and the dominant frequency of ``s`` ``(N, T)``."""
    s = s - s.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(s * np.hanning(s.shape[1]), axis=1)) ** 2
    freq = np.fft.rfftfreq(s.shape[1], 1.0 / rate_hz)
    edges = BAND_EDGES_HZ
    energy = np.stack([power[:, (freq >= lo) & (freq < hi)].sum(axis=1)
                       for lo, hi in itertools.pairwise(edges)], axis=1)
    share = energy / (energy.sum(axis=1, keepdims=True) + 1e-9)
    dominant = freq[np.argmax(power[:, 1:], axis=1) + 1] if power.shape[1] > 1 else \
        np.zeros(len(s))
    return np.concatenate([np.log(energy + 1e-6), share, dominant[:, None]], axis=1)


def n_statistics() -> int:
    """Length of one row of :func:`window_statistics`."""
    bands = 2 * (len(BAND_EDGES_HZ) - 1) + 1
    return 3 + 3 + 6 + 6 + 3 + 2 * bands + 18 + 18


def window_statistics(x: npt.ArrayLike, rate_hz: float) -> F64:
    """Statistics of windows ``(N, T, 6)`` in SI units ``[ax ay az gx gy gz]``.

    Returns:
        ``(N, n_statistics())`` float64 rows: gravity direction and its absolute value (3 + 3),
        log std and log mean |difference| per channel (6 + 6), log std of the acceleration
        magnitude and log mean / std of the rotation rate magnitude (3), band features of
        both magnitudes (2 x 17), 10/50/90th percentiles per channel (18), and the raw
        per-channel mean, std and mean |difference| (18).
    """
    w = np.asarray(x, dtype=np.float64)
    if w.ndim != 3 or w.shape[2] != 6:
        raise ValueError(f"windows must be (N, T, 6), got {w.shape}")
    if w.shape[0] == 0:
        return np.empty((0, n_statistics()))
    acc, gyro = w[..., :3], w[..., 3:]
    mean = w.mean(axis=1)
    std = w.std(axis=1)
    diff = np.abs(np.diff(w, axis=1)).mean(axis=1) if w.shape[1] > 1 else np.zeros_like(mean)
    am = mean[:, :3]
    gdir = am / np.maximum(np.linalg.norm(am, axis=1, keepdims=True), _GRAVITY_FLOOR)
    amag = np.linalg.norm(acc, axis=2)
    gmag = np.linalg.norm(gyro, axis=2)
    mags = np.stack([np.log(amag.std(axis=1) + _EPS), np.log(gmag.mean(axis=1) + _EPS),
                     np.log(gmag.std(axis=1) + _EPS)], axis=1)
    q = np.percentile(w, [10, 50, 90], axis=1).transpose(1, 0, 2).reshape(len(w), -1)
    return np.concatenate([
        gdir, np.abs(gdir), np.log(std + _EPS), np.log(diff + _EPS), mags,
        _band_features(amag, rate_hz), _band_features(gmag, rate_hz), q, mean, std, diff,
    ], axis=1)
