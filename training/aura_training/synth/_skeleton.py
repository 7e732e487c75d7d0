"""Subjects and forward kinematics of the 17-keypoint COCO skeleton.

A pose is a ``(T, C)`` array over :data:`CHANNELS`: root translation rates and height, pelvis
orientation, and joint angles in radians. :func:`forward_kinematics` turns it into keypoints
and segment rotations; everything downstream (IMU, video) sees only those.

Joint angle conventions (left side; the right side is the mirror image, see
:data:`~aura_training.synth._rotations.MIRROR_Y`):

* hip / shoulder ``flex``: limb swings forward; ``abd``: limb moves away from the midline;
  ``rot``: internal rotation about the limb axis.
* ``knee``: shank swings backward; ``elbow``: forearm swings forward / up.
* ``pron``: forearm pronation (0 = thumb forward with the arm hanging, palm on the thigh).
* pelvis ``pitch``: forward tilt (``-pi/2`` is lying on the back); ``roll``: tilt to the right.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from aura_training.synth._rotations import MIRROR_Y, apply, matmul, rot_x, rot_y, rot_z
from aura_training.synth._schema import KEYPOINT_INDEX, SubjectParams

FloatArray = NDArray[np.float64]

_ARM = ("sh_flex", "sh_abd", "sh_rot", "elbow", "pron")
_LEG = ("hip_flex", "hip_abd", "hip_rot", "knee")

#: Pose channels. ``root_z`` is the pelvis height above the support surface (m); ``fwd_speed``
#: and ``lat_speed`` are horizontal velocities in the heading frame (m/s); ``heading_rate``
#: (rad/s) and ``climb_rate`` (m/s, vertical velocity of the support surface) are integrated.
CHANNELS: tuple[str, ...] = (
    "root_z",
    "fwd_speed",
    "lat_speed",
    "heading_rate",
    "climb_rate",
    "pelvis_yaw",
    "pelvis_pitch",
    "pelvis_roll",
    "spine_flex",
    "spine_lat",
    "spine_twist",
    "neck_flex",
    "neck_twist",
    *(f"l_{c}" for c in _ARM),
    *(f"r_{c}" for c in _ARM),
    *(f"l_{c}" for c in _LEG),
    *(f"r_{c}" for c in _LEG),
)
CH: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}
N_CH = len(CHANNELS)

# Segment lengths as fractions of standing height (Drillis & Contini 1966, as tabulated in
# Winter, "Biomechanics and Motor Control of Human Movement", 4th ed., Fig. 4.1):
# upper arm 0.186 H, forearm 0.146 H, thigh 0.245 H, leg 0.246 H, shoulder width 0.259 H,
# hip width 0.191 H, ankle height 0.039 H. Trunk and neck split the remaining vertical length
# (shoulder height 0.818 H, hip 0.530 H, chin 0.870 H).
_FRACTIONS = {
    "upper_arm_m": 0.186,
    "forearm_m": 0.146,
    "thigh_m": 0.245,
    "shank_m": 0.246,
    "shoulder_width_m": 0.259 * 0.80,  # joint centres sit inside the bony shoulder width
    "hip_width_m": 0.191,
    "trunk_m": 0.818 - 0.530,
    "neck_m": 0.085,
    "ankle_height_m": 0.039,
}


def sample_subject(rng: np.random.Generator, subject_id: int) -> SubjectParams:
    """Draw one synthetic person.

    Heights span 1.50-1.95 m (adult stature ranges, both sexes); each segment length varies
    ±4 % (1 sd) around its fraction of height, so proportions differ between people.
    """
    height = float(np.clip(rng.normal(1.71, 0.10), 1.50, 1.95))
    lengths = {
        k: float(height * f * np.clip(rng.normal(1.0, 0.04), 0.9, 1.1))
        for k, f in _FRACTIONS.items()
    }
    return SubjectParams(
        subject_id=int(subject_id),
        height_m=height,
        handedness="left" if rng.random() < 0.1 else "right",  # ~10 % of people are left-handed
        tempo=float(np.clip(rng.normal(1.0, 0.07), 0.85, 1.15)),
        amplitude=float(np.clip(rng.normal(1.0, 0.12), 0.75, 1.3)),
        arm_swing=float(np.clip(rng.lognormal(0.0, 0.3), 0.4, 1.8)),
        lean_rad=float(np.deg2rad(np.clip(rng.normal(3.0, 3.0), -3.0, 10.0))),
        sway=float(np.clip(rng.lognormal(0.0, 0.35), 0.4, 2.5)),
        tremor_hz=float(rng.uniform(7.0, 12.0)),
        tremor=float(np.clip(rng.lognormal(0.0, 0.5), 0.3, 3.5)),
        smoothness=float(rng.uniform(0.0, 1.0)),
        **lengths,
    )


def _limb_rot(a: FloatArray, b: FloatArray, c: FloatArray, left: bool) -> FloatArray:
    """Local rotation ``Ry(-a) Rx(b) Rz(-c)`` of a left limb; mirrored for the right one."""
    r = matmul(matmul(rot_y(-a), rot_x(b)), rot_z(-c))
    return r if left else MIRROR_Y @ r @ MIRROR_Y


def _leg_rot(flex: FloatArray, abd: FloatArray, rot: FloatArray, left: bool) -> FloatArray:
    r = matmul(matmul(rot_y(-flex), rot_x(abd)), rot_z(-rot))
    return r if left else MIRROR_Y @ r @ MIRROR_Y


def body_frames(
    pose: FloatArray, subject: SubjectParams, root_xyz: FloatArray, heading: FloatArray
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Keypoints and segment rotations of a pose track.

    Args:
        pose: ``(T, C)`` channels (see :data:`CHANNELS`); only the angle channels are read.
        subject: body dimensions.
        root_xyz: ``(T, 3)`` pelvis centre in the world frame (m).
        heading: ``(T,)`` body heading (rad, about world z).

    Returns:
        ``(T, 17, 3)`` keypoints and ``{segment: (T, 3, 3)}`` local-to-world rotations.
    """
    p = pose
    t = p.shape[0]
    r_pelvis = matmul(
        matmul(rot_z(heading + p[:, CH["pelvis_yaw"]]), rot_y(p[:, CH["pelvis_pitch"]])),
        rot_x(p[:, CH["pelvis_roll"]]),
    )
    r_torso = matmul(
        r_pelvis,
        matmul(
            matmul(rot_y(p[:, CH["spine_flex"]]), rot_x(-p[:, CH["spine_lat"]])),
            rot_z(p[:, CH["spine_twist"]]),
        ),
    )
    r_head = matmul(r_torso, matmul(rot_z(p[:, CH["neck_twist"]]), rot_y(p[:, CH["neck_flex"]])))
    s = subject
    joints = np.empty((t, 17, 3))
    rots: dict[str, FloatArray] = {"pelvis": r_pelvis, "torso": r_torso, "head": r_head}

    neck = root_xyz + r_torso[:, :, 2] * s.trunk_m
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pre = side[0] + "_"
        left = side == "left"
        hip = root_xyz + r_pelvis[:, :, 1] * (sign * s.hip_width_m / 2)
        r_thigh = matmul(
            r_pelvis,
            _leg_rot(
                p[:, CH[pre + "hip_flex"]],
                p[:, CH[pre + "hip_abd"]],
                p[:, CH[pre + "hip_rot"]],
                left,
            ),
        )
        r_shank = matmul(r_thigh, rot_y(p[:, CH[pre + "knee"]]))
        knee = hip - r_thigh[:, :, 2] * s.thigh_m
        ankle = knee - r_shank[:, :, 2] * s.shank_m
        shoulder = neck + r_torso[:, :, 1] * (sign * s.shoulder_width_m / 2)
        r_upper = matmul(
            r_torso,
            _limb_rot(
                p[:, CH[pre + "sh_flex"]], p[:, CH[pre + "sh_abd"]], p[:, CH[pre + "sh_rot"]], left
            ),
        )
        fore_local = matmul(rot_y(-p[:, CH[pre + "elbow"]]), rot_z(-p[:, CH[pre + "pron"]]))
        if not left:
            fore_local = MIRROR_Y @ fore_local @ MIRROR_Y
        r_fore = matmul(r_upper, fore_local)
        elbow = shoulder - r_upper[:, :, 2] * s.upper_arm_m
        wrist = elbow - r_fore[:, :, 2] * s.forearm_m
        for name, val in (
            ("hip", hip),
            ("knee", knee),
            ("ankle", ankle),
            ("shoulder", shoulder),
            ("elbow", elbow),
            ("wrist", wrist),
        ):
            joints[:, KEYPOINT_INDEX[f"{side}_{name}"]] = val
        rots[f"{side}_thigh"] = r_thigh
        rots[f"{side}_shank"] = r_shank
        rots[f"{side}_upper_arm"] = r_upper
        rots[f"{side}_forearm"] = r_fore

    # Head keypoints: offsets from the head centre scaled by height (a 1.71 m adult's face).
    k = s.height_m / 1.71
    head = neck + apply(r_head, np.array([0.02, 0.0, s.neck_m + 0.06 * k]))
    for name, off in (
        ("nose", (0.105, 0.0, -0.01)),
        ("left_eye", (0.085, 0.032, 0.025)),
        ("right_eye", (0.085, -0.032, 0.025)),
        ("left_ear", (0.0, 0.075, 0.01)),
        ("right_ear", (0.0, -0.075, 0.01)),
    ):
        joints[:, KEYPOINT_INDEX[name]] = head + apply(r_head, np.asarray(off) * k)
    return joints, rots


def leg_drop(pose: FloatArray, subject: SubjectParams) -> tuple[FloatArray, FloatArray]:
    """Heights of both ankles and both knees below the pelvis centre, from the angles alone.

    Returns:
        ``(ankles, knees)``, each ``(T, 2)`` (left, right), metres, positive = below.
    """
    p = pose
    r_pelvis = matmul(rot_y(p[:, CH["pelvis_pitch"]]), rot_x(p[:, CH["pelvis_roll"]]))
    ankles, knees = np.empty((p.shape[0], 2)), np.empty((p.shape[0], 2))
    for i, (pre, sign, left) in enumerate((("l_", 1.0, True), ("r_", -1.0, False))):
        r_thigh = matmul(
            r_pelvis,
            _leg_rot(
                p[:, CH[pre + "hip_flex"]],
                p[:, CH[pre + "hip_abd"]],
                p[:, CH[pre + "hip_rot"]],
                left,
            ),
        )
        r_shank = matmul(r_thigh, rot_y(p[:, CH[pre + "knee"]]))
        hip_z = r_pelvis[:, 2, 1] * (sign * subject.hip_width_m / 2)
        knee_z = hip_z - r_thigh[:, 2, 2] * subject.thigh_m
        knees[:, i] = -knee_z
        ankles[:, i] = -(knee_z - r_shank[:, 2, 2] * subject.shank_m)
    return ankles, knees
