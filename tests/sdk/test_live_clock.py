"""Clock mapping: drift correction and gap-aware counting (aura_sdk.live._clock)."""

import numpy as np
import pytest

from aura_sdk.live._clock import ClockMapper, CountingClock


def test_mapper_recovers_offset_and_drift_under_positive_jitter() -> None:
    rng = np.random.default_rng(0)
    skew, offset = 1 + 80e-6, 1234.5  # an 80 ppm fast host clock
    m = ClockMapper()
    for k in range(600):  # 60 s of 10 Hz batches with 5-40 ms of transport delay
        dev = 100.0 + k * 0.1
        m.observe(dev, offset + skew * dev + rng.uniform(0.005, 0.040))
    assert m.skew == pytest.approx(skew, abs=20e-6)  # ~1 ms over the minute of history
    # the mapped time is the arrival minus the minimum delay (5 ms), within a few ms
    err = m.to_host(130.0) - (offset + skew * 130.0)
    assert 0.0 <= float(err) < 0.012


def test_mapper_ignores_absurd_skew_and_resets() -> None:
    m = ClockMapper(min_span_s=1.0)
    for k in range(50):
        m.observe(k * 0.1, 10.0 + k * 0.2)  # host runs at twice device speed: not a crystal
    assert m.skew == 1.0
    m.reset()
    assert m.offset is None and float(m.to_host(5.0)) == 5.0


def test_counting_clock_spaces_samples_and_learns_the_true_rate() -> None:
    rng = np.random.default_rng(1)
    true_rate = 9.8  # sold as 10 Hz
    c = CountingClock(10.0, gap_tolerance_s=0.4)
    times = []
    for k in range(300):  # 5 samples per batch for 150 s
        arrival = (k * 5 + 4) / true_rate + rng.uniform(0.01, 0.05)
        times.append(c.stamp(5, arrival))
    t = np.concatenate(times)
    assert c.jumps == 0
    assert c.period == pytest.approx(1 / true_rate, rel=2e-3)
    assert np.all(np.diff(t) > 0)


def test_counting_clock_turns_lost_samples_into_a_gap() -> None:
    c = CountingClock(50.0, gap_tolerance_s=0.1)
    a = c.stamp(10, arrival=0.2)
    # the next 50 samples (1 s) were lost in the radio: the next batch arrives 1 s late
    b = c.stamp(10, arrival=1.4)
    assert c.jumps == 1
    assert b[0] - a[-1] == pytest.approx(1.0 + 0.02, abs=0.01)
    np.testing.assert_allclose(np.diff(b), 0.02)
