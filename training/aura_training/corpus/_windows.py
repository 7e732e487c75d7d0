"""Cutting clips into aligned fixed-length windows of every modality (the training unit)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ConfigError

from ._sample import Caption, ImuStream, Sample, TimelineEntry

__all__ = ["Window", "crop", "iter_windows"]


@dataclass(frozen=True, eq=False)
class Window:
    """``[start_s, start_s + duration_s)`` of a clip, every modality cut to it.

    Attributes:
        clip_id: the clip it comes from.
        start_s: window start in the clip's time.
        duration_s: window length.
        activity: the label of the timeline stretch that contains the whole window, or
            ``None`` when it straddles stretches or transitions.
        texts: descriptions of that stretch (else the clip's own texts).
        imu: streams cut to the window; timestamps relative to ``start_s``.
        mocap: (round(duration * fps), 17, 3) frames, or ``None``.
        video: (round(duration * fps), H, W) frames, or ``None``.
        captions: time-stamped texts inside the window (times relative to ``start_s``).
        params: the stretch's parameters.
    """

    clip_id: str
    start_s: float
    duration_s: float
    activity: str | None
    texts: tuple[str, ...]
    imu: Mapping[str, ImuStream]
    mocap: NDArray[np.float32] | None
    video: NDArray[np.uint8] | None
    captions: tuple[Caption, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


def _frames(x: NDArray[Any] | None, fps: float, t0: float, dur: float) -> NDArray[Any] | None:
    if x is None:
        return None
    a = round(t0 * fps)
    n = round(dur * fps)
    if a + n > x.shape[0]:
        return None
    return x[a : a + n]


def iter_windows(
    sample: Sample,
    window_s: float = 5.0,
    hop_s: float | None = None,
    *,
    pure: bool = True,
) -> Iterator[Window]:
    """Fixed-length windows over a clip, aligned across modalities.

    Args:
        sample: the clip.
        window_s: window length in seconds.
        hop_s: step between window starts (default: ``window_s``, no overlap).
        pure: skip windows not wholly inside one labelled stretch (transitions, or two
            activities in one window).

    Yields:
        :class:`Window` objects in time order. A window whose mocap or video would run past
        the clip's frames is not produced.

    Raises:
        ConfigError: ``window_s`` or ``hop_s`` is not positive.
    """
    hop = window_s if hop_s is None else hop_s
    if window_s <= 0 or hop <= 0:
        raise ConfigError(f"window_s={window_s} and hop_s={hop} must be > 0")
    n = int(np.floor((sample.duration_s - window_s) / hop + 1e-9)) + 1
    for k in range(max(n, 0)):
        t0 = k * hop
        t1 = t0 + window_s
        entry = next((e for e in sample.timeline
                      if e.start_s <= t0 + 1e-9 and t1 <= e.end_s + 1e-9), None)
        if pure and entry is None:
            continue
        mocap = _frames(sample.mocap, sample.mocap_fps, t0, window_s)
        video = _frames(sample.video, sample.video_fps, t0, window_s)
        if (sample.mocap is not None and mocap is None) or (
                sample.video is not None and video is None):
            continue
        imu = {}
        for loc, st in sample.imu.items():
            a, b = np.searchsorted(st.t, [t0, t1], side="left")
            imu[loc] = ImuStream(t=st.t[a:b] - t0, data=st.data[a:b], spec=st.spec,
                                 location=loc)
        yield Window(
            clip_id=sample.clip_id, start_s=t0, duration_s=window_s,
            activity=None if entry is None else entry.activity,
            texts=entry.texts if entry is not None and entry.texts else sample.texts,
            imu=imu, mocap=mocap, video=video,
            captions=tuple(dataclasses.replace(c, t_s=c.t_s - t0) for c in sample.captions
                           if t0 <= c.t_s < t1),
            params={} if entry is None else entry.params,
        )


def crop(sample: Sample, start_s: float, end_s: float, clip_id: str | None = None) -> Sample:
    """A new clip holding ``[start_s, end_s)`` of ``sample``, times shifted to start at 0.

    Frames are cut at ``round(t * fps)``; timeline stretches are clipped to the range (and
    dropped if they fall outside it); captions outside it are dropped.

    Raises:
        ConfigError: the range is empty or outside the clip.
    """
    end_s = min(end_s, sample.duration_s)
    if not 0.0 <= start_s < end_s:
        raise ConfigError(f"cannot crop [{start_s}, {end_s}) from a {sample.duration_s} s clip")

    def frames(x: NDArray[Any] | None, fps: float) -> NDArray[Any] | None:
        if x is None:
            return None
        return x[round(start_s * fps) : round(end_s * fps)]

    imu = {}
    for loc, st in sample.imu.items():
        a, b = np.searchsorted(st.t, [start_s, end_s], side="left")
        imu[loc] = ImuStream(t=st.t[a:b] - start_s, data=st.data[a:b], spec=st.spec,
                             location=loc)
    timeline = tuple(
        TimelineEntry(max(e.start_s, start_s) - start_s, min(e.end_s, end_s) - start_s,
                      e.activity, e.texts, e.params)
        for e in sample.timeline if e.end_s > start_s and e.start_s < end_s)
    return dataclasses.replace(
        sample, clip_id=clip_id or f"{sample.clip_id}@{start_s:g}", duration_s=end_s - start_s,
        imu=imu, mocap=frames(sample.mocap, sample.mocap_fps),
        video=frames(sample.video, sample.video_fps), timeline=timeline,
        captions=tuple(dataclasses.replace(c, t_s=c.t_s - start_s) for c in sample.captions
                       if start_s <= c.t_s < end_s),
        features={})
