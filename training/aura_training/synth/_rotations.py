"""Vectorised rotation helpers: elementary rotations, quaternions, random rotations.

Conventions: rotation matrices act on column vectors (``v' = R @ v``); stacks are ``(T, 3, 3)``.
Quaternions are ``(w, x, y, z)``, Hamilton product, unit norm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Reflection of the body's lateral (y) axis: conjugating a left-side rotation by it gives the
#: mirrored right-side rotation (x and z rotation angles change sign, y rotations do not).
MIRROR_Y: FloatArray = np.diag([1.0, -1.0, 1.0])


def rot_x(a: FloatArray) -> FloatArray:
    """``(T, 3, 3)`` rotations by angles ``a`` (rad) about x."""
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*np.shape(a), 3, 3))
    out[..., 0, 0] = 1.0
    out[..., 1, 1] = c
    out[..., 1, 2] = -s
    out[..., 2, 1] = s
    out[..., 2, 2] = c
    return out


def rot_y(a: FloatArray) -> FloatArray:
    """``(T, 3, 3)`` rotations by angles ``a`` (rad) about y."""
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*np.shape(a), 3, 3))
    out[..., 1, 1] = 1.0
    out[..., 0, 0] = c
    out[..., 0, 2] = s
    out[..., 2, 0] = -s
    out[..., 2, 2] = c
    return out


def rot_z(a: FloatArray) -> FloatArray:
    """``(T, 3, 3)`` rotations by angles ``a`` (rad) about z."""
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*np.shape(a), 3, 3))
    out[..., 2, 2] = 1.0
    out[..., 0, 0] = c
    out[..., 0, 1] = -s
    out[..., 1, 0] = s
    out[..., 1, 1] = c
    return out


def matmul(a: FloatArray, b: FloatArray) -> FloatArray:
    """Batched ``a @ b`` for ``(..., 3, 3)`` stacks (einsum is faster than ``@`` for 3x3)."""
    return np.einsum("...ij,...jk->...ik", a, b)


def apply(r: FloatArray, v: FloatArray) -> FloatArray:
    """Batched ``r @ v`` for ``(..., 3, 3)`` rotations and ``(..., 3)`` or ``(3,)`` vectors."""
    return np.einsum("...ij,...j->...i", r, v)


def quat_from_matrix(r: FloatArray) -> FloatArray:
    """``(T, 4)`` unit quaternions from ``(T, 3, 3)`` rotations (Shepperd's method)."""
    m = r.reshape(-1, 3, 3)
    n = m.shape[0]
    tr = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    diag = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)
    k = np.argmax(diag, axis=1)
    q = np.empty((n, 4))
    # Each branch divides by its largest component, so it is well conditioned.
    i = k == 0
    s = np.sqrt(np.maximum(1.0 + tr[i], 1e-300)) * 2.0
    q[i] = np.stack(
        [
            0.25 * s,
            (m[i, 2, 1] - m[i, 1, 2]) / s,
            (m[i, 0, 2] - m[i, 2, 0]) / s,
            (m[i, 1, 0] - m[i, 0, 1]) / s,
        ],
        axis=1,
    )
    i = k == 1
    s = np.sqrt(np.maximum(1.0 + m[i, 0, 0] - m[i, 1, 1] - m[i, 2, 2], 1e-300)) * 2.0
    q[i] = np.stack(
        [
            (m[i, 2, 1] - m[i, 1, 2]) / s,
            0.25 * s,
            (m[i, 0, 1] + m[i, 1, 0]) / s,
            (m[i, 0, 2] + m[i, 2, 0]) / s,
        ],
        axis=1,
    )
    i = k == 2
    s = np.sqrt(np.maximum(1.0 + m[i, 1, 1] - m[i, 0, 0] - m[i, 2, 2], 1e-300)) * 2.0
    q[i] = np.stack(
        [
            (m[i, 0, 2] - m[i, 2, 0]) / s,
            (m[i, 0, 1] + m[i, 1, 0]) / s,
            0.25 * s,
            (m[i, 1, 2] + m[i, 2, 1]) / s,
        ],
        axis=1,
    )
    i = k == 3
    s = np.sqrt(np.maximum(1.0 + m[i, 2, 2] - m[i, 0, 0] - m[i, 1, 1], 1e-300)) * 2.0
    q[i] = np.stack(
        [
            (m[i, 1, 0] - m[i, 0, 1]) / s,
            (m[i, 0, 2] + m[i, 2, 0]) / s,
            (m[i, 1, 2] + m[i, 2, 1]) / s,
            0.25 * s,
        ],
        axis=1,
    )
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.reshape(*r.shape[:-2], 4)


def matrix_from_quat(q: FloatArray) -> FloatArray:
    """``(..., 3, 3)`` rotations from ``(..., 4)`` quaternions (normalised first)."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    out = np.empty((*q.shape[:-1], 3, 3))
    out[..., 0, 0] = 1 - 2 * (y * y + z * z)
    out[..., 0, 1] = 2 * (x * y - w * z)
    out[..., 0, 2] = 2 * (x * z + w * y)
    out[..., 1, 0] = 2 * (x * y + w * z)
    out[..., 1, 1] = 1 - 2 * (x * x + z * z)
    out[..., 1, 2] = 2 * (y * z - w * x)
    out[..., 2, 0] = 2 * (x * z - w * y)
    out[..., 2, 1] = 2 * (y * z + w * x)
    out[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return out


def quat_continuous(q: FloatArray) -> FloatArray:
    """Flip signs along a ``(T, 4)`` track so consecutive quaternions lie in one hemisphere."""
    dots = np.sum(q[1:] * q[:-1], axis=1)
    flips = np.concatenate([[1.0], np.cumprod(np.where(dots < 0.0, -1.0, 1.0))])
    return q * flips[:, None]


def quat_mul(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product ``a ⊗ b`` of ``(..., 4)`` quaternions."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_exp(rotvec: FloatArray) -> FloatArray:
    """Unit quaternions of rotation vectors ``(..., 3)`` (axis times angle, rad)."""
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(x)/x written with np.sinc so tiny angles stay exact.
    k = 0.5 * np.sinc(half / np.pi)
    return np.concatenate([np.cos(half), k * rotvec], axis=-1)


def rotation_angle(r: FloatArray) -> FloatArray:
    """Rotation angle (rad) of ``(..., 3, 3)`` rotations."""
    c = 0.5 * (np.trace(r, axis1=-2, axis2=-1) - 1.0)
    return np.arccos(np.clip(c, -1.0, 1.0))


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation drawn uniformly from SO(3) (normalised Gaussian quaternion)."""
    q = rng.standard_normal(4)
    return matrix_from_quat(q / np.linalg.norm(q))


def small_rotation(rng: np.random.Generator, sigma_rad: float) -> FloatArray:
    """A rotation about a uniformly random axis by an angle ~ N(0, sigma_rad)."""
    axis = rng.standard_normal(3)
    axis /= np.linalg.norm(axis)
    return matrix_from_quat(quat_exp(axis * rng.normal(0.0, sigma_rad)))
