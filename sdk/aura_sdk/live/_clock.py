"""Device clock -> host clock: :class:`ClockMapper`, and :class:`CountingClock` for devices
that send no timestamps.

**Two clocks.** A sample carries the device's time: when the sensor took it, free of radio and
USB jitter, so preprocessing runs on that timeline. Events are reported on the host's clock
(``time.monotonic()``), where all we know is when the bytes *arrived*. The two clocks differ by
an offset (their origins) and a skew (their crystals' rates differ by tens of ppm: 80 ppm is
4.8 ms a minute), so :class:`ClockMapper` fits ``host = offset + skew * device`` from the
pairs ``(device time of a packet's last sample, arrival)`` that the stream observes.

**Jitter.** An arrival is the true host time plus a transport delay that is never negative:
mostly milliseconds, now and then a stall of a hundred. Every point lies on or above the true
line, so the *earliest* arrivals tell the most and an average would be biased by the delay.
The fit therefore works on the lower envelope:

* skew: split the history's device times into ten equal buckets, take the earliest arrival in
  each (least ``host - device``; the first on ties) and fit a least-squares line through those
  at most ten points. Stalls only raise points above the line, so they change nothing unless
  one fills a whole bucket;
* offset: with that skew, the line that lies under every point, ``min(host - skew * device)``.
  A sample's mapped host time is thus never later than the arrival of the bytes carrying it.

**Guards.** Only the last ``history_s`` of device time is kept, so a drift that changes (the
crystal warming up) is followed. The skew stays at its prior (1, or the skew kept across
:meth:`ClockMapper.reset`) while the history spans less than ``min_span_s`` or fills fewer than
three buckets, and when the fitted slope is further than ``max_skew_ppm`` from 1 (no crystal
is that far off: a paused device, a clock step). Nothing rejects an *early* outlier: a sample
stamped later than it was taken looks like an arrival with a negative delay and pulls the
offset down until it leaves the history.

**Resets and wrap-around.** The mapper does not detect clock restarts itself: its owner
(:class:`~aura_sdk.live.Stream`) calls :meth:`ClockMapper.reset` when device time goes back by
more than its ``clock_reset_s`` (a rebooted device) or the link is lost. Device counters that
wrap (the AURA protocol's u32 microseconds) are unwrapped by the decoders in
:mod:`aura_bridge` before times get here: these are float seconds, never a wrapping count.

**No timestamps.** :class:`CountingClock` makes up the device timeline by counting samples at
the nominal rate, corrected by the drift that a :class:`ClockMapper` over (count, arrival)
reveals, and jumps forward when the arrivals show that samples were lost.

Pure state machines: the caller passes arrival times in; nothing here reads a clock. The
refit is incremental (:mod:`._clock_runs`), and gives what refitting the whole history after
every packet would (the reference in ``tests/sdk/test_live_clock.py``).
"""

from __future__ import annotations

import math
from bisect import bisect_left

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError
from ._clock_runs import Run

__all__ = ["ClockMapper", "CountingClock"]

F64 = npt.NDArray[np.float64]

_BUCKETS = 10  # the skew fit: one envelope point per tenth of the history
_MAX_RUNS = 8  # more interleaved runs than this and the fit scans the history instead
_COMPACT_AFTER = 256  # points that left the history before their lists are cut


class ClockMapper:
    """Online ``host = offset + skew * device`` with drift correction (the model: module doc).

    Each :meth:`observe` adds a point to the history, drops the points more than
    ``history_s`` of device time older than it, and refits the skew and offset.

    How the refit stays cheap: O(k log n) per packet for n points of history in k *runs*
    (:class:`~._clock_runs.Run`: parts of the history, in arrival order, whose device times
    never decrease). A new point joins the run whose last device time is the latest not after
    its own, and opens a new run only when it is earlier than every run's last (patience
    sorting): one run for a device whose timestamps are in order, one per channel for one
    that sends accelerometer and gyroscope frames separately, each with its own times (Polar
    PMD). A bucket's earliest arrival is then a range-minimum query per run, and the offset a
    binary search on each run's lower hull. Device times so scrambled that more than eight
    runs would be needed are refitted by scanning the history, O(n), until the point that
    broke the limit has left it.

    The result matches a full refit through ``np.polyfit`` (the former code): the history,
    bucket edges and bucket minima are bit-identical; the slope differs only by rounding
    (within a few ``eps * max|host| / sqrt(Sxx)`` of the exact least-squares slope, Sxx the
    minima's spread of device time: about 1e-12 for host times of a day in seconds and a
    minute of history), and with the same skew the offset is the same minimum, to one ulp
    where rounding ties two hull vertices.

    Args:
        history_s: span of device time the skew and offset are estimated over.
        max_skew_ppm: fits beyond this are treated as noise (crystals are within ~100 ppm).
        min_span_s: below this much history the skew is the prior (1, or the one kept
            across :meth:`reset`).

    Attributes:
        skew: host seconds per device second.
        offset: host time of device time 0; ``None`` before the first observation.
    """

    def __init__(self, history_s: float = 60.0, max_skew_ppm: float = 2000.0,
                 min_span_s: float = 5.0) -> None:
        if not (history_s > 0 and max_skew_ppm >= 0 and min_span_s >= 0):
            raise ConfigError(f"ClockMapper needs history_s > 0, max_skew_ppm >= 0 and "
                              f"min_span_s >= 0; got {history_s}, {max_skew_ppm}, {min_span_s}")
        self.history_s = history_s
        self.max_skew = max_skew_ppm * 1e-6
        self.min_span_s = min_span_s
        self._prior = 1.0  # skew to assume until there is enough history
        self._skew = 1.0
        self._offset: float | None = None
        self._stale = False  # points were observed since the last fit
        self._forget_points()

    def _forget_points(self) -> None:
        # Point i is the i-th observation since the last reset; it sits at position
        # i - _base of the lists. Points _oldest on are the history; older ones stay in the
        # lists until enough of them can be cut off at once.
        self._device: list[float] = []
        self._host: list[float] = []
        self._run_of: list[Run | None] = []  # None for points added while scanning
        self._base = 0
        self._oldest = 0
        self._runs: list[Run] = []
        self._scan_until: int | None = None  # scanning until this point leaves the history

    def reset(self, *, keep_skew: bool = False) -> None:
        """Forget the history (the device restarted its clock); optionally keep the skew."""
        self._prior = self.skew if keep_skew else 1.0
        self._skew = self._prior
        self._offset = None
        self._stale = False
        self._forget_points()

    @property
    def skew(self) -> float:
        """Host seconds per device second (fitted to the history when asked)."""
        self._fit()
        return self._skew

    @property
    def offset(self) -> float | None:
        """Host time of device time 0; ``None`` before the first observation."""
        self._fit()
        return self._offset

    def observe(self, device_t: float, host_t: float) -> None:
        """Record that the sample at ``device_t`` had arrived by ``host_t``.

        The fit is refreshed when it is next read (``skew``, ``offset``, :meth:`to_host`):
        a stream observes every packet but maps times about once per window, so the refit
        runs once per window, and gives what refitting after every packet would."""
        d, h = float(device_t), float(host_t)
        self._append(d, h)
        self._drop_older_than(d)
        if self._scan_until is not None and self._scan_until < self._oldest:
            self._scan_until = self._sort_into_runs()
        self._stale = True
        self._compact()

    def _fit(self) -> None:
        if self._stale:
            self._stale = False
            self._refit()

    def to_device(self, host_t: F64 | float) -> F64:
        """Inverse of :meth:`to_host`."""
        skew, offset = self.skew, self._offset
        off = 0.0 if offset is None else offset
        return np.asarray((np.asarray(host_t, dtype=np.float64) - off) / skew)

    def to_host(self, device_t: F64 | float) -> F64:
        """Host time of device time(s); before any observation, the identity."""
        skew, offset = self.skew, self._offset
        off = 0.0 if offset is None else offset
        return np.asarray(off + skew * np.asarray(device_t, dtype=np.float64))

    # -- the history -------------------------------------------------------------------------
    def _append(self, d: float, h: float) -> None:
        """Add the newest point to the history and to its run."""
        point = self._base + len(self._device)
        self._device.append(d)
        self._host.append(h)
        run = None
        if self._scan_until is None:
            run = self._run_for(d)
            if run is None:  # one run too many: scan until this point has left the history
                self._scan_until, self._runs = point, []
            else:
                run.append(d, h, point)
        self._run_of.append(run)

    def _drop_older_than(self, d: float) -> None:
        """Drop the points more than ``history_s`` before device time ``d`` from the history."""
        device, base, oldest = self._device, self._base, self._oldest
        while d - device[oldest - base] > self.history_s:
            if self._scan_until is None:  # points leave in arrival order: each its run's oldest
                run = self._run_of[oldest - base]
                if run is not None and run.drop_oldest():
                    self._runs.remove(run)
            oldest += 1
        self._oldest = oldest

    def _compact(self) -> None:
        """Cut the points that left the history off the lists, once they are most of them."""
        dead = self._oldest - self._base
        if dead > _COMPACT_AFTER and 2 * dead > len(self._device):
            del self._device[:dead], self._host[:dead], self._run_of[:dead]
            self._base += dead

    def _run_for(self, d: float) -> Run | None:
        """The run a point at device time ``d`` joins (maybe a new one); None past the limit."""
        best, best_last = None, -math.inf
        for run in self._runs:
            last = run.ds[-1]
            if last <= d and (best is None or last > best_last):
                best, best_last = run, last
        if best is None and len(self._runs) < _MAX_RUNS:
            best = Run()
            self._runs.append(best)
        return best

    def _sort_into_runs(self) -> int | None:
        """Sort the history into runs again; None, or the point that needed one run too many."""
        self._runs = []
        base = self._base
        for i in range(self._oldest, base + len(self._device)):
            d = self._device[i - base]
            run = self._run_for(d)
            if run is None:
                self._runs = []
                return i
            run.append(d, self._host[i - base], i)
            self._run_of[i - base] = run
        return None

    # -- the fit -----------------------------------------------------------------------------
    def _refit(self) -> None:
        """Skew, then the offset under every point of the history with that skew."""
        skew = self._skew = self._fit_skew()
        if self._scan_until is None:
            offset = math.inf
            for run in self._runs:
                offset = min(offset, run.hull.minimum(skew))
            self._offset = offset
        else:
            first = self._oldest - self._base
            d = np.asarray(self._device[first:])
            h = np.asarray(self._host[first:])
            self._offset = float(np.min(h - skew * d))

    def _fit_skew(self) -> float:
        """The slope through the buckets' earliest arrivals, or the prior when there is too
        little history or the slope is no crystal's."""
        first = self._oldest - self._base
        d0, dl = self._device[first], self._device[-1]
        if not (dl - d0 >= self.min_span_s and len(self._device) - first >= 3):
            return self._prior
        # with runs, bucket edges run backwards only if min_span_s < 0: leave that to the scan
        if self._scan_until is None and dl >= d0:
            lows = self._bucket_lows(_edges(d0, dl))
        else:
            lows = self._scan_lows()
        if len(lows) < 3:
            return self._prior
        slope = self._slope(lows, d0)
        return slope if abs(slope - 1.0) <= self.max_skew else self._prior  # nan: the prior

    def _bucket_lows(self, edges: list[float]) -> list[int]:
        """The point of least ``host - device`` (first on ties) in each non-empty bucket."""
        lows: list[tuple[float, int] | None] = [None] * _BUCKETS  # (host - device, point)
        for run in self._runs:
            ds, end, least = run.ds, len(run.ds), run.minima.least
            a = run.head
            for b in range(_BUCKETS):
                z = bisect_left(ds, edges[b], a, end) if b < _BUCKETS - 1 else end
                if z > a:  # positions [a, z) of this run are in bucket b
                    p = least(a, z)
                    x, low = (run.gs[p], run.ids[p]), lows[b]
                    if low is None or x < low:  # ties: the earlier arrival
                        lows[b] = x
                    a = z
        return [low[1] for low in lows if low is not None]

    def _scan_lows(self) -> list[int]:
        """:meth:`_bucket_lows` by scanning the history, for any order of device times."""
        first = self._oldest - self._base
        d = np.asarray(self._device[first:])
        g = np.asarray(self._host[first:]) - d
        edges = np.array([d[0], *_edges(float(d[0]), float(d[-1])), d[-1]])
        bucket = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, _BUCKETS - 1)
        lows = []
        for b in range(_BUCKETS):
            (members,) = np.nonzero(bucket == b)
            if members.size:
                lows.append(self._oldest + int(members[np.argmin(g[members])]))
        return lows

    def _slope(self, points: list[int], d0: float) -> float:
        """Least-squares slope of host on ``device - d0`` through ``points``; nan if vertical.

        Both coordinates are centred first (host on its first value, which keeps the products
        small), so the result is the exact slope of the rounded inputs to a few ulps.
        """
        base, device, host = self._base, self._device, self._host
        xs = [device[i - base] - d0 for i in points]
        y0 = host[points[0] - base]
        ys = [host[i - base] - y0 for i in points]
        xm = sum(xs) / len(xs)
        ym = sum(ys) / len(ys)
        sxx = sxy = 0.0
        for x, y in zip(xs, ys, strict=True):
            sxx += (x - xm) * (x - xm)
            sxy += (x - xm) * (y - ym)
        return sxy / sxx if sxx > 0.0 else math.nan


class CountingClock:
    """A timeline for devices whose wire format has no timestamps.

    Samples are spaced at the device's period, nominal at first and then corrected by the drift
    the arrivals reveal (a "10 Hz" device may really run at 9.8 Hz). When a batch arrives later
    than the count says it could, by more than ``gap_tolerance_s``, the timeline jumps forward
    to the arrival, so lost time shows up as a gap instead of being squeezed out.

    Args:
        rate_hz: nominal sample rate.
        gap_tolerance_s: how much later than expected a batch may arrive before it is a gap.

    Attributes:
        jumps: how many times the timeline jumped forward.
    """

    def __init__(self, rate_hz: float, gap_tolerance_s: float) -> None:
        if not (rate_hz > 0 and gap_tolerance_s > 0):
            raise ConfigError(f"CountingClock needs rate_hz > 0 and gap_tolerance_s > 0 (the "
                              f"device's nominal rate); got {rate_hz}, {gap_tolerance_s}")
        self.nominal_period = 1.0 / rate_hz
        self.gap_tolerance_s = gap_tolerance_s
        # only its skew is used: host seconds per nominal second of counted samples
        self._drift = ClockMapper(history_s=120.0, max_skew_ppm=50_000.0, min_span_s=3.0)
        self._next: float | None = None  # timeline time of the next sample
        self._anchor = 0.0  # earliest (arrival - timeline time) seen: the delay floor
        self._count = 0  # samples since the count last broke (start or jump)
        self.jumps = 0

    @property
    def period(self) -> float:
        """The period in use: nominal, corrected by the estimated drift."""
        return self.nominal_period * self._drift.skew

    def reset(self) -> None:
        """Start a new timeline (a reconnect); the drift estimate is kept."""
        self._next = None
        self._count = 0
        self._drift.reset(keep_skew=True)

    def stamp(self, n: int, arrival: float) -> F64:
        """Timeline times of ``n`` samples that arrived together at host time ``arrival``."""
        period = self.period
        if self._next is None:
            t = np.arange(n) * period
            self._anchor = arrival - float(t[-1])
        else:
            last = self._next + (n - 1) * period
            lateness = arrival - (self._anchor + last)
            if lateness > self.gap_tolerance_s:
                # samples were lost (or the device paused): move the timeline to the arrival
                self._next += lateness
                self.jumps += 1
                self._count = 0
                self._drift.reset(keep_skew=True)
            elif lateness < 0:
                self._anchor += lateness  # earlier than ever: a better delay floor
            t = self._next + np.arange(n) * period
        self._next = float(t[-1]) + period
        # drift shows as arrivals slowly running ahead of (or behind) an unbroken count
        self._count += n
        self._drift.observe((self._count - 1) * self.nominal_period, arrival)
        return np.asarray(t, dtype=np.float64)


def _edges(d0: float, dl: float) -> list[float]:
    """The nine inner bucket edges, rounded exactly as ``np.linspace(d0, dl, 11)[1:10]``."""
    delta = dl - d0
    step = delta / _BUCKETS
    if step == 0.0:  # numpy's path for subnormal steps
        return [k / _BUCKETS * delta + d0 for k in range(1, _BUCKETS)]
    return [k * step + d0 for k in range(1, _BUCKETS)]
