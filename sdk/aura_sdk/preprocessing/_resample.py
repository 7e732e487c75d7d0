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

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import i0

__all__ = ["Gap", "KernelSpec", "ResampledChunk", "StreamResampler", "kernel_weights"]

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


def kernel_weights(u: F64, kernel: KernelSpec) -> F64:
    """Kaiser-windowed sinc evaluated at time offsets ``u`` (seconds); zero outside the span."""
    x = u / kernel.half_width_s
    inside = np.abs(x) <= 1.0
    win = i0(kernel.beta * np.sqrt(np.clip(1.0 - x * x, 0.0, None))) / i0(kernel.beta)
    return np.where(inside, np.sinc(2.0 * kernel.cutoff_hz * u) * win, 0.0)


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
        outs: list[tuple[I64, F64, I64]] = []
        gaps: list[Gap] = []
        if t.size == 0:
            return self._pack(outs, gaps)
        if self.origin is None:
            self.origin = float(t[0])
        prev = np.concatenate(([t[0] if self._last_t is None else self._last_t], t[:-1]))
        cuts = set(np.flatnonzero(t - prev > self.gap_tolerance_s).tolist())
        bounds = sorted({0, *cuts, t.size})
        for a, b in itertools.pairwise(bounds):
            if a in cuts:
                assert self._last_t is not None  # a cut needs a previous sample
                gap_start = self._last_t
                outs.append(self._emit(closing=True))
                gaps.append(Gap(start_s=gap_start, length_s=float(t[a]) - gap_start))
                self._start_segment(float(t[a]), new=True)
            elif self._last_t is None:
                self._start_segment(float(t[a]), new=False)
            self._append(t[a:b], x[a:b])
            self._last_t = float(t[b - 1])
            outs.append(self._emit(closing=False))
        return self._pack(outs, gaps)

    def flush(self) -> ResampledChunk:
        """End of stream: emit every remaining output; the resampler is then fresh again."""
        outs = [self._emit(closing=True)] if self._t.size else []
        chunk = self._pack(outs, [])
        self._reset()  # the stream is over: a later feed starts a new one with a new origin
        return chunk

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

    def _emit(self, closing: bool) -> tuple[I64, F64, I64]:
        """Compute every output whose inputs are all known; drop inputs no longer needed."""
        empty = (np.empty(0, np.int64), np.empty((0, self.channels)), np.empty(0, np.int64))
        if not self._t.size:
            return empty
        h = self.kernel.half_width_s
        t_last = float(self._t[-1])
        # outputs need every sample within +-h known, and the density of the last of them
        limit = t_last if closing else t_last - h
        assert self.origin is not None
        k_end = math.floor((limit - self.origin) / self.period_s + 1e-9)
        if not closing:
            # the sample at exactly tau + h must have its right neighbour: strict inequality
            while k_end >= self._next_k and self._tau(np.array([k_end]))[0] + h >= t_last:
                k_end -= 1
        if k_end < self._next_k:
            return empty
        ks = np.arange(self._next_k, k_end + 1, dtype=np.int64)
        ks = ks[self._tau(ks) <= t_last]
        d = self._density(closing)
        ys = [self._interpolate(ks[i : i + _BLOCK], d) for i in range(0, ks.size, _BLOCK)]
        y = np.concatenate(ys, axis=0) if ys else np.empty((0, self.channels))
        self._next_k = int(k_end) + 1
        if not closing:
            self._trim()
        seg = np.full(ks.size, self._segment, dtype=np.int64)
        return ks, y, seg

    def _interpolate(self, ks: I64, d: F64) -> F64:
        tau = self._tau(ks)
        h = self.kernel.half_width_s
        t, x = self._t, self._x
        lo = np.searchsorted(t, tau - h, side="left")
        count = np.searchsorted(t, tau + h, side="right") - lo
        out = np.empty((ks.size, self.channels))
        # Each output's weighted sum runs over a zero-padded length that depends only on its own
        # tap count (the next power of two), reduced along a contiguous axis: the additions and
        # their order are then the same whatever block or chunk the output is computed in, so
        # streaming and batch results are bit-identical.
        width = np.where(count > 0, 1 << np.ceil(np.log2(np.maximum(count, 1))).astype(np.int64),
                         1)
        for w_len in np.unique(width):
            rows = np.flatnonzero(width == w_len)
            j = np.arange(int(w_len))
            idx = lo[rows, None] + j[None, :]
            valid = j[None, :] < count[rows, None]
            idx = np.minimum(idx, t.size - 1)
            u = tau[rows, None] - t[idx]
            w = np.where(valid, kernel_weights(u, self.kernel) * d[idx], 0.0)
            num = np.add.reduce(np.ascontiguousarray(
                (w[:, :, None] * x[idx]).transpose(0, 2, 1)), axis=-1)
            den = np.add.reduce(w, axis=-1)
            good = np.abs(den) > 1e-12
            with np.errstate(invalid="ignore", divide="ignore"):
                out[rows] = num / den[:, None]
            if not good.all():
                # a degenerate weight sum needs absurd timestamps: take the nearest sample
                bad = rows[~good]
                near = np.clip(np.searchsorted(t, tau[bad]), 0, t.size - 1)
                out[bad] = x[near]
        return out

    def _trim(self) -> None:
        """Forget samples that no future output of this segment can reach."""
        tau_next = float(self._tau(np.array([self._next_k]))[0])
        keep_from = int(np.searchsorted(self._t, tau_next - self.kernel.half_width_s, "left"))
        if keep_from > 0:
            self._left_t = float(self._t[keep_from - 1])
            self._has_left = True
            self._t = self._t[keep_from:]
            self._x = self._x[keep_from:]

    def _pack(self, outs: list[tuple[I64, F64, I64]], gaps: list[Gap]) -> ResampledChunk:
        outs = [o for o in outs if o[0].size]
        if outs:
            k = np.concatenate([o[0] for o in outs])
            x = np.concatenate([o[1] for o in outs], axis=0)
            seg = np.concatenate([o[2] for o in outs])
        else:
            k, x, seg = np.empty(0, np.int64), np.empty((0, self.channels)), np.empty(0, np.int64)
        t = self._tau(k) if self.origin is not None else np.empty(0)
        return ResampledChunk(k=k, t=t, x=x, segment=seg, gaps=tuple(gaps), origin=self.origin)
