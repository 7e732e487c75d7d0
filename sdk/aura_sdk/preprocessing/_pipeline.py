"""The preprocessing pipeline: raw device samples -> normalised model windows.

    to SI -> clean (drop non-finite, non-increasing) -> resample to the model grid (anti-aliased,
    gaps split segments) -> gravity convention -> windows with a hop -> normalise

:class:`Preprocessor` is the streaming form; :func:`preprocess` is the batch form and is
literally ``Preprocessor.feed(all) + flush()``, so the two cannot drift apart. The training data
pipeline calls the same functions (train/serve skew is the classic silent failure).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from .._errors import SpecMismatchError
from .._spec import ModelInputSpec, SensorSpec
from ._gravity import GravityTracker
from ._resample import Gap, KernelSpec, ResampledChunk, ResamplePlan, StreamResampler
from ._units import as_timestamps, to_si
from ._window import Windower, normalize

__all__ = [
    "PreprocessConfig",
    "PreprocessPlan",
    "PreprocessStats",
    "Preprocessor",
    "Windows",
    "concat_windows",
    "gravity_action",
    "preprocess",
    "timestamps_from_last",
]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


class PreprocessConfig(BaseModel):
    """Knobs of the preprocessing pipeline (the defaults suit live recognition).

    Attributes:
        gap_tolerance_s: a jump between consecutive timestamps longer than this is a gap (not
            interpolated across). ``None``: ``max(4 device periods, 2 model periods)``.
        hop_samples: hop between windows; ``None`` uses the model's default hop.
        pad_min_fraction: a segment that never fills a whole window is padded into one if it
            holds at least this fraction of a window; 0 never pads.
        kernel_zeros, kernel_beta, kernel_rolloff: the resampling kernel (defaults: the design
            of ``scipy.signal.resample_poly``).
        gravity_tau_s: time constant of the gravity tracker (raw -> gravity-removed only).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gap_tolerance_s: float | None = Field(default=None, gt=0)
    hop_samples: int | None = Field(default=None, ge=1)
    pad_min_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    kernel_zeros: int = Field(default=10, ge=2, le=64)
    kernel_beta: float = Field(default=5.0, ge=0.0, le=20.0)
    kernel_rolloff: float = Field(default=1.0, gt=0.0, le=1.0)
    gravity_tau_s: float = Field(default=1.0, gt=0.0)


@dataclass
class PreprocessStats:
    """Counters: nothing is dropped without being counted."""

    samples_in: int = 0
    dropped_nonfinite: int = 0
    dropped_out_of_order: int = 0
    samples_resampled: int = 0
    gaps: int = 0
    windows: int = 0
    windows_padded: int = 0
    dropped_tail: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True)
class Windows:
    """Model-ready windows and where they came from.

    Attributes:
        x: ``(N, window, 6)`` float32, normalised: the encoder's input.
        t_start, t_end: ``(N,)`` time of the first sample and one model period after the last
            real (not padded) sample, in seconds in the caller's time base.
        padded: ``(N,)`` whether the window was completed by padding.
        gaps: gaps found while producing these windows.
    """

    x: F32
    t_start: F64
    t_end: F64
    padded: npt.NDArray[np.bool_]
    gaps: tuple[Gap, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.x.shape[0])


def gravity_action(sensor: SensorSpec, model: ModelInputSpec) -> str:
    """``"keep"`` or ``"remove"``: what to do with gravity to feed ``model`` from ``sensor``.

    Raises:
        SpecMismatchError: the model needs gravity and the device removed it.
    """
    if model.gravity == "either" or (model.gravity == "removed") == sensor.gravity_removed:
        return "keep"
    if model.gravity == "removed":
        return "remove"
    raise SpecMismatchError(
        "the model expects raw acceleration including gravity, but the device sends "
        "gravity-removed linear acceleration, and gravity cannot be restored without the "
        "device's orientation: stream the raw accelerometer instead, or use a bundle whose "
        "input.gravity is 'removed' or 'either'"
    )


def timestamps_from_last(t_last: float, n: int, rate_hz: float) -> F64:
    """Times of ``n`` samples read in one batch (a FIFO), back-dated from the last one."""
    return t_last - (n - 1 - np.arange(n, dtype=np.float64)) / rate_hz


class Preprocessor:
    """Streaming preprocessing for one device stream: ``feed`` chunks, ``flush`` at the end.

    Args:
        sensor: what the device sends.
        model: what the model consumes (from the bundle manifest).
        config: pipeline knobs.

    Raises:
        SpecMismatchError: the device's gravity convention cannot feed the model.
    """

    def __init__(
        self, sensor: SensorSpec, model: ModelInputSpec, config: PreprocessConfig | None = None
    ) -> None:
        self.sensor = sensor
        self.model = model
        self.config = config = config or PreprocessConfig()
        self._gravity = (
            GravityTracker(model.sample_rate_hz, config.gravity_tau_s)
            if gravity_action(sensor, model) == "remove" else None
        )
        tol = config.gap_tolerance_s or max(4.0 / sensor.sample_rate_hz, 2.0 / model.sample_rate_hz)
        self._resampler = StreamResampler(
            sensor.sample_rate_hz, model.sample_rate_hz, 6, gap_tolerance_s=tol,
            kernel=KernelSpec.design(
                sensor.sample_rate_hz, model.sample_rate_hz, zeros=config.kernel_zeros,
                beta=config.kernel_beta, rolloff=config.kernel_rolloff,
            ),
        )
        self._mean = np.asarray(model.norm_mean, dtype=np.float64)
        self._std = np.asarray(model.norm_std, dtype=np.float64)
        pad_min = int(np.ceil(config.pad_min_fraction * model.window_samples))
        if config.pad_min_fraction > 0:
            pad_min = max(pad_min, 1)
        self._windower = Windower(
            model.window_samples, config.hop_samples or model.hop_samples, pad_min=pad_min,
            pad_mode=model.pad_mode, mean=self._mean,
        )
        self._segment = 0
        self._last_t = -np.inf
        self._n_untimed = 0
        self.stats = PreprocessStats()

    @property
    def gap_tolerance_s(self) -> float:
        return self._resampler.gap_tolerance_s

    @property
    def lookahead_s(self) -> float:
        """How far past a model sample the input must reach before it is computed (the
        resampling kernel's half width)."""
        return self._resampler.kernel.half_width_s

    def feed(self, imu: npt.ArrayLike, t: npt.ArrayLike | None = None) -> Windows:
        """Add raw samples in the device's units; return the windows that are now complete.

        Args:
            imu: ``(n, 6)`` samples ``[ax ay az gx gy gz]`` in the sensor spec's units.
            t: ``(n,)`` timestamps in seconds; ``None`` assumes the nominal rate with no gaps
                (sample ``i`` of the whole stream at ``i / rate``).

        Raises:
            PreprocessingError: wrong shapes or non-numeric input.
        """
        return self.plan(imu, t).finish()

    def plan(self, imu: npt.ArrayLike, t: npt.ArrayLike | None = None) -> PreprocessPlan:
        """:meth:`feed` in two steps, so that many streams' resampling can run as one
        vectorised pass: clean the samples and plan their resampling now; compute and window
        them in :meth:`PreprocessPlan.finish` (after
        :func:`~aura_sdk.preprocessing.resolve_plans`, or alone). A stream's plans must be
        finished in the order they were made, before its next :meth:`flush`.

        Raises:
            PreprocessingError: wrong shapes or non-numeric input.
        """
        x = to_si(imu, self.sensor)
        n = x.shape[0]
        if t is None:
            tt = (self._n_untimed + np.arange(n, dtype=np.float64)) / self.sensor.sample_rate_hz
            self._n_untimed += n
        else:
            tt = as_timestamps(t, n)
        self.stats.samples_in += n
        if not (n and tt[0] > self._last_t and np.isfinite(x).all() and np.isfinite(tt[-1])
                and (n == 1 or bool((np.diff(tt) > 0).all()))):
            # something to drop (the common case, finite and in order, skips the masks)
            finite = np.isfinite(x).all(axis=1) & np.isfinite(tt)
            self.stats.dropped_nonfinite += int(n - finite.sum())
            x, tt = x[finite], tt[finite]
            # keep a sample only if it is later than every sample before it
            running = np.maximum.accumulate(np.concatenate(([self._last_t], tt)))[:-1]
            ordered = tt > running
            self.stats.dropped_out_of_order += int(tt.size - ordered.sum())
            x, tt = x[ordered], tt[ordered]
        if tt.size:
            self._last_t = float(tt[-1])
        return PreprocessPlan(self, self._resampler.plan(tt, x))

    def flush(self) -> Windows:
        """End of stream: close the last segment (padding it if configured) and reset."""
        out = self._after_resample(self._resampler.flush(), closing=True)
        self._segment = 0
        self._last_t = -np.inf
        self._n_untimed = 0
        if self._gravity is not None:
            self._gravity.reset()
        return out

    def _after_resample(self, chunk: ResampledChunk, closing: bool = False) -> Windows:
        wins: list[F64] = []
        starts: list[int] = []
        real: list[int] = []
        self.stats.samples_resampled += int(chunk.k.size)
        self.stats.gaps += len(chunk.gaps)
        # walk the chunk segment by segment; a segment change means a gap closed the previous
        seg_ids = chunk.segment
        if seg_ids.size and seg_ids[0] != seg_ids[-1]:  # segment ids never decrease
            bounds = [0, *(np.flatnonzero(np.diff(seg_ids)) + 1).tolist(), seg_ids.size]
        else:
            bounds = [0, seg_ids.size]
        for a, b in itertools.pairwise(bounds):
            if a == b:
                continue
            seg = int(seg_ids[a])
            while self._segment < seg:  # one or more gaps since the last output
                self._collect(self._windower.close_segment(), wins, starts, real)
                if self._gravity is not None:
                    self._gravity.reset()
                self._segment += 1
            xs = chunk.x[a:b]
            if self._gravity is not None:
                xs = self._gravity.remove(xs)
            self._collect(self._windower.feed(chunk.k[a:b], xs), wins, starts, real)
        if closing:
            self._collect(self._windower.close_segment(), wins, starts, real)
        self.stats.dropped_tail = self._windower.dropped_tail
        return self._pack(wins, starts, real, chunk)

    @staticmethod
    def _collect(
        got: tuple[list[F64], list[int], list[int]], wins: list[F64], starts: list[int],
        real: list[int],
    ) -> None:
        wins.extend(got[0])
        starts.extend(got[1])
        real.extend(got[2])

    def _pack(
        self, wins: list[F64], starts: list[int], real: list[int], chunk: ResampledChunk
    ) -> Windows:
        L = self.model.window_samples
        if not wins:
            return Windows(x=np.empty((0, L, 6), np.float32), t_start=np.empty(0),
                           t_end=np.empty(0), padded=np.empty(0, bool), gaps=chunk.gaps)
        period = 1.0 / self.model.sample_rate_hz
        origin = chunk.origin if chunk.origin is not None else 0.0
        k0 = np.asarray(starts, dtype=np.float64)
        n_real = np.asarray(real, dtype=np.float64)
        padded = n_real < L
        self.stats.windows += len(wins)
        self.stats.windows_padded += int(padded.sum())
        x = (normalize(np.stack(wins), self._mean, self._std) if wins
             else np.empty((0, L, 6), np.float32))
        return Windows(
            x=x,
            t_start=origin + k0 * period,
            t_end=origin + (k0 + n_real) * period,
            padded=padded,
            gaps=chunk.gaps,
        )


class PreprocessPlan:
    """Samples a :class:`Preprocessor` has cleaned and planned (see :meth:`Preprocessor.plan`).

    Attributes:
        resample: the resampling still to compute (hand many streams' to
            :func:`~aura_sdk.preprocessing.resolve_plans`).
    """

    def __init__(self, owner: Preprocessor, resample: ResamplePlan) -> None:
        self._owner = owner
        self.resample = resample

    def finish(self, chunk: ResampledChunk | None = None) -> Windows:
        """Window the resampled samples (``chunk``: this plan's resolved resampling; ``None``
        computes it now) and return the windows that are now complete."""
        return self._owner._after_resample(self.resample.resolve() if chunk is None else chunk)


def preprocess(
    imu: npt.ArrayLike, sensor: SensorSpec, model: ModelInputSpec,
    t: npt.ArrayLike | None = None, config: PreprocessConfig | None = None,
) -> Windows:
    """Batch preprocessing of a whole recording: the streaming pipeline fed in one chunk.

    Raises:
        PreprocessingError: wrong shapes or non-numeric input.
        SpecMismatchError: the device's gravity convention cannot feed the model.
    """
    pre = Preprocessor(sensor, model, config)
    a = pre.feed(imu, t)
    b = pre.flush()
    return concat_windows([a, b])


def concat_windows(parts: list[Windows]) -> Windows:
    """Join the outputs of successive ``feed``/``flush`` calls into one :class:`Windows`."""
    return Windows(
        x=np.concatenate([p.x for p in parts], axis=0),
        t_start=np.concatenate([p.t_start for p in parts]),
        t_end=np.concatenate([p.t_end for p in parts]),
        padded=np.concatenate([p.padded for p in parts]),
        gaps=tuple(g for p in parts for g in p.gaps),
    )

