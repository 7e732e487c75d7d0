"""Procedural human motion and virtual IMU generation (numpy/scipy only, no torch).

Motion: :func:`generate_session` joins activities from the registry (:func:`activity_names`,
:func:`activity_info`) into a continuous :class:`MotionClip` of COCO keypoints and segment
orientations. IMU: :func:`simulate_imu` records a clip with a virtual watch, phone or sensor
board at one of :data:`LOCATIONS` (wrists, waist, trouser pocket, upper arm; either side) the
way a real device would stream it; :func:`ideal_imu` and :func:`sensor_track` give the error-free
kinematics. Data structures live in :mod:`aura_training.synth._schema`.
"""

from aura_training.synth._imu import COMMON_RATES, draw_mount, ideal_imu, simulate_imu
from aura_training.synth._kinematics import (
    LOCATIONS,
    PLACEMENTS,
    WRIST_LOCATIONS,
    Placement,
    SensorTrack,
    device_frame,
    mirror_clip,
    placement_of,
    sensor_track,
)
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
from aura_training.synth._session import (
    activity_info,
    activity_names,
    generate_clip,
    generate_session,
)
from aura_training.synth._skeleton import sample_subject

__all__ = [
    "COCO_KEYPOINTS",
    "COMMON_RATES",
    "GRAVITY",
    "KEYPOINT_INDEX",
    "LOCATIONS",
    "PLACEMENTS",
    "SEGMENTS",
    "SKELETON_EDGES",
    "WATCH_IN_FOREARM",
    "WRIST_LOCATIONS",
    "ActivityInfo",
    "GenParams",
    "ImuErrorModel",
    "ImuRecording",
    "MotionClip",
    "Placement",
    "Segment",
    "SensorTrack",
    "SubjectParams",
    "VirtualSensorSpec",
    "activity_info",
    "activity_names",
    "device_frame",
    "draw_mount",
    "generate_clip",
    "generate_session",
    "ideal_imu",
    "mirror_clip",
    "placement_of",
    "sample_subject",
    "sensor_track",
    "simulate_imu",
]
