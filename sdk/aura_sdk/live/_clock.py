"""Device clock -> a clean stream timeline, and that timeline -> the host clock.

Preprocessing runs on the device's own timeline: its timestamps are what the sensor sampled,
free of radio and USB jitter. When the wire carries no timestamps, samples are counted at the
nominal rate and the timeline is re-anchored whenever the host sees more time pass than the
count accounts for (lost samples, a paused device). Separately, :class:`ClockMapper` fits
``host = offset + skew * device`` so events can be stamped in host time: the skew (crystal
drift, typically tens of ppm) by least squares over a sliding history, the offset from the
*earliest* arrivals (transport delay is never negative, so the lower envelope is the best
estimate of the true offset).

Pure state machines: the caller passes arrival times in; nothing here reads a clock.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left

import numpy as np
import numpy.typing as npt

__all__ = ["ClockMapper", "CountingClock"]

F64 = npt.NDArray[np.float64]

_BUCKETS = 10  # the skew fit: one envelope point per tenth of the history
_MAX_RUNS = 8  # more interleaved runs than this and the fit scans the history instead
_BLOCK = 16  # points per block of a run's range-minimum table


class ClockMapper:
    """Online ``host = offset + skew * device`` with drift correction.

    Every :meth:`observe` refits over the history: the points observed since the last reset,
    less those dropped, oldest first, once the newest device time is more than ``history_s``
    past theirs:

    * **skew**: split the device times from the oldest point's to the newest's into ten equal
      buckets, take the earliest arrival (least ``host - device``, the first on ties) in each,
      and fit a least-squares line through them. A slope further than ``max_skew_ppm`` from
      1, less than ``min_span_s`` of history or fewer than three buckets leave the prior
      skew (1, or the one kept across :meth:`reset`).
    * **offset**: ``min(host - skew * device)`` over the history: the line under every arrival.

    The fit is incremental: O(k log n) per packet for n points of history in k runs, instead
    of O(n). A *run* (:class:`_Run`) is a part of the history, in arrival order, whose device
    times never decrease. A new point joins the run whose last time is the latest not after
    its own (patience sorting) and opens a new run only when it is earlier than every run's
    last: one run for a device whose timestamps are in order, one per channel for a device
    that sends accelerometer and gyroscope frames separately, each stamped with its own times
    (Polar PMD). Within a run:

    * a bucket is a stretch of consecutive points, its ends found by bisection, and its least
      ``host - device`` a range-minimum query: a sparse table over blocks of 16 points plus
      each block's prefix and suffix minima (O(1) per query and, amortised, per point; O(n)
      memory), so the edges may move either way;
    * the offset's minimiser is a vertex of the lower convex hull of ``(device, host)``,
      found by binary search for the skew. The hull slides as a two-stack queue: new points
      join a *back* hull (monotone chain; its pops are final), old points leave a *front*
      hull built newest-to-oldest that records what each insertion popped, so dropping the
      oldest point undoes its insertion; when the front runs out the back is rebuilt into it,
      each point once.

    The line through the (at most ten) bucket minima is solved in closed form. Device times
    so scrambled that more than eight runs would be needed are refitted by scanning the whole
    history (the former O(n) cost) until the point that broke the limit has left it.

    Agreement with refitting the whole history through ``np.polyfit`` (the former code, the
    reference of the property test in ``tests/sdk/test_live_clock.py``): the history, spans,
    bucket edges and bucket minima are bit-identical. The slope differs only by rounding:
    both are within a few ``eps * max|host| / sqrt(Sxx)`` of the exact least-squares slope of
    the minima (Sxx: their spread of device time), about 1e-12 for host times of a day in
    seconds and a minute of history. With the same skew the offset is the same minimum, to
    one ulp where rounding ties two hull vertices.

    Args:
        history_s: span of device time the skew and offset are estimated over.
        max_skew_ppm: fits beyond this are treated as noise (crystals are within ~100 ppm).
        min_span_s: below this much history the skew is taken as exactly 1.
    """

    def __init__(self, history_s: float = 60.0, max_skew_ppm: float = 2000.0,
                 min_span_s: float = 5.0) -> None:
        self.history_s = history_s
        self.max_skew = max_skew_ppm * 1e-6
        self.min_span_s = min_span_s
        self._prior = 1.0  # skew to assume until there is enough history
        self.skew = 1.0
        self.offset: float | None = None
        # every point since the last compaction; point i is at list position i - _base
        self._d: list[float] = []
        self._h: list[float] = []
        self._run_of: list[_Run | None] = []
        self._base = 0
        self._lo = 0  # the oldest point in the history
        self._runs: list[_Run] = []
        self._scan_until = -1  # while >= 0: too scrambled for runs until this point has gone

    def reset(self, *, keep_skew: bool = False) -> None:
        """Forget the history (the device restarted its clock); optionally keep the skew."""
        self._prior = self.skew if keep_skew else 1.0
        self.skew = self._prior
        self.offset = None
        self._d, self._h, self._run_of, self._runs = [], [], [], []
        self._base = self._lo = 0
        self._scan_until = -1

    def observe(self, device_t: float, host_t: float) -> None:
        """Record that the sample at ``device_t`` had arrived by ``host_t``."""
        d, h = float(device_t), float(host_t)
        ds, base = self._d, self._base
        i = base + len(ds)
        ds.append(d)
        self._h.append(h)
        run = None
        if self._scan_until < 0:
            run = self._run_for(d)
            if run is None:
                self._scan_until, self._runs = i, []
            else:
                run.append(d, h, i)
        self._run_of.append(run)
        lo = self._lo
        while d - ds[lo - base] > self.history_s:
            if self._scan_until < 0:
                gone = self._run_of[lo - base]
                if gone is not None and gone.drop_oldest():
                    self._runs.remove(gone)
            lo += 1
        self._lo = lo
        if 0 <= self._scan_until < lo:
            self._scan_until = self._rebuild_runs()
        if self._scan_until < 0:
            self._refit()
        else:
            self._refit_by_scan()
        dead = lo - base
        if dead > 256 and 2 * dead > len(ds):
            del ds[:dead], self._h[:dead], self._run_of[:dead]
            self._base += dead

    def to_device(self, host_t: F64 | float) -> F64:
        """Inverse of :meth:`to_host`."""
        off = 0.0 if self.offset is None else self.offset
        return np.asarray((np.asarray(host_t, dtype=np.float64) - off) / self.skew)

    def to_host(self, device_t: F64 | float) -> F64:
        """Host time of device time(s); before any observation, the identity."""
        off = 0.0 if self.offset is None else self.offset
        return np.asarray(off + self.skew * np.asarray(device_t, dtype=np.float64))

    # -- runs --------------------------------------------------------------------------------
    def _run_for(self, d: float) -> _Run | None:
        """The run a point at device time ``d`` joins (maybe a new one); None past the limit."""
        best, best_last = None, -math.inf
        for run in self._runs:
            last = run.ds[-1]
            if best_last < last <= d or (best is None and last <= d):
                best, best_last = run, last
        if best is None and len(self._runs) < _MAX_RUNS:
            best = _Run()
            self._runs.append(best)
        return best

    def _rebuild_runs(self) -> int:
        """Sort the history into runs again; -1, or the point that needed one run too many."""
        self._runs = []
        base = self._base
        for i in range(self._lo, base + len(self._d)):
            d = self._d[i - base]
            run = self._run_for(d)
            if run is None:
                self._runs = []
                return i
            run.append(d, self._h[i - base], i)
            self._run_of[i - base] = run
        return -1

    # -- the fit -----------------------------------------------------------------------------
    def _refit(self) -> None:
        """Skew and offset from the runs."""
        base, lo = self._base, self._lo
        d0, dl = self._d[lo - base], self._d[-1]
        skew = self._prior
        if dl - d0 >= self.min_span_s and len(self._d) - (lo - base) >= 3:
            # edges run backwards only if min_span_s < 0: leave that oddity to the scan
            lows = self._bucket_lows(_edges(d0, dl)) if dl >= d0 else self._scan_lows()
            if len(lows) >= 3:
                slope = self._slope(lows, d0)
                if abs(slope - 1.0) <= self.max_skew:
                    skew = slope
        self.skew = skew
        offset = math.inf
        for run in self._runs:
            offset = min(offset, run.hull_min(skew))
        self.offset = offset

    def _bucket_lows(self, edges: list[float]) -> list[int]:
        """The point of least ``host - device`` (first on ties) in each non-empty bucket."""
        lows: list[tuple[float, int] | None] = [None] * _BUCKETS
        for run in self._runs:
            ds, end = run.ds, len(run.ds)
            a = run.head
            for b in range(_BUCKETS):
                z = bisect_left(ds, edges[b], a, end) if b < _BUCKETS - 1 else end
                if z > a:  # positions [a, z) of this run are in bucket b
                    p = run.least(a, z)
                    x, low = (run.gs[p], run.ids[p]), lows[b]
                    if low is None or x < low:  # ties: the earlier arrival
                        lows[b] = x
                    a = z
        return [low[1] for low in lows if low is not None]

    def _refit_by_scan(self) -> None:
        """Skew and offset by scanning the whole history, as the runs would give them: O(n)."""
        base, lo = self._base, self._lo
        d = np.asarray(self._d[lo - base:])
        h = np.asarray(self._h[lo - base:])
        skew = self._prior
        if d[-1] - d[0] >= self.min_span_s and d.size >= 3:
            lows = self._scan_lows()
            if len(lows) >= 3:
                slope = self._slope(lows, float(d[0]))
                if abs(slope - 1.0) <= self.max_skew:
                    skew = slope
        self.skew = skew
        self.offset = float(np.min(h - skew * d))

    def _scan_lows(self) -> list[int]:
        """:meth:`_bucket_lows` by scanning the history, for any order of device times."""
        base, lo = self._base, self._lo
        d = np.asarray(self._d[lo - base:])
        g = np.asarray(self._h[lo - base:]) - d
        edges = np.array([d[0], *_edges(float(d[0]), float(d[-1])), d[-1]])
        bucket = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, _BUCKETS - 1)
        lows = []
        for b in range(_BUCKETS):
            (members,) = np.nonzero(bucket == b)
            if members.size:
                lows.append(lo + int(members[np.argmin(g[members])]))
        return lows

    def _slope(self, points: list[int], d0: float) -> float:
        """Least-squares slope of host on ``device - d0`` through ``points``; nan if vertical.

        Both coordinates are centred first (host on its first value, which keeps the products
        small), so the result is the exact slope of the rounded inputs to a few ulps.
        """
        base, ds, hs = self._base, self._d, self._h
        xs = [ds[i - base] - d0 for i in points]
        y0 = hs[points[0] - base]
        ys = [hs[i - base] - y0 for i in points]
        xm = sum(xs) / len(xs)
        ym = sum(ys) / len(ys)
        sxx = sxy = 0.0
        for x, y in zip(xs, ys, strict=True):
            sxx += (x - xm) * (x - xm)
            sxy += (x - xm) * (y - ym)
        return sxy / sxx if sxx > 0.0 else math.nan  # nan fails the skew check: the prior


class CountingClock:
    """A timeline for devices whose wire format has no timestamps.

    Samples are spaced at the device's period, nominal at first and then corrected by the drift
    the arrivals reveal (a "10 Hz" device may really run at 9.8 Hz). When a batch arrives later
    than the count says it could, by more than ``gap_tolerance_s``, the timeline jumps forward
    to the arrival, so lost time shows up as a gap instead of being squeezed out.

    Args:
        rate_hz: nominal sample rate.
        gap_tolerance_s: how much later than expected a batch may arrive before it is a gap.
    """

    def __init__(self, rate_hz: float, gap_tolerance_s: float) -> None:
        self.nominal_period = 1.0 / rate_hz
        self.gap_tolerance_s = gap_tolerance_s
        self._rate = ClockMapper(history_s=120.0, max_skew_ppm=50_000.0, min_span_s=3.0)
        self._next: float | None = None  # timeline time of the next sample
        self._anchor = 0.0  # earliest (arrival - timeline time) seen: the delay floor
        self._count = 0  # samples since the count last broke (start or jump)
        self.jumps = 0

    @property
    def period(self) -> float:
        """The period in use: nominal, corrected by the estimated drift."""
        return self.nominal_period * self._rate.skew

    def reset(self) -> None:
        """Start a new timeline (a reconnect); the drift estimate is kept."""
        self._next = None
        self._count = 0
        self._rate.reset(keep_skew=True)

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
                self._rate.reset(keep_skew=True)
            elif lateness < 0:
                self._anchor += lateness  # earlier than ever: a better delay floor
            t = self._next + np.arange(n) * period
        self._next = float(t[-1]) + period
        # drift shows as arrivals slowly running ahead of (or behind) an unbroken count
        self._count += n
        self._rate.observe((self._count - 1) * self.nominal_period, arrival)
        return np.asarray(t, dtype=np.float64)


class _Run:
    """Points of the history whose device times never decrease, oldest first.

    Positions are list indices, shifted down (by whole blocks) when dropped points are
    compacted away. Range minima of ``host - device`` (the first on ties) use blocks of
    :data:`_BLOCK` points: ``pre[p]`` / ``suf[p]`` locate the least from the start of ``p``'s
    block to ``p`` / from ``p`` to the end of its block (offsets in the block), and
    ``levels[j][k]`` the least over blocks ``k`` to ``k + 2**j - 1`` (a sparse table over
    complete blocks): O(1) per query, O(n) memory. The lower hull of ``(device, host)`` is
    ``front`` (positions ``head`` to ``mid``, newest first, with the vertices each insertion
    popped in ``undo_n`` / ``undo_pts``) plus ``back`` (from ``mid``).
    """

    __slots__ = ("back", "ds", "front", "gs", "head", "hs", "ids", "levels", "mid", "pre",
                 "suf", "undo_n", "undo_pts")

    def __init__(self) -> None:
        self.ds: list[float] = []
        self.hs: list[float] = []
        self.gs: list[float] = []  # host - device
        self.ids = array("q")  # the points' indices in the mapper (arrival order)
        self.head = 0  # position of the oldest point still in the history
        self.pre: list[int] = []
        self.suf: list[int] = []  # filled in when the block is complete
        self.levels: list[list[int]] = [[]]
        self.front: list[int] = []
        self.undo_n: list[int] = []
        self.undo_pts: list[int] = []
        self.back: list[int] = []
        self.mid = 0

    def append(self, d: float, h: float, point: int) -> None:
        """Add the newest point (not earlier than the run's last): O(1) amortised."""
        p = len(self.ds)
        g = h - d
        self.ds.append(d)
        self.hs.append(h)
        gs = self.gs
        gs.append(g)
        self.ids.append(point)
        off = p % _BLOCK
        start = p - off
        best = self.pre[-1] if off else 0
        self.pre.append(best if off and gs[start + best] <= g else off)
        self.suf.append(off)
        if off == _BLOCK - 1:  # the block is complete: suffix minima, and the sparse table
            suf, best = self.suf, off
            for r in range(p - 1, start - 1, -1):
                if gs[r] <= gs[start + best]:
                    best = r - start
                suf[r] = best
            k = start // _BLOCK
            levels = self.levels
            below = levels[0]
            below.append(start + suf[start])
            j, w = 1, 1
            while 2 * w <= k + 1:  # the new entry of each level ends at block k
                if j == len(levels):
                    levels.append([])
                x, y = below[k - 2 * w + 1], below[k - w + 1]
                levels[j].append(x if gs[x] <= gs[y] else y)
                below = levels[j]
                j, w = j + 1, 2 * w
        hull, ds, hs = self.back, self.ds, self.hs
        while len(hull) >= 2:  # monotone chain, left to right: keep left turns
            o, q = hull[-2], hull[-1]
            if (ds[q] - ds[o]) * (h - hs[o]) - (hs[q] - hs[o]) * (d - ds[o]) > 0.0:
                break
            hull.pop()
        hull.append(p)

    def least(self, a: int, z: int) -> int:
        """Position of the least ``host - device`` in ``[a, z)`` (the first on ties): O(1)."""
        gs = self.gs
        ba, bz = a // _BLOCK, (z - 1) // _BLOCK
        if ba == bz:  # within one block (maybe still filling): scan it
            return gs.index(min(gs[a:z]), a, z)
        p = ba * _BLOCK + self.suf[a]
        if bz - ba > 1:  # whole blocks in between
            j = (bz - ba - 1).bit_length() - 1
            level = self.levels[j]
            x, y = level[ba + 1], level[bz - (1 << j)]
            if gs[y] < gs[x]:
                x = y
            if gs[x] < gs[p]:
                p = x
        q = bz * _BLOCK + self.pre[z - 1]
        return q if gs[q] < gs[p] else p

    def drop_oldest(self) -> bool:
        """Remove the oldest point; True if the run is now empty. O(1) amortised."""
        oldest = self.head
        self.head += 1
        if oldest < self.mid:  # it was the front's last insertion: undo it
            front, undo_pts = self.front, self.undo_pts
            front.pop()
            for _ in range(self.undo_n.pop()):
                front.append(undo_pts.pop())
        else:
            self._refill_front()
        if self.head > 256 and 2 * self.head > len(self.ds):
            self._compact()
        return self.head == len(self.ds)

    def hull_min(self, skew: float) -> float:
        """``min(host - skew * device)`` over the run: O(log n) on its hull."""
        best = math.inf
        ds, hs = self.ds, self.hs
        for hull in (self.front, self.back):
            a, b = 0, len(hull) - 1
            while a < b:  # along a lower hull the values fall, then rise
                m = (a + b) // 2
                p, q = hull[m], hull[m + 1]
                if hs[q] - skew * ds[q] < hs[p] - skew * ds[p]:
                    a = m + 1
                else:
                    b = m
            for p in hull[max(a - 1, 0):a + 2]:  # rounding can swap nearly equal vertices
                v = hs[p] - skew * ds[p]
                if v < best:
                    best = v
        return best

    def _refill_front(self) -> None:
        """Build the front hull from every point in the run, newest first; empty the back."""
        ds, hs = self.ds, self.hs
        hull: list[int] = []
        undo_n: list[int] = []
        undo_pts: list[int] = []
        for p in range(len(ds) - 1, self.head - 1, -1):
            d, h = ds[p], hs[p]
            k = 0
            while len(hull) >= 2:  # right to left, the lower hull turns clockwise
                o, q = hull[-2], hull[-1]
                if (ds[q] - ds[o]) * (h - hs[o]) - (hs[q] - hs[o]) * (d - ds[o]) < 0.0:
                    break
                undo_pts.append(hull.pop())
                k += 1
            hull.append(p)
            undo_n.append(k)
        self.front, self.undo_n, self.undo_pts = hull, undo_n, undo_pts
        self.back = []
        self.mid = len(ds)

    def _compact(self) -> None:
        """Forget the dropped points' positions, a whole number of blocks of them."""
        cut = self.head - self.head % _BLOCK
        del self.ds[:cut], self.hs[:cut], self.gs[:cut], self.ids[:cut]
        del self.pre[:cut], self.suf[:cut]
        for j, level in enumerate(self.levels):  # a level shorter than that empties
            self.levels[j] = [p - cut for p in level[cut // _BLOCK:]]
        self.front = [p - cut for p in self.front]
        self.undo_pts = [p - cut for p in self.undo_pts]
        self.back = [p - cut for p in self.back]
        self.mid -= cut
        self.head -= cut


def _edges(d0: float, dl: float) -> list[float]:
    """The nine inner bucket edges, rounded exactly as ``np.linspace(d0, dl, 11)[1:10]``."""
    delta = dl - d0
    step = delta / _BUCKETS
    if step == 0.0:  # numpy's path for subnormal steps
        return [k / _BUCKETS * delta + d0 for k in range(1, _BUCKETS)]
    return [k * step + d0 for k in range(1, _BUCKETS)]
