"""Virtual IMU sensor model: noise level, bias, quantisation, saturation, decimation, delivery."""

from __future__ import annotations

import numpy as np
import pytest

from aura_training.synth import (
    COMMON_RATES,
    GRAVITY,
    SEGMENTS,
    GenParams,
    MotionClip,
    Segment,
    generate_clip,
    sample_subject,
    simulate_imu,
)
from aura_training.synth._sensor import DATASHEETS, apply_errors, decimate, draw_errors


def still_clip(seconds: float = 60.0, seed: int = 0) -> MotionClip:
    """A perfectly still body (arms hanging), built by hand: the only motion is none."""
    n = int(seconds * 100)
    joints = np.tile(np.linspace([0, 0, 0.1], [0, 0, 1.6], 17)[None], (n, 1, 1))
    eye = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    params = GenParams(0.0, 0.0, 0.0, "none", "standing", "lab")
    return MotionClip(
        subject=sample_subject(np.random.default_rng(seed), seed),
        rate_hz=100.0,
        joints=joints,
        segment_rot={s: eye for s in SEGMENTS},
        timeline=(Segment(0.0, seconds, "standing", params),),
        seed=seed,
    )


def test_noise_and_bias_of_a_still_sensor_match_the_drawn_error_model() -> None:
    c = still_clip()
    for seed in range(5):
        rec = simulate_imu(
            c, seed, rate_hz=100.0, decimation="none", gravity_removed=False, artefacts=False
        )
        err = rec.spec.errors
        assert err is not None and err.datasheet in {d.name for d in DATASHEETS}
        # canonical left watch with arms hanging: gravity along the watch's -x (toward hand)
        m = rec.spec.mount_rot
        for x, nd, lsb, bias, g_true in (
            (
                rec.acc,
                err.acc_noise_density,
                err.acc_lsb,
                err.acc_bias,
                np.array([-GRAVITY, 0, 0]) @ m,
            ),
            (rec.gyro, err.gyro_noise_density, err.gyro_lsb, err.gyro_bias, np.zeros(3)),
        ):
            sigma = nd * np.sqrt(rec.spec.odr_hz / 2)
            expect = np.sqrt(sigma**2 + lsb**2 / 12)
            # white noise from first differences: the slow bias drift does not count here
            std = np.diff(x, axis=0).std(axis=0) / np.sqrt(2)
            if sigma > lsb:
                assert np.all(std < 1.3 * expect) and np.all(std > 0.7 * expect), (std, expect)
            else:  # noise below one LSB: the reading barely toggles, as on a real chip
                assert np.all(std <= 1.5 * lsb), (std, lsb)
            mean = x.mean(axis=0)
            gain = err.acc_gain if x is rec.acc else err.gyro_gain
            walk = err.acc_bias_walk if x is rec.acc else err.gyro_bias_walk
            tol = 6 * expect / np.sqrt(x.shape[0]) + 2 * lsb + 4 * walk * np.sqrt(c.duration_s)
            np.testing.assert_allclose(mean, gain @ g_true + bias, atol=tol)


def test_quantisation_and_saturation_follow_the_full_scale() -> None:
    rng = np.random.default_rng(0)
    err = draw_errors(rng)
    t = np.arange(2000) / 400.0
    acc = np.stack(
        [40 * GRAVITY * np.sin(2 * np.pi * 3 * t), np.zeros_like(t), np.full_like(t, GRAVITY)],
        axis=1,
    )
    gyro = np.stack([60.0 * np.sin(2 * np.pi * 2 * t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    a, g = apply_errors(rng, err, acc, gyro, 400.0)
    assert a.max() <= err.acc_range and a.min() >= -err.acc_range
    assert g.max() <= err.gyro_range and g.min() >= -err.gyro_range
    assert np.isclose(a.max(), err.acc_range - err.acc_lsb) or np.isclose(a.max(), err.acc_range)
    np.testing.assert_allclose(a / err.acc_lsb, np.round(a / err.acc_lsb), atol=1e-6)
    np.testing.assert_allclose(g / err.gyro_lsb, np.round(g / err.gyro_lsb), atol=1e-6)
    assert err.acc_range / GRAVITY in (2.0, 4.0, 8.0, 16.0)


@pytest.mark.parametrize("k", [2, 4, 8])
def test_decimation_variants_treat_out_of_band_content_differently(k: int) -> None:
    fs_out = 25.0
    fs = fs_out * k
    t = np.arange(int(fs * 40)) / fs
    # a tone above the output Nyquist frequency (aliases to 0.3 * fs_out when point-sampled)
    f = fs_out * 0.7 if k == 2 else fs_out * 1.3
    x = np.stack([np.sin(2 * np.pi * f * t)] * 3, axis=1)
    point = decimate(x, k, "point", 0.8)
    low = decimate(x, k, "lowpass", 0.8)
    assert point.shape[0] == low.shape[0] == x.shape[0] // k
    assert point[:, 0].std() == pytest.approx(np.sqrt(0.5), rel=0.05)  # aliased, full strength
    assert low[200:, 0].std() < 0.35 * point[:, 0].std()  # anti-aliasing filter removes it
    # block averaging: a tone at exactly the output rate averages to nothing (sinc notch)
    y = np.stack([np.sin(2 * np.pi * fs_out * t + 0.3)] * 3, axis=1)
    assert np.abs(decimate(y, k, "block", 0.8)).max() < 1e-9
    # and a slow signal passes all three unchanged in level
    z = np.stack([np.sin(2 * np.pi * 0.5 * t)] * 3, axis=1)
    for method in ("point", "block", "lowpass"):
        assert decimate(z, k, method, 0.8)[100:, 0].std() == pytest.approx(np.sqrt(0.5), rel=0.05)
    with pytest.raises(ValueError, match="unknown decimation"):
        decimate(x, k, "magic", 0.8)


def test_every_rate_and_timestamps_jitter_drift_and_drops() -> None:
    c = generate_clip("walking", 30.0, seed=3)
    for i, rate in enumerate(COMMON_RATES):
        rec = simulate_imu(c, i, rate_hz=rate)
        sp = rec.spec
        n_nominal = rec.t.size + sp.dropped
        assert (c.duration_s - 0.2) * rate - 1 <= n_nominal <= c.duration_s * rate  # floor
        assert np.all(np.diff(rec.t) > 0)
        assert sp.odr_hz % rate == pytest.approx(0.0, abs=1e-9) and sp.odr_hz <= 400
        dt = np.diff(rec.t)
        # gaps only where samples were dropped; otherwise one period +- jitter
        assert np.median(dt) == pytest.approx(1 / rate, rel=0.05)
        assert dt.max() <= (sp.dropped + 1) / rate + 1 / rate
        assert rec.acc.shape == rec.gyro.shape == (rec.t.size, 3)
        assert np.isfinite(rec.as_array()).all()
    with pytest.raises(ValueError, match="outside 10-200 Hz"):
        simulate_imu(c, 0, rate_hz=5.0)
    with pytest.raises(ValueError, match="location"):
        simulate_imu(c, 0, location="left_ankle")


def test_recordings_are_deterministic_and_randomise_the_device() -> None:
    c = generate_clip("cooking", 20.0, seed=9)
    a = simulate_imu(c, 4)
    b = simulate_imu(c, 4)
    np.testing.assert_array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.t, b.t)
    specs = [simulate_imu(c, s).spec for s in range(40)]
    assert {s.decimation for s in specs} == {"lowpass", "point", "block", "none"}
    assert {s.gravity_removed for s in specs} == {True, False}
    assert {s.location for s in specs} == {"left_wrist", "right_wrist"}
    assert len({s.rate_hz for s in specs}) >= 8
    mounts = np.array([s.mount_rot for s in specs])
    np.testing.assert_allclose(np.linalg.det(mounts), 1.0, atol=1e-9)
    # a wrist device is a watch or a sensor board: phone-only parts never appear
    seen = {s.errors.datasheet for s in specs if s.errors}
    assert seen <= {d.name for d in DATASHEETS if {"watch", "board"} & set(d.devices)}
    assert len(seen) >= 4 and {s.device for s in specs} == {"watch", "board"}


def _rest_offsets(device: str, n: int = 2000) -> np.ndarray:
    """| |reading| - g | / g of ``n`` drawn devices at rest, in random orientations."""
    rng = np.random.default_rng(21)
    out = np.empty(n)
    for i in range(n):
        err = draw_errors(rng, device)
        u = rng.standard_normal(3)
        f = err.acc_gain @ (GRAVITY * u / np.linalg.norm(u)) + err.acc_bias
        out[i] = abs(np.linalg.norm(f) - GRAVITY) / GRAVITY
    return out


def test_phones_at_rest_read_up_to_about_7_5_percent_of_g_off() -> None:
    """Stisen et al. (SenSys 2015): phones at rest read up to ±7.5 % of g away from 1 g."""
    phones = _rest_offsets("phone")
    p50, p90, p99 = np.percentile(phones, [50, 90, 99])
    assert 0.005 < p50 < 0.03  # the typical phone is 1-2 % off
    assert p90 > 0.03  # a real share of them is several percent off
    assert np.mean(phones <= 0.075) > 0.95 and p99 < 0.1
    # uncalibrated hobby boards are worse, trimmed watches better
    assert np.median(_rest_offsets("board")) > p50 > np.median(_rest_offsets("watch"))


def test_device_classes_draw_their_own_parts_and_full_scales() -> None:
    from aura_training.synth._sensor import ACC_RANGES_G, DEVICES, GYRO_RANGES_DPS

    rng = np.random.default_rng(5)
    for device in DEVICES:
        errs = [draw_errors(rng, device) for _ in range(400)]
        parts = {e.datasheet for e in errs}
        assert parts == {d.name for d in DATASHEETS if device in d.devices}
        acc = {round(e.acc_range / GRAVITY) for e in errs}
        gyro = {round(np.degrees(e.gyro_range)) for e in errs}
        assert acc <= set(ACC_RANGES_G) and gyro <= set(GYRO_RANGES_DPS)
        assert len(acc) >= 3 and len(gyro) >= 3
    assert {d.name for d in DATASHEETS} == {p for d in DEVICES for p in
                                            {x.name for x in DATASHEETS if d in x.devices}}
    with pytest.raises(ValueError, match="device"):
        draw_errors(rng, "tablet")


def test_placements_choose_devices_and_rates_their_way() -> None:
    c = generate_clip("walking", 12.0, seed=3)
    specs = {loc: [simulate_imu(c, s, location=loc, errors=False).spec for s in range(60)]
             for loc in ("left_wrist", "right_waist", "left_pocket")}
    frac = {loc: np.mean([s.device == "phone" for s in sp]) for loc, sp in specs.items()}
    assert frac["left_wrist"] == 0.0 and frac["left_pocket"] == 1.0
    assert frac["right_waist"] > 0.6
    for sp in specs.values():
        assert {s.rate_hz for s in sp} <= set(COMMON_RATES)
    # phones stream at 50 Hz or faster more often than watches do
    fast = {loc: np.mean([s.rate_hz >= 50 for s in sp]) for loc, sp in specs.items()}
    assert fast["left_pocket"] > fast["left_wrist"]
