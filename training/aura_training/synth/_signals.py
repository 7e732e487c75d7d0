"""Small smooth random processes and profiles used to build motion (pure numpy, seeded)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import convolve1d

FloatArray = NDArray[np.float64]


def band_noise(
    rng: np.random.Generator, n: int, fs: float, lo: float, hi: float, dims: int = 1
) -> FloatArray:
    """Gaussian noise band-limited to ``[lo, hi]`` Hz with unit standard deviation.

    Built in the frequency domain (random complex spectrum, zero outside the band), so it has
    no content outside the band at all and is smooth at any rate.

    Returns:
        ``(n, dims)`` array.
    """
    if n <= 1:
        return np.zeros((n, dims))
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    band = (freqs >= lo) & (freqs <= hi)
    band[0] = False  # never a DC offset
    if not band.any():  # band narrower than the frequency resolution: nearest non-DC bin
        band[max(1, int(np.argmin(np.abs(freqs - 0.5 * (lo + hi)))))] = True
    spec = np.zeros((freqs.size, dims), dtype=np.complex128)
    k = int(band.sum())
    spec[band] = rng.standard_normal((k, dims)) + 1j * rng.standard_normal((k, dims))
    out = np.fft.irfft(spec, n=n, axis=0)
    std = out.std(axis=0, keepdims=True)
    return out / np.where(std > 1e-12, std, 1.0)


def min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk profile ``10 s^3 - 15 s^4 + 6 s^5`` of ``s`` clipped to [0, 1].

    Zero velocity and acceleration at both ends (Flash & Hogan 1985), so chains of such
    segments are C2-continuous: the virtual accelerometer sees no steps.
    """
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def posture_shifts(
    rng: np.random.Generator, n: int, fs: float, mean_gap_s: float, dims: int,
    move_s: tuple[float, float] = (0.6, 1.6),
) -> FloatArray:
    """Occasional shifts of a resting posture: ``(n, dims)`` levels of unit scale.

    People at rest do not hold still: they shift their weight, settle in the seat or turn in
    bed every few seconds to tens of seconds. Each shift moves every dimension to a new level
    (half the old one plus a standard normal, so the posture wanders but stays put on
    average) along a minimum-jerk path lasting ``move_s`` seconds; the waiting times are
    exponential with mean ``mean_gap_s``.
    """
    out = np.zeros((n, dims))
    level = np.zeros(dims)
    t = float(rng.exponential(mean_gap_s))
    dur_s = n / fs
    while t < dur_s:
        move = float(rng.uniform(*move_s))
        target = 0.5 * level + rng.standard_normal(dims)
        a = int(t * fs)
        idx = np.arange(a, n)
        s = min_jerk((idx - a) / (move * fs))
        out[a:] = level + (target - level) * s[:, None]
        level = target
        t += move + float(rng.exponential(mean_gap_s))
    return out


def vm_bump(phase: FloatArray, centre: float, kappa: float) -> FloatArray:
    """Periodic von Mises bump of peak 1 at ``centre`` (cycles); larger ``kappa`` is narrower."""
    return np.exp(kappa * (np.cos(2.0 * np.pi * (phase - centre)) - 1.0))


def modulated_phase(
    rng: np.random.Generator, n: int, fs: float, freq: float, wander: float
) -> FloatArray:
    """Cycle count ``phi(t) = ∫ f (1 + wander * noise) dt`` with slow (< 0.15 Hz) tempo drift."""
    f = freq * (1.0 + wander * band_noise(rng, n, fs, 0.005, 0.15)[:, 0])
    return np.cumsum(np.maximum(f, 0.05 * freq)) / fs + rng.random()


def bouts(
    rng: np.random.Generator,
    n: int,
    fs: float,
    on_s: tuple[float, float],
    off_s: tuple[float, float],
    ramp_s: float,
    start_on: bool | None = None,
) -> FloatArray:
    """A smooth on/off envelope in [0, 1]: bouts of ``on_s`` seconds separated by ``off_s``.

    Transitions are minimum-jerk ramps of ``ramp_s`` seconds.
    """
    env = np.zeros(n)
    t = 0.0
    on = bool(rng.random() < 0.5) if start_on is None else start_on
    level = 1.0 if on else 0.0
    edges: list[tuple[float, float]] = []  # (time, new level)
    total = n / fs
    while t < total:
        t += rng.uniform(*(on_s if on else off_s))
        on = not on
        edges.append((t, 1.0 if on else 0.0))
    times = np.arange(n) / fs
    env[:] = level
    prev = level
    for te, new in edges:
        if te - ramp_s / 2 > total:
            break
        s = min_jerk((times - (te - ramp_s / 2)) / ramp_s)
        env += (new - prev) * s
        prev = new
    return env


def hop_profile(phase: FloatArray, flight: float, period_s: float) -> FloatArray:
    """Vertical displacement (m) of a bouncing body, one hop per cycle of ``phase``.

    Flight, for the first ``flight`` fraction of each cycle, is ballistic (exactly ``-g``);
    the contact phase is a half-sine dip whose depth matches the landing speed, so position
    and velocity are continuous and the landing is an acceleration step, as a real impact is.
    Keep the contact short (< ~0.8 s) or the dip gets unrealistically deep.
    """
    g = 9.80665
    u = np.mod(phase, 1.0)
    t_f = flight * period_s
    t_c = (1.0 - flight) * period_s
    tau = u * period_s
    z_f = 0.5 * g * tau * (t_f - tau)
    c = g * t_f * t_c / (2.0 * np.pi)
    z_c = -c * np.sin(np.pi * (tau - t_f) / t_c)
    return np.asarray(np.where(u < flight, z_f, z_c))


def gaussian_smooth(x: FloatArray, fs: float, sigma_s: float) -> FloatArray:
    """Gaussian smoothing along axis 0 (edges padded by reflection)."""
    if sigma_s <= 0:
        return x
    sig = sigma_s * fs
    half = int(np.ceil(3.5 * sig))
    if half < 1:
        return x
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sig) ** 2)
    k /= k.sum()
    return np.asarray(convolve1d(x, k, axis=0, mode="reflect"))
