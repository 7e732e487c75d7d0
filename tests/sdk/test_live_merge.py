"""Joining separate accelerometer and gyroscope streams (aura_sdk.live._merge)."""

import numpy as np

from aura_sdk.live._merge import ChannelMerger

NAN3 = np.full(3, np.nan)


def test_rows_with_both_sensors_pass_straight_through() -> None:
    m = ChannelMerger()
    t = np.arange(5) * 0.02
    acc = np.arange(15.0).reshape(5, 3)
    gyro = -np.arange(15.0).reshape(5, 3)
    t_out, rows = m.feed(t, acc, gyro)
    np.testing.assert_array_equal(t_out, t)
    np.testing.assert_array_equal(rows, np.hstack([acc, gyro]))


def test_separate_streams_at_different_rates_interpolate_the_gyro() -> None:
    m = ChannelMerger()
    # acc at 50 Hz, gyro at 25 Hz carrying a ramp g(t) = [t, 2t, 3t]: interpolation is exact
    ta = np.arange(10) * 0.02
    tg = np.arange(5) * 0.04
    acc = np.column_stack([ta, ta, ta])
    gy = np.column_stack([tg, 2 * tg, 3 * tg])
    out_t, out = [], []
    for k in range(5):  # interleaved frames: two acc samples, then one gyro sample
        for tt, a, g in ((ta[2 * k: 2 * k + 2], acc[2 * k: 2 * k + 2], None),
                         (tg[k: k + 1], None, gy[k: k + 1])):
            n = tt.size
            t1, r1 = m.feed(tt, a if a is not None else np.full((n, 3), np.nan),
                            g if g is not None else np.full((n, 3), np.nan))
            out_t.append(t1)
            out.append(r1)
    t_all = np.concatenate(out_t)
    rows = np.concatenate(out)
    np.testing.assert_allclose(t_all, ta[:9])  # the last acc sample waits for a later gyro
    np.testing.assert_allclose(rows[:, 3:], np.column_stack([t_all, 2 * t_all, 3 * t_all]))
    assert m.counters["rows"] == 9


def test_a_device_without_gyro_is_fed_zeros_after_the_wait() -> None:
    m = ChannelMerger(wait_s=0.5)
    t = np.arange(20) * 0.02  # 0.38 s: still waiting
    got_t, _ = m.feed(t, np.ones((20, 3)), np.full((20, 3), np.nan))
    assert got_t.size == 0
    t2 = 0.4 + np.arange(10) * 0.02
    got_t, rows = m.feed(t2, np.ones((10, 3)), np.full((10, 3), np.nan))
    assert got_t.size == 30 and m.gyro_absent
    np.testing.assert_array_equal(rows[:, 3:], 0.0)
    assert m.counters["gyro_filled_zero"] == 30


def test_acc_before_the_first_gyro_is_counted_not_invented() -> None:
    m = ChannelMerger()
    m.feed(np.array([0.0, 0.02]), np.ones((2, 3)), np.full((2, 3), np.nan))
    t, rows = m.feed(np.array([0.03]), np.full((1, 3), np.nan), np.zeros((1, 3)))
    assert t.size == 0 and m.counters["unpaired_acc"] == 2


def test_the_shortcut_for_paired_samples_changes_nothing() -> None:
    # random frames: mostly both sensors, sometimes acc or gyro alone, sometimes a sensor
    # silent for a while; the merger with its shortcut must give what the general path gives
    rng = np.random.default_rng(3)
    fast, slow = ChannelMerger(), ChannelMerger()
    slow.shortcut = False
    t0 = 0.0
    got_fast, got_slow = [], []
    for _ in range(400):
        n = int(rng.integers(1, 6))
        t = t0 + np.arange(n) * 0.01
        t0 = float(t[-1]) + 0.01
        acc, gyro = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
        kind = rng.random()
        if kind < 0.1:
            gyro[:] = np.nan
        elif kind < 0.2:
            acc[:] = np.nan
        for m, out in ((fast, got_fast), (slow, got_slow)):
            out.append(m.feed(t, acc.copy(), gyro.copy()))
    for (ta, ra), (tb, rb) in zip(got_fast, got_slow, strict=False):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ra, rb)
    assert fast.counters == slow.counters and fast.counters["rows"] > 500
