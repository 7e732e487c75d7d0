"""Biomechanics of the generated motion against published ranges (sources in each test).

Frequencies are measured from the generated kinematics (spectral peaks), not read back from
the generator's own parameters, so a wrong pattern shape or phase would show up here.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.interpolate import make_interp_spline
from scipy.stats import spearmanr

from aura_training.synth import (
    GRAVITY,
    KEYPOINT_INDEX,
    MotionClip,
    activity_names,
    generate_clip,
    ideal_imu,
)

K = KEYPOINT_INDEX


@cache
def clip(name: str, seed: int, seconds: float = 30.0) -> MotionClip:
    return generate_clip(name, seconds, seed=seed)


def pelvis_z(c: MotionClip) -> np.ndarray:
    return c.joints[100:-100, [K["left_hip"], K["right_hip"]], 2].mean(axis=1)


def pelvis_acc_z(c: MotionClip) -> np.ndarray:
    pelvis = c.joints[:, [K["left_hip"], K["right_hip"]]].mean(axis=1)
    return make_interp_spline(c.times, pelvis[:, 2], k=5)(c.times, 2)[100:-100]


def peak_hz(x: np.ndarray, fs: float, lo: float, hi: float) -> float:
    x = x - x.mean()
    f = np.fft.rfftfreq(x.size * 4, 1 / fs)
    p = np.abs(np.fft.rfft(x * np.hanning(x.size), n=x.size * 4))
    band = (f >= lo) & (f <= hi)
    return float(f[band][np.argmax(p[band])])


def wrist_stats(c: MotionClip) -> tuple[float, float]:
    """(99th percentile |a| in g, 99th percentile |ω| in °/s) of an ideal left-wrist watch."""
    acc, gyro = ideal_imu(c, c.times[100:-100], "left_wrist")
    return (
        float(np.percentile(np.linalg.norm(acc, axis=1), 99) / GRAVITY),
        float(np.degrees(np.percentile(np.linalg.norm(gyro, axis=1), 99))),
    )


def test_walking_cadence_is_in_published_range_and_rises_with_speed() -> None:
    # Tudor-Locke et al., "Walking cadence (steps/min) and intensity in 21-40 year olds:
    # CADENCE-adults", IJBNPA 16:8 (2019): treadmill walking from 0.5 mph upward; 100
    # steps/min ~ 3 METs (about 1.2-1.3 m/s), 130 steps/min ~ 6 METs (brisk walking).
    speeds, cadences = [], []
    for name in ("walking slowly", "walking", "walking fast"):
        for seed in range(4):
            c = clip(name, seed)
            p = c.timeline[0].params
            measured = peak_hz(pelvis_z(c), c.rate_hz, 0.9, 3.0)  # one bounce per step
            assert abs(measured - p.cadence_hz) < 0.06 * p.cadence_hz, (name, measured, p)
            assert 1.2 <= measured <= 2.4, (name, measured)  # 72-144 steps/min
            speeds.append(p.speed_mps)
            cadences.append(measured)
            if 1.2 <= p.speed_mps <= 1.45:
                assert 95 <= 60 * measured <= 130  # normal pace ~ 100-125 steps/min
    assert spearmanr(speeds, cadences).statistic > 0.7


def test_running_cadence_matches_recreational_runners() -> None:
    # van Oeveren et al., Eur J Sport Sci 19(10), 2019: preferred step frequency
    # 165 ± 8 steps/min at 3.04 ± 0.28 m/s outdoors; +3 steps/min at 15 % more speed.
    for seed in range(5):
        c = clip("running", seed)
        p = c.timeline[0].params
        measured = peak_hz(pelvis_z(c), c.rate_hz, 2.0, 4.0)
        assert 140 <= 60 * measured <= 200, (measured, p)
        if 2.7 <= p.speed_mps <= 3.4:
            assert 145 <= 60 * measured <= 185
        # flight phases: the pelvis falls freely (about -1 g) for part of every step
        assert pelvis_acc_z(c).min() < -0.8 * GRAVITY


def test_arm_swing_arc_and_wrist_rates_while_walking_and_running() -> None:
    # Perry, "Gait Analysis: Normal and Pathological Function", ch. 8: each arm swings
    # through a total arc of about 30° per stride at normal walking speed, more when faster.
    # With ~0.9 Hz strides a 30° sinusoidal swing peaks near pi * 0.9 * 30 ≈ 85 °/s at the
    # shoulder; the forearm adds elbow motion and trunk rotation. Running arms swing wider
    # with the elbow bent near 90° at ~1.4 Hz strides: several hundred °/s and g's at the wrist.
    arcs = []
    for seed in range(4):
        c = clip("walking", seed)
        trunk = c.joints[:, K["left_shoulder"]] - c.joints[:, K["left_hip"]]
        upper = c.joints[:, K["left_elbow"]] - c.joints[:, K["left_shoulder"]]
        fwd = np.cross(c.joints[:, K["left_hip"]] - c.joints[:, K["right_hip"]], trunk)
        ang = np.degrees(
            np.arctan2(
                np.sum(upper * fwd, 1) / np.linalg.norm(fwd, axis=1),
                -np.sum(upper * trunk, 1) / np.linalg.norm(trunk, axis=1),
            )
        )
        arcs.append(np.percentile(ang, 97) - np.percentile(ang, 3))
        a99, w99 = wrist_stats(c)
        assert 1.05 < a99 < 2.5 and 40 < w99 < 400, (a99, w99)
    assert 15 < np.median(arcs) < 55, arcs
    for seed in range(3):
        a99, w99 = wrist_stats(clip("running", seed))
        assert 2.0 < a99 < 6.0 and 200 < w99 < 900, (a99, w99)


def test_physiological_tremor_amplitude_when_standing_still() -> None:
    # Wade, Gresty & Findley, "A normative study of postural tremor of the hand", Arch
    # Neurol 39:358 (1982): 97 normal subjects, peak amplitude 0.0015-0.035 g at the
    # dominant frequency (modal 0.01 g).
    for seed in range(3):
        c = clip("standing", seed, seconds=20.0)
        acc, _ = ideal_imu(c, c.times[100:-100], "left_wrist")
        x = acc[:, 0] - acc[:, 0].mean()
        f = np.fft.rfftfreq(x.size, 1 / c.rate_hz)
        spec = np.fft.rfft(x)
        spec[(f < 6.0) | (f > 13.0)] = 0
        band = np.fft.irfft(spec, n=x.size) / GRAVITY
        peak = np.percentile(np.abs(band), 99)
        assert 0.0005 < peak < 0.05, peak


def test_cpr_compressions_at_guideline_rate() -> None:
    # American Heart Association Guidelines for CPR and ECC (2020), adult BLS: compress at
    # 100-120 per minute, 30 compressions then 2 breaths.
    c = clip("performing CPR", 2, seconds=40.0)
    measured = peak_hz(pelvis_z(c), c.rate_hz, 1.0, 3.0)
    assert 95 <= 60 * measured <= 125, measured


def test_rope_skipping_and_cycling_rates() -> None:
    # Rope jumping at "moderate pace, 100-120 skips/min" (Compendium of Physical Activities,
    # Ainsworth et al. 2011, code 15552); recreational cycling cadence 60-100 rev/min.
    c = clip("skipping rope", 1)
    assert 100 <= 60 * peak_hz(pelvis_z(c), c.rate_hz, 1.0, 3.5) <= 160
    c = clip("cycling", 1)
    knee = c.joints[:, K["left_knee"], 2] - c.joints[:, K["left_hip"], 2]
    assert 55 <= 60 * peak_hz(knee, c.rate_hz, 0.5, 2.5) <= 105


def test_every_activity_mostly_within_consumer_full_scale() -> None:
    # Smartwatch IMUs run at ±8 g or ±16 g and ±2000 °/s (datasheets in _sensor.py); real
    # wrists saturate them only in brief impacts and fast strokes.
    for i, name in enumerate(activity_names()):
        c = clip(name, 50 + i, seconds=20.0)
        acc, gyro = ideal_imu(c, c.times[50:-50:2], "right_wrist")
        a = np.linalg.norm(acc, axis=1) / GRAVITY
        w = np.degrees(np.linalg.norm(gyro, axis=1))
        assert np.mean(a < 16) > 0.98 and np.mean(a < 8) > 0.95, (name, np.percentile(a, 99))
        assert np.mean(w < 2000) > 0.99, (name, np.percentile(w, 99))
        assert np.isfinite(acc).all() and np.isfinite(gyro).all(), name
