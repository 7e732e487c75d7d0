"""The virtual IMU: a watch, phone or sensor board worn on the body, as it would stream.

Per recording we draw the device class for the placement (:data:`DEVICE_P`), its part and
errors (:func:`~aura_training.synth._sensor.draw_errors`), the output rate and firmware
decimation that class uses, how tightly it is worn (a loose strap or pocket adds tilt and a
damped wobble of the device against its segment), where exactly on the segment it sits and
how it is turned (:func:`draw_mount`).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy.signal import bilinear, lfilter
from scipy.spatial.transform import Rotation

from aura_training.synth._kinematics import (
    WRIST_LOCATIONS,
    placement_of,
    sensor_track,
    site_rotation,
)
from aura_training.synth._rotations import random_rotation, rot_x, rot_y, rot_z
from aura_training.synth._schema import (
    GRAVITY,
    Decimation,
    Fit,
    ImuRecording,
    MotionClip,
    VirtualSensorSpec,
)
from aura_training.synth._sensor import (
    DEVICES,
    apply_errors,
    decimate,
    delivery,
    draw_errors,
    gravity_estimate,
)

FloatArray = NDArray[np.float64]

#: Output rates real wearables, phones and IMU boards stream at (Hz).
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
#: Relative weight of each of :data:`COMMON_RATES` per device class. Cheap watches and bands
#: stream 10-25 Hz and better ones 50-100 Hz; phone apps get about 15 Hz (Android's UI
#: delay), 50 Hz (GAME; iOS apps' usual choice) or 100-200 Hz (FASTEST); boards anything.
RATE_W: dict[str, tuple[float, ...]] = {
    "watch": (2, 1, 1, 2, 3, 1, 1, 1, 3, 1, 1, 2, 1, 0.5, 0.5),
    "phone": (0.3, 0.3, 1, 1, 1, 0.5, 1, 0.5, 4, 1, 1, 3, 1, 0.5, 2),
    "board": (1,) * 15,
}
DECIMATIONS = ("lowpass", "point", "block", "none")
#: Decimation per device class: a phone's OS mostly hands on the chip's own (filtered)
#: output rate; watch and board firmware decimates a faster chip itself, filtered or not.
DEC_P: dict[str, tuple[float, ...]] = {
    "watch": (0.4, 0.25, 0.25, 0.1),
    "phone": (0.45, 0.1, 0.1, 0.35),
    "board": (0.4, 0.25, 0.25, 0.1),
}
#: Which device class is worn where: belt clips, pockets and armbands are mostly phones.
DEVICE_P: dict[str, tuple[float, ...]] = {  # over DEVICES = (watch, phone, board)
    "wrist": (0.8, 0.0, 0.2),
    "waist": (0.0, 0.8, 0.2),
    "pocket": (0.0, 1.0, 0.0),
    "upper_arm": (0.15, 0.7, 0.15),
}
#: Share of mountings drawn uniformly at random (sensors in arbitrary devices, anything worn
#: oddly), by placement kind; the rest are the placement's own (watch-like, belt clip ...).
#: Small: a watch is worn like a watch, and with half the wrists random the gravity direction
#: says nothing about posture for half the windows (a model trained that way called lying
#: down "sitting" 26 times in 28); training adds small rotations of every window besides.
RANDOM_MOUNT_P: dict[str, float] = {"wrist": 0.15, "waist": 0.1, "pocket": 0.1,
                                    "upper_arm": 0.1}
#: Share of devices that stream linear acceleration (gravity removed by their own sensor
#: fusion: Android's TYPE_LINEAR_ACCELERATION, Core Motion's userAcceleration); most
#: wearables and IMU boards stream raw specific force, which also tells posture.
GRAVITY_REMOVED_P = 0.25
#: Probability that the device is worn loose (a loose strap or band, a roomy pocket, a belt
#: pouch or holster).
LOOSE_P: dict[str, float] = {"wrist": 0.35, "waist": 0.4, "pocket": 0.7, "upper_arm": 0.3}
#: Ranges of a loose device's wobble against its site (see :func:`_wobble`), by placement:
#: natural frequency (Hz), damping ratio, rotational coupling, linear coupling (1/m, about one
#: over the distance from the pivot to the device's centre of mass). A watch on a loose strap
#: and an armband ring at 8-20 Hz; a phone in a belt pouch or holster hangs from the belt like
#: a short, lightly damped pendulum (4-12 Hz, its centre of mass 4-12 cm from the clip), and
#: a phone in a roomy pocket swings in the fabric in between. Each heel strike then rocks a
#: belt phone by a few tenths of a rad/s: real waist phones (UCI HAPT) read 0.15-0.3 rad/s of
#: gyroscope RMS per axis at 3.5-8 Hz walking and 0.1-0.2 above 8 Hz, where the pelvis alone
#: turns by a few hundredths.
WOBBLE_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "wrist": ((10.0, 20.0), (0.3, 0.7), (0.2, 0.6), (3.0, 12.0)),
    "waist": ((4.0, 12.0), (0.12, 0.4), (0.2, 0.6), (8.0, 30.0)),
    "pocket": ((5.0, 14.0), (0.2, 0.5), (0.2, 0.6), (5.0, 15.0)),
    "upper_arm": ((8.0, 18.0), (0.3, 0.7), (0.2, 0.6), (3.0, 12.0)),
}
#: How far below its pivot a loose device's centre of mass may hang, relative to how far it
#: sits off the skin (drawn uniformly per device): a belt phone hangs from its clip or pouch
#: (the centre of mass down the pouch and out from the belt), so heel strikes rock it about
#: both horizontal axes and side-to-side sway twists it; straps, armbands and pockets hold
#: theirs mostly off the skin. The direction also leans sideways a little (about 0.3).
WOBBLE_DROP: dict[str, tuple[float, float]] = {
    "wrist": (-0.3, 0.3), "waist": (0.0, 1.5), "pocket": (-0.3, 0.6), "upper_arm": (-0.3, 0.3)}
_MAX_ODR = 400.0
_WOBBLE_MAX_RAD = np.deg2rad(10.0)
_MARGIN_S = 0.05  # stay off the spline ends


def _tilt(rng: np.random.Generator, sigma_deg: float) -> FloatArray:
    axis = rng.standard_normal(3)
    rotvec = axis / np.linalg.norm(axis) * np.deg2rad(rng.normal(0, sigma_deg))
    return np.asarray(Rotation.from_rotvec(rotvec).as_matrix())


def draw_mount(
    rng: np.random.Generator, location: str = "left_wrist", fit: str = "tight",
    random_p: float | None = None,
) -> FloatArray:
    """A sensor-to-device rotation for a device worn at ``location``.

    ``random_p`` is the share of uniformly random mountings (default
    :data:`RANDOM_MOUNT_P` of the placement); the same random numbers are drawn whatever it
    is.

    Wrists (by default): 85 % watch-like, 15 % uniformly random. Watch-like mounts are the canonical
    frame, worn either way round (crown toward the hand or the elbow) and on either side of
    the wrist (face up or under the wrist), tilted by about 6° (tight strap) or 14° (loose).
    Belt clips may be turned by any multiple of 90° about the screen normal and face the
    body or away from it; pocket phones lie screen in or out and either way up; armbands
    hold the phone screen out, either way up. Those tilt by a few degrees (more when loose);
    a tenth of them by default (sensors in arbitrary devices) are uniformly random instead.

    Raises:
        ValueError: unknown location.
    """
    _, pl = placement_of(location)
    loose = fit == "loose"
    p_random = RANDOM_MOUNT_P[pl.kind] if random_p is None else random_p
    if not 0.0 <= p_random <= 1.0:
        raise ValueError(f"random_p must be within [0, 1], got {p_random}")
    if pl.kind == "wrist":
        if rng.random() < p_random:
            return random_rotation(rng)
        base = rot_z(np.array(np.pi * rng.integers(2))) @ rot_x(
            np.array(np.pi * (rng.random() < 0.2)))
        return np.asarray(base @ _tilt(rng, 14.0 if loose else 6.0))
    if rng.random() < p_random:
        return random_rotation(rng)
    if pl.kind == "waist":
        base = rot_y(np.array(np.pi * (rng.random() < 0.3))) @ rot_z(
            np.array(0.5 * np.pi * rng.integers(4)))
        sigma = 12.0 if loose else 5.0
    elif pl.kind == "pocket":
        base = rot_y(np.array(np.pi * rng.integers(2))) @ rot_z(
            np.array(np.pi * rng.integers(2)))
        sigma = 15.0 if loose else 8.0
    else:
        base = rot_z(np.array(np.pi * rng.integers(2)))
        sigma = 12.0 if loose else 5.0
    return np.asarray(base @ _tilt(rng, sigma))


def _wobble(
    params: tuple[float, float, float, float],
    t: FloatArray,
    omega: FloatArray,
    f_kin: FloatArray,
    arm: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Small rotation ``theta`` (n, 3) of a loosely worn device against its site, and its rate.

    A damped rotational spring (natural frequency ``f0``, damping ratio ``zeta``) driven by
    the site's angular acceleration (the device lags the segment's turns) and by the torque
    of the linear acceleration on a centre of mass off the pivot (``k_lin`` 1/m, in the unit
    direction ``arm``; default straight off the skin, see :data:`WOBBLE_DROP`). Gravity is
    not a drive: its steady sag is part of the drawn tilt. The strap or pocket stops the
    device at about :data:`_WOBBLE_MAX_RAD` (a soft limit). Everything is in the canonical
    device frame at the site.
    """
    f0, zeta, k_rot, k_lin = params
    fs = (t.size - 1) / (t[-1] - t[0])
    alpha = np.gradient(omega, t, axis=0)
    arm = np.array([0.0, 0.0, 1.0]) if arm is None else np.asarray(arm, dtype=np.float64)
    torque = np.cross(arm, f_kin)
    drive = -k_rot * alpha - k_lin * torque
    w0 = 2.0 * np.pi * f0
    b, a = bilinear([1.0], [1.0, 2.0 * zeta * w0, w0 * w0], fs)
    theta = np.asarray(lfilter(b, a, drive, axis=0))
    angle = np.linalg.norm(theta, axis=1, keepdims=True) / _WOBBLE_MAX_RAD
    theta *= np.tanh(angle) / np.maximum(angle, 1e-12)
    return theta, np.gradient(theta, t, axis=0)


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
    device: str | None = None,
    fit: str | None = None,
    errors: bool = True,
    artefacts: bool = True,
    random_mount_p: float | None = None,
) -> ImuRecording:
    """Record a clip with a virtual device. Every argument left ``None`` is drawn at random.

    The chip samples the true specific force and body rate at its own rate (an integer
    multiple of the output rate, at most 400 Hz, on a clock off by a few tens of ppm), adds
    datasheet-sized errors, saturates and quantises; firmware decimates to the output rate
    (filtered, point or block); optionally a phone-style fusion removes its estimate of
    gravity; delivery adds timestamp jitter and drops samples. A loosely worn device also
    wobbles against its segment (see :func:`_wobble`).

    Args:
        clip: the motion.
        seed: randomness of the recording (combined with the clip's seed).
        location: one of :data:`~aura_training.synth._kinematics.LOCATIONS` (default: a
            wrist drawn at random: the product is a watch).
        rate_hz: output rate, 10-200 Hz.
        gravity_removed: report linear acceleration instead of specific force.
        mount_rot: sensor-to-canonical-device rotation (see :func:`draw_mount`). Given, the
            device sits at the placement's nominal site; drawn, the site is drawn too (a
            few centimetres along and around the segment, the frame turned with it).
        decimation: ``"lowpass"``, ``"point"``, ``"block"`` or ``"none"``.
        device: ``"watch"``, ``"phone"`` or ``"board"`` (drawn for the placement).
        fit: ``"tight"`` or ``"loose"`` (strap, band or pocket).
        errors: apply the sensor error model (off: ideal values, no quantisation).
        artefacts: apply timestamp jitter and sample drops.
        random_mount_p: share of uniformly random mountings when ``mount_rot`` is drawn
            (default :data:`RANDOM_MOUNT_P` of the placement).

    Raises:
        ValueError: a rate outside 10-200 Hz, an unknown location, device, fit or
            decimation, or a clip shorter than a few output samples.
    """
    rng = np.random.default_rng((int(clip.seed), int(seed)))
    loc = str(rng.choice(WRIST_LOCATIONS)) if location is None else location
    _, pl = placement_of(loc)
    dev = str(rng.choice(DEVICES, p=DEVICE_P[pl.kind])) if device is None else device
    if dev not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {dev!r}")
    if rate_hz is None:
        w = np.asarray(RATE_W[dev], dtype=np.float64)
        rate = float(rng.choice(COMMON_RATES, p=w / w.sum()))
    else:
        rate = float(rate_hz)
    if not 10.0 <= rate <= 200.0:
        raise ValueError(f"rate_hz={rate} is outside 10-200 Hz")
    grav_off = (bool(rng.random() < GRAVITY_REMOVED_P) if gravity_removed is None
                else gravity_removed)
    wear = ("loose" if rng.random() < LOOSE_P[pl.kind] else "tight") if fit is None else fit
    if wear not in ("tight", "loose"):
        raise ValueError(f"fit must be 'tight' or 'loose', got {wear!r}")
    if mount_rot is None:
        spin = float(rng.uniform(*pl.spin_deg))
        offset, site = site_rotation(loc, spin)
        offset = offset + np.array([0.0, 0.0, rng.normal(0.0, pl.slide_m)])
        mount = site @ draw_mount(rng, loc, wear, random_mount_p)
    else:
        offset, _ = site_rotation(loc, 0.0)
        site = np.eye(3)
        mount = np.asarray(mount_rot, dtype=np.float64)
    # Drawn whatever the fit, so a tight and a loose recording share every other draw.
    w_lo, w_hi = np.array(WOBBLE_RANGES[pl.kind]).T
    f0, zeta, k_rot, k_lin = (float(v) for v in rng.uniform(w_lo, w_hi))
    draw = (f0, zeta, k_rot, k_lin)
    arm = np.array([rng.normal(0.0, 0.3), -rng.uniform(*WOBBLE_DROP[pl.kind]), 1.0])
    arm /= np.linalg.norm(arm)
    wobble = draw if wear == "loose" else None
    method = (str(rng.choice(DECIMATIONS, p=DEC_P[dev])) if decimation is None
              else decimation)
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
    if wobble is None:
        r, gyro, acc_w = sensor_track(clip, loc, mount, offset).evaluate(t_true)
    else:
        # Evaluate the device frame at its site, then turn it by the wobble and the mount.
        r_site, omega, acc_w = sensor_track(clip, loc, site, offset).evaluate(t_true)
        f_kin = np.einsum("nji,nj->ni", r_site, acc_w)
        theta, theta_dot = _wobble(wobble, t_true, omega, f_kin, arm)
        w_rot = Rotation.from_rotvec(theta).as_matrix()
        rel = site.T @ mount  # sensor -> site frame, the drawn clip orientation
        r = np.einsum("nij,njk,kl->nil", r_site, w_rot, rel)
        gyro = (np.einsum("nji,nj->ni", w_rot, omega) + theta_dot) @ rel
    acc_w = acc_w.copy()
    acc_w[:, 2] += GRAVITY
    acc = np.einsum("nji,nj->ni", r, acc_w)
    err = draw_errors(rng, dev) if errors else None
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
        device=dev,
        fit=cast(Fit, wear),
        offset_m=offset,
        wobble=wobble,
    )
    return ImuRecording(t=t_rep[keep], acc=acc[keep], gyro=gyro[keep], spec=spec)
