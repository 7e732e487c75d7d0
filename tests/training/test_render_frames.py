"""Rendered frames: determinism, figure where the camera says, variety, shake, speed."""

from __future__ import annotations

import numpy as np

from aura_training.render import (
    RenderRanges,
    body_capsules,
    render_clip,
    render_with_camera,
    sample_camera,
)

_REST = np.array([
    [0.10, 0.0, 1.62], [0.08, 0.03, 1.66], [0.08, -0.03, 1.66], [0.0, 0.08, 1.63],
    [0.0, -0.08, 1.63], [0.0, 0.19, 1.42], [0.0, -0.19, 1.42], [0.0, 0.22, 1.12],
    [0.0, -0.22, 1.12], [0.05, 0.22, 0.86], [0.05, -0.22, 0.86], [0.0, 0.10, 0.95],
    [0.0, -0.10, 0.95], [0.02, 0.11, 0.52], [0.02, -0.11, 0.52], [0.0, 0.11, 0.09],
    [0.0, -0.11, 0.09],
])  # fmt: skip


def standing(n: int = 50, fps: float = 10.0, speed: float = 0.0, facing: float = 0.0):
    """(n, 17, 3) joints of a person facing +x (rotated by ``facing``), arms swinging."""
    t = np.arange(n) / fps
    j = np.repeat(_REST[None], n, axis=0)
    swing = 0.15 * np.sin(2 * np.pi * t)
    j[:, 9, 0] += swing
    j[:, 10, 0] -= swing
    j[:, 7, 0] += swing / 2
    j[:, 8, 0] -= swing / 2
    c, s = np.cos(facing), np.sin(facing)
    j = j @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    j[:, :, 0] += speed * t[:, None]
    return j


def test_same_seed_same_bytes_other_seed_other_frames() -> None:
    j = standing(30, speed=1.0)
    a = render_clip(j, np.random.default_rng(7)).frames
    b = render_clip(j, np.random.default_rng(7)).frames
    c = render_clip(j, np.random.default_rng(8)).frames
    assert a.dtype == np.uint8 and a.shape == (30, 64, 64)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)


def test_figure_lies_where_the_camera_projects_it() -> None:
    ranges = RenderRanges(occluder_prob=0.0, noise_sigma=(0.0, 0.0))
    j = standing(10)
    for seed in range(8):
        cam = sample_camera(j, np.random.default_rng(seed), ranges=ranges.camera)
        with_body = render_with_camera(j, cam, np.random.default_rng(100 + seed), ranges)
        # The same scene with the body carried 1 km away: background only.
        away = j + np.array([1000.0, 0.0, 0.0])
        empty = render_with_camera(away, cam, np.random.default_rng(100 + seed), ranges)
        diff = np.abs(with_body.frames.astype(int) - empty.frames.astype(int))
        caps = body_capsules(j)
        mid = 0.5 * (caps.a + caps.b)  # capsule centres: always well inside the figure
        uv, depth = cam.project(mid)
        radius_px = cam.focal_px * caps.radius / depth
        big = radius_px >= 1.0
        cols = np.rint(uv[..., 0]).astype(int)
        rows = np.rint(uv[..., 1]).astype(int)
        frame_idx = np.broadcast_to(np.arange(10)[:, None], cols.shape)
        assert with_body.mask[frame_idx[big], rows[big], cols[big]].all(), seed
        assert not empty.mask.any()
        # Where the figure is, the image changed (bar a dark part on a dark floor, both
        # clipped to 0, or the like).
        assert (diff[with_body.mask] > 0).mean() > 0.8
        # Far from every projected capsule the frame is untouched.
        a_uv, da = cam.project(caps.a)
        b_uv, db = cam.project(caps.b)
        reach = (cam.focal_px * caps.radius / np.minimum(da, db)).max() + 3
        lo = np.minimum(a_uv, b_uv).min(axis=(0, 1)) - reach
        hi = np.maximum(a_uv, b_uv).max(axis=(0, 1)) + reach
        vv, uu = np.mgrid[0:64, 0:64]
        outside = (uu < lo[0]) | (uu > hi[0]) | (vv < lo[1]) | (vv > hi[1])
        assert outside.any()
        assert diff[:, outside].max() == 0
        assert not with_body.mask[:, outside].any()


def test_looks_vary_across_clips() -> None:
    j = standing(20)
    params = [render_clip(j, np.random.default_rng(s)).params for s in range(40)]
    frames = [render_clip(j, np.random.default_rng(s)).frames for s in range(40)]
    az = np.array([p["azimuth_deg"] for p in params])
    assert az.min() < 60 and az.max() > 300
    assert np.std([p["height_m"] for p in params]) > 0.4
    assert np.std([p["bg_wall"] for p in params]) > 40
    assert np.ptp([p["thickness"] for p in params]) > 0.4
    occluded = sum(p["occluders"] > 0 for p in params)
    assert 4 <= occluded <= 25
    assert np.std([f.mean() for f in frames]) > 25  # overall brightness differs clip to clip


def test_shake_moves_the_image_by_whole_pixels() -> None:
    ranges = RenderRanges(occluder_prob=0.0, noise_sigma=(0.0, 0.0))
    j = standing(40)
    for seed in range(20):
        res = render_clip(j, np.random.default_rng(seed), ranges=ranges)
        offsets = res.camera.principal - 31.5
        np.testing.assert_array_equal(offsets, np.rint(offsets))
        assert np.abs(offsets).max() <= 2
    shaken = [render_clip(j, np.random.default_rng(s), ranges=ranges).camera.meta["shake_px"]
              for s in range(20)]
    assert max(shaken) > 1.0
