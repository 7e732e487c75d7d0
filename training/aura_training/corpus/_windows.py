"""Cutting clips into aligned fixed-length windows of every modality (the training unit)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ConfigError

from ._sample import ImuStream, Sample

__all__ = ["Window", "iter_windows"]


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
            params={} if entry is None else entry.params,
        )
