"""The confusion-matrix figure (matplotlib, drawn on an Agg canvas: no display, no pyplot)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from aura_sdk import ConfigError, MissingExtraError

__all__ = ["plot_confusion"]


def plot_confusion(
    confusion: ArrayLike,
    labels: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    dpi: int = 120,
) -> Path:
    """Write a confusion matrix as a PNG: colour = row-normalised rate, text = counts.

    Args:
        confusion: ``(C, C)`` counts, true class on rows.
        labels: class names, in row order.
        path: the PNG to write (parent folders are created).
        title: figure title.
        dpi: resolution.

    Returns:
        The path written.

    Raises:
        ConfigError: the matrix is not square or does not match ``labels``.
        MissingExtraError: matplotlib is not installed.
    """
    c = np.asarray(confusion, dtype=np.float64)
    if c.ndim != 2 or c.shape != (len(labels), len(labels)):
        raise ConfigError(f"confusion matrix {c.shape} does not match {len(labels)} labels")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("train", "the confusion-matrix figure", "matplotlib") from exc
    rows = c.sum(axis=1, keepdims=True)
    rate = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    n = len(labels)
    side = 2.5 + 0.45 * n
    fig = Figure(figsize=(side + 1.5, side), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(rate, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_xticks(range(n), labels=list(labels), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=list(labels), fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:  # counts stay legible up to about this size
        for i in range(n):
            for j in range(n):
                if c[i, j]:
                    ax.text(j, i, f"{int(c[i, j])}", ha="center", va="center", fontsize=7,
                            color="white" if rate[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
