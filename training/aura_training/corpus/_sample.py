"""One corpus sample: a clip's four modalities, its labelled timeline and its texts.

The synthetic corpus, Ego-Exo4D and PAMAP2 all read into this one schema, so training code
never asks where a clip came from. Conventions (the same as :mod:`aura_training.synth`):

* time in seconds from the clip start;
* IMU streams as the device sent them: timestamps, ``[ax ay az gx gy gz]`` in the units of
  their :class:`aura_sdk.SensorSpec` (SI for everything this package writes);
* mocap: 17 COCO keypoints, metres, world frame with z up, at ``mocap_fps`` (10 by default);
* video: grayscale uint8 frames at ``video_fps`` (10 by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import SensorSpec

__all__ = [
    "MOCAP_FPS",
    "VIDEO_FPS",
    "Caption",
    "ImuStream",
    "Sample",
    "TimelineEntry",
]

MOCAP_FPS = 10.0
VIDEO_FPS = 10.0


@dataclass(frozen=True, eq=False)
class ImuStream:
    """One IMU stream of a clip.

    Attributes:
        t: (n,) float64 timestamps, seconds from the clip start (jitter and gaps as sent).
        data: (n, 6) float32 ``[ax ay az gx gy gz]`` in the units of ``spec``.
        spec: rate, units and gravity convention of the stream.
        location: where it is worn: ``"left_wrist"``, ``"right_wrist"``,
            ``"dominant_wrist"``, ``"chest"``, ``"ankle"``, ``"head"`` ...
    """

    t: NDArray[np.float64]
    data: NDArray[np.float32]
    spec: SensorSpec
    location: str

    def __post_init__(self) -> None:
        if self.data.ndim != 2 or self.data.shape[1] != 6:
            raise ValueError(f"IMU data must be (n, 6), got {self.data.shape}")
        if self.t.shape != (self.data.shape[0],):
            raise ValueError(f"IMU timestamps {self.t.shape} do not match data {self.data.shape}")


@dataclass(frozen=True)
class TimelineEntry:
    """A labelled stretch ``[start_s, end_s)`` of a clip.

    Attributes:
        start_s, end_s: bounds in seconds from the clip start.
        activity: the label.
        texts: descriptions of this stretch (grounded in ``params``).
        params: what was generated or annotated for it (JSON scalars).
    """

    start_s: float
    end_s: float
    activity: str
    texts: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Caption:
    """Free text anchored at one time point (Ego-Exo4D atomic descriptions, commentary)."""

    t_s: float
    text: str
    kind: str = "description"


@dataclass(frozen=True, eq=False)
class Sample:
    """One clip of the corpus.

    Attributes:
        clip_id: unique within a corpus.
        source: ``"synth"``, ``"egoexo4d"``, ``"pamap2"`` ...
        split: ``"train"``, ``"val"``, ``"test"`` or ``""`` (unassigned).
        subject: who moves (held-out splits are by subject).
        duration_s: clip length in seconds.
        imu: IMU streams by location.
        mocap: (N, 17, 3) float32 keypoints at ``mocap_fps``, or ``None``.
        video: (N, H, W) uint8 frames at ``video_fps``, or ``None``.
        timeline: labelled stretches in time order.
        texts: descriptions of the clip as a whole.
        captions: time-stamped free text.
        params: clip-level metadata (subject build, camera, generator), JSON-able.
        features: precomputed arrays by name (each (k, ...) for this clip).
        mocap_fps, video_fps: frame rates of ``mocap`` and ``video``.
    """

    clip_id: str
    source: str
    split: str
    subject: str
    duration_s: float
    imu: Mapping[str, ImuStream] = field(default_factory=dict)
    mocap: NDArray[np.float32] | None = None
    video: NDArray[np.uint8] | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    texts: tuple[str, ...] = ()
    captions: tuple[Caption, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    features: Mapping[str, NDArray[Any]] = field(default_factory=dict)
    mocap_fps: float = MOCAP_FPS
    video_fps: float = VIDEO_FPS

    @property
    def activity(self) -> str:
        """The label of the longest timeline stretch ("" for an unlabelled clip)."""
        if not self.timeline:
            return ""
        return max(self.timeline, key=lambda e: e.end_s - e.start_s).activity

    @property
    def activities(self) -> tuple[str, ...]:
        """Distinct labels in time order."""
        return tuple(dict.fromkeys(e.activity for e in self.timeline))

    @property
    def modalities(self) -> tuple[str, ...]:
        """Which of ``imu``, ``mocap``, ``video``, ``text`` the clip has."""
        out = []
        if self.imu:
            out.append("imu")
        if self.mocap is not None:
            out.append("mocap")
        if self.video is not None:
            out.append("video")
        if self.texts or self.captions or any(e.texts for e in self.timeline):
            out.append("text")
        return tuple(out)
