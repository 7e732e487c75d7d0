"""Gravity convention: estimate and remove gravity from raw specific force.

A device that reports raw specific force reads +1 g along "up" when still; one that reports
linear acceleration (Android ``TYPE_LINEAR_ACCELERATION``, Core Motion ``userAcceleration``)
reads about zero. Going from raw to linear needs the gravity direction in the sensor frame,
which :class:`GravityTracker` estimates with a complementary filter: the gyroscope rotates the
estimate (a world-fixed vector seen from a rotating frame turns by ``-omega``), and the
accelerometer pulls it back towards the measured direction with time constant ``tau_s``,
trusting it less when ``|a|`` is far from 1 g (the wrist is accelerating). Going the other
way is impossible without the device's orientation, so it is refused upstream.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .._spec import GRAVITY

__all__ = ["GravityTracker"]

F64 = npt.NDArray[np.float64]


class GravityTracker:
    """Causal, per-sample gravity estimator; state carries across chunks of one segment.

    Args:
        rate_hz: sample rate of the input (the model rate: it runs after resampling).
        tau_s: accelerometer correction time constant.
    """

    def __init__(self, rate_hz: float, tau_s: float = 1.0) -> None:
        self.dt = 1.0 / rate_hz
        self.alpha = self.dt / (tau_s + self.dt)
        self._g: F64 | None = None

    def reset(self) -> None:
        """Forget the estimate (at a gap: the orientation after it is unknown)."""
        self._g = None

    def remove(self, x: F64) -> F64:
        """Return ``x`` (``(n, 6)`` SI) with the gravity estimate subtracted from ``ax..az``."""
        out = x.copy()
        g = self._g
        dt, alpha = self.dt, self.alpha
        for i in range(x.shape[0]):
            a = x[i, :3]
            w = x[i, 3:]
            na = math.sqrt(float(a @ a))
            if g is None:
                g = a / na if na > 1e-6 else np.array([0.0, 0.0, 1.0])
            else:
                g = _rotate(g, w, -dt)
                if na > 1e-6:
                    # trust the accelerometer only near 1 g: far from it the wrist accelerates
                    trust = max(0.0, 1.0 - abs(na - GRAVITY) / (0.5 * GRAVITY))
                    g = (1.0 - alpha * trust) * g + (alpha * trust) * (a / na)
                    g = g / math.sqrt(float(g @ g))
            out[i, :3] = a - GRAVITY * g
        self._g = g
        return out


def _rotate(v: F64, w: F64, dt: float) -> F64:
    """Rotate ``v`` by angle ``|w| dt`` about ``w`` (Rodrigues)."""
    rate = math.sqrt(float(w @ w))
    angle = rate * dt
    if abs(angle) < 1e-12:
        return v
    k = w / rate
    c, s = math.cos(angle), math.sin(angle)
    return v * c + np.cross(k, v) * s + k * float(k @ v) * (1.0 - c)
