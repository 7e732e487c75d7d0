"""Motion sources for virtual devices: recordings, or a labelled synthetic test signal.

The synthetic signal is a protocol test pattern, not a model of human motion (that lives in
the training side's generator, whose sessions are written as recordings): a wrist that holds
still, swings periodically and turns slowly, with gravity consistent with its orientation, so
every channel moves and every decoder is exercised over its range.
"""

from __future__ import annotations

import numpy as np

from .._recording import LabelSpan, Recording
from .._spec import GRAVITY

__all__ = ["synthetic_wrist"]


def synthetic_wrist(duration_s: float = 10.0, rate_hz: float = 50.0, seed: int = 0) -> Recording:
    """A deterministic synthetic wrist signal: still, then swinging, then turning.

    Returns:
        a :class:`Recording` in SI units with spans ``still`` / ``swinging`` / ``turning``.
    """
    rng = np.random.default_rng(seed)
    n = max(2, round(duration_s * rate_hz))
    t = np.arange(n) / rate_hz
    third = duration_s / 3.0
    # orientation: a roll angle that is constant, then oscillates (swing), then ramps (turn)
    swing = np.where((t >= third) & (t < 2 * third),
                     0.6 * np.sin(2 * np.pi * 1.8 * (t - third)), 0.0)
    turn = np.where(t >= 2 * third, (t - 2 * third) / third * np.pi / 2, 0.0)
    roll = swing + turn
    roll_rate = np.gradient(roll, t)
    # gravity seen by a sensor rolled by `roll` about x, plus the swing's centripetal pull
    acc = np.column_stack([
        1.5 * np.sin(2 * np.pi * 1.8 * t) * (swing != 0),
        GRAVITY * np.sin(roll),
        GRAVITY * np.cos(roll),
    ])
    gyro = np.column_stack([roll_rate, 0.05 * np.sin(2 * np.pi * 0.3 * t), np.zeros(n)])
    acc += rng.normal(0.0, 0.02, acc.shape)
    gyro += rng.normal(0.0, 0.002, gyro.shape)
    spans = (LabelSpan(0.0, third, "still"), LabelSpan(third, 2 * third, "swinging"),
             LabelSpan(2 * third, duration_s, "turning"))
    return Recording(t=t, acc=acc, gyro=gyro, spans=spans)
