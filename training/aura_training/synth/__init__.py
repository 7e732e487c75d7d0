"""Procedural human motion and virtual IMU generation (numpy/scipy only, no torch).

The data structures live in :mod:`aura_training.synth._schema` and are re-exported here.
"""

from aura_training.synth._schema import (
    COCO_KEYPOINTS,
    GRAVITY,
    KEYPOINT_INDEX,
    SEGMENTS,
    SKELETON_EDGES,
    WATCH_IN_FOREARM,
    ActivityInfo,
    GenParams,
    ImuErrorModel,
    ImuRecording,
    MotionClip,
    Segment,
    SubjectParams,
    VirtualSensorSpec,
)

__all__ = [
    "COCO_KEYPOINTS",
    "GRAVITY",
    "KEYPOINT_INDEX",
    "SEGMENTS",
    "SKELETON_EDGES",
    "WATCH_IN_FOREARM",
    "ActivityInfo",
    "GenParams",
    "ImuErrorModel",
    "ImuRecording",
    "MotionClip",
    "Segment",
    "SubjectParams",
    "VirtualSensorSpec",
]
