"""Placements beyond the wrist: waist, trouser pocket and upper arm, each on its own segment.

Known answers from the body's geometry: at rest the device reads 1 g along the axis that
points up; walking bounces the pelvis once per step and swings the thigh once per stride;
lying on the back turns the belt phone's screen to the sky. The figures asserted here are
the ones quoted in the task report.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.transform import Rotation

from aura_training.synth import (
    GRAVITY,
    KEYPOINT_INDEX,
    LOCATIONS,
    SEGMENTS,
    WRIST_LOCATIONS,
    GenParams,
    MotionClip,
    Segment,
    device_frame,
    generate_clip,
    ideal_imu,
    mirror_clip,
    placement_of,
    sample_subject,
    sensor_track,
    simulate_imu,
)
from aura_training.synth._kinematics import site_rotation

BODY = ("waist", "pocket", "upper_arm")
UP = np.array([0.0, 0.0, GRAVITY])


@cache
def clip(name: str, seed: int = 1, seconds: float = 16.0, rate: float = 100.0) -> MotionClip:
    return generate_clip(name, seconds, seed=seed, rate_hz=rate)


def still_clip(seconds: float = 10.0) -> MotionClip:
    """Every segment in the anatomical rest pose (identity rotations), nothing moving."""
    n = int(seconds * 100)
    joints = np.tile(np.linspace([0, 0, 0.1], [0, 0, 1.6], 17)[None], (n, 1, 1))
    eye = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    params = GenParams(0.0, 0.0, 0.0, "none", "standing", "lab")
    return MotionClip(subject=sample_subject(np.random.default_rng(0), 0), rate_hz=100.0,
                      joints=joints, segment_rot={s: eye for s in SEGMENTS},
                      timeline=(Segment(0.0, seconds, "standing", params),), seed=0)


def peak_hz(x: np.ndarray, fs: float, lo: float = 0.3, hi: float = 5.0) -> float:
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    f = np.fft.rfftfreq(x.size, 1.0 / fs)
    band = (f > lo) & (f < hi)
    return float(f[band][np.argmax(spec[band])])


def test_locations_name_a_side_and_a_placement_with_right_handed_frames() -> None:
    assert set(WRIST_LOCATIONS) < set(LOCATIONS)
    assert {placement_of(loc)[1].kind for loc in LOCATIONS} == {"wrist", *BODY}
    for loc in LOCATIONS:
        side, pl = placement_of(loc)
        assert loc == f"{side}_{pl.kind}" and side in ("left", "right")
        f = device_frame(loc)
        np.testing.assert_allclose(f.T @ f, np.eye(3), atol=1e-12)
        assert np.linalg.det(f) == pytest.approx(1.0)
        offset, rot = site_rotation(loc, 20.0)
        assert np.linalg.det(rot) == pytest.approx(1.0)
        # moving around the segment keeps the distance from the segment's long axis
        nominal, _ = site_rotation(loc, 0.0)
        assert np.hypot(*offset[:2]) == pytest.approx(np.hypot(*nominal[:2]))
    with pytest.raises(ValueError, match="location"):
        placement_of("left_ankle")


@pytest.mark.parametrize("kind", BODY)
@pytest.mark.parametrize("side", ["left", "right"])
def test_rest_pose_puts_one_g_along_the_long_axis(kind: str, side: str) -> None:
    """Rest pose, canonical frames: belt, pocket and armband phones stand upright (+y up)."""
    c = still_clip()
    acc, gyro = ideal_imu(c, c.times[100:-100:10], f"{side}_{kind}")
    np.testing.assert_allclose(acc, np.tile([0.0, GRAVITY, 0.0], (acc.shape[0], 1)),
                               atol=1e-6)
    np.testing.assert_allclose(gyro, 0.0, atol=1e-9)


@pytest.mark.parametrize("kind, max_deg", [("waist", 5.0), ("pocket", 15.0),
                                           ("upper_arm", 15.0)])
def test_standing_still_reads_one_g_up_the_device(kind: str, max_deg: float) -> None:
    """A generated standing subject (posture sway, a slight lean, hanging arms)."""
    c = clip("standing", seed=1)
    t = c.times[100:-100:5]
    for side in ("left", "right"):
        acc, gyro = ideal_imu(c, t, f"{side}_{kind}")
        norm = np.linalg.norm(acc, axis=1)
        assert np.median(norm) == pytest.approx(GRAVITY, rel=0.005)
        mean = acc.mean(axis=0)
        angle = np.degrees(np.arccos(mean[1] / np.linalg.norm(mean)))
        assert angle < max_deg, (side, kind, angle)  # gravity along the device's +y
        assert np.degrees(np.median(np.linalg.norm(gyro, axis=1))) < 10.0


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_walking_waist_bounces_at_the_step_frequency_and_turns_less_than_a_wrist(
        seed: int) -> None:
    c = clip("walking", seed=seed, seconds=20.0)
    cadence = c.timeline[0].params.cadence_hz  # steps per second
    assert 1.6 <= cadence <= 2.2
    fs = 100.0
    t = np.arange(1.0, 19.0, 1.0 / fs)
    rms = {}
    for loc in ("left_waist", "right_waist", "left_wrist", "right_wrist"):
        acc, gyro = ideal_imu(c, t, loc)
        rms[loc] = float(np.degrees(np.sqrt(np.mean(np.sum(gyro**2, axis=1)))))
        if loc.endswith("waist"):
            vertical = acc[:, 1]  # the clip's long axis is about vertical when walking
            assert peak_hz(vertical, fs) == pytest.approx(cadence, rel=0.08)
            # m/s², a real belt phone's range from slow to brisk walking (0.1-0.45 g; foot
            # contacts included)
            assert 1.0 < vertical.std() < 4.5
    for side in ("left", "right"):
        assert rms[f"{side}_waist"] < 0.6 * rms[f"{side}_wrist"], rms


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_walking_pocket_swings_with_the_thigh_once_per_stride(seed: int) -> None:
    c = clip("walking", seed=seed, seconds=20.0)
    stride_hz = c.timeline[0].params.cadence_hz / 2.0
    fs = 100.0
    t = np.arange(1.0, 19.0, 1.0 / fs)
    for side in ("left", "right"):
        _, gyro = ideal_imu(c, t, f"{side}_pocket")
        per_axis = np.degrees(gyro.std(axis=0))
        # flexion / extension about the thigh's transverse axis (the phone's x) dominates
        assert int(np.argmax(per_axis)) == 0
        assert 50.0 < per_axis[0] < 150.0, per_axis  # deg/s rms
        assert peak_hz(gyro[:, 0], fs) == pytest.approx(stride_hz, rel=0.1)


@pytest.mark.parametrize("variant, axis, sign", [
    ("on the back", 2, 1.0), ("on the stomach", 2, -1.0), ("on the left side", 0, -1.0)])
def test_lying_down_puts_gravity_along_the_belt_phones_front_back_axis(
        variant: str, axis: int, sign: float) -> None:
    seed = next(s for s in range(20)
                if clip("lying down", seed=s).timeline[0].params.variant == variant)
    c = clip("lying down", seed=seed)
    t = c.times[200:-200:5]
    for loc in ("left_waist", "right_waist"):
        # the phone clipped at the front of the belt, screen out: z is the body's front
        offset, rot = site_rotation(loc, -35.0)  # 35° back from the nominal site
        acc, _ = sensor_track(c, loc, rot, offset).imu(t)
        mean = acc.mean(axis=0)
        assert np.linalg.norm(mean) == pytest.approx(GRAVITY, rel=0.01)
        cos = sign * mean[axis] / np.linalg.norm(mean)
        assert cos > np.cos(np.radians(15.0)), (loc, mean)
        # at the nominal front-side site (35° round the belt) gravity follows the frame
        acc, _ = ideal_imu(c, t, loc)
        up_pelvis = np.einsum("nji,j->ni", c.segment_rot["pelvis"][200:-200:5], UP)
        expect = up_pelvis @ device_frame(loc)
        assert np.degrees(np.arccos(np.clip(np.sum(acc * expect, axis=1) / (
            np.linalg.norm(acc, axis=1) * GRAVITY), -1, 1))).mean() < 3.0


@pytest.mark.parametrize("loc", ["left_waist", "right_pocket", "left_upper_arm"])
def test_gyro_integrates_back_to_the_segment_orientation(loc: str) -> None:
    c = clip("running", seed=5)
    side, pl = placement_of(loc)
    seg = pl.segment if pl.segment == "pelvis" else f"{side}_{pl.segment}"
    track = sensor_track(c, loc)
    r_true = np.einsum("nij,jk->nik", c.segment_rot[seg][100:900], device_frame(loc))
    sub = 5
    t = c.times[100:900]
    tt = np.linspace(t[0], t[-1], (t.size - 1) * sub + 1)
    _, omega, _ = track.evaluate(tt)
    mid = 0.5 * (omega[1:] + omega[:-1]) * (tt[1] - tt[0])
    rot = Rotation.from_matrix(r_true[0])
    worst = 0.0
    for i in range(mid.shape[0]):
        rot = rot * Rotation.from_rotvec(mid[i])
        if (i + 1) % sub == 0:
            err = (rot.inv() * Rotation.from_matrix(r_true[(i + 1) // sub])).magnitude()
            worst = max(worst, float(err))
    assert np.degrees(worst) < 0.05


def test_pocket_accelerometer_is_the_thigh_points_specific_force() -> None:
    """Finite differences of the point fixed in the thigh, independent of the splines."""
    c = clip("running", seed=6, rate=400.0)
    idx = np.arange(400, c.n_frames - 400, 7)
    acc, _ = sensor_track(c, "right_pocket").imu(c.times[idx])
    r = c.segment_rot["right_thigh"]
    _, pl = placement_of("right_pocket")
    off = np.diag([1.0, -1.0, 1.0]) @ pl.offset
    p = c.joints[:, KEYPOINT_INDEX["right_hip"]] + np.einsum("nij,j->ni", r, off)
    dt = 1.0 / c.rate_hz
    a_kin = (p[idx + 1] - 2 * p[idx] + p[idx - 1]) / dt**2
    r_ws = np.einsum("nij,jk->nik", r[idx], device_frame("right_pocket"))
    expect = np.einsum("nji,nj->ni", r_ws, a_kin + UP)
    scale = np.sqrt(np.mean(np.sum(a_kin**2, axis=1)))
    assert scale > 5.0  # m/s² rms: running, the thigh point really accelerates
    assert np.sqrt(np.mean(np.sum((acc - expect) ** 2, axis=1))) < 0.01 * scale + 0.02


@pytest.mark.parametrize("kind", BODY)
def test_left_right_mirroring_flips_the_phones_x_axis(kind: str) -> None:
    """The right-side phone is the mirror image of the left one, kept upright: the mirrored
    motion reads ``(-ax, ay, az)`` and ``(gx, -gy, -gz)`` (the watch flips y instead)."""
    c = clip("playing tennis", seed=6)
    mc = mirror_clip(c)
    t = c.times[50:-50:3]
    a_l, g_l = ideal_imu(c, t, f"left_{kind}")
    a_r, g_r = ideal_imu(mc, t, f"right_{kind}")
    np.testing.assert_allclose(a_r, a_l * [-1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(g_r, g_l * [1, -1, -1], atol=1e-6)
    # at the belt's front (35° back from the nominal site) both sides' phones coincide
    if kind == "waist":
        fl = device_frame("left_waist") @ site_rotation("left_waist", -35.0)[1]
        fr = device_frame("right_waist") @ site_rotation("right_waist", -35.0)[1]
        np.testing.assert_allclose(fl, fr, atol=1e-12)
        np.testing.assert_allclose(fl, [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=1e-12)


def test_each_placement_moves_with_its_own_segment() -> None:
    """A waist IMU sees the pelvis, not the hand: pelvis and forearm rates differ."""
    c = clip("waving", seed=3)
    t = c.times[100:-100:2]
    _, g_waist = ideal_imu(c, t, "right_waist")
    _, g_wrist = ideal_imu(c, t, "right_wrist")
    _, g_arm = ideal_imu(c, t, "right_upper_arm")
    rms = [float(np.degrees(np.sqrt(np.mean(np.sum(g**2, axis=1)))))
           for g in (g_waist, g_arm, g_wrist)]
    assert rms[0] < 0.25 * rms[2] and rms[0] < rms[1], rms


def test_simulated_devices_at_every_placement_record_where_and_how() -> None:
    c = clip("walking", seed=2, seconds=12.0)
    devices: dict[str, set[str]] = {}
    fits: set[str] = set()
    for loc in LOCATIONS:
        for seed in range(12):
            rec = simulate_imu(c, seed, location=loc)
            sp = rec.spec
            assert sp.location == loc and sp.offset_m is not None
            assert np.linalg.det(sp.mount_rot) == pytest.approx(1.0)
            assert (sp.wobble is not None) == (sp.fit == "loose")
            devices.setdefault(placement_of(loc)[1].kind, set()).add(sp.device)
            fits.add(sp.fit)
            assert np.isfinite(rec.as_array()).all()
            # the drawn site stays on the segment's surface, within a few cm of nominal
            nominal, _ = site_rotation(loc, 0.0)
            assert np.linalg.norm(sp.offset_m - nominal) < 0.2
    assert devices["pocket"] == {"phone"}
    assert "phone" in devices["waist"] and "phone" not in devices["wrist"]
    assert fits == {"tight", "loose"}
    with pytest.raises(ValueError, match="device"):
        simulate_imu(c, 0, location="left_waist", device="tablet")
    with pytest.raises(ValueError, match="fit"):
        simulate_imu(c, 0, location="left_waist", fit="baggy")


def test_a_loose_device_wobbles_a_little_and_only_when_the_body_moves() -> None:
    opts = {"rate_hz": 100.0, "decimation": "none", "gravity_removed": False,
            "errors": False, "artefacts": False, "mount_rot": np.eye(3)}
    still = still_clip(20.0)
    for loc in ("left_wrist", "right_pocket"):
        tight = simulate_imu(still, 3, location=loc, fit="tight", **opts)
        loose = simulate_imu(still, 3, location=loc, fit="loose", **opts)
        np.testing.assert_allclose(loose.acc, tight.acc, atol=1e-9)
        np.testing.assert_allclose(loose.gyro, tight.gyro, atol=1e-9)
    c = clip("running", seed=5)
    for loc in ("left_wrist", "right_pocket"):
        tight = simulate_imu(c, 3, location=loc, fit="tight", **opts)
        loose = simulate_imu(c, 3, location=loc, fit="loose", **opts)
        extra = np.degrees(np.sqrt(np.mean(np.sum((loose.gyro - tight.gyro) ** 2, axis=1))))
        base = np.degrees(np.sqrt(np.mean(np.sum(tight.gyro**2, axis=1))))
        assert 0.1 < extra < 0.5 * base, (loc, extra, base)
        # a loose device still measures 1 g on average and tilts by a few degrees at most
        a0, a1 = tight.acc.mean(axis=0), loose.acc.mean(axis=0)
        tilt = np.degrees(np.arccos(a0 @ a1 / np.linalg.norm(a0) / np.linalg.norm(a1)))
        assert tilt < 10.0


def _waist_vertical(name: str, seed: int) -> tuple[np.ndarray, float]:
    c = clip(name, seed=seed, seconds=20.0)
    t = np.arange(2.0, 18.0, 0.01)
    acc, _ = ideal_imu(c, t, "left_waist")
    return acc[:, 1], c.timeline[0].params.cadence_hz


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stairs_move_the_pelvis_one_riser_per_step_and_descent_lands_hardest(seed: int) -> None:
    up, f_up = _waist_vertical("walking upstairs", seed)
    down, f_down = _waist_vertical("walking downstairs", seed)
    walk, _ = _waist_vertical("walking", seed)
    assert 1.3 <= f_up <= 1.9 and 1.4 <= f_down <= 2.1
    # one vertical acceleration cycle per step (not a constant climb rate)
    assert peak_hz(up, 100.0) == pytest.approx(f_up, rel=0.1)
    assert 1.0 < up.std() < 4.0  # m/s²: about 0.1-0.4 g at the belt
    # the landing on the lower step: descent reads more than ascent and than level walking
    assert down.std() > 1.15 * up.std()
    assert down.std() > walk.std()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_stair_step_peaks_upward_at_foot_contact_at_the_step_frequency(seed: int) -> None:
    """Taking the weight on each stair pushes the pelvis up hard and briefly: the vertical
    acceleration is skewed upward (UCI HAPT's waist phones: about +0.7 up, +0.8 down) and
    its strongest line is the step frequency in both directions, not its harmonic."""
    from scipy.stats import skew

    for name in ("walking upstairs", "walking downstairs"):
        v, f_step = _waist_vertical(name, seed)
        assert peak_hz(v, 100.0) == pytest.approx(f_step, rel=0.1), name
        assert skew(v) > 0.1, (name, skew(v))


def test_stairs_still_climb_one_riser_per_step() -> None:
    c = clip("walking upstairs", seed=2, seconds=20.0)
    pelvis_z = c.joints[:, KEYPOINT_INDEX["left_hip"], 2]
    steps = c.timeline[0].params.cadence_hz * (c.duration_s - 4.0)
    a, b = int(2.0 * c.rate_hz), int((c.duration_s - 2.0) * c.rate_hz)
    per_step = (pelvis_z[b] - pelvis_z[a]) / steps
    assert 0.12 < per_step < 0.2  # m: a riser of 15-19 cm


def test_sitting_tilts_the_belt_phone_back_from_standing() -> None:
    tilt: dict[str, list[float]] = {"standing": [], "sitting": []}
    for seed in range(1, 7):
        for name in tilt:
            c = clip(name, seed=seed)
            acc, _ = ideal_imu(c, c.times[100:-100:5], "left_waist")
            g = acc.mean(axis=0)
            # standing puts gravity near the device's long axis (+y; people stand with the
            # pelvis up to about 8° forward or tilted by resting on one leg); sitting rolls
            # the pelvis back by 10-34°, and the phone on the belt with it
            tilt[name].append(float(np.degrees(np.arccos(g[1] / np.linalg.norm(g)))))
    assert max(tilt["standing"]) < 12.0, tilt
    assert min(tilt["sitting"]) > 6.0 and max(tilt["sitting"]) < 40.0, tilt
    assert np.median(tilt["sitting"]) > np.median(tilt["standing"]) + 5.0, tilt


def test_people_at_rest_shift_their_weight() -> None:
    moved = []
    for seed in range(1, 6):
        c = clip("standing", seed=seed, seconds=60.0)
        _, gyro = ideal_imu(c, c.times[100:-100], "left_waist")
        rate = np.degrees(np.linalg.norm(gyro, axis=1))
        # the pelvis turns now and then (a few °/s at most, never a walk's 20-60)
        assert rate.max() < 30.0
        moved.append(rate.max() > 1.0)
    assert sum(moved) >= 4, moved


@pytest.mark.parametrize("seed", [2, 3])
def test_foot_contacts_ring_through_the_belt_phone_above_the_step_rate(seed: int) -> None:
    import aura_training.synth._gait as gait_module

    def band_fraction(c: MotionClip) -> tuple[float, float]:
        t = np.arange(2.0, 18.0, 0.01)
        acc, gyro = ideal_imu(c, t, "left_waist")
        out = []
        for x in (acc, gyro):
            x = x - x.mean(axis=0)
            p = np.sum(np.abs(np.fft.rfft(x, axis=0)) ** 2, axis=1)
            f = np.fft.rfftfreq(t.size, 0.01)
            out.append(float(p[f > 3.0].sum() / p[f > 0.3].sum()))
        return out[0], out[1]

    with_contacts = band_fraction(generate_clip("walking", 20.0, seed=seed, rate_hz=100.0))
    original = gait_module.foot_impacts
    try:
        gait_module.foot_impacts = lambda *a, **k: {  # type: ignore[assignment]
            ch: np.zeros_like(v) for ch, v in original(*a, **k).items()}
        smooth = band_fraction(generate_clip("walking", 20.0, seed=seed, rate_hz=100.0))
    finally:
        gait_module.foot_impacts = original
    # a smoothly swinging body keeps nearly all its power below 3 Hz; real belt phones carry a
    # third to a half of their acceleration power above it, from the foot contacts
    assert smooth[0] < 0.15 and smooth[1] < 0.05, smooth
    assert 0.2 < with_contacts[0] < 0.85, with_contacts
    assert with_contacts[1] > 3 * smooth[1], (with_contacts, smooth)  # the pelvis jolts too


@pytest.mark.parametrize("loc, default", [("left_wrist", 0.15), ("right_waist", 0.1)])
def test_the_share_of_random_mountings_is_a_knob_that_changes_no_other_draw(
        loc: str, default: float) -> None:
    from aura_training.synth._imu import RANDOM_MOUNT_P, draw_mount

    assert RANDOM_MOUNT_P[loc.split("_", 1)[1]] == default

    def count_random(p: float | None) -> int:
        n = 0
        for seed in range(400):
            a = draw_mount(np.random.default_rng(seed), loc, "tight", p)
            b = draw_mount(np.random.default_rng(seed), loc, "tight", 1.0)
            n += bool(np.allclose(a, b))  # the same draws: "random" gives the same matrix
        return n

    assert count_random(0.0) == 0 and count_random(1.0) == 400
    assert abs(count_random(None) - 400 * default) < 35  # binomial, > 4.5 sigma
    assert abs(count_random(0.1) - 40) < 25
    with pytest.raises(ValueError, match="random_p"):
        draw_mount(np.random.default_rng(0), loc, "tight", 1.5)


def test_the_corpus_passes_its_random_mount_shares_to_each_placement() -> None:
    from aura_training.corpus._imu import virtual_imu_streams

    c = clip("walking", seed=1, seconds=4.0)
    _, never = virtual_imu_streams(c, np.random.default_rng(5), random_mount={"wrist": 0.0})
    _, always = virtual_imu_streams(c, np.random.default_rng(5), random_mount={"wrist": 1.0})
    assert sorted(never) == sorted(always)
    for loc in never:
        same = np.allclose(never[loc]["mount_rot"], always[loc]["mount_rot"])
        # only the wrists were told; every other stream drew exactly as before
        assert same == (not loc.endswith("wrist")), loc


def _band_rms(x: np.ndarray, fs: float, lo: float, hi: float) -> np.ndarray:
    """RMS per column of ``x`` within ``lo..hi`` Hz (a periodogram sum)."""
    x = x - x.mean(axis=0)
    spec = np.abs(np.fft.rfft(x, axis=0)) ** 2 / x.shape[0] ** 2 * 2
    f = np.fft.rfftfreq(x.shape[0], 1.0 / fs)
    return np.sqrt(spec[(f >= lo) & (f < hi)].sum(axis=0))


def test_stair_landings_pause_the_climb_and_turn_by_quarter_or_half_turns() -> None:
    from aura_training.synth._gait import stair_landings

    for seed in range(6):
        on, rate = stair_landings(np.random.default_rng(seed), 12000, 100.0, 1.6)
        assert on.min() >= 0.0 and on.max() <= 1.0
        assert 0.6 < on.mean() < 0.95  # mostly stepping, a landing every flight
        # each landing's turn is a multiple of 90°, all to the same side
        runs, count = ndimage.label(np.abs(rate) > 0)
        ends = {int(runs[0]), int(runs[-1])}  # a turn cut by the clip's ends is partial
        turns = [rate[runs == k].sum() / 100.0 for k in range(1, count + 1) if k not in ends]
        assert turns, seed
        for turn in turns:
            q = turn / (np.pi / 2)
            assert abs(q - round(q)) < 0.02 and abs(round(q)) in (1, 2), turn
        assert len({np.sign(t) for t in turns}) == 1


def test_a_waist_phone_on_stairs_turns_at_landings_far_more_than_walking_level() -> None:
    """UCI HAPT's waist phones read 0.3-0.45 rad/s RMS about the vertical below 0.6 Hz on
    stairs and about 0.08 walking on the level."""
    slow = {}
    for name in ("walking", "walking upstairs", "walking downstairs"):
        vals = []
        for seed in (1, 2, 3):
            c = clip(name, seed=seed, seconds=40.0)
            t = np.arange(2.0, 38.0, 0.02)
            _, gyro = ideal_imu(c, t, "left_waist", np.eye(3))
            vals.append(_band_rms(gyro, 50.0, 0.0, 0.6)[1])  # y: up in a portrait belt phone
        slow[name] = float(np.median(vals))
    assert slow["walking"] < 0.15, slow
    assert slow["walking upstairs"] > 2 * slow["walking"], slow
    assert slow["walking downstairs"] > 2 * slow["walking"], slow


def test_a_loose_belt_phone_rocks_at_each_heel_strike_like_a_real_one() -> None:
    """Real waist phones (UCI HAPT, walking) read 0.15-0.3 rad/s of gyroscope RMS per
    horizontal axis at 3.5-8 Hz; the pelvis alone turns by a few hundredths there."""
    opts = {"rate_hz": 50.0, "decimation": "none", "gravity_removed": False,
            "errors": False, "artefacts": False, "mount_rot": np.eye(3), "device": "phone"}
    tight, loose = [], []
    # several walkers: how hard one heel strike jolts the pelvis is drawn per clip
    for clip_seed in (4, 5, 6, 7):
        c = clip("walking", seed=clip_seed, seconds=30.0)
        for seed in range(4):
            for fit, out in (("tight", tight), ("loose", loose)):
                rec = simulate_imu(c, seed, location="left_waist", fit=fit, **opts)
                keep = (rec.t > 2) & (rec.t < 28)
                out.append(_band_rms(rec.gyro[keep], 50.0, 3.5, 8.0).max())
    t_med, l_med = float(np.median(tight)), float(np.median(loose))
    assert t_med < 0.06, t_med
    assert 0.08 < l_med < 0.6, l_med
    assert l_med > 2 * t_med
