"""A pinhole camera for the third-person view, and how a random exo viewpoint is drawn.

World frame: metres, z up (the motion generator's frame). Camera frame: x right, y down,
z forward (optical axis), so a point projects to ``u = cx + f x / z``, ``v = cy + f y / z``
with ``u`` growing rightwards and ``v`` downwards in the image, like array indices
``frame[v, u]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Camera", "CameraRanges", "look_at_rotation", "sample_camera"]

_UP = np.array([0.0, 0.0, 1.0])


def look_at_rotation(forward: NDArray[np.float64]) -> NDArray[np.float64]:
    """World-to-camera rotation for a camera looking along ``forward`` with the world z up.

    Args:
        forward: (3,) viewing direction in the world frame; need not be unit length, must
            not be vertical.

    Returns:
        (3, 3) matrix whose rows are the camera's right, down and forward axes in world
        coordinates, so ``R @ (p - c)`` is ``p`` in the camera frame.

    Raises:
        ValueError: ``forward`` is (nearly) vertical, so "right" is undefined.
    """
    f = np.asarray(forward, dtype=np.float64)
    f = f / np.linalg.norm(f)
    right = np.cross(f, _UP)
    n = float(np.linalg.norm(right))
    if n < 1e-6:
        raise ValueError("camera forward direction is vertical; tilt it off the z axis")
    right /= n
    down = np.cross(f, right)
    return np.stack([right, down, f])


@dataclass(frozen=True)
class Camera:
    """A pinhole camera, possibly translating (tracking shot) and shaking, one pose per frame.

    Attributes:
        rotation: (3, 3) world-to-camera rotation (rows: right, down, forward).
        centers: (N, 3) camera centre per frame, metres, world frame.
        focal_px: focal length in pixels (square pixels).
        principal: (N, 2) principal point per frame in pixels; per-frame offsets from the
            image centre are the camera shake (small rotations, as image-plane shifts).
        size: image width = height in pixels.
        meta: the drawn scalars (azimuth, height, distance, field of view, shake), for the
            record.
    """

    rotation: NDArray[np.float64]
    centers: NDArray[np.float64]
    focal_px: float
    principal: NDArray[np.float64]
    size: int
    meta: dict[str, float] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames the camera has a pose for."""
        return int(self.centers.shape[0])

    def to_camera(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """World points (N, ..., 3) of frame n into that frame's camera coordinates."""
        p = np.asarray(points, dtype=np.float64)
        c = self.centers.reshape((self.n_frames,) + (1,) * (p.ndim - 2) + (3,))
        return (p - c) @ self.rotation.T

    def project(
        self, points: NDArray[np.floating]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Project world points of each frame into that frame's image.

        Args:
            points: (N, ..., 3) world points, N = ``n_frames``.

        Returns:
            ``(uv, depth)``: (N, ..., 2) pixel coordinates (u right, v down; pixel centres
            at integers) and (N, ...) depth along the optical axis in metres.
        """
        pc = self.to_camera(points)
        depth = pc[..., 2]
        safe = np.where(depth > 1e-6, depth, 1e-6)
        pp = self.principal.reshape((self.n_frames,) + (1,) * (pc.ndim - 2) + (2,))
        uv = self.focal_px * pc[..., :2] / safe[..., None] + pp
        return uv, depth


@dataclass(frozen=True)
class CameraRanges:
    """Ranges a random exo viewpoint is drawn from (uniform unless said otherwise).

    Attributes:
        height_m: camera height above the floor.
        fov_deg: full field of view of the square image.
        fill: fraction of the image the subject's largest extent should span.
        max_shake_px: largest amplitude of the (smoothed, integer) shake in pixels.
        follow_threshold_m: horizontal root travel beyond which the camera tracks the
            subject (it also tracks one who rises or sinks by more than 0.5 m).
    """

    height_m: tuple[float, float] = (0.4, 2.8)
    fov_deg: tuple[float, float] = (35.0, 75.0)
    fill: tuple[float, float] = (0.45, 0.9)
    max_shake_px: float = 1.5
    follow_threshold_m: float = 1.0


def _shake(n: int, amplitude: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Smoothed random walk, rounded to whole pixels (a hand-held or wind-shaken camera)."""
    if amplitude <= 0.0 or n == 0:
        return np.zeros((n, 2))
    steps = rng.normal(0.0, 1.0, size=(n, 2))
    walk = np.cumsum(steps, axis=0)
    walk -= np.linspace(0.0, 1.0, n)[:, None] * walk[-1]  # pin the drift: a shake, not a pan
    walk -= walk.mean(axis=0)
    peak = float(np.abs(walk).max())
    if peak > 0:
        walk *= amplitude / peak
    return np.round(walk)


def sample_camera(
    joints: NDArray[np.floating],
    rng: np.random.Generator,
    *,
    size: int = 64,
    ranges: CameraRanges | None = None,
) -> Camera:
    """Draw a random third-person viewpoint that keeps the subject in frame.

    Azimuth is uniform around the subject; height, field of view and framing are drawn from
    ``ranges``; the distance follows from the field of view and the subject's extent so the
    figure spans ``fill`` of the image. If the subject travels (walking, running, climbing)
    the camera translates with the smoothed pelvis, as a tracking shot; otherwise it stands
    still.

    Args:
        joints: (N, 17, 3) COCO joints, metres, z up.
        rng: the random generator (seeded by the caller).
        size: image size in pixels.
        ranges: drawing ranges; defaults to :class:`CameraRanges`.

    Returns:
        A :class:`Camera` with one pose per frame.

    Raises:
        ValueError: ``joints`` is not (N, 17, 3) with N >= 1.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (17, 3) or j.shape[0] < 1:
        raise ValueError(f"joints must be (N, 17, 3), got {j.shape}")
    r = ranges or CameraRanges()
    n = j.shape[0]
    pelvis = 0.5 * (j[:, 11] + j[:, 12])
    travel = float(np.linalg.norm(pelvis[:, :2].max(axis=0) - pelvis[:, :2].min(axis=0)))
    centred = j - pelvis[:, None, :]
    extent = float(np.linalg.norm(centred.max(axis=(0, 1)) - centred.min(axis=(0, 1))))
    extent = max(extent, 0.5)

    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    height = rng.uniform(*r.height_m)
    fov = np.deg2rad(rng.uniform(*r.fov_deg))
    fill = rng.uniform(*r.fill)
    shake_amp = rng.uniform(0.0, r.max_shake_px)
    focal = 0.5 * size / np.tan(0.5 * fov)
    distance = float(np.clip(focal * extent / (fill * size), 1.2, 15.0))

    rise = float(np.ptp(pelvis[:, 2]))
    tracking = travel > r.follow_threshold_m or rise > 0.5
    if tracking:
        k = max(1, min(n, 9))  # ~1 s moving average at 10 fps: a smooth operator
        kernel = np.ones(k) / k
        pad = ((k // 2, k - 1 - k // 2), (0, 0))
        # Odd reflection extrapolates linearly, so a steady walker stays centred at the ends.
        padded = (np.pad(pelvis, pad, mode="reflect", reflect_type="odd") if n > k // 2
                  else np.pad(pelvis, pad, mode="edge"))
        smooth = np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in range(3)], 1)
        targets = smooth + (j.mean(axis=1) - pelvis).mean(axis=0)
    else:
        targets = np.repeat(j.mean(axis=(0, 1))[None, :], n, axis=0)
    # Height is above the floor the subject starts on; a tracking camera rises with them.
    dz = height - float(targets[0, 2])
    horizontal = np.sqrt(max(distance**2 - dz**2, (0.3 * distance) ** 2))
    offset = np.array([horizontal * np.cos(azimuth), horizontal * np.sin(azimuth), dz])
    centers = targets + offset
    rotation = look_at_rotation(-offset)
    principal = np.full((n, 2), (size - 1) / 2.0) + _shake(n, shake_amp, rng)
    meta = {
        "azimuth_deg": float(np.rad2deg(azimuth)),
        "height_m": float(height),
        "distance_m": distance,
        "fov_deg": float(np.rad2deg(fov)),
        "shake_px": float(shake_amp),
        "tracking": float(tracking),
    }
    return Camera(rotation=rotation, centers=centers, focal_px=float(focal),
                  principal=principal, size=size, meta=meta)
