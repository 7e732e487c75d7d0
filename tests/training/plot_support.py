"""Decode the confusion-matrix PNGs that ``aura eval`` writes and check what they show."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
from matplotlib import colormaps

#: plot_confusion's default resolution; its figure is (side + 1.5) x side inches with
#: side = 2.5 + 0.45 x the number of classes.
DPI = 120


def read_confusion_png(path: Path) -> tuple[int, np.ndarray]:
    """Decode ``path``; return the class count its size implies and its ``(H, W, 3)`` pixels."""
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[2] == 4, img.shape
    h, w = img.shape[:2]
    assert w - h == round(1.5 * DPI), (path, h, w)
    n = round((h / DPI - 2.5) / 0.45)
    assert n >= 1 and h == round((2.5 + 0.45 * n) * DPI), (path, h, n)
    return n, img[..., :3]


def blue_share(rgb: np.ndarray) -> float:
    """Share of pixels in the "Blues" map's hues (matrix cells, colour bar), not white or grey."""
    return float(np.mean(rgb[..., 2] - rgb[..., 0] > 0.02))


def pixels_of_rate(rgb: np.ndarray, rate: float) -> np.ndarray:
    """``(H, W)`` mask of the pixels that have the colour of ``rate`` in the "Blues" map."""
    colour = np.array(colormaps["Blues"](rate)[:3])
    return np.abs(rgb - colour).max(axis=-1) < 2 / 255
