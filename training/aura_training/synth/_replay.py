"""A generated session as a replayable recording (``aura simulate``, ``aura demo``, replay).

The generator's session timeline becomes the recording's ground-truth spans, so anything that
plays it (a virtual device over a pty, TCP or BLE, or a replay) can be scored against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aura_sdk.recording import LabelSpan, Recording

from ._imu import simulate_imu
from ._session import generate_session

__all__ = ["session_recording"]


def session_recording(
    plan: Sequence[tuple[str, float]], *, seed: int = 0, rate_hz: float = 50.0,
    location: str = "left_wrist", gravity_removed: bool = False,
) -> Recording:
    """Generate a session following ``plan`` and record it with a virtual watch.

    Args:
        plan: ``(activity, seconds)`` in order (see ``activity_names()``).
        seed: makes subject, motion and sensor reproducible.
        rate_hz: the watch's output rate (10-200 Hz).
        location: where the device is worn (``"left_wrist"``, ``"right_waist"`` ...).
        gravity_removed: record linear acceleration instead of raw specific force.

    Returns:
        SI samples with the session's labelled spans.
    """
    total = float(sum(s for _, s in plan))
    clip = generate_session(seed, total, plan=list(plan))
    imu = simulate_imu(clip, seed, location=location, rate_hz=rate_hz,
                       gravity_removed=gravity_removed)
    spans = tuple(LabelSpan(float(s.start_s), float(s.end_s), s.activity)
                  for s in clip.timeline)
    return Recording(t=np.asarray(imu.t, dtype=np.float64),
                     acc=np.asarray(imu.acc, dtype=np.float64),
                     gyro=np.asarray(imu.gyro, dtype=np.float64), spans=spans)
