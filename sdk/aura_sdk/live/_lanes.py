"""Many streams' preprocessing as arrays: the gateway's steady-state fast path.

A stream whose device keeps sending clean data (finite, in order, no gap, both sensors in
every sample) needs the same few steps every tick: append the new samples, resample the
model samples they complete, cut windows at hop boundaries. A :class:`LaneGroup` holds the
state of many such streams side by side in preallocated arrays (one *lane* each: the device
samples the resampler still needs, the model samples the windower still holds) and runs
those steps for all of them with a fixed number of numpy calls per tick, whatever the number
of streams.

It is the per-stream :class:`~aura_sdk.preprocessing.Preprocessor` in another layout, not
another algorithm: a stream enters a lane with its preprocessor's state, leaves it (the
state written back) as soon as anything unusual arrives (a gap, a non-finite value, samples
out of order, one sensor without the other, more data than the lane holds, the end), and the
preprocessor takes over from there. Every output is computed by the same arithmetic in the
same order as :class:`~aura_sdk.preprocessing.StreamResampler` and
:class:`~aura_sdk.preprocessing.Windower` (the resampler's row formula, densities from the
same neighbours, windows from the same indices), so a stream's windows are bit-identical
whichever path made them (``tests/sdk/test_live_lanes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..preprocessing import KernelSpec, Preprocessor
from ..preprocessing._resample import row_values
from ._merge import ChannelMerger

__all__ = ["LaneGroup", "LaneOutput"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: seconds of device data a lane takes in one tick beyond what the resampler retains
_TICK_SPAN_S = 1.0


@dataclass
class LaneOutput:
    """Complete windows of one lane from one tick (normalised, as the encoder takes them).

    Attributes:
        slot: the lane.
        x: ``(N, window, 6)`` float32.
        t_start, t_end: ``(N,)`` on the stream's timeline (as :class:`Windows`).
    """

    slot: int
    x: npt.NDArray[np.float32]
    t_start: F64
    t_end: F64


@dataclass
class _Counts:
    samples_in: int = 0
    samples_resampled: int = 0
    windows: int = 0
    rows: int = 0


@dataclass
class LaneGroup:
    """Lanes of streams with one device rate and one preprocessing setup (see module doc).

    Args:
        pre: a preprocessor of the group's setup (its rate, kernel, window, hop, norms).
        capacity: most lanes.
    """

    pre: Preprocessor
    capacity: int = 64
    _free: list[int] = field(default_factory=list)
    counts: dict[int, _Counts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rs = self.pre._resampler
        self.kernel: KernelSpec = rs.kernel
        self.in_rate = rs.in_rate_hz
        self.period = rs.period_s
        self.h = rs.kernel.half_width_s
        self.tol = rs.gap_tolerance_s
        self.matched = rs.matched
        self.window = self.pre.model.window_samples
        self.hop = self.pre._windower.hop
        self.mean = self.pre._mean
        self.std = self.pre._std
        # retained device samples: two half widths plus a tick's worth, plus the left one
        self.cap_raw = int(np.ceil(self.in_rate * (2 * self.h + _TICK_SPAN_S))) + 8
        out_rate = 1.0 / self.period
        # the windower holds fewer than a window between ticks, plus a tick's outputs
        self.cap_out = self.window + int(np.ceil(out_rate * _TICK_SPAN_S)) + 8
        self._alloc(self.capacity)

    def key(self) -> tuple[object, ...]:
        """What streams must share to share a group."""
        return group_key(self.pre)

    # -- storage -----------------------------------------------------------------------------
    def _alloc(self, n: int) -> None:
        """Room for ``n`` lanes (keeping the lanes there are)."""
        k = 0 if not hasattr(self, "raw_t") else self.raw_t.shape[0]

        def grow(old: np.ndarray | None, shape: tuple[int, ...], fill: float,
                 dtype: type = np.float64) -> np.ndarray:
            new: np.ndarray = np.full(shape, fill, dtype)
            if old is not None:
                new[:k] = old
            return new

        has = k > 0
        self.raw_t: F64 = grow(self.raw_t if has else None, (n, self.cap_raw), np.inf)
        self.raw_x: F64 = grow(self.raw_x if has else None, (n, self.cap_raw, 6), 0.0)
        self.out: F64 = grow(self.out if has else None, (n, self.cap_out, 6), 0.0)
        self.n_raw: I64 = grow(self.n_raw if has else None, (n,), 0, np.int64)
        self.m_out: I64 = grow(self.m_out if has else None, (n,), 0, np.int64)
        self.next_k: I64 = grow(self.next_k if has else None, (n,), 0, np.int64)
        self.k0: I64 = grow(self.k0 if has else None, (n,), 0, np.int64)
        self.origin: F64 = grow(self.origin if has else None, (n,), 0.0)
        self.last_t: F64 = grow(self.last_t if has else None, (n,), 0.0)
        self.made_full: npt.NDArray[np.bool_] = grow(
            self.made_full if has else None, (n,), False, np.bool_)
        self._free.extend(range(k, n))
        self.capacity = n

    # -- entering and leaving -----------------------------------------------------------------
    def can_take(self, pre: Preprocessor, merger: ChannelMerger) -> bool:
        """Whether ``pre`` is in a state a lane can carry on (a segment under way, no gravity
        tracking, nothing pending in the channel join) and has this group's setup."""
        rs, wd = pre._resampler, pre._windower
        return (pre._gravity is None and rs.origin is not None and rs._has_left
                and rs._t.size + 1 <= self.cap_raw // 2
                and (wd._buf.shape[0] if wd._buf.size else 0) < self.window
                and not merger._ta.size and group_key(pre) == self.key())

    def enter(self, pre: Preprocessor) -> int:
        """Take over ``pre``'s state (check :meth:`can_take` first); returns the lane."""
        if not self._free:
            self._alloc(self.capacity * 2)
        slot = self._free.pop()
        rs, wd = pre._resampler, pre._windower
        n = rs._t.size + 1
        self.raw_t[slot] = np.inf
        self.raw_t[slot, 0] = rs._left_t
        self.raw_t[slot, 1:n] = rs._t
        self.raw_x[slot, 0] = 0.0  # the left neighbour's value is never a tap
        self.raw_x[slot, 1:n] = rs._x
        m = wd._buf.shape[0] if wd._buf.size else 0
        if m:
            self.out[slot, :m] = wd._buf
        assert rs.origin is not None and rs._last_t is not None
        self.n_raw[slot], self.m_out[slot] = n, m
        # an empty windower starts its buffer at the next output (Windower.feed)
        self.next_k[slot] = rs._next_k
        self.k0[slot] = wd._k0 if m else rs._next_k
        self.made_full[slot] = wd._made_full
        self.origin[slot], self.last_t[slot] = rs.origin, rs._last_t
        self.counts[slot] = _Counts()
        return slot

    def leave(self, slot: int, pre: Preprocessor, merger: ChannelMerger) -> None:
        """Write the lane's state back into ``pre`` (and ``merger``) and free the lane."""
        rs, wd = pre._resampler, pre._windower
        n, m = int(self.n_raw[slot]), int(self.m_out[slot])
        rs._left_t = float(self.raw_t[slot, 0])
        rs._has_left = True
        rs._t = self.raw_t[slot, 1:n].copy()
        rs._x = self.raw_x[slot, 1:n].copy()
        rs._next_k = int(self.next_k[slot])
        last = float(self.last_t[slot])
        rs._last_t = last
        pre._last_t = last
        if m:
            wd._buf = self.out[slot, :m].copy()
        else:
            wd._buf = np.empty((0, 0))
        wd._k0 = int(self.k0[slot])
        wd._made_full = bool(self.made_full[slot])
        self.sync_counts(slot, pre, merger)
        if n >= 2:  # the channel join keeps the last gyroscope sample it paired
            merger._tg = self.raw_t[slot, n - 1 : n].copy()
            merger._g = self.raw_x[slot, n - 1 : n, 3:].copy()
        merger.gyro_absent = False
        del self.counts[slot]
        self._free.append(slot)

    def sync_counts(self, slot: int, pre: Preprocessor, merger: ChannelMerger) -> None:
        """Add the lane's counters since the last sync to ``pre``'s and ``merger``'s."""
        c = self.counts[slot]
        pre.stats.samples_in += c.samples_in
        pre.stats.samples_resampled += c.samples_resampled
        pre.stats.windows += c.windows
        merger.counters["rows"] += c.rows
        self.counts[slot] = _Counts()

    # -- one tick ------------------------------------------------------------------------------
    def step(self, slots: list[int], ts: list[F64], accs: list[F64], gyros: list[F64]
             ) -> tuple[list[LaneOutput], list[int]]:
        """Take each lane's new samples (``ts[i]``, ``accs[i]``, ``gyros[i]`` for
        ``slots[i]``; none empty) and run the tick for all of them.

        Returns:
            the windows completed (one :class:`LaneOutput` per lane that has any), and the
            positions in ``slots`` of the lanes that must leave instead (their samples were
            not taken: hand them to the preprocessor after :meth:`leave`).
        """
        if not slots:
            return [], []
        sl = np.asarray(slots, dtype=np.int64)
        n_new = np.fromiter((t.size for t in ts), np.int64, len(ts))
        t_new = np.concatenate(ts)
        x_new = np.concatenate([np.concatenate(accs), np.concatenate(gyros)], axis=1)
        lane_of = np.repeat(np.arange(sl.size), n_new)
        starts = np.concatenate(([0], np.cumsum(n_new)[:-1]))
        # which lanes stay: finite, in order, no gap, room for the samples
        prev = np.concatenate(([0.0], t_new[:-1]))
        prev[starts] = self.last_t[sl]
        step_t = t_new - prev
        ok_row = np.isfinite(x_new).all(axis=1) & np.isfinite(t_new) & (step_t > 0) & (
            step_t <= self.tol)
        ok = np.logical_and.reduceat(ok_row, starts) & (
            self.n_raw[sl] + n_new < self.cap_raw)  # one +inf pad stays after the samples
        out_room = self.m_out[sl] + np.ceil(n_new * self.period ** -1 / self.in_rate) + 2
        ok &= out_room <= self.cap_out
        evict = np.flatnonzero(~ok).tolist()
        if evict:
            keep = np.flatnonzero(ok)
            if not keep.size:
                return [], evict
            rows = ok[lane_of]
            sl, n_new = sl[keep], n_new[keep]
            t_new, x_new = t_new[rows], x_new[rows]
            lane_of = np.repeat(np.arange(sl.size), n_new)
            starts = np.concatenate(([0], np.cumsum(n_new)[:-1]))
        for s, n in zip(sl.tolist(), n_new.tolist(), strict=True):
            c = self.counts[s]
            c.samples_in += n
            c.rows += n
        # append the new device samples
        within = np.arange(t_new.size) - np.repeat(starts, n_new)
        pos = self.n_raw[sl][lane_of] + within
        lanes = sl[lane_of]
        self.raw_t[lanes, pos] = t_new
        self.raw_x[lanes, pos] = x_new
        self.n_raw[sl] += n_new
        last = t_new[starts + n_new - 1]
        self.last_t[sl] = last
        outs = self._resample(sl, last)
        return self._windows(sl, outs), evict

    def _resample(self, sl: I64, t_last: F64) -> I64:
        """Compute every model sample the new data completed, as the stream resampler's
        ``_emit`` would, append them to the lanes' windower buffers and trim the device
        samples no later output needs; returns how many each lane got."""
        h, period, origin = self.h, self.period, self.origin[sl]
        next_k = self.next_k[sl]
        k_end = np.floor((t_last - h - origin) / period + 1e-9)
        while True:  # the sample at exactly tau + h must have its right neighbour
            late = (k_end >= next_k) & (origin + k_end * period + h >= t_last)
            if not late.any():
                break
            k_end = k_end - late
        k_end = k_end.astype(np.int64)
        count = np.maximum(k_end - next_k + 1, 0)
        total = int(count.sum())
        if total:
            lane_of = np.repeat(np.arange(sl.size), count)
            first = np.concatenate(([0], np.cumsum(count)[:-1]))
            k = next_k[lane_of] + (np.arange(total) - np.repeat(first, count))
            lanes = sl[lane_of]
            tau = self.origin[lanes] + k.astype(np.float64) * period
            ring = self.raw_t[lanes]
            lo = (ring < (tau - h)[:, None]).sum(axis=1)
            n_taps = (ring <= (tau + h)[:, None]).sum(axis=1) - lo
            last_idx = self.n_raw[lanes] - 1
            y = self._rows(lanes, tau, lo, n_taps, last_idx)
            pos = self.m_out[lanes] + (np.arange(total) - np.repeat(first, count))
            self.out[lanes, pos] = y
            self.m_out[sl] += count
            for s, c in zip(sl.tolist(), count.tolist(), strict=True):
                self.counts[s].samples_resampled += c
        moved = count > 0
        if moved.any():
            sm = sl[moved]
            self.next_k[sm] = k_end[moved] + 1
            tau_next = self.origin[sm] + self.next_k[sm].astype(np.float64) * period
            # the retained samples before tau_next - h go; the last of them stays as the
            # left neighbour (ring position 0)
            ring = self.raw_t[sm]
            cut = (ring[:, 1:] < (tau_next - h)[:, None]).sum(axis=1)
            self._shift(sm, cut)
        return count

    def _rows(self, lanes: I64, tau: F64, lo: I64, n_taps: I64, last_idx: I64) -> F64:
        """The resampler's row formula (:func:`~aura_sdk.preprocessing._resample.row_values`)
        on the lanes' rings, laid end to end: a lane's taps start at ring position 1 (0 is
        the left neighbour) and never reach its padding."""
        flat_t = self.raw_t.reshape(-1)
        d = np.full(flat_t.shape, np.nan)  # each sample's share of time, from its neighbours
        with np.errstate(invalid="ignore"):  # (the +inf padding, never a tap)
            d[1:-1] = 0.5 * (flat_t[2:] - flat_t[:-2])
        base = lanes * self.cap_raw
        return row_values(flat_t, self.raw_x.reshape(-1, 6), d, tau, base + lo, n_taps,
                          base + 1, base + last_idx, self.kernel, self.matched,
                          1.0 / self.in_rate)

    def _shift(self, sl: I64, by: I64) -> None:
        """Drop the first ``by`` device samples of each lane's ring."""
        go = by > 0
        if not go.any():
            return
        sl, by = sl[go], by[go]
        idx = np.minimum(np.arange(self.cap_raw)[None, :] + by[:, None], self.cap_raw - 1)
        n = self.n_raw[sl] - by
        t = np.take_along_axis(self.raw_t[sl], idx, axis=1)
        t[np.arange(self.cap_raw)[None, :] >= n[:, None]] = np.inf
        self.raw_t[sl] = t
        self.raw_x[sl] = np.take_along_axis(self.raw_x[sl], idx[:, :, None], axis=1)
        self.n_raw[sl] = n

    def _windows(self, sl: I64, got: I64) -> list[LaneOutput]:
        """Cut the windows the lanes' buffers now hold, as ``Windower.feed`` would."""
        L, hop = self.window, self.hop
        m = self.m_out[sl]
        n_win = np.where(m >= L, (m - L) // hop + 1, 0)
        have = np.flatnonzero(n_win > 0)
        if not have.size:
            return []
        outs: list[LaneOutput] = []
        period = self.period
        for i in have.tolist():
            s, nw = int(sl[i]), int(n_win[i])
            start = np.arange(nw) * hop
            x = self.out[s][start[:, None] + np.arange(L)[None, :]]
            k0 = (self.k0[s] + start).astype(np.float64)
            origin = float(self.origin[s])
            outs.append(LaneOutput(
                s, ((x - self.mean) / self.std).astype(np.float32),
                origin + k0 * period, origin + (k0 + float(L)) * period))
            drop = nw * hop
            rest = int(m[i]) - drop
            self.out[s, :rest] = self.out[s, drop : drop + rest].copy()
            self.m_out[s] = rest
            self.k0[s] += drop
            self.made_full[s] = True
            self.counts[s].windows += nw
        return outs


def group_key(pre: Preprocessor) -> tuple[object, ...]:
    """What two streams' preprocessors must share for one :class:`LaneGroup` to carry both."""
    rs = pre._resampler
    model = pre.model
    return (rs.in_rate_hz, rs.out_rate_hz, rs.kernel, rs.gap_tolerance_s, model.window_samples,
            pre._windower.hop, tuple(model.norm_mean), tuple(model.norm_std))
