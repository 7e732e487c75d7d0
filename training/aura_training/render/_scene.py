"""A third-person video of a skeleton: random camera, appearance, background and occluders.

The result is meant to be varied, not pretty: a video tower must learn motion, not the one
look of a renderer. Per clip we draw the viewpoint (:func:`sample_camera`), a build
(thickness), clothing grey levels per part, a background (wall and floor split at the
camera's horizon, with a low-frequency texture and optional floor stripes), a few static
occluding boxes in front of the subject, sensor noise and a gain. Camera shake moves the
whole image by whole pixels, background included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ._camera import Camera, CameraRanges, sample_camera
from ._raster import SKIN, body_capsules, rasterize

__all__ = ["RenderRanges", "RenderResult", "render_clip", "render_with_camera"]

_PAD = 3  # background margin for camera shake, pixels (>= max shake)


@dataclass(frozen=True)
class RenderRanges:
    """What a clip's look is drawn from.

    Attributes:
        camera: viewpoint ranges.
        thickness: multiplier of every body radius.
        occluder_prob: probability a clip has occluding boxes (then 1 or 2).
        noise_sigma: range of the per-pixel Gaussian sensor noise, grey levels.
        texture_amp: range of the background texture amplitude, grey levels.
        min_contrast: least difference between the figure's mean and the background.
        part_contrast: least difference between any body part and the background.
    """

    camera: CameraRanges = field(default_factory=CameraRanges)
    thickness: tuple[float, float] = (0.75, 1.4)
    occluder_prob: float = 0.3
    noise_sigma: tuple[float, float] = (0.0, 3.0)
    texture_amp: tuple[float, float] = (0.0, 30.0)
    min_contrast: float = 45.0
    part_contrast: float = 25.0


@dataclass(frozen=True)
class RenderResult:
    """A rendered clip.

    Attributes:
        frames: (N, size, size) uint8 grayscale frames.
        camera: the camera that took them (for projecting anything else).
        mask: (N, size, size) bool, where the figure is visible (coverage >= 1/2).
        params: the drawn look (thickness, levels, occluders, noise ...), JSON-able scalars.
    """

    frames: NDArray[np.uint8]
    camera: Camera
    mask: NDArray[np.bool_]
    params: dict[str, float]


def _smooth_noise(rng: np.random.Generator, n: int, cells: int) -> NDArray[np.float32]:
    """Bilinearly upsampled random grid: cheap low-frequency texture in [-1, 1]."""
    grid = rng.uniform(-1.0, 1.0, size=(cells + 1, cells + 1))
    x = np.linspace(0.0, cells, n)
    i = np.minimum(x.astype(int), cells - 1)
    fx = x - i
    rows = grid[i] * (1 - fx)[:, None] + grid[i + 1] * fx[:, None]  # (n, cells+1)
    out = rows[:, i] * (1 - fx)[None, :] + rows[:, i + 1] * fx[None, :]
    return out.astype(np.float32)


def _background(
    rng: np.random.Generator, camera: Camera, r: RenderRanges
) -> tuple[NDArray[np.float32], dict[str, float]]:
    n = camera.size + 2 * _PAD
    wall = rng.uniform(15.0, 240.0)
    floor = float(np.clip(wall + rng.uniform(-70.0, 70.0), 5.0, 250.0))
    # The horizon sits f*tan(pitch) above the principal point for a camera pitched down.
    fwd = camera.rotation[2]
    pitch = np.arcsin(np.clip(-fwd[2], -1.0, 1.0))
    horizon = (camera.size - 1) / 2.0 - camera.focal_px * np.tan(pitch) + _PAD
    rows = np.arange(n, dtype=np.float32)[:, None]
    blend = np.clip(rows - horizon + 0.5, 0.0, 1.0)
    bg = np.broadcast_to(wall + (floor - wall) * blend, (n, n)).astype(np.float32)
    amp = rng.uniform(*r.texture_amp)
    bg = bg + amp * _smooth_noise(rng, n, int(rng.integers(2, 9)))
    stripes = rng.random() < 0.3
    if stripes:
        period = rng.uniform(3.0, 10.0)
        phase = rng.uniform(0, 2 * np.pi)
        cols = np.arange(n, dtype=np.float32)[None, :]
        bg = bg + blend * 12.0 * np.sign(np.sin(2 * np.pi * (cols + 0.3 * rows) / period + phase))
    return bg, {"bg_wall": float(wall), "bg_floor": float(floor), "bg_texture": float(amp),
                "bg_stripes": float(stripes)}


def _appearance(
    rng: np.random.Generator, bg_level: float, r: RenderRanges
) -> tuple[NDArray[np.float32], dict[str, float]]:
    """Grey level per part group, kept at least ``min_contrast`` away from the background."""
    skin = rng.uniform(60.0, 220.0)
    top = rng.uniform(10.0, 245.0)
    legs = rng.uniform(10.0, 245.0)
    shoes = rng.uniform(10.0, 200.0)
    side = rng.uniform(-25.0, 25.0)  # a sleeve or trouser leg a little lighter on one side
    levels = np.array([skin, top, top + side, top - side, legs + side, legs - side, shoes])
    mean = float(levels.mean())
    if abs(mean - bg_level) < r.min_contrast:
        shift = (r.min_contrast - abs(mean - bg_level)) * (1.0 if mean >= bg_level else -1.0)
        if not 0.0 <= mean + shift <= 255.0:
            shift = -np.sign(shift) * (2 * r.min_contrast - abs(shift))
        levels = levels + shift
    # Every part must stand out a little too (dark clothes in a dark room still show).
    near = np.abs(levels - bg_level) < r.part_contrast
    away = np.where(bg_level < 128.0, 1.0, -1.0)
    levels = np.where(near, bg_level + away * r.part_contrast, levels)
    levels = np.clip(levels, 0.0, 255.0).astype(np.float32)
    return levels, {"skin": float(levels[SKIN]), "top": float(levels[1]),
                    "legs": float(0.5 * (levels[4] + levels[5]))}


def _occluders(
    rng: np.random.Generator, camera: Camera, prob: float
) -> list[tuple[int, int, int, int, float]]:
    if rng.random() >= prob:
        return []
    n = camera.size + 2 * _PAD
    out = []
    for _ in range(int(rng.integers(1, 3))):
        w = int(rng.integers(camera.size // 8, camera.size // 2))
        h = int(rng.integers(camera.size // 8, camera.size // 2))
        # Mostly in front of the lower or side body, like a table, a chair or a passer-by.
        u = int(rng.integers(0, n - w))
        v = int(rng.integers(n // 3, n - h))
        out.append((v, v + h, u, u + w, float(rng.uniform(0.0, 255.0))))
    return out


def render_with_camera(
    joints: NDArray[np.floating],
    camera: Camera,
    rng: np.random.Generator,
    ranges: RenderRanges | None = None,
) -> RenderResult:
    """Render a skeleton clip through a given camera, drawing the rest of the look.

    Args:
        joints: (N, 17, 3) COCO joints, metres, z up; N = ``camera.n_frames``.
        camera: the viewpoint (see :func:`sample_camera`).
        rng: the random generator for appearance, background, occluders and noise.
        ranges: drawing ranges; defaults to :class:`RenderRanges`.

    Returns:
        The :class:`RenderResult`.

    Raises:
        ValueError: the joints' shape does not match the camera.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (17, 3) or j.shape[0] != camera.n_frames:
        raise ValueError(f"joints must be ({camera.n_frames}, 17, 3), got {j.shape}")
    r = ranges or RenderRanges()
    size = camera.size
    thickness = rng.uniform(*r.thickness)
    caps = body_capsules(j, thickness)
    a_uv, za = camera.project(caps.a)
    b_uv, zb = camera.project(caps.b)
    depth = 0.5 * (za + zb)
    radius_px = camera.focal_px * caps.radius[None, :] / np.maximum(depth, 0.1)

    bg, bg_params = _background(rng, camera, r)
    levels, look = _appearance(rng, float(bg.mean()), r)
    # Nearer parts a touch brighter: a cue for depth order without real lighting.
    shade = levels[caps.group][None, :] + 6.0 * (depth.mean(axis=1, keepdims=True) - depth)
    value, alpha = rasterize(a_uv, b_uv, radius_px, depth, shade, size)

    n = camera.n_frames
    shift = np.clip(np.rint(camera.principal - (size - 1) / 2.0).astype(int), -_PAD, _PAD)
    boxes = _occluders(rng, camera, r.occluder_prob)
    scene = bg.copy()
    occ = np.zeros_like(bg)
    for v0, v1, u0, u1, level in boxes:
        scene[v0:v1, u0:u1] = level
        occ[v0:v1, u0:u1] = 1.0
    frames = np.empty((n, size, size), dtype=np.float32)
    for i in range(n):
        # The scene moves opposite to the principal point when the camera shakes.
        du, dv = int(shift[i, 0]), int(shift[i, 1])
        window = (slice(_PAD - dv, _PAD - dv + size), slice(_PAD - du, _PAD - du + size))
        frames[i] = scene[window]
        if boxes:
            alpha[i] *= 1.0 - occ[window]
    frames += alpha * (value - frames)
    sigma = rng.uniform(*r.noise_sigma)
    gain = rng.uniform(0.85, 1.15)
    if sigma > 0:
        frames += rng.standard_normal(frames.shape, dtype=np.float32) * np.float32(sigma)
    frames = (frames - 128.0) * gain + 128.0
    out = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    params = {**camera.meta, **bg_params, **look, "thickness": float(thickness),
              "occluders": float(len(boxes)), "noise_sigma": float(sigma), "gain": float(gain)}
    return RenderResult(frames=out, camera=camera, mask=alpha >= 0.5, params=params)


def render_clip(
    joints: NDArray[np.floating],
    rng: np.random.Generator,
    *,
    size: int = 64,
    ranges: RenderRanges | None = None,
) -> RenderResult:
    """Render a skeleton clip from a random third-person viewpoint.

    Args:
        joints: (N, 17, 3) COCO joints at the video frame rate, metres, z up.
        rng: the random generator (seed it: the same seed gives the same bytes).
        size: frame width = height in pixels.
        ranges: drawing ranges; defaults to :class:`RenderRanges`.

    Returns:
        The :class:`RenderResult` with (N, size, size) uint8 frames.

    Raises:
        ValueError: ``joints`` is not (N, 17, 3).
    """
    r = ranges or RenderRanges()
    camera = sample_camera(joints, rng, size=size, ranges=r.camera)
    return render_with_camera(joints, camera, rng, r)
