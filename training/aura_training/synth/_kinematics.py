"""Exact-as-possible kinematics of a body-fixed sensor: orientation, body rate, acceleration.

The clip's joint positions and segment rotations are smooth functions sampled at the
internal rate. We interpolate them with quintic splines (position) and quintic splines of the
unit quaternion (orientation) and differentiate the splines analytically, so the virtual
accelerometer and gyroscope can be evaluated at any time without finite differences:

* gyroscope ``ω_s = 2 vec(q̄ ⊗ q̇) / |q|²``, the body-frame angular rate of the normalised
  spline quaternion (exact for it, whatever the spline's norm);
* accelerometer ``f_s = R_ws^T (p̈ - g)`` with ``g = (0, 0, -9.80665)``: specific force, so a
  sensor at rest reads +9.81 m/s² along world up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import BSpline, make_interp_spline

from aura_training.synth._rotations import (
    MIRROR_Y,
    apply,
    matrix_from_quat,
    quat_continuous,
    quat_from_matrix,
    quat_mul,
)
from aura_training.synth._schema import (
    COCO_KEYPOINTS,
    GRAVITY,
    KEYPOINT_INDEX,
    WATCH_IN_FOREARM,
    MotionClip,
)

FloatArray = NDArray[np.float64]

LOCATIONS = ("left_wrist", "right_wrist")
#: The watch sits on the back of the distal forearm: 2 cm up the forearm from the wrist joint
#: centre and 2.5 cm out from the bone axis (forearm local frame, left side).
SENSOR_OFFSET_LEFT: FloatArray = np.array([0.0, 0.025, 0.02])


def watch_frame(side: str) -> FloatArray:
    """Canonical watch axes in the forearm's local frame for ``"left"`` or ``"right"``."""
    return WATCH_IN_FOREARM if side == "left" else MIRROR_Y @ WATCH_IN_FOREARM @ MIRROR_Y


@dataclass(frozen=True)
class SensorTrack:
    """Spline kinematics of one sensor on the body; evaluate at any time inside the clip."""

    pos: BSpline
    quat: BSpline
    t_end: float

    def evaluate(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Orientation, body rate and acceleration at times ``t`` (s).

        Returns:
            ``(R_ws (n, 3, 3), omega_s (n, 3) rad/s, acc_world (n, 3) m/s²)``; ``R_ws`` maps
            sensor to world coordinates.
        """
        q = self.quat(t)
        dq = self.quat(t, 1)
        conj = q * np.array([1.0, -1.0, -1.0, -1.0])
        omega = 2.0 * quat_mul(conj, dq)[:, 1:] / np.sum(q * q, axis=1, keepdims=True)
        return matrix_from_quat(q), omega, self.pos(t, 2)

    def imu(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Ideal accelerometer (specific force, m/s²) and gyroscope (rad/s), sensor frame."""
        r, omega, acc = self.evaluate(t)
        acc = acc.copy()
        acc[:, 2] += GRAVITY  # a - g_world with g_world = (0, 0, -GRAVITY)
        return np.einsum("nji,nj->ni", r, acc), omega


def sensor_track(
    clip: MotionClip,
    location: str = "left_wrist",
    mount_rot: FloatArray | None = None,
    offset_local: FloatArray | None = None,
) -> SensorTrack:
    """Build the spline kinematics of a watch at a wrist.

    Args:
        clip: the motion.
        location: ``"left_wrist"`` or ``"right_wrist"``.
        mount_rot: sensor-to-watch rotation (identity: the canonical watch frame).
        offset_local: sensor position in the left forearm's local frame (mirrored for the
            right); default :data:`SENSOR_OFFSET_LEFT`.

    Raises:
        ValueError: unknown location or a clip too short to interpolate (< 6 frames).
    """
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {LOCATIONS}, got {location!r}")
    if clip.n_frames < 6:
        raise ValueError(f"clip has {clip.n_frames} frames; at least 6 are needed")
    side = location.split("_")[0]
    off = SENSOR_OFFSET_LEFT if offset_local is None else np.asarray(offset_local, float)
    if side == "right":
        off = MIRROR_Y @ off
    r_fore = clip.segment_rot[f"{side}_forearm"]
    mount = np.eye(3) if mount_rot is None else np.asarray(mount_rot, float)
    r_ws = np.einsum("nij,jk->nik", r_fore, watch_frame(side) @ mount)
    pos = clip.joints[:, KEYPOINT_INDEX[f"{side}_wrist"]] + apply(r_fore, off)
    q = quat_continuous(quat_from_matrix(r_ws))
    t = clip.times
    return SensorTrack(
        pos=make_interp_spline(t, pos, k=5),
        quat=make_interp_spline(t, q, k=5),
        t_end=float(t[-1]),
    )


def mirror_clip(clip: MotionClip) -> MotionClip:
    """The left/right mirror image of a clip (world ``y`` reflected, sides swapped).

    A watch on the right wrist of the mirrored clip reads ``(ax, -ay, az)`` and
    ``(-gx, gy, -gz)`` of the same watch on the left wrist of the original (and vice versa).
    Handedness and the hand named in the timeline swap too.
    """
    s = MIRROR_Y
    swap = [
        KEYPOINT_INDEX[n.replace("left", "#").replace("right", "left").replace("#", "right")]
        for n in COCO_KEYPOINTS
    ]
    joints = clip.joints[:, swap] * np.array([1.0, -1.0, 1.0])
    rots = {}
    for name, r in clip.segment_rot.items():
        other = name.replace("left", "#").replace("right", "left").replace("#", "right")
        rots[other] = s @ r @ s
    flip: dict[str, Literal["left", "right"]] = {"left": "right", "right": "left"}
    timeline = tuple(
        replace(seg, params=replace(seg.params, hand=flip.get(seg.params.hand, seg.params.hand)))
        for seg in clip.timeline
    )
    subject = replace(clip.subject, handedness=flip[clip.subject.handedness])
    return MotionClip(
        subject=subject,
        rate_hz=clip.rate_hz,
        joints=joints,
        segment_rot=rots,
        timeline=timeline,
        transitions=clip.transitions,
        seed=clip.seed,
    )
