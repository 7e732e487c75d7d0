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

from collections import deque

import numpy as np
import numpy.typing as npt

__all__ = ["ClockMapper", "CountingClock"]

F64 = npt.NDArray[np.float64]


class ClockMapper:
    """Online ``host = offset + skew * device`` with drift correction.

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
        self._pts: deque[tuple[float, float]] = deque()
        self._prior = 1.0  # skew to assume until there is enough history
        self.skew = 1.0
        self.offset: float | None = None

    def reset(self, *, keep_skew: bool = False) -> None:
        """Forget the history (the device restarted its clock); optionally keep the skew."""
        self._pts.clear()
        self._prior = self.skew if keep_skew else 1.0
        self.skew = self._prior
        self.offset = None

    def observe(self, device_t: float, host_t: float) -> None:
        """Record that the sample at ``device_t`` had arrived by ``host_t``."""
        self._pts.append((device_t, host_t))
        while self._pts and device_t - self._pts[0][0] > self.history_s:
            self._pts.popleft()
        d = np.fromiter((p[0] for p in self._pts), float, len(self._pts))
        h = np.fromiter((p[1] for p in self._pts), float, len(self._pts))
        span = d[-1] - d[0]
        skew = self._prior
        if span >= self.min_span_s and d.size >= 3:
            # slope of the lower envelope: fit through the earliest arrival in each tenth of the
            # history, which discards queueing delay far better than fitting every point
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
                slope = float(np.polyfit(np.array(lows_d) - d[0], np.array(lows_h), 1)[0])
                if abs(slope - 1.0) <= self.max_skew:
                    skew = slope
        self.skew = skew
        self.offset = float(np.min(h - skew * d))

    def to_device(self, host_t: F64 | float) -> F64:
        """Inverse of :meth:`to_host`."""
        off = 0.0 if self.offset is None else self.offset
        return np.asarray((np.asarray(host_t, dtype=np.float64) - off) / self.skew)

    def to_host(self, device_t: F64 | float) -> F64:
        """Host time of device time(s); before any observation, the identity."""
        off = 0.0 if self.offset is None else self.offset
        return np.asarray(off + self.skew * np.asarray(device_t, dtype=np.float64))


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
