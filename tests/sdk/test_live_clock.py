"""Clock mapping: drift correction and gap-aware counting (aura_sdk.live._clock)."""

from collections import deque

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aura_sdk.live._clock import ClockMapper, CountingClock, _edges


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


# -- the incremental mapper against a full refit ---------------------------------------------

EPS = float(np.finfo(np.float64).eps)
# Both mappers pick the same bucket minima bit for bit; only the slope through them is computed
# differently (np.polyfit's SVD there, a centred closed form here). Each is within a few
# eps * max|host| / sqrt(Sxx) of the exact least-squares slope of the rounded inputs (Sxx: the
# minima's spread of device time; measured worst over 6000 random fits against exact rational
# arithmetic: polyfit 7.9, closed form 2.2; their difference in the tests below: 7.1), so 32
# such units bound it with room.
SLOPE_UNITS = 32.0


class _FullRefit:
    """ClockMapper as it was before it went incremental: refit the whole history every time."""

    def __init__(self, history_s: float = 60.0, max_skew_ppm: float = 2000.0,
                 min_span_s: float = 5.0) -> None:
        self.history_s = history_s
        self.max_skew = max_skew_ppm * 1e-6
        self.min_span_s = min_span_s
        self.pts: deque[tuple[float, float]] = deque()
        self._prior = 1.0
        self.skew = 1.0
        self.offset: float | None = None
        self.fit: tuple[float, float] | None = None  # (slope, Sxx) when a line was fitted

    def reset(self, *, keep_skew: bool = False) -> None:
        self.pts.clear()
        self._prior = self.skew if keep_skew else 1.0
        self.skew = self._prior
        self.offset = None

    def observe(self, device_t: float, host_t: float) -> None:
        self.pts.append((device_t, host_t))
        while self.pts and device_t - self.pts[0][0] > self.history_s:
            self.pts.popleft()
        d = np.fromiter((p[0] for p in self.pts), float, len(self.pts))
        h = np.fromiter((p[1] for p in self.pts), float, len(self.pts))
        span = d[-1] - d[0]
        skew = self._prior
        self.fit = None
        if span >= self.min_span_s and d.size >= 3:
            edges = np.linspace(d[0], d[-1], 11)
            idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, 9)
            lows_d, lows_h = [], []
            for b in range(10):
                m = idx == b
                if m.any():
                    j = int(np.argmin(h[m] - d[m]))
                    lows_d.append(d[m][j])
                    lows_h.append(h[m][j])
            if len(lows_d) >= 3:
                x = np.array(lows_d) - d[0]
                slope = float(np.polyfit(x, np.array(lows_h), 1)[0])
                self.fit = (slope, float(np.sum((x - x.mean()) ** 2)))
                if abs(slope - 1.0) <= self.max_skew:
                    skew = slope
        self.skew = skew
        self.offset = float(np.min(h - skew * d))

    def to_host(self, device_t: np.ndarray) -> np.ndarray:
        off = 0.0 if self.offset is None else self.offset
        return off + self.skew * device_t


Step = tuple[int, float, float, float]  # (kind, step fraction, delay fraction, wobble fraction)


class _NearTheCut(Exception):
    """A fitted slope within rounding of the max-skew cut: either verdict is right."""


def _play(steps: list[Step], *, history_s: float, min_span_s: float, period: float,
          host0: float, dev0: float, ppm: float, jitter: float, quantum: float,
          channels: int = 1, wobble: float = 0.0) -> tuple[ClockMapper, float]:
    """Feed both mappers one stream and check them after every packet.

    A step's kind picks what happens before its packet: 0 and 1 reset (keeping the skew or
    not), 2 is a gap of up to three histories, 3 a device time that goes back (a glitch short
    of a clock reset), anything else the next packet up to two periods on. Packets take
    turns among ``channels`` whose frames end 1.2 periods apart (accelerometer and gyroscope
    sent separately, each with its own times: device times interleave, out of order), and
    their device times are off by up to ``wobble`` periods (scrambled, beyond what runs of
    ordered times can follow).

    Returns:
        the incremental mapper and the worst skew difference in SLOPE_UNITS units.

    Raises:
        _NearTheCut: a fit the two may legitimately keep or reject differently.
    """
    new = ClockMapper(history_s=history_s, min_span_s=min_span_s)
    ref = _FullRefit(history_s=history_s, min_span_s=min_span_s)
    prior_gap = 0.0  # skew difference carried over a reset(keep_skew=True)
    worst = 0.0
    dev = dev0
    for k, (kind, frac, delay, off) in enumerate(steps):
        if kind == 0:
            prior_gap = abs(new.skew - ref.skew)
            new.reset(keep_skew=True)
            ref.reset(keep_skew=True)
        elif kind == 1:
            prior_gap = 0.0
            new.reset()
            ref.reset()
        if kind == 2:
            dev += frac * 3.0 * history_s
        elif kind == 3:
            dev -= frac * 0.5
        else:
            dev += frac * 2.0 * period
        dev_t = dev - (k % channels) * 1.2 * period + off * wobble * period
        host = host0 + (1.0 + ppm * 1e-6) * dev + jitter * delay
        if quantum:  # clocks that tick: equal delays, points on bucket edges
            dev_t, host = round(dev_t / quantum) * quantum, round(host / quantum) * quantum
        new.observe(dev_t, host)
        ref.observe(dev_t, host)

        d = np.array([p[0] for p in ref.pts])
        h = np.array([p[1] for p in ref.pts])
        h_max = float(np.max(np.abs(h)))
        allowed = prior_gap
        if ref.fit is not None:
            slope, sxx = ref.fit
            slope_tol = SLOPE_UNITS * EPS * (h_max + 1.0) / np.sqrt(sxx)
            if abs(abs(slope - 1.0) - ref.max_skew) <= slope_tol:
                raise _NearTheCut
            allowed += slope_tol
            worst = max(worst, abs(new.skew - ref.skew) / slope_tol * SLOPE_UNITS)
        assert abs(new.skew - ref.skew) <= allowed
        # over the history the mappings differ by the skew difference across it, plus the
        # rounding of host - skew * device and of offset + skew * device
        assert new.offset is not None and ref.offset is not None
        mapped = np.abs(new.to_host(d) - ref.to_host(d))
        d_max = float(np.max(np.abs(d)))
        bound = allowed * float(d.max() - d.min()) + 8 * EPS * (h_max + 2 * d_max)
        assert float(mapped.max()) <= bound
    return new, worst


def _steps(seed: int, n: int, p_reset: float, p_gap: float, p_back: float) -> list[Step]:
    """``n`` random steps for :func:`_play`; each reset is equally likely to keep the skew."""
    rng = np.random.default_rng(seed)
    p_next = 1.0 - p_reset - p_gap - p_back
    kinds = rng.choice(5, size=n, p=[p_reset / 2, p_reset / 2, p_gap, p_back, p_next])
    # delays: mostly small with a long tail (queueing), as radio links deliver
    return list(zip(kinds.tolist(), rng.uniform(0.0, 1.0, n).tolist(),
                    np.minimum(rng.exponential(0.2, n), 1.0).tolist(),
                    rng.uniform(-1.0, 1.0, n).tolist(), strict=True))


@settings(max_examples=80, derandomize=True, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.sampled_from([1, 3, 30, 300, 600]),  # packets: a few, or several histories' worth
    p_reset=st.sampled_from([0.0, 0.003]),
    p_gap=st.sampled_from([0.0, 0.003, 0.03]),
    p_back=st.sampled_from([0.0, 0.005, 0.05]),
    history_s=st.sampled_from([2.0, 10.0, 60.0]),
    min_span_s=st.sampled_from([0.5, 5.0]),
    period=st.sampled_from([0.01, 0.1, 0.5]),
    host0=st.sampled_from([0.0, 1e3, 1e5, 1.7e9]),
    dev0=st.floats(-1e3, 1e6),
    ppm=st.floats(-3000.0, 3000.0),  # both sides of the default 2000 ppm cut
    jitter=st.sampled_from([0.0, 1e-3, 0.05, 0.5]),
    quantum=st.sampled_from([0.0, 1e-3, 2.0**-10]),  # clock ticks, decimal and binary
    channels=st.sampled_from([1, 1, 2, 3]),
    wobble=st.sampled_from([0.0, 0.0, 2.0, 30.0]),
)
def test_incremental_mapper_matches_a_full_refit(
        seed: int, n: int, p_reset: float, p_gap: float, p_back: float, history_s: float,
        min_span_s: float, period: float, host0: float, dev0: float, ppm: float, jitter: float,
        quantum: float, channels: int, wobble: float) -> None:
    steps = _steps(seed, n, p_reset, p_gap, p_back)
    try:
        _play(steps, history_s=history_s, min_span_s=min_span_s, period=period, host0=host0,
              dev0=dev0, ppm=ppm, jitter=jitter, quantum=quantum, channels=channels,
              wobble=wobble)
    except _NearTheCut:
        assume(False)


def test_incremental_mapper_matches_a_full_refit_over_a_long_gappy_stream() -> None:
    # thousands of packets from two channels, with gaps and glitches: hull fronts are rebuilt
    # many times and the history is compacted; 100 packets with device times scrambled by up
    # to 5 s make the mapper scan for a while, then sort the history into runs again
    steps = _steps(seed=2, n=4000, p_reset=0.0, p_gap=0.003, p_back=0.005)
    steps = [(kind, frac, delay, off if 1000 <= k < 1100 else 0.0)
             for k, (kind, frac, delay, off) in enumerate(steps)]
    new, worst = _play(steps, history_s=10.0, min_span_s=2.0, period=0.05, host0=1e5,
                       dev0=3600.0, ppm=-60.0, jitter=0.05, quantum=0.0, channels=2, wobble=100.0)
    assert new._base > 0  # the history list was compacted
    assert len(new._runs) == 2  # one run of ordered device times per channel
    assert worst < SLOPE_UNITS


def test_incremental_mapper_breaks_ties_like_the_full_refit() -> None:
    # clocks ticking in 1/1024 s, sub-tick delays and a drift of a tick in 5 s: many points of
    # a bucket tie for its least host - device, within and across blocks and runs, while the
    # buckets' minima differ, so which one is taken moves the line; the first must win
    steps = _steps(seed=3, n=3000, p_reset=0.0, p_gap=0.002, p_back=0.0)
    new, worst = _play(steps, history_s=30.0, min_span_s=2.0, period=0.025, host0=4096.0,
                       dev0=100.0, ppm=200.0, jitter=2.0**-9, quantum=2.0**-10, channels=2)
    assert len(new._runs) == 2
    assert worst < SLOPE_UNITS


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(d0=st.floats(-1e9, 1e9), span=st.one_of(st.floats(0.0, 1e4), st.floats(0.0, 1e-300)))
def test_bucket_edges_round_exactly_as_numpy_linspace(d0: float, span: float) -> None:
    # a point on an edge must land in the same bucket as the full refit puts it
    dl = d0 + span
    assert _edges(d0, dl) == np.linspace(d0, dl, 11)[1:10].tolist()


def test_nonsense_clock_settings_are_refused_with_the_fix() -> None:
    import pytest

    from aura_sdk import ConfigError
    from aura_sdk.live._clock import ClockMapper, CountingClock

    for kw in ({"history_s": 0.0}, {"max_skew_ppm": -1.0}, {"min_span_s": -2.0},
               {"history_s": float("nan")}):
        with pytest.raises(ConfigError, match="ClockMapper needs"):
            ClockMapper(**kw)
    for rate, tol in ((0.0, 0.5), (-50.0, 0.5), (50.0, 0.0)):
        with pytest.raises(ConfigError, match="nominal rate"):
            CountingClock(rate, tol)
    assert ClockMapper(history_s=10.0).history_s == 10.0
