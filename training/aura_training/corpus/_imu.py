"""The generator's entry points, and its virtual IMU recordings as corpus IMU streams."""

from __future__ import annotations

from typing import Any

import numpy as np

from aura_sdk import SensorSpec

from ..synth import (
    ImuRecording,
    MotionClip,
    activity_info,
    activity_names,
    generate_session,
    sample_subject,
    simulate_imu,
)
from ._format import jsonable
from ._sample import ImuStream

__all__ = [
    "WRISTS",
    "activity_info",
    "activity_names",
    "generate_session",
    "recording_params",
    "sample_subject",
    "to_stream",
    "virtual_imu_streams",
]

WRISTS = ("left_wrist", "right_wrist")


def to_stream(rec: ImuRecording) -> ImuStream:
    """A virtual recording as a corpus stream (SI units, its rate and gravity convention)."""
    spec = SensorSpec(sample_rate_hz=rec.spec.rate_hz, accel_unit="m/s^2", gyro_unit="rad/s",
                      gravity_removed=rec.spec.gravity_removed)
    return ImuStream(t=np.asarray(rec.t, dtype=np.float64),
                     data=rec.as_array().astype(np.float32), spec=spec,
                     location=rec.spec.location)


def recording_params(rec: ImuRecording) -> dict[str, Any]:
    """How a recording was made (mounting, decimation, errors), as JSON for the manifest."""
    s = rec.spec
    out: dict[str, Any] = {
        "rate_hz": s.rate_hz, "odr_hz": s.odr_hz, "decimation": s.decimation,
        "gravity_removed": s.gravity_removed, "mount_rot": s.mount_rot,
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
    clip: MotionClip, rng: np.random.Generator
) -> tuple[dict[str, ImuStream], dict[str, Any]]:
    """A virtual watch on each wrist, each with its own randomly drawn device.

    Rate, gravity convention, mounting, decimation, error model and delivery artefacts are
    drawn per wrist by the generator, so the two wrists of one clip look like two different
    devices (and a training pipeline can pick either, or mirror one).

    Returns:
        ``(streams, params)``: streams by location and how each was recorded.
    """
    streams: dict[str, ImuStream] = {}
    params: dict[str, Any] = {}
    for loc in WRISTS:
        rec = simulate_imu(clip, int(rng.integers(2**31 - 1)), location=loc)
        streams[loc] = to_stream(rec)
        params[loc] = recording_params(rec)
    return streams, params
