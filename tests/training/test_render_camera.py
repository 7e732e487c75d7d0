"""The exo camera model: look-at frame, projection, random viewpoints keep the subject in view."""

from __future__ import annotations

import numpy as np
import pytest

from aura_training.render import Camera, CameraRanges, look_at_rotation, sample_camera

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


def test_look_at_axes_for_a_camera_looking_north() -> None:
    r = look_at_rotation(np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(r[0], [1.0, 0.0, 0.0], atol=1e-12)  # right = east
    np.testing.assert_allclose(r[1], [0.0, 0.0, -1.0], atol=1e-12)  # down
    np.testing.assert_allclose(r[2], [0.0, 1.0, 0.0], atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_look_at_rejects_vertical() -> None:
    with pytest.raises(ValueError, match="vertical"):
        look_at_rotation(np.array([0.0, 0.0, -1.0]))


def _camera(n: int = 1) -> Camera:
    # 5 m south of (0, 0, 1), looking north, f = 50 px, 64 px image.
    return Camera(rotation=look_at_rotation(np.array([0.0, 1.0, 0.0])),
                  centers=np.tile([0.0, -5.0, 1.0], (n, 1)), focal_px=50.0,
                  principal=np.full((n, 2), 31.5), size=64)


def test_projection_matches_pinhole_arithmetic() -> None:
    cam = _camera()
    pts = np.array([[[0.0, 0.0, 1.0], [0.5, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, 5.0, 0.0]]])
    uv, depth = cam.project(pts)
    np.testing.assert_allclose(depth[0], [5.0, 5.0, 5.0, 10.0])
    np.testing.assert_allclose(uv[0, 0], [31.5, 31.5])
    np.testing.assert_allclose(uv[0, 1], [31.5 + 50 * 0.5 / 5, 31.5])  # east -> right
    np.testing.assert_allclose(uv[0, 2], [31.5, 31.5 - 50 * 1.0 / 5])  # up -> smaller v
    np.testing.assert_allclose(uv[0, 3], [31.5, 31.5 + 50 * 1.0 / 10])


def test_projection_uses_per_frame_principal_point() -> None:
    cam = Camera(rotation=look_at_rotation(np.array([0.0, 1.0, 0.0])),
                 centers=np.tile([0.0, -5.0, 1.0], (2, 1)), focal_px=50.0,
                 principal=np.array([[31.5, 31.5], [33.5, 30.5]]), size=64)
    uv, _ = cam.project(np.tile([0.0, 0.0, 1.0], (2, 1, 1)))
    np.testing.assert_allclose(uv[:, 0], [[31.5, 31.5], [33.5, 30.5]])


@pytest.mark.parametrize("speed", [0.0, 1.4, 3.5])
def test_random_viewpoints_keep_the_whole_body_in_frame(speed: float) -> None:
    joints = standing(50, speed=speed)
    for seed in range(25):
        cam = sample_camera(joints, np.random.default_rng(seed))
        uv, depth = cam.project(joints)
        assert (depth > 0.5).all()
        assert (uv > -2).all() and (uv < 65).all(), seed


def test_a_climber_who_rises_stays_in_frame() -> None:
    joints = standing(80)
    joints[..., 2] += np.linspace(0.0, 3.0, 80)[:, None]  # up a wall or a staircase
    for seed in range(15):
        cam = sample_camera(joints, np.random.default_rng(seed))
        assert cam.meta["tracking"] == 1.0
        uv, _ = cam.project(joints)
        assert (uv > -2).all() and (uv < 65).all(), seed


def test_tracking_camera_follows_a_walker_and_a_still_one_stands() -> None:
    walker = sample_camera(standing(50, speed=1.4), np.random.default_rng(1))
    still = sample_camera(standing(50), np.random.default_rng(1))
    assert walker.meta["tracking"] == 1.0 and still.meta["tracking"] == 0.0
    assert np.ptp(walker.centers[:, 0]) > 3.0
    assert np.ptp(still.centers, axis=0).max() == 0.0


def test_camera_ranges_are_respected() -> None:
    ranges = CameraRanges(height_m=(1.0, 1.2), fov_deg=(50.0, 50.0), max_shake_px=0.0)
    for seed in range(10):
        cam = sample_camera(standing(20), np.random.default_rng(seed), ranges=ranges)
        assert 1.0 <= cam.meta["height_m"] <= 1.2
        assert cam.focal_px == pytest.approx(32.0 / np.tan(np.deg2rad(25.0)))
        np.testing.assert_array_equal(cam.principal, 31.5)


def test_bad_joint_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
        sample_camera(np.zeros((5, 16, 3)), np.random.default_rng(0))
