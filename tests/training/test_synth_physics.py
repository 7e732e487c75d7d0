"""Physics of the virtual IMU: gyro integrates to the orientation track, accelerometer is
specific force, rest reads 1 g, mounting and left/right mirroring transform as they must."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from aura_training.synth import (
    GRAVITY,
    KEYPOINT_INDEX,
    MotionClip,
    generate_clip,
    ideal_imu,
    mirror_clip,
    sensor_track,
    simulate_imu,
)
from aura_training.synth._kinematics import SENSOR_OFFSET_LEFT, watch_frame

UP = np.array([0.0, 0.0, GRAVITY])


@cache
def clip(name: str, seed: int = 1, seconds: float = 16.0, rate: float = 100.0) -> MotionClip:
    return generate_clip(name, seconds, seed=seed, rate_hz=rate)


@pytest.mark.parametrize("name", ["walking", "running", "playing tennis", "swimming", "cooking"])
@pytest.mark.parametrize("location", ["left_wrist", "right_wrist"])
def test_gyro_integrates_back_to_the_orientation_track(name: str, location: str) -> None:
    c = clip(name)
    track = sensor_track(c, location)
    t = c.times[100:900]  # 8 s at the internal rate
    r_true = np.einsum(
        "nij,jk->nik",
        c.segment_rot[location.replace("wrist", "forearm")][100:900],
        watch_frame(location.split("_")[0]),
    )
    # Integrate the body rate with 5 midpoint sub-steps per frame (exact exponential map).
    sub = 5
    tt = np.linspace(t[0], t[-1], (t.size - 1) * sub + 1)
    _, omega, _ = track.evaluate(tt)
    mid = 0.5 * (omega[1:] + omega[:-1]) * (tt[1] - tt[0])
    rot = Rotation.from_matrix(r_true[0])
    worst = 0.0
    for i in range(mid.shape[0]):
        rot = rot * Rotation.from_rotvec(mid[i])
        if (i + 1) % sub == 0:
            k = (i + 1) // sub
            err = (rot.inv() * Rotation.from_matrix(r_true[k])).magnitude()
            worst = max(worst, float(err))
    assert np.degrees(worst) < 0.05, f"{name}: {np.degrees(worst):.4f} deg after 8 s"


@pytest.mark.parametrize("name", ["walking", "jumping jacks", "boxing"])
def test_accelerometer_is_specific_force_in_the_sensor_frame(name: str) -> None:
    """acc - R^T a_kin == R^T (0, 0, g), with a_kin from finite differences of a finely
    sampled clip (independent of the spline derivative)."""
    c = clip(name, rate=400.0)
    rng = np.random.default_rng(3)
    mount = Rotation.random(random_state=rng).as_matrix()
    track = sensor_track(c, "left_wrist", mount)
    idx = np.arange(400, c.n_frames - 400, 7)
    t = c.times[idx]
    acc, _ = track.imu(t)
    r_fore = c.segment_rot["left_forearm"]
    p = c.joints[:, KEYPOINT_INDEX["left_wrist"]] + np.einsum(
        "nij,j->ni", r_fore, SENSOR_OFFSET_LEFT
    )
    dt = 1.0 / c.rate_hz
    a_kin = (p[idx + 1] - 2 * p[idx] + p[idx - 1]) / dt**2
    r_ws = np.einsum("nij,jk->nik", r_fore[idx], watch_frame("left") @ mount)
    gravity_s = np.einsum("nji,j->ni", r_ws, UP)
    resid = acc - np.einsum("nji,nj->ni", r_ws, a_kin) - gravity_s
    scale = np.sqrt(np.mean(np.sum(a_kin**2, axis=1)))
    assert np.sqrt(np.mean(np.sum(resid**2, axis=1))) < 0.01 * scale + 0.02


def test_at_rest_the_accelerometer_reads_one_g_up() -> None:
    c = clip("lying down", seed=2)
    t = c.times[200:-200:5]
    for loc in ("left_wrist", "right_wrist"):
        acc, gyro = ideal_imu(c, t, loc)
        rel = np.abs(np.linalg.norm(acc, axis=1) / GRAVITY - 1.0)
        # a resting person still moves an arm now and then: nearly every sample within 1 %
        assert np.mean(rel < 0.01) > 0.95 and rel.max() < 0.05, rel.max()
        assert np.degrees(np.median(np.linalg.norm(gyro, axis=1))) < 10.0
        # +1 g points along world up: rotate back to the world frame
        r, _, _ = sensor_track(c, loc).evaluate(t)
        world = np.einsum("nij,nj->ni", r, acc)
        assert np.median(world[:, 2]) == pytest.approx(GRAVITY, rel=0.01)


def test_rest_with_sensor_errors_stays_within_the_error_model() -> None:
    c = clip("lying down", seed=4)
    for seed in range(6):
        rec = simulate_imu(c, seed, gravity_removed=False)
        err = rec.spec.errors
        assert err is not None
        norm = np.linalg.norm(rec.acc, axis=1)
        gain_err = np.abs(np.linalg.eigvals(err.acc_gain) - 1).max()
        bound = np.linalg.norm(err.acc_bias) + gain_err * GRAVITY + 0.1 * GRAVITY
        assert abs(np.median(norm) - GRAVITY) < bound, rec.spec.errors


def test_gravity_removed_still_device_reads_near_but_not_exactly_zero() -> None:
    c = clip("lying down", seed=4)
    rec = simulate_imu(c, 1, gravity_removed=True, errors=False)
    lin = np.linalg.norm(rec.acc, axis=1)
    # fusion tilt error of 0.5-3° leaves g*sin(err) of gravity behind
    assert 0.005 < np.median(lin) < GRAVITY * np.sin(np.radians(3.5)) + 0.1
    raw = simulate_imu(c, 1, gravity_removed=False, errors=False)
    assert np.median(np.linalg.norm(raw.acc, axis=1)) == pytest.approx(GRAVITY, rel=0.02)


def test_mounting_rotation_rotates_both_vectors() -> None:
    c = clip("dancing")
    t = c.times[50:-50:3]
    m = Rotation.from_euler("zyx", [40, -70, 130], degrees=True).as_matrix()
    a0, g0 = ideal_imu(c, t, "right_wrist")
    a1, g1 = ideal_imu(c, t, "right_wrist", m)
    np.testing.assert_allclose(a1, a0 @ m, atol=1e-6)
    np.testing.assert_allclose(g1, g0 @ m, atol=1e-6)


def test_left_right_mirroring_flips_what_it_should() -> None:
    c = clip("playing tennis", seed=6)
    mc = mirror_clip(c)
    t = c.times[50:-50:3]
    a_l, g_l = ideal_imu(c, t, "left_wrist")
    a_r, g_r = ideal_imu(mc, t, "right_wrist")
    np.testing.assert_allclose(a_r, a_l * [1, -1, 1], atol=1e-6)
    np.testing.assert_allclose(g_r, g_l * [-1, 1, -1], atol=1e-6)
    # the mirrored subject swaps handedness and the timeline names the other hand
    assert mc.subject.handedness != c.subject.handedness
    assert mc.timeline[0].params.hand != c.timeline[0].params.hand
    # mirrored joints: y negated, left and right swapped
    k = KEYPOINT_INDEX
    np.testing.assert_allclose(
        mc.joints[:, k["right_wrist"]], c.joints[:, k["left_wrist"]] * [1, -1, 1]
    )


def test_canonical_watch_frames_are_right_handed_mirrors() -> None:
    wl, wr = watch_frame("left"), watch_frame("right")
    assert np.linalg.det(wl) == pytest.approx(1.0) and np.linalg.det(wr) == pytest.approx(1.0)
    # x toward the hand (forearm local -z) on both wrists; faces point outward (left +y, right -y)
    np.testing.assert_allclose(wl[:, 0], [0, 0, -1])
    np.testing.assert_allclose(wr[:, 0], [0, 0, -1])
    np.testing.assert_allclose(wl[:, 2], [0, 1, 0])
    np.testing.assert_allclose(wr[:, 2], [0, -1, 0])
