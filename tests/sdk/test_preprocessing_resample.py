"""Resampling accuracy, anti-aliasing and gap handling (aura_sdk.preprocessing)."""

from fractions import Fraction

import numpy as np
import pytest
from scipy.signal import resample_poly

from aura_sdk.preprocessing import Gap, StreamResampler


def _bandlimited(rng: np.random.Generator, f_max: float, channels: int = 6):
    """A random sum of sinusoids below ``f_max`` plus an offset (gravity-like DC)."""
    freqs = rng.uniform(0.05, f_max, (8, channels))
    phase = rng.uniform(0, 2 * np.pi, (8, channels))
    amp = rng.uniform(0.2, 1.0, (8, channels))
    dc = rng.uniform(-10, 10, channels)

    def f(t: np.ndarray) -> np.ndarray:
        return dc + (amp * np.sin(2 * np.pi * freqs * t[:, None, None] + phase)).sum(axis=1)

    return f


def _run(rs: StreamResampler, t: np.ndarray, x: np.ndarray):
    a = rs.feed(t, x)
    b = rs.flush()
    return np.concatenate([a.k, b.k]), np.concatenate([a.x, b.x]), a.gaps + b.gaps


@pytest.mark.parametrize(
    ("fs_in", "fs_out"),
    [(10, 50), (20, 50), (25, 50), (52, 50), (100, 50), (200, 50), (1000, 50), (1000, 200),
     (400, 200), (100, 30), (50, 200)],
)
def test_matches_resample_poly_on_bandlimited_signals(fs_in: float, fs_out: float) -> None:
    rng = np.random.default_rng(int(fs_in * 1000 + fs_out))
    low = min(fs_in, fs_out)
    sig = _bandlimited(rng, 0.4 * low / 2)
    duration = 30.0
    t = np.arange(int(duration * fs_in)) / fs_in
    x = sig(t)
    frac = Fraction(fs_out, fs_in)
    ref = resample_poly(x, frac.numerator, frac.denominator, axis=0)  # float64 reference
    k, y, gaps = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=1.0), t, x)
    assert gaps == ()
    assert np.array_equal(k, np.arange(k.size))
    # compare away from both ends, where resample_poly assumes zeros outside the signal
    n = min(ref.shape[0], y.shape[0])
    margin = int(12 * fs_out / low) + 1
    inner = slice(margin, n - margin)
    err = np.sqrt(np.mean((y[inner] - ref[inner]) ** 2)) / np.sqrt(np.mean(ref[inner] ** 2))
    assert err < 1e-3, err


def test_antialiasing_removes_tones_above_the_output_nyquist() -> None:
    fs_in, fs_out = 1000.0, 50.0
    t = np.arange(20_000) / fs_in
    tone = np.sin(2 * np.pi * 120.0 * t)  # would alias to 20 Hz with point decimation
    x = np.repeat(tone[:, None], 6, axis=1)
    _, y, _ = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=0.1), t, x)
    naive = x[::20]
    inner = slice(20, y.shape[0] - 20)
    assert np.sqrt(np.mean(naive[inner] ** 2)) > 0.5  # the trap is real
    assert np.sqrt(np.mean(y[inner] ** 2)) < 5e-3


def test_dc_is_exact_everywhere_including_segment_edges() -> None:
    t = np.arange(333) / 100.0
    x = np.tile([0.0, 0.0, 9.80665, 0.1, -0.2, 0.3], (t.size, 1))
    _, y, _ = _run(StreamResampler(100.0, 50.0, 6, gap_tolerance_s=0.1), t, x)
    np.testing.assert_allclose(y, x[: y.shape[0]], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("jitter", "bound"), [(0.05, 1e-3), (0.2, 4e-3), (0.4, 8e-3)])
def test_jittered_timestamps_track_the_true_signal(jitter: float, bound: float) -> None:
    # Uneven spacing costs accuracy roughly in proportion to the jitter (measured: about
    # 6e-4 at +-5 %, 2.5e-3 at +-20 %, 5.5e-3 at +-40 % of a period; 2.5x worse without the
    # spacing compensation).
    rng = np.random.default_rng(7)
    fs_in, fs_out = 100.0, 50.0
    sig = _bandlimited(rng, 5.0)
    t = np.arange(3000) / fs_in + rng.uniform(-jitter, jitter, 3000) / fs_in
    x = sig(t)
    k, y, _ = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=0.1), t, x)
    truth = sig(t[0] + k / fs_out)
    inner = slice(20, k.size - 20)
    err = np.sqrt(np.mean((y[inner] - truth[inner]) ** 2)) / np.sqrt(np.mean(truth[inner] ** 2))
    assert err < bound, err


def test_gap_is_reported_with_start_and_length_and_never_bridged() -> None:
    fs_in, fs_out = 100.0, 50.0
    t = np.arange(1000) / fs_in
    t = np.concatenate([t[:400], t[400:] + 2.5])  # a 2.5 s hole after t = 3.99
    x = np.tile(np.arange(6.0), (t.size, 1))
    k, y, gaps = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=0.05), t, x)
    assert len(gaps) == 1
    assert gaps[0] == Gap(start_s=pytest.approx(3.99), length_s=pytest.approx(2.51))
    tau = k / fs_out
    assert not np.any((tau > 3.99 + 1e-9) & (tau < 6.5 - 1e-9))  # nothing invented in the hole
    # outputs continue on the same grid after the hole
    assert tau[-1] == pytest.approx(t[-1] - (t[-1] * fs_out % 1) / fs_out)
    np.testing.assert_allclose(y, np.tile(np.arange(6.0), (k.size, 1)), atol=1e-12)


def test_rejects_a_non_positive_tolerance() -> None:
    with pytest.raises(ValueError, match="gap_tolerance_s"):
        StreamResampler(100, 50, 6, gap_tolerance_s=0)


def test_many_streams_resolved_together_match_each_alone_bit_for_bit() -> None:
    # the live tick plans every stream's resampling and computes all of them in one pass:
    # each stream's output must be exactly what its own resampler computes alone, whatever
    # the other streams' rates, jitter and gaps
    from aura_sdk.preprocessing import resolve_plans

    rng = np.random.default_rng(7)
    streams = []
    for _ in range(12):
        fs = float(rng.choice([25.0, 50.0, 100.0, 104.0]))
        n = int(rng.integers(300, 900))
        jitter = rng.uniform(0.7, 1.3, n) if rng.random() < 0.5 else np.ones(n)
        t = 3.0 + np.cumsum(jitter / fs)
        if rng.random() < 0.4:
            t[n // 2:] += rng.uniform(0.2, 0.8)  # a gap
        streams.append((fs, t, rng.normal(size=(n, 6))))
    alone, together = [], [[] for _ in streams]
    for fs, t, x in streams:
        rs = StreamResampler(fs, 50.0, 6, gap_tolerance_s=0.1)
        alone.append(np.concatenate([rs.feed(t[i:i + 9], x[i:i + 9]).x
                                     for i in range(0, t.size, 9)] + [rs.flush().x]))
    bank = [StreamResampler(fs, 50.0, 6, gap_tolerance_s=0.1) for fs, _, _ in streams]
    for i in range(0, 900, 9):
        plans = [rs.plan(t[i:i + 9], x[i:i + 9])
                 for rs, (_, t, x) in zip(bank, streams, strict=True)]
        for out, chunk in zip(together, resolve_plans(plans), strict=False):
            out.append(chunk.x)
    for out, rs in zip(together, bank, strict=False):
        out.append(rs.flush().x)
    for a, b in zip(alone, together, strict=False):
        assert np.array_equal(a, np.concatenate(b))
    assert sum(a.shape[0] for a in alone) > 12 * 200  # the streams produced real output


@pytest.mark.parametrize(("fs_in", "fs_out"), [(100, 50), (52, 50), (200, 50), (50, 50),
                                                (25, 50)])
def test_uniform_grid_fast_path_is_the_exact_formula_to_2e7(fs_in: float, fs_out: float) -> None:
    # a device that stamps its samples on its own grid takes the table of phases (or, at
    # equal rates, its own samples); the same data with a hair of jitter takes the exact
    # kernel: the two agree to the table's bound
    from aura_sdk.preprocessing import _resample as rs_mod

    rng = np.random.default_rng(int(fs_in))
    t = 1234.5 + np.arange(int(20 * fs_in)) / fs_in
    x = _bandlimited(rng, 0.4 * min(fs_in, fs_out) / 2)(t - 1234.5)
    fast = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=0.5), t, x)[1]
    jitter = t + rng.uniform(-3e-9, 3e-9, t.size)  # off the grid by more than ON_GRID_S
    exact = _run(StreamResampler(fs_in, fs_out, 6, gap_tolerance_s=0.5), jitter, x)[1]
    scale = np.abs(x).max()
    assert np.abs(fast - exact).max() / scale < 2e-7
    assert not np.array_equal(fast, exact)  # the two paths really differ
    if fs_in == fs_out:  # equal rates: every inner output is its input sample, bit for bit
        inner = slice(20, fast.shape[0] - 20)
        assert np.array_equal(fast[inner], x[: fast.shape[0]][inner])
    assert rs_mod.ON_GRID_S == 1e-9


def test_the_fast_path_decision_is_per_output() -> None:
    # one jittered sample sends only the outputs whose taps reach it down the exact path:
    # the rest equal a clean run bit for bit, whatever the chunking
    from aura_sdk.preprocessing._resample import KernelSpec

    t = 10.0 + np.arange(2000) / 100.0
    rng = np.random.default_rng(3)
    x = rng.normal(size=(t.size, 6))
    bad = t.copy()
    bad[1000] += 2e-4
    clean = _run(StreamResampler(100, 50, 6, gap_tolerance_s=0.5), t, x)[1]
    rs = StreamResampler(100, 50, 6, gap_tolerance_s=0.5)
    parts = [rs.feed(bad[i:i + 7], x[i:i + 7]).x for i in range(0, t.size, 7)] + [rs.flush().x]
    got = np.concatenate(parts)
    half = KernelSpec.design(100, 50).half_width_s
    reach = np.abs((10.0 + np.arange(got.shape[0]) / 50.0) - bad[1000]) <= half + 0.01
    assert np.array_equal(got[~reach], clean[~reach])
    assert not np.array_equal(got[reach], clean[reach])
    assert reach.sum() < 25
