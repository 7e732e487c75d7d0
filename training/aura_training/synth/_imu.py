"""The virtual IMU: a watch on a wrist of a motion clip, as a real device would stream it."""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray

from aura_training.synth._kinematics import LOCATIONS, sensor_track
from aura_training.synth._rotations import matrix_from_quat, quat_exp, random_rotation, rot_x, rot_z
from aura_training.synth._schema import (
    GRAVITY,
    Decimation,
    ImuRecording,
    MotionClip,
    VirtualSensorSpec,
)
from aura_training.synth._sensor import (
    apply_errors,
    decimate,
    delivery,
    draw_errors,
    gravity_estimate,
)

FloatArray = NDArray[np.float64]

#: Output rates real wearables and IMU boards stream at (Hz).
COMMON_RATES: tuple[float, ...] = (
    10.0,
    12.5,
    15.0,
    20.0,
    25.0,
    26.0,
    30.0,
    32.0,
    50.0,
    52.0,
    60.0,
    100.0,
    104.0,
    120.0,
    200.0,
)
DECIMATIONS = ("lowpass", "point", "block", "none")
_DEC_P = (0.4, 0.25, 0.25, 0.1)
_MAX_ODR = 400.0
_MARGIN_S = 0.05  # stay off the spline ends


def draw_mount(rng: np.random.Generator) -> FloatArray:
    """A sensor-to-watch rotation: half watch-like, half uniformly random.

    Watch-like mounts are the canonical frame, worn either way round (crown toward the hand or
    the elbow) and on either side of the wrist (face up or under the wrist), tilted by about
    8° (strap tightness, wrist shape); the other half cover sensors in arbitrary devices.
    """
    if rng.random() < 0.5:
        return random_rotation(rng)
    base = rot_z(np.array(np.pi * rng.integers(2))) @ rot_x(np.array(np.pi * (rng.random() < 0.2)))
    axis = rng.standard_normal(3)
    tilt = matrix_from_quat(quat_exp(axis / np.linalg.norm(axis) * np.deg2rad(rng.normal(0, 8))))
    return np.asarray(base @ tilt)


def ideal_imu(
    clip: MotionClip,
    times: FloatArray,
    location: str = "left_wrist",
    mount_rot: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Error-free accelerometer (specific force, m/s²) and gyroscope (rad/s) at ``times``."""
    return sensor_track(clip, location, mount_rot).imu(np.asarray(times, dtype=np.float64))


def simulate_imu(
    clip: MotionClip,
    seed: int,
    *,
    location: str | None = None,
    rate_hz: float | None = None,
    gravity_removed: bool | None = None,
    mount_rot: FloatArray | None = None,
    decimation: str | None = None,
    errors: bool = True,
    artefacts: bool = True,
) -> ImuRecording:
    """Record a clip with a virtual watch. Every argument left ``None`` is drawn at random.

    The chip samples the true specific force and body rate at its own rate (an integer
    multiple of the output rate, at most 400 Hz, on a clock off by a few tens of ppm), adds
    datasheet-sized errors, saturates and quantises; firmware decimates to the output rate
    (filtered, point or block); optionally a phone-style fusion removes its estimate of
    gravity; delivery adds timestamp jitter and drops samples.

    Args:
        clip: the motion.
        seed: randomness of the recording (combined with the clip's seed).
        location: ``"left_wrist"`` or ``"right_wrist"``.
        rate_hz: output rate, 10-200 Hz.
        gravity_removed: report linear acceleration instead of specific force.
        mount_rot: sensor-to-watch rotation (see :func:`draw_mount`).
        decimation: ``"lowpass"``, ``"point"``, ``"block"`` or ``"none"``.
        errors: apply the sensor error model (off: ideal values, no quantisation).
        artefacts: apply timestamp jitter and sample drops.

    Raises:
        ValueError: a rate outside 10-200 Hz, an unknown location or decimation, or a clip
            shorter than a few output samples.
    """
    rng = np.random.default_rng((int(clip.seed), int(seed)))
    loc = str(rng.choice(LOCATIONS)) if location is None else location
    if loc not in LOCATIONS:
        raise ValueError(f"location must be one of {LOCATIONS}, got {loc!r}")
    rate = float(rng.choice(COMMON_RATES)) if rate_hz is None else float(rate_hz)
    if not 10.0 <= rate <= 200.0:
        raise ValueError(f"rate_hz={rate} is outside 10-200 Hz")
    grav_off = bool(rng.random() < 0.4) if gravity_removed is None else gravity_removed
    mount = draw_mount(rng) if mount_rot is None else np.asarray(mount_rot, dtype=np.float64)
    method = str(rng.choice(DECIMATIONS, p=_DEC_P)) if decimation is None else decimation
    if method not in DECIMATIONS:
        raise ValueError(f"decimation must be one of {DECIMATIONS}, got {method!r}")
    if method == "none":
        k = 1
    else:
        ks = [k for k in (2, 3, 4, 5, 8, 10, 16, 20) if rate * k <= _MAX_ODR]
        k = int(rng.choice(ks)) if ks else 1
    odr = rate * k
    drift_ppm = float(rng.normal(0.0, 30.0)) if artefacts else 0.0

    t0 = _MARGIN_S + rng.uniform(0.0, 1.0 / rate)
    span = clip.duration_s - 1.0 / clip.rate_hz - _MARGIN_S - t0
    n_out = int(span * rate)
    if n_out < 4:
        raise ValueError(f"clip of {clip.duration_s:.2f} s is too short for {rate} Hz output")
    n_odr = n_out * k
    j = np.arange(n_odr)
    t_true = t0 + j / (odr * (1.0 + drift_ppm * 1e-6))
    track = sensor_track(clip, loc, mount)
    r, gyro, acc_w = track.evaluate(t_true)
    acc_w[:, 2] += GRAVITY
    acc = np.einsum("nji,nj->ni", r, acc_w)
    err = draw_errors(rng) if errors else None
    if err is not None:
        acc, gyro = apply_errors(rng, err, acc, gyro, odr)
    cutoff = float(rng.uniform(0.5, 0.9))
    acc = decimate(acc, k, method, cutoff)
    gyro = decimate(gyro, k, method, cutoff)
    t_nom = t0 + (np.arange(n_out) * k + k - 1) / odr
    if grav_off:
        g_s = r[k - 1 :: k, 2, :] * GRAVITY  # true gravity reaction in the sensor frame
        acc = acc - gravity_estimate(rng, g_s, acc, rate)
    jitter = float(rng.uniform(0.0, 0.1) / rate) if artefacts and rng.random() < 0.7 else 0.0
    drop = float(rng.uniform(0.0, 0.02)) if artefacts and rng.random() < 0.5 else 0.0
    t_rep, keep = delivery(rng, t_nom, rate, jitter, drop)
    spec = VirtualSensorSpec(
        rate_hz=rate,
        gravity_removed=grav_off,
        location=loc,
        mount_rot=mount,
        odr_hz=odr,
        decimation=cast(Decimation, method),
        clock_drift_ppm=drift_ppm,
        jitter_s=jitter,
        dropped=int((~keep).sum()),
        errors=err,
    )
    return ImuRecording(t=t_rep[keep], acc=acc[keep], gyro=gyro[keep], spec=spec)
