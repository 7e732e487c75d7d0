"""Corpus clips -> per-modality model inputs of evaluation windows (numpy; no torch).

The IMU stream of a clip goes whole through :func:`aura_sdk.preprocessing.preprocess`, the
code the device runs (units, anti-aliased resampling, gaps, gravity, windowing,
normalisation), so evaluation windows are exactly the windows a device would produce from
that recording. A window is kept when it lies wholly inside one labelled stretch; it is
paired with the mocap and video frames of the same seconds and with one of the stretch's
descriptions. Everything is deterministic: the IMU stream is a fixed preference, and the
caption is picked by the window's index in its clip, so consecutive windows of one stretch
get different descriptions where the corpus has several.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ModelInputSpec, PreprocessingError, SensorSpec, SpecMismatchError
from aura_sdk.preprocessing import (
    UPRIGHT_AXES,
    UPRIGHT_SUFFIX,
    WALKING_PLACEMENTS,
    PreprocessConfig,
    Windows,
    estimate_upright,
    preprocess,
    rotate_imu,
    upright_rotation,
)

from ..corpus import Sample, TimelineEntry

__all__ = ["DEFAULT_LOCATIONS", "EvalWindow", "UprightMode", "WindowStats",
           "clip_imu_windows", "eval_windows", "location_placement"]

#: How an evaluation tells a model the wearer's upright (:attr:`aura_sdk.SensorSpec.upright`):
#: ``"none"``: never; ``"estimate"``: found from the clip's own stream without labels
#: (:func:`aura_sdk.preprocessing.estimate_upright`; clips without enough walking, and
#: devices outside :data:`~aura_sdk.preprocessing.WALKING_PLACEMENTS`, get none), as a device
#: does with ``upright="auto"``; ``"mount"``: the corpus's own mounting (what a
#: user who says how the device is worn gives).
UprightMode = Literal["none", "estimate", "mount"]

#: IMU locations tried in order when none is asked for (the product is a wrist device).
DEFAULT_LOCATIONS: tuple[str, ...] = ("left_wrist", "right_wrist", "dominant_wrist", "wrist",
                                      "hand")


@dataclass(frozen=True, eq=False)
class EvalWindow:
    """One evaluation window's model inputs and labels.

    Attributes:
        clip_id, start_s: where it comes from (``start_s`` in clip time).
        activity: its label.
        imu: ``(window_samples, 6)`` float32 normalised model input.
        text: the caption paired with it, or ``None``.
        video: ``(frames, H, W)`` uint8, or ``None``.
        mocap: ``(frames, 17, 3)`` float32 keypoints, or ``None`` (also when any is NaN).
        placement: where the IMU is worn (:func:`location_placement` of its stream), or
            ``None`` when the stream's name does not say.
    """

    clip_id: str
    start_s: float
    activity: str
    imu: NDArray[np.float32]
    text: str | None = None
    video: NDArray[np.uint8] | None = None
    mocap: NDArray[np.float32] | None = None
    placement: str | None = None


def location_placement(location: str) -> str | None:
    """The ``SensorSpec.PLACEMENTS`` entry of an IMU stream's location name
    (``"left_waist"`` -> ``"waist"``, ``"wrist"`` -> ``"wrist"``), or ``None`` (``"hand"``)."""
    kind = location.split("_", 1)[-1] if location.split("_", 1)[0] in (
        "left", "right", "dominant", "other") else location
    return kind if kind in SensorSpec.PLACEMENTS else None


@dataclass
class WindowStats:
    """What :func:`eval_windows` kept and why it dropped the rest.

    Attributes:
        clips: clips read.
        windows: windows kept.
        dropped: reason -> clips or windows dropped.
        missing: modality -> windows kept without that modality.
    """

    clips: int = 0
    windows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, n: int = 1) -> None:
        """Count dropped clips or windows."""
        self.dropped[reason] = self.dropped.get(reason, 0) + n

    def lack(self, modality: str) -> None:
        """Count a window kept without ``modality``."""
        self.missing[modality] = self.missing.get(modality, 0) + 1


def _pick_location(sample: Sample, location: str | None) -> str | None:
    if location is not None:
        return location if location in sample.imu else None
    for loc in DEFAULT_LOCATIONS:
        if loc in sample.imu:
            return loc
    return next(iter(sorted(sample.imu)), None)


def clip_imu_windows(sample: Sample, spec: ModelInputSpec, *, location: str | None = None,
                     hop_samples: int | None = None,
                     turn: NDArray[np.float64] | None = None) -> Windows | None:
    """A clip's IMU stream preprocessed into model windows (``None``: no such stream).

    Args:
        sample: the clip.
        spec: the model's input spec.
        location: the stream (default: the first of :data:`DEFAULT_LOCATIONS` it has).
        hop_samples: hop between windows (default: one window, no overlap).
        turn: a rotation of the sensor frame applied first (see :func:`clip_upright`).

    Raises:
        SpecMismatchError: the stream's gravity convention cannot feed this model.
        PreprocessingError: the stream is malformed.
    """
    loc = _pick_location(sample, location)
    if loc is None:
        return None
    st = sample.imu[loc]
    cfg = PreprocessConfig(hop_samples=hop_samples or spec.window_samples)
    data = st.data if turn is None else rotate_imu(st.data, turn)
    return preprocess(data, st.spec, spec, t=st.t, config=cfg)


def clip_upright(sample: Sample, location: str, mode: UprightMode
                 ) -> NDArray[np.float64] | None:
    """The wearer's upright in the device frame of a clip's stream (see
    :data:`UprightMode`), or ``None``: not asked, not found, or a stream without gravity."""
    st = sample.imu[location]
    placement = location_placement(location)
    if mode == "none" or placement is None or st.spec.gravity_removed:
        return None
    if mode == "mount":
        mount = sample.params.get("imu", {}).get(location, {}).get("mount_rot")
        if mount is None:
            return None
        return np.asarray(mount, dtype=np.float64).T @ np.asarray(UPRIGHT_AXES[placement])
    if placement not in WALKING_PLACEMENTS:
        return None
    return estimate_upright(st.data, st.spec)


def _frames(x: NDArray[np.generic] | None, fps: float, t0: float, dur: float,
            ) -> NDArray[np.generic] | None:
    if x is None:
        return None
    a, n = round(t0 * fps), round(dur * fps)
    if a < 0 or a + n > x.shape[0]:
        return None
    return x[a : a + n]


def _stretch(timeline: Sequence[TimelineEntry], t0: float, t1: float) -> TimelineEntry | None:
    return next((e for e in timeline if e.start_s <= t0 + 1e-9 and t1 <= e.end_s + 1e-9), None)


def _caption(sample: Sample, entry: TimelineEntry, t0: float, t1: float,
             index: int) -> str | None:
    texts = entry.texts or sample.texts
    if texts:
        return texts[index % len(texts)]
    inside = [c.text for c in sample.captions if t0 <= c.t_s < t1]
    return inside[index % len(inside)] if inside else None


def eval_windows(
    samples: Iterable[Sample],
    spec: ModelInputSpec,
    *,
    hop_s: float | None = None,
    location: str | None = None,
    modalities: Sequence[str] = ("imu", "text", "video", "mocap"),
    stats: WindowStats | None = None,
    upright: UprightMode = "none",
    upright_placements: Collection[str] = (),
) -> Iterator[EvalWindow]:
    """Stream the model inputs of every labelled window of ``samples``.

    Args:
        samples: clips (a corpus split, or a loader's output).
        spec: the model's input spec (rate, window, normalisation).
        hop_s: hop between windows in seconds (default: one window, no overlap).
        location: IMU stream to use (see :func:`clip_imu_windows`).
        modalities: which inputs to build besides the IMU.
        stats: counters to update (kept and dropped windows).
        upright: whether and how the wearer's upright is found (:data:`UprightMode`); a
            clip whose upright is found has its stream turned to it and its placement read
            as ``placement + UPRIGHT_SUFFIX``, for placements in ``upright_placements`` (a
            model's :attr:`~aura_sdk.AuraModel.placements`); ``stats.missing["upright"]``
            counts the windows without one.

    Yields:
        One :class:`EvalWindow` per window wholly inside a labelled stretch, clip by clip,
        in time order.
    """
    stats = stats if stats is not None else WindowStats()
    win = spec.window_s
    hop = None if hop_s is None else max(1, round(hop_s * spec.sample_rate_hz))
    for sample in samples:
        stats.clips += 1
        loc = _pick_location(sample, location)
        placement = None if loc is None else location_placement(loc)
        turn = None
        if (loc is not None and placement is not None
                and placement + UPRIGHT_SUFFIX in upright_placements):
            up = clip_upright(sample, loc, upright)
            if up is not None:
                turn = upright_rotation(up, placement)
                placement += UPRIGHT_SUFFIX
        try:
            windows = clip_imu_windows(sample, spec, location=location, hop_samples=hop,
                                       turn=turn)
        except SpecMismatchError:
            stats.drop("clip: gravity convention the model cannot take")
            continue
        except PreprocessingError:
            stats.drop("clip: malformed IMU stream")
            continue
        if windows is None:
            stats.drop("clip: no IMU stream at the location")
            continue
        for i in range(len(windows)):
            t0 = float(windows.t_start[i])
            t1 = t0 + win
            entry = _stretch(sample.timeline, t0, t1)
            if entry is None or bool(windows.padded[i]):
                stats.drop("window: not inside one labelled stretch")
                continue
            text = _caption(sample, entry, t0, t1, i) if "text" in modalities else None
            video = (_frames(sample.video, sample.video_fps, t0, win)
                     if "video" in modalities else None)
            mocap = (_frames(sample.mocap, sample.mocap_fps, t0, win)
                     if "mocap" in modalities else None)
            if mocap is not None and not np.isfinite(mocap).all():
                mocap = None  # unannotated frames (Ego-Exo4D): no mocap for this window
            for name, value in (("text", text), ("video", video), ("mocap", mocap)):
                if name in modalities and value is None:
                    stats.lack(name)
            if upright != "none" and turn is None:
                stats.lack("upright")
            stats.windows += 1
            yield EvalWindow(
                clip_id=sample.clip_id, start_s=t0, activity=entry.activity,
                imu=np.ascontiguousarray(windows.x[i], dtype=np.float32), text=text,
                video=None if video is None else np.ascontiguousarray(video, dtype=np.uint8),
                mocap=None if mocap is None else np.ascontiguousarray(mocap, dtype=np.float32),
                placement=placement)
