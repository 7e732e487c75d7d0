"""Vectorised rotation helpers that :class:`scipy.spatial.transform.Rotation` does not give.

Conventions: rotation matrices act on column vectors (``v' = R @ v``); stacks are ``(T, 3, 3)``.
Quaternions are ``(w, x, y, z)`` (scipy's ``scalar_first=True``), Hamilton product. Conversions
between matrices, quaternions and rotation vectors are scipy's. ``rot_x``/``rot_y``/``rot_z``
stay here: they build the matrix from ``cos``/``sin`` of the angle itself, while scipy goes
through half-angle quaternions, which moves the synthetic accelerations by up to about 3e-11.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

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


def quat_continuous(q: FloatArray) -> FloatArray:
    """Flip signs along a ``(T, 4)`` track so consecutive quaternions lie in one hemisphere."""
    dots = np.sum(q[1:] * q[:-1], axis=1)
    flips = np.concatenate([[1.0], np.cumprod(np.where(dots < 0.0, -1.0, 1.0))])
    return q * flips[:, None]


def quat_mul(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product ``a ⊗ b`` of ``(..., 4)`` quaternions, unit or not.

    Unlike composing :class:`Rotation` objects, this takes any quaternion, such as the time
    derivative of an orientation track.
    """
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


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation drawn uniformly from SO(3) (normalised Gaussian quaternion).

    Four normals read as ``(w, x, y, z)``; not :meth:`Rotation.random`, which reads the same
    draws as ``(x, y, z, w)`` and so gives another rotation for the same seed.
    """
    return np.asarray(Rotation.from_quat(rng.standard_normal(4), scalar_first=True).as_matrix())
