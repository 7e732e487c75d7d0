"""IMU augmentation on raw SI streams (numpy): mounting rotation, wrist mirror, gain, noise.

Everything here acts on a whole stream at the device rate, *before* the shared
preprocessing, so the training input is always what :func:`aura_sdk.preprocessing.preprocess`
makes of some plausible device stream. Rotation, mirror and gain are per-sample linear maps
and commute with the (per-channel, linear) resampler; noise is added at the device rate,
where real sensor noise lives.

Physics: the accelerometer measures a polar vector and the gyroscope an axial one. A
rotation ``R`` maps both by ``R``. A reflection ``M`` (the left/right mirror, ``det M = -1``)
maps acceleration by ``M`` and angular rate by ``det(M) M = -M``: a watch on the right wrist
of the mirrored motion reads ``(ax, -ay, az)`` and ``(-gx, gy, -gz)`` (see
:func:`aura_training.synth.mirror_clip`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._config import AugmentConfig

__all__ = ["MIRROR", "augment_imu", "random_rotation"]

F64 = NDArray[np.float64]

#: The left/right mirror in the sensor frame: reflect y.
MIRROR: F64 = np.diag([1.0, -1.0, 1.0])


def random_rotation(rng: np.random.Generator, max_deg: float = 180.0) -> F64:
    """A random rotation matrix: uniform over SO(3) at ``max_deg=180``.

    A normalised Gaussian quaternion is uniform over SO(3); below 180 its angle is scaled by
    ``max_deg / 180`` about the same (uniformly random) axis, so the draw uses the same random
    numbers whatever the limit.
    """
    q = rng.normal(size=4)
    q = q / np.linalg.norm(q)
    if max_deg < 180.0:
        half = np.arccos(np.clip(abs(q[0]), 0.0, 1.0)) * max_deg / 180.0
        v = q[1:] * np.sign(q[0] or 1.0)
        nv = np.linalg.norm(v)
        axis = v / nv if nv > 1e-12 else np.array([1.0, 0.0, 0.0])
        q = np.concatenate([[np.cos(half)], np.sin(half) * axis])
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def augment_imu(x: F64, rng: np.random.Generator, cfg: AugmentConfig, *,
                mirror_ok: bool = True) -> F64:
    """Augment one SI stream ``(n, 6)`` ``[ax ay az gx gy gz]``; returns a new array.

    The draws happen in a fixed order (mirror, rotation, gains, noise) whatever is switched
    off, so enabling one augmentation never changes the others' random numbers.

    Args:
        x: the stream in m/s^2 and rad/s.
        rng: the clip's generator for this epoch.
        cfg: what to apply.
        mirror_ok: whether the left/right mirror (a reflection of the sensor's ``y``) keeps
            the stream a plausible one: not for a phone-frame stream turned to the wearer's
            upright, whose ``y`` is up (the draw is made either way).

    Returns:
        ``(n, 6)`` float64.
    """
    mirror = rng.random() < cfg.mirror_prob
    rot = random_rotation(rng, cfg.rotate_max_deg)
    gains = rng.normal(1.0, 1.0, size=6)
    noise = rng.standard_normal(size=x.shape)
    if not cfg.enabled:
        return np.array(x, dtype=np.float64)
    m_acc = np.eye(3)
    m_gyro = np.eye(3)
    if mirror and mirror_ok:
        m_acc, m_gyro = MIRROR, -MIRROR
    if cfg.rotate:
        m_acc, m_gyro = rot @ m_acc, rot @ m_gyro
    out = np.empty(x.shape, dtype=np.float64)
    out[:, :3] = x[:, :3] @ m_acc.T
    out[:, 3:] = x[:, 3:] @ m_gyro.T
    if cfg.gain_std > 0:
        out *= 1.0 + (gains - 1.0) * cfg.gain_std
    sigma = np.array([cfg.acc_noise_std] * 3 + [cfg.gyro_noise_std] * 3)
    if np.any(sigma > 0):
        out += noise * sigma
    return out
