"""A tiny procedural COCO skeleton for render / corpus tests (no dependency on synth)."""

from __future__ import annotations

import numpy as np

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
