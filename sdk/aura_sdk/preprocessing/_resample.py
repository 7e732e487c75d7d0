"""Anti-aliased resampling of timestamped (possibly jittery) samples onto a uniform grid.

Each output sample at time ``tau`` is a normalised, windowed-sinc weighted sum of the input
samples within ``tau +- half_width``::

    y(tau) = sum_i w_i x_i / sum_i w_i,   w_i = h(tau - t_i) * d_i

with ``h`` a Kaiser-windowed sinc whose cutoff is the lower of the two Nyquist frequencies and
``d_i`` the time each input sample stands for (half the distance between its neighbours), which
compensates for uneven spacing. With the defaults (Kaiser beta 5, 10 zero crossings of the
lower rate on each side) the kernel is the one ``scipy.signal.resample_poly`` designs, so on
uniform input the two agree; unlike it, this works at any real-valued rate ratio and any
timestamps, and the normalisation keeps DC (gravity) exact at segment edges.

The streaming form emits an output sample once every input it depends on has arrived; every
output is computed by the same arithmetic in the same order whatever the chunking, so streaming
and batch results are bit-identical. Gaps longer than the tolerance split the stream into
segments that are resampled independently: nothing is ever interpolated across a gap.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import i0

__all__ = [
    "Gap",
    "KernelSpec",
    "ResamplePlan",
    "ResampledChunk",
    "StreamResampler",
    "kernel_weights",
    "resolve_plans",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Outputs computed per vectorised block (bounds memory in batch use; results don't depend on it).
_BLOCK = 4096


@dataclass(frozen=True)
class Gap:
    """A hole in the input longer than the gap tolerance.

    Attributes:
        start_s: time of the last sample before the hole.
        length_s: time from that sample to the first sample after the hole.
    """

    start_s: float
    length_s: float

    @property
    def end_s(self) -> float:
        """Time of the first sample after the hole."""
        return self.start_s + self.length_s


@dataclass(frozen=True)
class KernelSpec:
    """The interpolation / anti-aliasing kernel for one input-rate / output-rate pair.

    Attributes:
        cutoff_hz: low-pass cutoff (``rolloff`` times the lower Nyquist frequency).
        half_width_s: the kernel spans ``+- half_width_s`` around each output time.
        beta: Kaiser window shape.
    """

    cutoff_hz: float
    half_width_s: float
    beta: float

    @classmethod
    def design(
        cls, in_rate_hz: float, out_rate_hz: float, *, zeros: int = 10, beta: float = 5.0,
        rolloff: float = 1.0,
    ) -> KernelSpec:
        """Design the kernel for resampling from ``in_rate_hz`` to ``out_rate_hz``."""
        low = min(in_rate_hz, out_rate_hz)
        return cls(cutoff_hz=rolloff * low / 2.0, half_width_s=zeros / low, beta=beta)


@functools.lru_cache(maxsize=64)
def _i0(beta: float) -> float:
    return float(i0(beta))


def kernel_weights(u: F64, kernel: KernelSpec) -> F64:
    """Kaiser-windowed sinc evaluated at time offsets ``u`` (seconds); zero outside the span."""
    x = u / kernel.half_width_s
    inside = np.abs(x) <= 1.0
    win = i0(kernel.beta * np.sqrt(np.clip(1.0 - x * x, 0.0, None))) / _i0(kernel.beta)
    return np.where(inside, np.sinc(2.0 * kernel.cutoff_hz * u) * win, 0.0)


@dataclass(frozen=True)
class _Rows:
    """Outputs of one emit, waiting to be computed: their times and the inputs they read
    (the retained samples, their densities, and each output's first tap and tap count)."""

    tau: F64
    t: F64
    x: F64
    d: F64
    lo: I64
    count: I64


#: how close (seconds) every tap of an output must sit to a uniform input grid for the
#: output to take the grid's fast path (its input sample when the rates are equal, else
#: weights from a table of phases)
ON_GRID_S = 1e-9

#: phase tables of the uniform fast path: (kernel, input period, width) -> phase key -> weights
_PHASES: dict[tuple[KernelSpec, float, int], dict[int, F64]] = {}
_PHASES_MAX = 4096
#: rows x taps above which the weighted sums run channel by channel (no transposed copy)
_BY_CHANNEL = 4096


def _uniform(u: F64, valid: npt.NDArray[np.bool_], d: F64, first_tap: I64, last_tap: I64,
             period: float) -> npt.NDArray[np.bool_]:
    """Which rows (outputs, their taps at offsets ``u``) read a uniform input grid: every
    real tap within :data:`ON_GRID_S` of the line through the first one with spacing
    ``period``, and the outer taps' densities ``period`` too (the inner ones follow from
    their neighbours, taps themselves)."""
    jr = np.arange(u.shape[1]) * period
    dev = np.abs((u - u[:, :1]) + jr)
    return (((dev <= ON_GRID_S) | ~valid).all(axis=1)
            & (np.abs(d[first_tap] - period) <= ON_GRID_S)
            & (np.abs(d[last_tap] - period) <= ON_GRID_S))


def _phase_weights(u0: F64, count: I64, width: int, kernel: KernelSpec, period: float) -> F64:
    """Weights of uniform rows (first tap at offset ``u0``, ``count`` taps, spacing
    ``period``) from the phase table: the kernel at the first offset rounded to
    :data:`ON_GRID_S` (so a row's weights never depend on which rows came before it), one
    evaluation per phase ever seen."""
    key = np.rint(u0 / ON_GRID_S).astype(np.int64) * (width + 1) + count
    phases = _PHASES.get((kernel, period, width))
    if phases is None:
        if len(_PHASES) > 64:
            _PHASES.clear()
        phases = _PHASES[(kernel, period, width)] = {}
    if key.size <= 8:  # a stream's tick: a few rows, no sort
        got = [phases.get(k) for k in key.tolist()]
        if all(g is not None for g in got):
            return np.array(got)
    uniq, inv = np.unique(key, return_inverse=True)
    table = np.empty((uniq.size, width))
    missing = []
    for i, k in enumerate(uniq.tolist()):
        row = phases.get(k)
        if row is None:
            missing.append(i)
        else:
            table[i] = row
    if missing:
        m = np.asarray(missing)
        phase, n = np.divmod(uniq[m], width + 1)
        jr = np.arange(width)
        offsets = (phase * ON_GRID_S)[:, None] - jr * period
        table[m] = np.where(jr < n[:, None], kernel_weights(offsets, kernel) * period, 0.0)
        if len(phases) + m.size > _PHASES_MAX:
            phases.clear()
        for i in missing:
            phases[int(uniq[i])] = table[i].copy()
    return table[inv.reshape(-1)]


def row_values(t: F64, x: F64, d: F64, tau: F64, lo: I64, count: I64, first: I64, last: I64,
               kernel: KernelSpec, matched: float | None, in_period: float | None = None
               ) -> F64:
    """The resampler's row formula: outputs at times ``tau`` from the samples ``t``, ``x``
    with densities ``d``, output ``r`` reading taps ``lo[r]`` to ``lo[r] + count[r] - 1``
    of the buffer that runs from ``first[r]`` to ``last[r]`` (one flat buffer may hold many
    streams'). Shared by :func:`_compute_rows` and the live lanes, so both are bit-identical.

    ``in_period``: the input's nominal sample period. Outputs whose taps lie on a uniform
    grid of it (:func:`_uniform`) take the fast path: with equal rates (``matched``, the
    period) an output on an input sample is that sample (the windowed sinc is 1 at 0 and 0
    at every other whole period); otherwise its weights come from the phase table
    (:func:`_phase_weights`), within 2e-7 of the exact kernel's (1.5 ns of 2 pi 25 Hz). Every
    other output (jitter, a gap nearby, another rate) is computed exactly. Which way an output
    goes depends on its own taps only, so the streaming, batch and lane results stay
    bit-identical.
    """
    y = np.empty((tau.size, x.shape[1]))
    if tau.size <= 8:  # a stream's tick: a few rows
        widths = [1 << max(c - 1, 0).bit_length() for c in count.tolist()]
        width = np.array(widths)
        groups = np.array(sorted(set(widths)))
    else:
        width = np.where(count > 0,
                         1 << np.ceil(np.log2(np.maximum(count, 1))).astype(np.int64), 1)
        groups = np.unique(width)
    for w_len in groups.tolist():
        rows = np.flatnonzero(width == w_len) if groups.size > 1 else np.arange(tau.size)
        jr = np.arange(int(w_len))
        idx = np.minimum(lo[rows, None] + jr[None, :], last[rows, None])
        u = tau[rows, None] - t[idx]
        valid = jr[None, :] < count[rows, None]
        uni = None
        if in_period is not None:
            n = count[rows]
            uni = _uniform(u, valid, d, idx[:, 0],
                           np.minimum(lo[rows] + np.maximum(n, 1) - 1, last[rows]), in_period)
            uni &= n > 0
            if matched is not None and uni.any():
                m0 = np.rint(u[:, 0] / matched).astype(np.int64)
                hit = uni & (np.abs(u[:, 0] - m0 * matched) <= ON_GRID_S) & (m0 >= 0) & (m0 < n)
                if hit.any():
                    y[rows[hit]] = x[idx[hit, m0[hit]]]
                    keep = ~hit
                    if not keep.any():
                        continue
                    rows, idx, u, valid, uni = rows[keep], idx[keep], u[keep], valid[keep], \
                        uni[keep]
        if uni is not None and in_period is not None and uni.all():  # 0.0 past each row's taps
            w = _phase_weights(u[:, 0], count[rows], int(w_len), kernel, in_period)
        else:
            w = np.zeros(u.shape)  # only real taps weigh (the padding is 0.0)
            exact = valid
            if uni is not None and in_period is not None and uni.any():
                w[uni] = _phase_weights(u[uni, 0], count[rows[uni]], int(w_len), kernel,
                                        in_period)
                exact = valid & ~uni[:, None]
            w[exact] = kernel_weights(u[exact], kernel) * d[idx[exact]]
        if u.size * x.shape[1] > _BY_CHANNEL:
            # the same sums, channel by channel (no transposed copy of every tap)
            num = np.empty((u.shape[0], x.shape[1]))
            for c in range(x.shape[1]):
                num[:, c] = np.add.reduce(w * x[:, c][idx], axis=-1)
        else:
            num = np.add.reduce(np.ascontiguousarray((w[:, :, None] * x[idx]).transpose(0, 2, 1)),
                                axis=-1)
        den = np.add.reduce(w, axis=-1)
        good = np.abs(den) > 1e-12
        if good.all():
            y[rows] = num / den[:, None]
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                y[rows] = num / den[:, None]
            # a degenerate weight sum needs absurd timestamps: take the nearest sample of the
            # output's own job
            for r in rows[~good]:
                seg = t[first[r] : last[r] + 1]
                y[r] = x[first[r] + min(int(np.searchsorted(seg, tau[r])), seg.size - 1)]
    return y


def _compute_rows(jobs: list[_Rows], kernel: KernelSpec, matched: float | None = None,
                  in_period: float | None = None) -> list[F64]:
    """Every job's outputs, computed together (one kernel evaluation per tap width).

    Each output's weighted sum runs over a zero-padded length that depends only on its own
    tap count (the next power of two), reduced along a contiguous axis: the additions and
    their order are the same whatever other outputs (of this stream or of other streams)
    share the call, so streaming, batch and many-stream results are bit-identical.

    ``matched``, ``in_period``: the fast paths of :func:`row_values`.
    """
    if not jobs:
        return []
    if len(jobs) == 1:
        j0 = jobs[0]
        t, x, d, tau, lo, count = j0.t, j0.x, j0.d, j0.tau, j0.lo, j0.count
        first = np.zeros(tau.size, np.int64)
        last = np.full(tau.size, t.size - 1)
    else:  # one buffer for all the jobs' retained samples; taps index into it
        sizes = np.array([j.t.size for j in jobs])
        rows_per = np.array([j.tau.size for j in jobs])
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        t = np.concatenate([j.t for j in jobs])
        x = np.concatenate([j.x for j in jobs])
        d = np.concatenate([j.d for j in jobs])
        tau = np.concatenate([j.tau for j in jobs])
        lo = np.concatenate([j.lo for j in jobs]) + np.repeat(offsets, rows_per)
        count = np.concatenate([j.count for j in jobs])
        first = np.repeat(offsets, rows_per)
        last = np.repeat(offsets + sizes - 1, rows_per)
    y = row_values(t, x, d, tau, lo, count, first, last, kernel, matched, in_period)
    if len(jobs) == 1:
        return [y]
    return np.split(y, np.cumsum(rows_per)[:-1])


@dataclass(frozen=True)
class ResampledChunk:
    """Output of one ``feed``/``flush``: uniform samples, their grid indices, and gaps.

    Attributes:
        k: ``(n,)`` grid indices; output time is ``origin + k / rate``.
        t: ``(n,)`` output times in seconds.
        x: ``(n, C)`` resampled values.
        segment: ``(n,)`` segment number of each output (increments after every gap).
        gaps: gaps detected while producing this chunk, in order.
        origin: time of grid index 0 (``None`` before the first sample).
    """

    k: I64
    t: F64
    x: F64
    segment: I64
    gaps: tuple[Gap, ...]
    origin: float | None = None


class StreamResampler:
    """Resample a timestamped stream to ``out_rate_hz``, chunk by chunk (see module doc).

    Feed strictly increasing timestamps (the caller cleans them); call :meth:`flush` at the end.
    """

    def __init__(
        self, in_rate_hz: float, out_rate_hz: float, channels: int, *, gap_tolerance_s: float,
        kernel: KernelSpec | None = None,
    ) -> None:
        if gap_tolerance_s <= 0:
            raise ValueError("gap_tolerance_s must be > 0")
        self.in_rate_hz = float(in_rate_hz)
        self.out_rate_hz = float(out_rate_hz)
        self.period_s = 1.0 / self.out_rate_hz
        self.channels = channels
        self.gap_tolerance_s = float(gap_tolerance_s)
        self.kernel = kernel or KernelSpec.design(in_rate_hz, out_rate_hz)
        #: the input's nominal sample period (the uniform-grid fast path, see row_values)
        self.in_period = 1.0 / self.in_rate_hz
        #: the period when input and output rates are equal (an output is its input sample)
        self.matched: float | None = self.period_s if self.in_rate_hz == self.out_rate_hz \
            else None
        self._reset()

    def _reset(self) -> None:
        self.origin: float | None = None  # time of grid index 0 (the first sample ever)
        self._t = np.empty(0)  # current segment's retained samples
        self._x = np.empty((0, self.channels))
        self._has_left = False  # whether _t[0] has a left neighbour in its segment (_left_t)
        self._left_t = 0.0
        self._next_k = 0
        self._segment = 0
        self._last_t: float | None = None

    # -- grid helpers -------------------------------------------------------------------------
    def _tau(self, k: I64) -> F64:
        assert self.origin is not None
        return self.origin + k.astype(np.float64) * self.period_s

    def _first_k_at_or_after(self, t: float) -> int:
        assert self.origin is not None
        k = math.ceil((t - self.origin) / self.period_s - 1e-9)
        return max(k, 0)

    # -- public -------------------------------------------------------------------------------
    def feed(self, t: F64, x: F64) -> ResampledChunk:
        """Add samples (strictly increasing ``t``, continuing the stream); return ready outputs."""
        return self.plan(t, x).resolve()

    def flush(self) -> ResampledChunk:
        """End of stream: emit every remaining output; the resampler is then fresh again."""
        return self.plan_flush().resolve()

    def plan(self, t: F64, x: F64) -> ResamplePlan:
        """:meth:`feed`, with the arithmetic deferred: the resampler's state moves on at once,
        and the outputs are computed by :meth:`ResamplePlan.resolve` or, together with other
        streams' plans, by :func:`resolve_plans` (bit-identical either way)."""
        emits: list[_Emit] = []
        gaps: list[Gap] = []
        if t.size == 0:
            return ResamplePlan(self.kernel, self.channels, emits, gaps, self.origin,
                                self.period_s, self.matched, self.in_period)
        if self.origin is None:
            self.origin = float(t[0])
        tol = self.gap_tolerance_s
        if (self._last_t is None or t[0] - self._last_t <= tol) and (
                t.size == 1 or np.diff(t).max() <= tol):
            cut_at = np.empty(0, np.int64)
        else:
            prev = np.concatenate(([t[0] if self._last_t is None else self._last_t], t[:-1]))
            cut_at = np.flatnonzero(t - prev > tol)
        if not cut_at.size:  # the common case: no gap in this chunk
            if self._last_t is None:
                self._start_segment(float(t[0]), new=False)
            self._append(t, x)
            self._last_t = float(t[-1])
            emits.append(self._emit(closing=False))
            return ResamplePlan(self.kernel, self.channels, emits, gaps, self.origin,
                                self.period_s, self.matched, self.in_period)
        cuts = set(cut_at.tolist())
        bounds = sorted({0, *cuts, t.size})
        for a, b in itertools.pairwise(bounds):
            if a in cuts:
                assert self._last_t is not None  # a cut needs a previous sample
                gap_start = self._last_t
                emits.append(self._emit(closing=True))
                gaps.append(Gap(start_s=gap_start, length_s=float(t[a]) - gap_start))
                self._start_segment(float(t[a]), new=True)
            elif self._last_t is None:
                self._start_segment(float(t[a]), new=False)
            self._append(t[a:b], x[a:b])
            self._last_t = float(t[b - 1])
            emits.append(self._emit(closing=False))
        return ResamplePlan(self.kernel, self.channels, emits, gaps, self.origin, self.period_s,
                            self.matched, self.in_period)

    def plan_flush(self) -> ResamplePlan:
        """:meth:`flush`, deferred like :meth:`plan`."""
        emits = [self._emit(closing=True)] if self._t.size else []
        plan = ResamplePlan(self.kernel, self.channels, emits, [], self.origin, self.period_s,
                            self.matched, self.in_period)
        self._reset()  # the stream is over: a later feed starts a new one with a new origin
        return plan

    # -- internals ----------------------------------------------------------------------------
    def _start_segment(self, t_first: float, *, new: bool) -> None:
        if new:
            self._segment += 1
        self._t = np.empty(0)
        self._x = np.empty((0, self.channels))
        self._has_left = False
        self._next_k = max(self._next_k, self._first_k_at_or_after(t_first))

    def _append(self, t: F64, x: F64) -> None:
        self._t = np.concatenate((self._t, t))
        self._x = np.concatenate((self._x, x), axis=0)

    def _density(self, closing: bool) -> F64:
        """Time each retained sample stands for; NaN where its right neighbour is unknown."""
        t = self._t
        n = t.size
        d = np.full(n, np.nan)
        if n == 1:
            if closing and not self._has_left:
                d[0] = 1.0 / self.in_rate_hz
            elif closing:
                d[0] = t[0] - self._left_t
            return d
        left = np.concatenate(([self._left_t if self._has_left else np.nan], t[:-1]))
        right = np.concatenate((t[1:], [np.nan]))
        d = 0.5 * (right - left)
        if not self._has_left:
            d[0] = t[1] - t[0]
        if closing:
            d[-1] = t[-1] - t[-2]
        return d

    def _emit(self, closing: bool) -> _Emit:
        """Plan every output whose inputs are all known; drop inputs no longer needed."""
        if not self._t.size:
            return None
        h = self.kernel.half_width_s
        t_last = float(self._t[-1])
        # outputs need every sample within +-h known, and the density of the last of them
        limit = t_last if closing else t_last - h
        assert self.origin is not None
        origin, period = self.origin, self.period_s
        k_end = math.floor((limit - origin) / period + 1e-9)
        if not closing:
            # the sample at exactly tau + h must have its right neighbour: strict inequality
            while k_end >= self._next_k and origin + float(k_end) * period + h >= t_last:
                k_end -= 1
        if k_end < self._next_k:
            return None
        ks = np.arange(self._next_k, k_end + 1, dtype=np.int64)
        tau = self._tau(ks)
        # (an output on the last input's time, as computed on the grid, may round a hair past
        # it: it is still that input's time, and the stream's last model sample)
        keep = tau <= t_last + 1e-6 * period
        if not keep.all():
            ks, tau = ks[keep], tau[keep]
        t, x, d = self._t, self._x, self._density(closing)
        lo = np.searchsorted(t, tau - h, side="left")
        count = np.searchsorted(t, tau + h, side="right") - lo
        # blocks of outputs bound the memory of a long batch (results don't depend on them)
        rows = [_Rows(tau[i : i + _BLOCK], t, x, d, lo[i : i + _BLOCK], count[i : i + _BLOCK])
                for i in range(0, ks.size, _BLOCK)]
        self._next_k = int(k_end) + 1
        if not closing:
            self._trim()
        return ks, np.full(ks.size, self._segment, dtype=np.int64), rows

    def _trim(self) -> None:
        """Forget samples that no future output of this segment can reach."""
        assert self.origin is not None
        tau_next = self.origin + float(self._next_k) * self.period_s
        keep_from = int(np.searchsorted(self._t, tau_next - self.kernel.half_width_s, "left"))
        if keep_from > 0:
            self._left_t = float(self._t[keep_from - 1])
            self._has_left = True
            self._t = self._t[keep_from:]
            self._x = self._x[keep_from:]


#: one emit: grid indices, segment numbers and the rows to compute (``None``: nothing ready)
_Emit = tuple[I64, I64, list[_Rows]] | None


class ResamplePlan:
    """Outputs a :class:`StreamResampler` has decided on but not yet computed.

    Made by :meth:`StreamResampler.plan` / :meth:`~StreamResampler.plan_flush`; turned into
    a :class:`ResampledChunk` by :meth:`resolve` (this plan alone) or :func:`resolve_plans`
    (many streams' plans in one vectorised pass).
    """

    def __init__(self, kernel: KernelSpec, channels: int, emits: list[_Emit],
                 gaps: list[Gap], origin: float | None, period_s: float,
                 matched: float | None = None, in_period: float | None = None) -> None:
        self.kernel = kernel
        self.matched = matched
        self.in_period = in_period
        self.channels = channels
        self._emits = [e for e in emits if e is not None and e[0].size]
        self._gaps = tuple(gaps)
        self._origin = origin
        self._period_s = period_s

    @property
    def rows(self) -> list[_Rows]:
        """The outputs to compute, one group per emit."""
        return [r for e in self._emits if e is not None for r in e[2]]

    def resolve(self, values: list[F64] | None = None) -> ResampledChunk:
        """The chunk, from this plan's computed rows (``values``, as :func:`resolve_plans`
        hands them out) or computing them now."""
        if values is None:
            values = []
            for r in self.rows:  # block by block: a long batch never holds all its taps
                values += _compute_rows([r], self.kernel, self.matched, self.in_period)
        if self._emits:
            k = np.concatenate([e[0] for e in self._emits if e is not None])
            seg = np.concatenate([e[1] for e in self._emits if e is not None])
            x = np.concatenate(values, axis=0) if len(values) > 1 else values[0]
        else:
            k, x, seg = (np.empty(0, np.int64), np.empty((0, self.channels)),
                         np.empty(0, np.int64))
        t = (self._origin + k.astype(np.float64) * self._period_s if self._origin is not None
             else np.empty(0))
        return ResampledChunk(k=k, t=t, x=x, segment=seg, gaps=self._gaps, origin=self._origin)


def resolve_plans(plans: Sequence[ResamplePlan]) -> list[ResampledChunk]:
    """Compute many resamplers' plans together: one vectorised pass per kernel and tap
    width over all their outputs, each result bit-identical to ``plan.resolve()``."""
    by_kernel: dict[tuple[KernelSpec, int, float | None, float | None], list[int]] = {}
    for n, p in enumerate(plans):
        if p.rows:
            by_kernel.setdefault((p.kernel, p.channels, p.matched, p.in_period), []).append(n)
    values: dict[int, list[F64]] = {}
    for (kernel, _, matched, in_period), members in by_kernel.items():
        jobs = [r for n in members for r in plans[n].rows]
        got = _compute_rows(jobs, kernel, matched, in_period)
        at = 0
        for n in members:
            m = len(plans[n].rows)
            values[n] = got[at : at + m]
            at += m
    return [p.resolve(values.get(n, [])) for n, p in enumerate(plans)]
