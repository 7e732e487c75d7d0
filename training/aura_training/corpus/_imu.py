"""The generator's entry points, and its virtual IMU recordings as corpus IMU streams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from aura_sdk import SensorSpec

from ..synth import LOCATIONS as SYNTH_LOCATIONS
from ..synth import (
    WRIST_LOCATIONS,
    ImuRecording,
    MotionClip,
    activity_info,
    activity_names,
    generate_session,
    placement_of,
    sample_subject,
    simulate_imu,
)
from ._format import jsonable
from ._sample import ImuStream

__all__ = [
    "BODY_PLACEMENTS",
    "LOCATIONS",
    "WRISTS",
    "activity_info",
    "activity_names",
    "generate_session",
    "recording_params",
    "sample_subject",
    "to_stream",
    "virtual_imu_streams",
]

WRISTS = WRIST_LOCATIONS
#: Every location a synthetic stream may be stored under (the two wrists and both sides of
#: each body placement).
LOCATIONS = SYNTH_LOCATIONS
#: Placements beside the wrists: every clip gets one of each, on a side drawn per clip.
BODY_PLACEMENTS = ("waist", "pocket", "upper_arm")


def to_stream(rec: ImuRecording) -> ImuStream:
    """A virtual recording as a corpus stream (SI units, its rate and gravity convention)."""
    spec = SensorSpec(sample_rate_hz=rec.spec.rate_hz, accel_unit="m/s^2", gyro_unit="rad/s",
                      gravity_removed=rec.spec.gravity_removed)
    return ImuStream(t=np.asarray(rec.t, dtype=np.float64),
                     data=rec.as_array().astype(np.float32), spec=spec,
                     location=rec.spec.location)


def recording_params(rec: ImuRecording) -> dict[str, Any]:
    """How a recording was made, as JSON for the clip's params.

    Placement (``placement``: wrist, waist, pocket or upper_arm; ``side``), device class,
    fit, position and mounting, rate and decimation, delivery artefacts and errors.
    """
    s = rec.spec
    side, placement = s.location.split("_", 1)
    out: dict[str, Any] = {
        "placement": placement, "side": side, "device": s.device, "fit": s.fit,
        "rate_hz": s.rate_hz, "odr_hz": s.odr_hz, "decimation": s.decimation,
        "gravity_removed": s.gravity_removed, "mount_rot": s.mount_rot,
        "offset_m": s.offset_m, "wobble": s.wobble,
        "clock_drift_ppm": s.clock_drift_ppm, "jitter_s": s.jitter_s, "dropped": s.dropped,
    }
    if s.errors is not None:
        e = s.errors
        out["errors"] = {k: getattr(e, k) for k in (
            "datasheet", "acc_noise_density", "gyro_noise_density", "acc_bias", "gyro_bias",
            "acc_bias_walk", "gyro_bias_walk", "acc_gain", "gyro_gain", "acc_range",
            "gyro_range", "acc_lsb", "gyro_lsb")}
    return dict(jsonable(out))


def virtual_imu_streams(
    clip: MotionClip, rng: np.random.Generator,
    placements: tuple[str, ...] = BODY_PLACEMENTS,
    random_mount: Mapping[str, float] | None = None,
) -> tuple[dict[str, ImuStream], dict[str, Any]]:
    """A virtual watch on each wrist and one device at each body placement.

    Each stream is its own randomly drawn device (class, part, rate, gravity convention,
    fit, site, mounting, decimation, errors, delivery artefacts), so the streams of one clip
    look like different devices (and a training pipeline can pick any, or mirror one). The
    body placements go on a side drawn per placement: ``left_waist`` or ``right_waist`` ...

    Args:
        clip: the motion.
        rng: the clip's generator.
        placements: body placements beside the wrists (``()``: wrists only).
        random_mount: share of uniformly random mountings per placement kind (``"wrist"``,
            ``"waist"`` ...); kinds left out keep
            :data:`aura_training.synth._imu.RANDOM_MOUNT_P`.

    Returns:
        ``(streams, params)``: streams by location and how each was recorded.
    """
    streams: dict[str, ImuStream] = {}
    params: dict[str, Any] = {}
    locs = list(WRISTS)
    for kind in placements:
        locs.append(f"{'left' if rng.random() < 0.5 else 'right'}_{kind}")
    for loc in locs:
        rec = simulate_imu(clip, int(rng.integers(2**31 - 1)), location=loc,
                           random_mount_p=(random_mount or {}).get(placement_of(loc)[1].kind))
        streams[loc] = to_stream(rec)
        params[loc] = recording_params(rec)
    return streams, params
