"""Windowing with a hop, padding of short segments, and per-channel normalisation."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Windower", "normalize", "pad_segment"]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

PadMode = Literal["edge", "wrap", "zero"]


def pad_segment(x: F64, length: int, mode: PadMode, mean: F64) -> F64:
    """Complete a segment shorter than ``length`` samples, the way the model was trained.

    ``edge`` repeats the last sample; ``wrap`` repeats the segment from its start; ``zero``
    fills with ``mean`` (so the normalised input is zero there).
    """
    n = x.shape[0]
    if n == 0:
        raise ValueError("cannot pad an empty segment")
    if n >= length:
        return x[:length]
    if mode == "edge":
        fill = np.repeat(x[-1:], length - n, axis=0)
    elif mode == "wrap":
        fill = np.tile(x, (-(-length // n), 1))[n:length]
    else:
        fill = np.repeat(mean[None, :], length - n, axis=0)
    return np.concatenate([x, fill], axis=0)


def normalize(windows: F64, mean: F64, std: F64) -> F32:
    """``(windows - mean) / std`` per channel, as float32 (the encoder's input dtype)."""
    return ((windows - mean) / std).astype(np.float32)


class Windower:
    """Cut a stream of uniform samples (grid indices ``k``) into windows, within segments.

    Windows start at each segment's first sample and every ``hop`` samples after it; a window
    never spans a gap. When a segment closes without having produced a single full window and
    holds at least ``pad_min`` samples, it is padded into one window (``pad_min=0`` disables).
    """

    def __init__(self, window: int, hop: int, *, pad_min: int, pad_mode: PadMode, mean: F64):
        self.window = window
        self.hop = hop
        self.pad_min = pad_min
        self.pad_mode: PadMode = pad_mode
        self.mean = mean
        self._buf = np.empty((0, 0))
        self._k0 = 0  # grid index of _buf[0]
        self._made_full = False
        self.dropped_tail = 0

    def start_segment(self) -> None:
        """Begin a new segment (after a gap); the caller closes the previous one first."""
        self._buf = np.empty((0, 0))
        self._made_full = False

    def feed(self, k: I64, x: F64) -> tuple[list[F64], list[int], list[int]]:
        """Add contiguous samples of the current segment.

        Returns:
            complete windows, the grid index of each one's first sample, and how many of its
            samples are real (less than the window length only for a padded window).
        """
        if x.shape[0] == 0:
            return [], [], []
        if self._buf.size == 0:
            self._buf = x
            self._k0 = int(k[0])
        else:
            self._buf = np.concatenate([self._buf, x], axis=0)
        wins: list[F64] = []
        starts: list[int] = []
        while self._buf.shape[0] >= self.window:
            wins.append(self._buf[: self.window].copy())
            starts.append(self._k0)
            self._buf = self._buf[self.hop :]
            self._k0 += self.hop
            self._made_full = True
        return wins, starts, [self.window] * len(wins)

    def close_segment(self) -> tuple[list[F64], list[int], list[int]]:
        """End of the segment: pad it into one window if it never filled one."""
        n = self._buf.shape[0] if self._buf.size else 0
        out: tuple[list[F64], list[int], list[int]] = ([], [], [])
        if n and not self._made_full and self.pad_min and n >= self.pad_min:
            out = ([pad_segment(self._buf, self.window, self.pad_mode, self.mean)], [self._k0],
                   [n])
        elif n:
            # samples after the last full window's start that no full window covers
            covered = max(0, self.window - self.hop) if self._made_full else 0
            self.dropped_tail += max(0, n - covered)
        self.start_segment()
        return out
