"""Exact-as-possible kinematics of a body-fixed sensor: orientation, body rate, acceleration.

A sensor is worn at one of :data:`LOCATIONS`: a watch on a wrist, a phone or clip on the belt
(``waist``), a phone in a front trouser pocket (``pocket``) or an armband (``upper_arm``), on
either side. Each moves with its own segment (forearm, pelvis, thigh, upper arm): its position
is a point fixed in that segment and its orientation the segment's rotation times a canonical
device frame (:data:`PLACEMENTS`) times the drawn mounting.

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

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import BSpline, make_interp_spline
from scipy.spatial.transform import Rotation

from aura_training.synth._rotations import MIRROR_Y, apply, quat_continuous, quat_mul
from aura_training.synth._schema import (
    COCO_KEYPOINTS,
    GRAVITY,
    KEYPOINT_INDEX,
    WATCH_IN_FOREARM,
    MotionClip,
)

FloatArray = NDArray[np.float64]


def _rot_about_z(deg: float) -> FloatArray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

#: Where a virtual device can be worn. The side is part of the name, as for the wrists.
WRIST_LOCATIONS: tuple[str, ...] = ("left_wrist", "right_wrist")
LOCATIONS: tuple[str, ...] = (
    *WRIST_LOCATIONS,
    "left_waist",
    "right_waist",
    "left_pocket",
    "right_pocket",
    "left_upper_arm",
    "right_upper_arm",
)
#: The watch sits on the back of the distal forearm: 2 cm up the forearm from the wrist joint
#: centre and 2.5 cm out from the bone axis (forearm local frame, left side).
SENSOR_OFFSET_LEFT: FloatArray = np.array([0.0, 0.025, 0.02])

# Canonical phone axes (Android / iOS convention: x to the right of the screen, y up the long
# axis, z out of the screen) in a segment frame, columns = device axes, left side:
# screen facing forward (segment +x), long axis up the segment (+z), x to the subject's left.
_PHONE_FORWARD: FloatArray = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
# The same phone with its screen facing out of the left side of the segment (+y), x backward.
_PHONE_LATERAL: FloatArray = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
_FLIP_X: FloatArray = np.diag([-1.0, 1.0, 1.0])


@dataclass(frozen=True, eq=False)
class Placement:
    """Where on the body a device of one kind sits (described for the left side).

    Attributes:
        kind: ``"wrist"``, ``"waist"``, ``"pocket"`` or ``"upper_arm"``.
        segment: the segment it moves with (``"pelvis"`` or a limb without its side prefix).
        anchors: keypoints (left-side names) whose mean is the reference point.
        offset: nominal device position from the reference point in the segment's local
            frame, metres.
        frame: canonical device axes (columns) in the segment's local frame.
        spin_deg: range of the drawn position around the segment's long (local ``z``) axis,
            degrees from the nominal site (the device frame turns with it).
        slide_m: standard deviation of the drawn position along the long axis, metres.
        mirror: the reflection of the device axes that makes the right-side device the
            mirror image of the left one while staying right-handed: the watch flips its
            ``y`` (as :data:`WATCH_IN_FOREARM` says), a phone its ``x`` (so it stays upright,
            screen out). A left/right mirrored motion then reads ``acc -> mirror @ acc`` and
            ``gyro -> -mirror @ gyro`` on the other side.
    """

    kind: str
    segment: str
    anchors: tuple[str, ...]
    offset: FloatArray
    frame: FloatArray
    spin_deg: tuple[float, float] = (0.0, 0.0)
    slide_m: float = 0.0
    mirror: FloatArray = field(default_factory=lambda: _FLIP_X.copy())


PLACEMENTS: dict[str, Placement] = {
    "wrist": Placement("wrist", "forearm", ("left_wrist",), SENSOR_OFFSET_LEFT, WATCH_IN_FOREARM,
                       mirror=MIRROR_Y),
    # A phone or clip on the belt over the front of the hip: 7 cm above the hip joint centres
    # (belt line), 14 cm from the pelvis centre at 35 deg from straight ahead toward the side;
    # drawn anywhere from the belly (0 deg) to past the side seam (100 deg).
    "waist": Placement(
        "waist", "pelvis", ("left_hip", "right_hip"),
        np.array([0.14 * np.cos(np.radians(35.0)), 0.14 * np.sin(np.radians(35.0)), 0.07]),
        _rot_about_z(35.0) @ _PHONE_FORWARD, spin_deg=(-35.0, 65.0), slide_m=0.02),
    # A phone in the front trouser pocket: 11 cm below the hip joint, on the front of the
    # thigh (7.5 cm ahead of the bone axis, 3 cm lateral), long axis along the thigh.
    "pocket": Placement(
        "pocket", "thigh", ("left_hip",), np.array([0.075, 0.03, -0.11]),
        _rot_about_z(float(np.degrees(np.arctan2(0.03, 0.075)))) @ _PHONE_FORWARD,
        spin_deg=(-30.0, 30.0), slide_m=0.025),
    # An armband on the outside of the upper arm, 12 cm below the shoulder joint centre and
    # 4.5 cm out from the humerus, screen facing out, long axis along the arm.
    "upper_arm": Placement(
        "upper_arm", "upper_arm", ("left_shoulder",), np.array([0.0, 0.045, -0.12]),
        _PHONE_LATERAL, spin_deg=(-40.0, 25.0), slide_m=0.02),
}


def placement_of(location: str) -> tuple[str, Placement]:
    """``(side, placement)`` of a location name such as ``"left_pocket"``.

    Raises:
        ValueError: not one of :data:`LOCATIONS`.
    """
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {LOCATIONS}, got {location!r}")
    side, kind = location.split("_", 1)
    return side, PLACEMENTS[kind]


def device_frame(location: str) -> FloatArray:
    """Canonical device axes (columns) in the local frame of the location's segment."""
    side, pl = placement_of(location)
    return pl.frame if side == "left" else MIRROR_Y @ pl.frame @ pl.mirror


def site_rotation(location: str, spin_deg: float) -> tuple[FloatArray, FloatArray]:
    """The device moved ``spin_deg`` around its segment's long axis from the nominal site.

    Returns:
        ``(offset, rot)``: the new position (segment frame, this side) and the rotation of
        the canonical device frame, in device coordinates, that keeps the device facing out
        of the segment there (a mount factor: ``frame @ rot`` is the moved device's frame).
        Positive angles turn the device counter-clockwise seen from above on the left
        side (mirrored on the right: toward the subject's side seam at the waist).
    """
    side, pl = placement_of(location)
    rz = _rot_about_z(spin_deg)
    offset, frame = rz @ pl.offset, pl.frame
    rot = frame.T @ rz @ frame
    if side == "right":
        return MIRROR_Y @ offset, pl.mirror @ rot @ pl.mirror
    return offset, rot


def _other_side(name: str) -> str:
    return name.replace("left", "#").replace("right", "left").replace("#", "right")


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
        r = Rotation.from_quat(q, scalar_first=True).as_matrix()  # normalises q
        return np.asarray(r), omega, self.pos(t, 2)

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
    """Build the spline kinematics of a device rigidly attached to a body segment.

    The position is a point fixed in the segment (the placement's reference keypoints plus
    an offset in the segment frame) and the orientation is the segment's rotation times the
    canonical device frame (:func:`device_frame`) times ``mount_rot``.

    Args:
        clip: the motion.
        location: one of :data:`LOCATIONS` (``"left_wrist"``, ``"right_waist"`` ...).
        mount_rot: sensor-to-canonical-device rotation (identity: the canonical frame).
        offset_local: sensor position from the placement's reference point, in the segment's
            local frame of this side (default: the placement's nominal offset, mirrored for
            the right side).

    Raises:
        ValueError: unknown location or a clip too short to interpolate (< 6 frames).
    """
    side, pl = placement_of(location)
    if clip.n_frames < 6:
        raise ValueError(f"clip has {clip.n_frames} frames; at least 6 are needed")
    if offset_local is None:
        off = pl.offset if side == "left" else MIRROR_Y @ pl.offset
    else:
        off = np.asarray(offset_local, float)
    seg = pl.segment if pl.segment == "pelvis" else f"{side}_{pl.segment}"
    r_seg = clip.segment_rot[seg]
    mount = np.eye(3) if mount_rot is None else np.asarray(mount_rot, float)
    r_ws = np.einsum("nij,jk->nik", r_seg, device_frame(location) @ mount)
    anchors = [KEYPOINT_INDEX[_other_side(a) if side == "right" else a] for a in pl.anchors]
    ref = clip.joints[:, anchors].mean(axis=1)
    pos = ref + apply(r_seg, off)
    q = quat_continuous(np.asarray(Rotation.from_matrix(r_ws).as_quat(scalar_first=True)))
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
