"""Model-ready windows for calibration, parity and validation: from a corpus, the synthetic
generator, or any array.

Every window here went through :func:`aura_sdk.preprocessing.preprocess` with the model's own
:class:`~aura_sdk.ModelInputSpec` (resampling, gravity convention, normalisation), so it is
exactly what the encoder sees on the device. Nothing here imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from aura_sdk import CHANNELS, ConfigError, ModelInputSpec, SensorSpec
from aura_sdk.bundle import EncoderSpec
from aura_sdk.preprocessing import preprocess

if TYPE_CHECKING:
    from aura_training.corpus import TimelineEntry

__all__ = ["WindowSet", "as_window_set", "corpus_windows", "synthetic_windows"]

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class WindowSet:
    """Preprocessed windows, optionally labelled and placed.

    Attributes:
        x: ``(N, window_samples, 6)`` float32, normalised as the model expects.
        labels: one activity name per window, or ``None`` when unlabelled.
        source: where they came from, for provenance (``"corpus:/data/c"``, ``"synthetic"``).
        placements: where each window's sensor was worn, as a placement *name* (``"wrist"``,
            ``"waist"``, ...; the kinds of ``SensorSpec.PLACEMENTS``) or ``None`` for "not
            said"; ``None`` for the whole set when no window says. Names, not ids: each
            encoder numbers its own placements (:meth:`placement_ids`).

    Raises:
        ConfigError: on construction, a wrong shape, non-finite values, or a label or
            placement count that differs from the window count.
    """

    x: F32
    labels: tuple[str, ...] | None = None
    source: str = "array"
    placements: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        x = np.ascontiguousarray(self.x, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != len(CHANNELS) or x.shape[0] < 1:
            raise ConfigError(f"windows must be a non-empty (N, window, {len(CHANNELS)}) array, "
                              f"got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ConfigError("windows contain NaN or infinite values")
        if self.labels is not None:
            labels = tuple(str(v) for v in self.labels)
            if len(labels) != x.shape[0]:
                raise ConfigError(f"{len(labels)} labels for {x.shape[0]} windows; give one "
                                  "label per window")
            object.__setattr__(self, "labels", labels)
        if self.placements is not None:
            placed = tuple(None if v is None else str(v) for v in self.placements)
            if len(placed) != x.shape[0]:
                raise ConfigError(f"{len(placed)} placements for {x.shape[0]} windows; give "
                                  "one placement (or None) per window")
            if "" in placed:
                raise ConfigError("a window's placement is an empty name; use None for "
                                  "\"not said\"")
            object.__setattr__(self, "placements", placed)
        object.__setattr__(self, "x", x)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def window_samples(self) -> int:
        """Samples per window."""
        return int(self.x.shape[1])

    def subset(self, max_windows: int, seed: int = 0) -> WindowSet:
        """At most ``max_windows`` windows, drawn without replacement (order kept)."""
        if len(self) <= max_windows:
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self), max_windows, replace=False))
        labels = None if self.labels is None else tuple(self.labels[i] for i in keep)
        placed = None if self.placements is None else tuple(self.placements[i] for i in keep)
        return WindowSet(self.x[keep], labels, self.source, placed)

    def placement_ids(self, placements: Sequence[str]) -> npt.NDArray[np.int64]:
        """Each window's value for an encoder's placement input, ``(N,)`` int64.

        The ids follow the bundle format (:meth:`aura_sdk.bundle.EncoderSpec.placement_id`):
        0 for a window whose placement is not said or is not among ``placements``, and
        ``1 + i`` for ``placements[i]``.

        Args:
            placements: the encoder's placement names, in its own order (its config's
                ``placements``); empty for an encoder without a placement input (all 0).
        """
        ids = np.zeros(len(self), dtype=np.int64)
        if self.placements is not None and placements:
            ids[:] = [EncoderSpec.placement_index(placements, p) for p in self.placements]
        return ids


def as_window_set(data: WindowSet | npt.ArrayLike, window_samples: int | None = None) -> WindowSet:
    """Accept a :class:`WindowSet` or an ``(N, W, 6)`` array of preprocessed windows.

    Raises:
        ConfigError: bad shape, or windows of another length than ``window_samples``.
    """
    ws = data if isinstance(data, WindowSet) else WindowSet(np.asarray(data, dtype=np.float32))
    if window_samples is not None and ws.window_samples != window_samples:
        raise ConfigError(f"windows have {ws.window_samples} samples but the model takes "
                          f"{window_samples}; preprocess them with the model's ModelInputSpec")
    return ws


def synthetic_windows(
    input_spec: ModelInputSpec,
    activities: Sequence[str] | None = None,
    *,
    clips_per_activity: int = 2,
    clip_s: float | None = None,
    seed: int = 0,
    rate_hz: float | None = None,
    gravity_removed: bool | None = None,
) -> WindowSet:
    """Labelled windows from the procedural generator, recorded by virtual watches.

    Each clip is one activity; a virtual watch with a random mounting, rate (10-200 Hz unless
    ``rate_hz``), error model and gravity convention (unless fixed) records it, and the
    recording goes through the SDK's preprocessing to the model's rate and window. The
    windows' placement is left "not said" (``placements`` is ``None``).

    Args:
        input_spec: the model's input spec.
        activities: activity names (default: every activity of the generator).
        clips_per_activity: clips (different subjects and watches) per activity.
        clip_s: clip length in seconds (default: 2.5 windows, at least 8 s).
        seed: seeds everything; the same seed gives the same windows.
        rate_hz: fix the device rate instead of drawing it.
        gravity_removed: fix the gravity convention instead of drawing it (a model that
            needs gravity always gets raw specific force).

    Raises:
        ConfigError: an unknown activity, or ``clips_per_activity < 1``.
    """
    from aura_training.synth import activity_names, generate_clip, simulate_imu

    names = tuple(activities) if activities is not None else activity_names()
    unknown = sorted(set(names) - set(activity_names()))
    if unknown:
        raise ConfigError(f"unknown activities {unknown}; the generator knows "
                          f"{list(activity_names())}")
    if clips_per_activity < 1:
        raise ConfigError("clips_per_activity must be >= 1")
    length = clip_s if clip_s is not None else max(8.0, 2.5 * input_spec.window_s)
    # a model trained on raw specific force cannot be fed linear acceleration
    grav = False if input_spec.gravity == "included" else gravity_removed
    xs: list[F32] = []
    labels: list[str] = []
    for i, name in enumerate(names):
        for k in range(clips_per_activity):
            clip_seed = int(np.random.default_rng([seed, i, k]).integers(2**31))
            clip = generate_clip(name, length, seed=clip_seed)
            rec = simulate_imu(clip, clip_seed, rate_hz=rate_hz, gravity_removed=grav)
            sensor = SensorSpec(sample_rate_hz=rec.spec.rate_hz,
                                gravity_removed=rec.spec.gravity_removed)
            w = preprocess(rec.as_array(), sensor, input_spec, t=rec.t)
            xs.append(w.x)
            labels += [name] * len(w)
    if not labels:
        raise ConfigError("the generator produced no window; use longer clips (clip_s)")
    return WindowSet(np.concatenate(xs), tuple(labels), f"synthetic(seed={seed})")


def _label_of(timeline: Iterable[TimelineEntry], t0: float, t1: float) -> str | None:
    for entry in timeline:
        if entry.start_s <= t0 and t1 <= entry.end_s + 1e-9:
            return entry.activity
    return None


def corpus_windows(
    root: str | os.PathLike[str],
    input_spec: ModelInputSpec,
    *,
    split: str | Sequence[str] | None = "val",
    max_windows: int = 512,
    location: str | None = None,
    seed: int = 0,
) -> WindowSet:
    """Windows of a corpus on disk (``aura data synth``), labelled by the clips' timelines.

    Every IMU stream of every clip in ``split`` goes through the SDK's preprocessing with
    the model's input spec; a window is labelled with the timeline stretch that contains it
    whole, and windows that straddle two stretches are dropped. Each window's placement is
    its stream's kind of location (``"left_waist"`` -> ``"waist"``; a location the generator
    does not know is "not said").

    Args:
        root: the corpus directory.
        input_spec: the model's input spec.
        split: a split name, several, or ``None`` for all.
        max_windows: keep at most this many (a seeded random subset).
        location: only streams worn here (default: every stream).
        seed: seeds the subset.

    Raises:
        ConfigError: the corpus yields no labelled window.
        CorpusError: the corpus cannot be read (from :mod:`aura_training.corpus`).
    """
    from aura_training.corpus import CorpusReader

    reader = CorpusReader(root, split, modalities=("imu",))
    xs: list[F32] = []
    labels: list[str] = []
    placed: list[str | None] = []
    for sample in reader:
        for loc, stream in sample.imu.items():
            if location is not None and loc != location:
                continue
            if input_spec.gravity == "included" and stream.spec.gravity_removed:
                continue  # cannot feed a gravity model from linear acceleration
            kind = _placement_of(loc)
            w = preprocess(stream.data, stream.spec, input_spec, t=stream.t)
            for j in range(len(w)):
                name = _label_of(sample.timeline, float(w.t_start[j]), float(w.t_end[j]))
                if name is not None:
                    xs.append(w.x[j])
                    labels.append(name)
                    placed.append(kind)
    if not labels:
        raise ConfigError(f"corpus {root} (split {split!r}) yields no labelled window for a "
                          f"{input_spec.window_s:g} s window; pick another split or corpus")
    ws = WindowSet(np.stack(xs), tuple(labels), f"corpus:{root}", tuple(placed))
    return ws.subset(max_windows, seed)


def _placement_of(location: str) -> str | None:
    """The placement kind of a corpus location (``"left_waist"`` -> ``"waist"``), or
    ``None`` for a location the generator does not know."""
    from aura_training.synth import placement_of

    try:
        return placement_of(location)[1].kind
    except ValueError:
        return None
