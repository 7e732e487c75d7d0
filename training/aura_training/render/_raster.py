"""Vectorised capsule rasterisation on a small pixel grid, and the COCO body as capsules.

A body is a set of capsules (a segment with a radius). Each pixel takes the nearest capsule
that covers it (a z-buffer on capsule depth), with one pixel of anti-aliased edge from the
winning capsule's distance field. Everything is numpy over (frames, capsules, pixels) at
once, in chunks of frames that stay in cache, restricted to the bounding box the figure
occupies over the clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BODY_CAPSULES", "N_PART_GROUPS", "Capsules", "body_capsules", "rasterize"]

# Indices of the extended point set: the 17 COCO joints, then derived points.
_HEAD, _HEAD_TOP, _NECK, _PELVIS, _LHAND, _RHAND, _LTOE, _RTOE = range(17, 25)

#: Part groups, for appearance: skin, top, left sleeve, right sleeve, left leg, right leg, shoes.
N_PART_GROUPS = 7
SKIN, TOP, L_SLEEVE, R_SLEEVE, L_LEG, R_LEG, SHOES = range(N_PART_GROUPS)

#: (point a, point b, radius in metres, part group) for a body of average build.
BODY_CAPSULES: tuple[tuple[int, int, float, int], ...] = (
    (_HEAD, _HEAD_TOP, 0.095, SKIN),
    (_NECK, _HEAD, 0.05, SKIN),
    (_NECK, _PELVIS, 0.13, TOP),
    (5, 11, 0.07, TOP),
    (6, 12, 0.07, TOP),
    (5, 6, 0.06, TOP),
    (11, 12, 0.08, L_LEG),
    (5, 7, 0.045, L_SLEEVE),
    (7, 9, 0.037, L_SLEEVE),
    (9, _LHAND, 0.034, SKIN),
    (6, 8, 0.045, R_SLEEVE),
    (8, 10, 0.037, R_SLEEVE),
    (10, _RHAND, 0.034, SKIN),
    (11, 13, 0.07, L_LEG),
    (13, 15, 0.052, L_LEG),
    (15, _LTOE, 0.04, SHOES),
    (12, 14, 0.07, R_LEG),
    (14, 16, 0.052, R_LEG),
    (16, _RTOE, 0.04, SHOES),
)


@dataclass(frozen=True)
class Capsules:
    """Capsule endpoints and radii of a body over a clip, in the world frame.

    Attributes:
        a, b: (N, S, 3) segment endpoints, metres.
        radius: (S,) radius in metres.
        group: (S,) part group index (see ``N_PART_GROUPS``).
    """

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    radius: NDArray[np.float64]
    group: NDArray[np.int64]


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def body_capsules(joints: NDArray[np.floating], thickness: float = 1.0) -> Capsules:
    """The capsule body for COCO joints: head, neck, torso, limbs, hands and feet.

    Derived points: the head centre (mid-ears), the neck base (mid-shoulders), the pelvis
    (mid-hips), hand tips (the forearm continued by 8 cm) and toes (12 cm forward of the
    ankle, forward being the hips' left-to-right axis crossed with the world up).

    Args:
        joints: (N, 17, 3) COCO joints, metres, z up.
        thickness: multiplies every radius (build, clothing).

    Returns:
        The :class:`Capsules` of the body.
    """
    j = np.asarray(joints, dtype=np.float64)
    head = 0.5 * (j[:, 3] + j[:, 4])
    neck = 0.5 * (j[:, 5] + j[:, 6])
    pelvis = 0.5 * (j[:, 11] + j[:, 12])
    trunk_up = _unit(neck - pelvis)
    head_top = head + 0.07 * trunk_up
    lhand = j[:, 9] + 0.08 * _unit(j[:, 9] - j[:, 7])
    rhand = j[:, 10] + 0.08 * _unit(j[:, 10] - j[:, 8])
    forward = _unit(np.cross(j[:, 11] - j[:, 12], np.array([0.0, 0.0, 1.0])))
    down = np.array([0.0, 0.0, -0.04])
    ltoe = j[:, 15] + 0.12 * forward + down
    rtoe = j[:, 16] + 0.12 * forward + down
    pts = np.concatenate(
        [j, np.stack([head, head_top, neck, pelvis, lhand, rhand, ltoe, rtoe], axis=1)], axis=1
    )
    ia = np.array([c[0] for c in BODY_CAPSULES])
    ib = np.array([c[1] for c in BODY_CAPSULES])
    radius = np.array([c[2] for c in BODY_CAPSULES]) * float(thickness)
    group = np.array([c[3] for c in BODY_CAPSULES], dtype=np.int64)
    return Capsules(a=pts[:, ia], b=pts[:, ib], radius=radius, group=group)


def rasterize(
    a_uv: NDArray[np.floating],
    b_uv: NDArray[np.floating],
    radius_px: NDArray[np.floating],
    depth: NDArray[np.floating],
    shade: NDArray[np.floating],
    size: int,
    *,
    chunk: int = 16,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Rasterise capsules with a z-buffer: the nearest covering capsule wins each pixel.

    Args:
        a_uv, b_uv: (N, S, 2) capsule endpoints in pixels (u right, v down).
        radius_px: (N, S) radii in pixels.
        depth: (N, S) depth of each capsule (smaller is nearer).
        shade: (N, S) grey level of each capsule.
        size: image width = height.
        chunk: frames per vectorised block.

    Returns:
        ``(value, alpha)``: (N, size, size) float32 grey level of the figure and its
        coverage in [0, 1] (0 where no capsule covers the pixel).
    """
    a = np.asarray(a_uv, dtype=np.float32)
    b = np.asarray(b_uv, dtype=np.float32)
    r = np.asarray(radius_px, dtype=np.float32)
    z = np.asarray(depth, dtype=np.float32)
    s = np.asarray(shade, dtype=np.float32)
    n = a.shape[0]
    value = np.zeros((n, size, size), dtype=np.float32)
    alpha = np.zeros((n, size, size), dtype=np.float32)
    if n == 0:
        return value, alpha
    ab = b - a
    inv_len2 = 1.0 / np.maximum((ab * ab).sum(-1), 1e-6)
    reach = r + 1.0
    reach2 = reach * reach
    r2 = r * r
    inv_2r = 0.5 / np.maximum(r, 1e-3)
    for f0 in range(0, n, chunk):
        sl = slice(f0, min(n, f0 + chunk))
        # The figure's bounding box over this chunk: pixels outside it are never covered.
        lo = np.floor(np.minimum(a[sl], b[sl]) - reach[sl, :, None]).min(axis=(0, 1))
        hi = np.ceil(np.maximum(a[sl], b[sl]) + reach[sl, :, None]).max(axis=(0, 1))
        u0, v0 = (int(max(0, x)) for x in lo)
        u1, v1 = (int(min(size - 1, x)) for x in hi)
        if u1 < u0 or v1 < v0:
            continue
        pu = np.tile(np.arange(u0, u1 + 1, dtype=np.float32), v1 - v0 + 1)
        pv = np.repeat(np.arange(v0, v1 + 1, dtype=np.float32), u1 - u0 + 1)
        h, w = v1 - v0 + 1, u1 - u0 + 1
        ax, ay = a[sl, :, 0, None], a[sl, :, 1, None]
        bx, by = ab[sl, :, 0, None], ab[sl, :, 1, None]
        dx = pu - ax  # (F, S, P)
        dy = pv - ay
        t = dx * bx
        t += dy * by
        t *= inv_len2[sl, :, None]
        np.clip(t, 0.0, 1.0, out=t)
        dx -= t * bx
        dy -= t * by
        dx *= dx
        dy *= dy
        d2 = dx
        d2 += dy
        # r - d ~ (r^2 - d^2) / 2r near the rim: a signed distance without a square root.
        inside = (r2[sl, :, None] - d2) * inv_2r[sl, :, None]
        cov = np.clip(inside.max(axis=1) + 0.5, 0.0, 1.0)  # (F, P)
        zbuf = np.where(d2 <= reach2[sl, :, None], z[sl, :, None], np.inf)
        win = np.argmin(zbuf, axis=1)[:, None, :]  # (F, 1, P)
        val = np.take_along_axis(np.broadcast_to(s[sl, :, None], d2.shape), win, axis=1)[:, 0]
        f = sl.stop - sl.start
        alpha[sl, v0:v1 + 1, u0:u1 + 1] = cov.reshape(f, h, w)
        value[sl, v0:v1 + 1, u0:u1 + 1] = val.reshape(f, h, w)
    return value, alpha
