"""Data structures of the synthetic motion corpus: motion clips and virtual IMU recordings.

This module is the contract between the motion / IMU generator (:mod:`aura_training.synth`)
and everything that consumes it (video rendering, text, the corpus writer, real-data loaders).
It holds no logic beyond small conveniences and imports only numpy.

Frames and units, everywhere in this schema:

* **World frame:** right-handed, metres, ``z`` up (gravity is ``(0, 0, -9.80665)`` m/s^2),
  ``x``/``y`` horizontal; the floor is ``z = 0``. A subject's initial heading is arbitrary.
* **Time:** seconds from the start of the clip.
* **Rotation matrices** ``R`` map a segment's local coordinates to world coordinates
  (``v_world = R @ v_local``). A segment's local frame, in the anatomical rest pose (standing,
  arms hanging, palms facing the thighs, thumbs forward), is aligned with the body: ``x``
  forward, ``y`` to the subject's left, ``z`` up; bones point along local ``-z`` (limbs) or
  ``+z`` (trunk, head).
* **Canonical watch frame** (:data:`WATCH_IN_FOREARM`): a watch on the back of the wrist,
  ``x`` along the forearm toward the hand, ``z`` out of the watch face (dorsal), ``y = z × x``.
  On the right wrist it is the mirror image of the left one (mirror the ``y`` axis of the body
  and flip the sensor ``y`` axis so the frame stays right-handed); a left/right mirrored motion
  therefore reads ``acc -> (ax, -ay, az)`` and ``gyro -> (-gx, gy, -gz)``.
* **Canonical phone frame** (waist, pocket, upper arm; see
  :data:`aura_training.synth._kinematics.PLACEMENTS`): Android / iOS axes, ``x`` to the right
  of the screen, ``y`` up the long axis, ``z`` out of the screen; upright and screen out.
* **Sensor frame:** the canonical device frame rotated by the recording's mounting rotation
  (``VirtualSensorSpec.mount_rot``), which is how the physical chip sits in the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

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

FloatArray = NDArray[np.float64]

#: Standard gravity, m/s^2 (CGPM 1901). The world gravity vector is ``(0, 0, -GRAVITY)``.
GRAVITY = 9.80665

#: The 17 COCO keypoints in COCO / Ego-Exo4D body-pose order (Ego-Exo4D's annotation JSON
#: spells them with hyphens, e.g. ``"left-wrist"``; replace ``_`` by ``-`` to match).
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
KEYPOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(COCO_KEYPOINTS)}

#: Bones for drawing a stick figure, as index pairs into :data:`COCO_KEYPOINTS` (COCO's own
#: skeleton, 0-based).
# fmt: off
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
# fmt: on

#: Segments whose orientation track a :class:`MotionClip` stores (keys of ``segment_rot``).
SEGMENTS: tuple[str, ...] = (
    "pelvis",
    "torso",
    "head",
    "left_upper_arm",
    "right_upper_arm",
    "left_forearm",
    "right_forearm",
    "left_thigh",
    "right_thigh",
    "left_shank",
    "right_shank",
)

#: Canonical left-wrist watch frame in the left forearm's local frame (columns are the watch
#: axes): ``x`` toward the hand (local ``-z``), ``y`` toward the ulna (local ``-x``), ``z``
#: dorsal (local ``+y``). The right wrist uses ``S @ WATCH_IN_FOREARM @ S``, ``S = diag(1,-1,1)``.
WATCH_IN_FOREARM: FloatArray = np.array(
    [[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]], dtype=np.float64
)

Side = Literal["left", "right"]
Hand = Literal["left", "right", "both", "none"]
Posture = Literal["standing", "sitting", "lying", "kneeling", "squatting", "plank", "hanging"]
Pattern = Literal["static", "periodic", "sporadic"]
Intensity = Literal["sedentary", "light", "moderate", "vigorous"]
Decimation = Literal["none", "lowpass", "point", "block"]
Fit = Literal["tight", "loose"]


@dataclass(frozen=True)
class ActivityInfo:
    """Registry metadata of one activity (what text generation may say about it).

    Attributes:
        name: canonical label, lower case, e.g. ``"walking"``, ``"playing tennis"``.
        category: coarse group: ``"posture"``, ``"locomotion"``, ``"exercise"``,
            ``"household"``, ``"self-care"``, ``"eating"``, ``"office"``, ``"gesture"``,
            ``"transport"``, ``"sport"``, ``"music"``, ``"work"`` or ``"health"``.
        pattern: ``"static"`` (postural hold), ``"periodic"`` or ``"sporadic"`` (bursts).
        intensity: typical intensity class (MET bands: sedentary < 1.5 <= light < 3 <=
            moderate < 6 <= vigorous).
        met: typical metabolic equivalent (Compendium of Physical Activities, Ainsworth 2011).
        posture: the body posture it is mostly performed in.
        hands: ``"dominant"``, ``"both"`` or ``"none"``: which hands do the main action.
        settings: places it typically happens, e.g. ``("kitchen",)``.
        synonyms: other names for the same activity (for prompts and paraphrases).
        scenario: the Ego-Exo4D scenario it belongs to (``"Cooking"``, ``"Bike Repair"``,
            ``"Soccer"``, ``"Basketball"``, ``"Dance"``, ``"Music"``, ``"Rock Climbing"``,
            ``"Health"``), or ``None``.
    """

    name: str
    category: str
    pattern: Pattern
    intensity: Intensity
    met: float
    posture: Posture
    hands: Literal["dominant", "both", "none"]
    settings: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    scenario: str | None = None


@dataclass(frozen=True)
class SubjectParams:
    """One synthetic person. Lengths in metres, angles in radians.

    Attributes:
        subject_id: integer id (held-out splits are made by subject id).
        height_m: standing height.
        upper_arm_m, forearm_m: shoulder-elbow and elbow-wrist lengths.
        thigh_m, shank_m: hip-knee and knee-ankle lengths.
        shoulder_width_m, hip_width_m: distances between the two shoulder / hip joints.
        trunk_m: mid-hip to mid-shoulder distance.
        neck_m: mid-shoulder to head centre distance.
        ankle_height_m: ankle joint height above the floor when standing.
        handedness: dominant hand.
        tempo: multiplier on movement frequencies (about 0.85-1.15).
        amplitude: multiplier on movement amplitudes (about 0.8-1.25).
        arm_swing: multiplier on arm swing during gait (about 0.5-1.5).
        lean_rad: habitual forward trunk lean.
        sway: multiplier on postural sway.
        tremor_hz: centre frequency of physiological hand tremor (8-12 Hz).
        tremor: multiplier on tremor amplitude.
        smoothness: 0 (jerky) .. 1 (smooth): how much quick movements are low-passed.
    """

    subject_id: int
    height_m: float
    upper_arm_m: float
    forearm_m: float
    thigh_m: float
    shank_m: float
    shoulder_width_m: float
    hip_width_m: float
    trunk_m: float
    neck_m: float
    ankle_height_m: float
    handedness: Side
    tempo: float
    amplitude: float
    arm_swing: float
    lean_rad: float
    sway: float
    tremor_hz: float
    tremor: float
    smoothness: float


@dataclass(frozen=True)
class GenParams:
    """Parameters drawn for one activity segment (what text may ground on).

    Attributes:
        speed_mps: mean horizontal speed over the segment in m/s (0 when not travelling).
        cadence_hz: dominant movement frequency in Hz: steps per second for gait,
            repetitions per second for other periodic activities, mean events per second for
            sporadic ones, 0 for postural holds.
        intensity: relative vigour within the activity, 0 (gentle) .. 1 (vigorous).
        hand: the hand doing the main action (``"both"``/``"none"`` where that applies).
        posture: the body posture of the segment.
        setting: where it happens, e.g. ``"kitchen"``, ``"park"``, ``"gym"``.
        variant: a finer description where the activity has one (``"supine"``,
            ``"forehand"``, ``"upstairs"``), else ``""``.
    """

    speed_mps: float
    cadence_hz: float
    intensity: float
    hand: Hand
    posture: Posture
    setting: str
    variant: str = ""


@dataclass(frozen=True)
class Segment:
    """One labelled stretch of a session timeline: ``[start_s, end_s)`` is pure ``activity``."""

    start_s: float
    end_s: float
    activity: str
    params: GenParams


@dataclass(frozen=True, eq=False)
class MotionClip:
    """A generated motion: a continuous session of one or more activities.

    Attributes:
        subject: who moves.
        rate_hz: internal frame rate of ``joints`` and ``segment_rot`` (uniform, from t = 0).
        joints: ``(T, 17, 3)`` float64 keypoint positions in metres, world frame, in
            :data:`COCO_KEYPOINTS` order.
        segment_rot: ``{segment: (T, 3, 3)}`` float64 local-to-world rotation matrices for
            every name in :data:`SEGMENTS` (see the module docstring for local frames). The
            forearm's local ``-z`` axis is exactly the elbow-to-wrist direction.
        timeline: the labelled segments in time order. Consecutive segments are separated by
            the blend intervals in ``transitions`` (unlabelled, mixed motion).
        transitions: ``(start_s, end_s)`` of each blend between consecutive segments.
        seed: the seed the clip was generated from (same seed, same clip).
    """

    subject: SubjectParams
    rate_hz: float
    joints: FloatArray
    segment_rot: dict[str, FloatArray]
    timeline: tuple[Segment, ...]
    transitions: tuple[tuple[float, float], ...] = ()
    seed: int = 0

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.joints.shape[0])

    @property
    def duration_s(self) -> float:
        """Clip length in seconds (``T / rate_hz``)."""
        return self.n_frames / self.rate_hz

    @property
    def times(self) -> FloatArray:
        """``(T,)`` frame times in seconds."""
        return np.arange(self.n_frames, dtype=np.float64) / self.rate_hz

    def labels_at(self, t: FloatArray) -> list[str | None]:
        """Activity label at each time in ``t`` (``None`` inside a transition)."""
        starts = np.array([s.start_s for s in self.timeline])
        ends = np.array([s.end_s for s in self.timeline])
        idx = np.searchsorted(starts, np.asarray(t, dtype=np.float64), side="right") - 1
        out: list[str | None] = []
        for ti, i in zip(np.asarray(t, dtype=np.float64), idx, strict=True):
            inside = i >= 0 and ti < ends[i]
            out.append(self.timeline[i].activity if inside else None)
        return out


@dataclass(frozen=True, eq=False)
class ImuErrorModel:
    """The sensor errors drawn for one virtual IMU (SI units; ``acc`` m/s^2, ``gyro`` rad/s).

    Attributes:
        datasheet: the part whose datasheet ranges the values were drawn from.
        acc_noise_density: accelerometer white noise, m/s^2/sqrt(Hz).
        gyro_noise_density: gyroscope white noise, rad/s/sqrt(Hz).
        acc_bias, gyro_bias: ``(3,)`` constant offsets at switch-on.
        acc_bias_walk, gyro_bias_walk: bias random walk, units/sqrt(s).
        acc_gain, gyro_gain: ``(3, 3)`` scale factor and axis misalignment: the measured
            vector is ``gain @ true`` (identity for an ideal sensor).
        acc_range: accelerometer full scale, m/s^2 (saturation); ``acc_lsb`` its resolution.
        gyro_range: gyroscope full scale, rad/s (saturation); ``gyro_lsb`` its resolution.
    """

    datasheet: str
    acc_noise_density: float
    gyro_noise_density: float
    acc_bias: FloatArray
    gyro_bias: FloatArray
    acc_bias_walk: float
    gyro_bias_walk: float
    acc_gain: FloatArray
    gyro_gain: FloatArray
    acc_range: float
    gyro_range: float
    acc_lsb: float
    gyro_lsb: float


@dataclass(frozen=True, eq=False)
class VirtualSensorSpec:
    """How a virtual IMU recording was made.

    Attributes:
        rate_hz: nominal output rate in Hz (10-200).
        gravity_removed: ``False``: raw specific force (a still device reads +9.81 m/s^2 up);
            ``True``: linear acceleration, gravity removed by a (imperfect) fusion estimate.
        location: where it is worn: ``"left_wrist"``, ``"right_wrist"``, ``"left_waist"``,
            ``"right_waist"``, ``"left_pocket"``, ``"right_pocket"``, ``"left_upper_arm"`` or
            ``"right_upper_arm"`` (see :mod:`aura_training.synth._kinematics`).
        mount_rot: ``(3, 3)`` sensor-to-canonical-device-frame rotation
            (``v_device = mount_rot @ v_sensor``); the canonical frame is the watch frame at
            a wrist and a phone frame (x right, y up the long axis, z out of the screen)
            elsewhere, at the placement's nominal site.
        odr_hz: the chip's internal sample rate before the output decimation.
        decimation: ``"none"`` (odr = rate), ``"lowpass"`` (anti-aliasing filter, then
            decimate), ``"point"`` (keep every k-th sample, aliasing) or ``"block"`` (mean of
            k samples).
        clock_drift_ppm: device clock error (positive: device clock runs fast).
        jitter_s: standard deviation of timestamp jitter, seconds.
        dropped: number of samples lost (the recording simply lacks them).
        errors: the drawn error model, or ``None`` for an ideal sensor.
        device: ``"watch"``, ``"phone"`` or ``"board"`` (what class of device it was).
        fit: ``"tight"`` or ``"loose"`` (a loose strap, band or pocket lets it wobble).
        offset_m: ``(3,)`` sensor position from the placement's reference point, in the
            segment's local frame (``None``: the nominal one).
        wobble: ``(f0_hz, damping, k_rot, k_lin_per_m)`` of a loose device's wobble against
            its segment, or ``None``.
    """

    rate_hz: float
    gravity_removed: bool
    location: str
    mount_rot: FloatArray
    odr_hz: float
    decimation: Decimation
    clock_drift_ppm: float = 0.0
    jitter_s: float = 0.0
    dropped: int = 0
    errors: ImuErrorModel | None = None
    device: str = "watch"
    fit: Fit = "tight"
    offset_m: FloatArray | None = None
    wobble: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, eq=False)
class ImuRecording:
    """One virtual IMU stream, as a device would send it (SI units).

    Attributes:
        t: ``(n,)`` float64 timestamps in seconds on the clip's time axis, as the device
            reports them (jittered, with drift, gaps where samples were dropped).
        acc: ``(n, 3)`` float64 accelerometer in the sensor frame, m/s^2.
        gyro: ``(n, 3)`` float64 gyroscope in the sensor frame, rad/s.
        spec: how it was made.
    """

    t: FloatArray
    acc: FloatArray
    gyro: FloatArray
    spec: VirtualSensorSpec

    def as_array(self) -> FloatArray:
        """``(n, 6)`` array ``[ax ay az gx gy gz]`` (AURA's channel order)."""
        return np.concatenate([self.acc, self.gyro], axis=1)
