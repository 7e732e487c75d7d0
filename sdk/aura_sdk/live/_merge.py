"""Join accelerometer and gyroscope samples into ``[ax ay az gx gy gz]`` rows.

Many devices send both in one frame; others (Polar PMD, some MetaWear setups) send them in
separate frames, even at different rates. Rows are emitted at accelerometer times, with the
gyroscope linearly interpolated at each of them once a gyroscope sample at or after that time
has arrived (a sample sent together with its gyroscope reading passes straight through).
A device that sends no gyroscope at all is detected after ``wait_s`` and fed with zeros (the
model then sees "no rotation", which training covers by gyro dropout); this is counted.

Pure: no clocks, no I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ChannelMerger"]

F64 = npt.NDArray[np.float64]


class ChannelMerger:
    """Streaming acc/gyro joiner (see module doc).

    Args:
        wait_s: timeline seconds of accelerometer data without any gyroscope after which the
            device is taken to have none.
    """

    #: take the shortcut for samples that carry both sensors (off: always the general path)
    shortcut = True

    def __init__(self, wait_s: float = 1.0) -> None:
        self.wait_s = wait_s
        self._ta = np.empty(0)
        self._a = np.empty((0, 3))
        self._tg = np.empty(0)
        self._g = np.empty((0, 3))
        self.gyro_absent = False
        self.counters = {"rows": 0, "unpaired_acc": 0, "gyro_filled_zero": 0, "gyro_only": 0}

    def reset(self) -> None:
        """Forget buffered samples (a reconnect or clock reset)."""
        self._ta, self._a = np.empty(0), np.empty((0, 3))
        self._tg, self._g = np.empty(0), np.empty((0, 3))

    def feed(self, t: F64, acc: F64, gyro: F64) -> tuple[F64, F64]:
        """Add samples (timeline times ``t``, increasing); return ``(t_rows, rows (n, 6))``."""
        if (self.shortcut and not self._ta.size and t.size
                and (not self._tg.size or t[0] > self._tg[-1])
                and np.isfinite(acc).all() and np.isfinite(gyro).all()
                and (t.size == 1 or bool((np.diff(t) > 0).all()))):
            # the common case, both sensors in every sample and nothing pending: the general
            # path would pair each sample with itself; only the last gyroscope sample is kept
            self.gyro_absent = False
            self._tg, self._g = t[-1:], gyro[-1:]
            self.counters["rows"] += int(t.size)
            return t, np.concatenate([acc, gyro], axis=1)
        has_a = np.isfinite(acc).all(axis=1)
        has_g = np.isfinite(gyro).all(axis=1)
        self.counters["gyro_only"] += int((has_g & ~has_a).sum())
        self._ta = np.concatenate([self._ta, t[has_a]])
        self._a = np.concatenate([self._a, acc[has_a]])
        self._tg = np.concatenate([self._tg, t[has_g]])
        self._g = np.concatenate([self._g, gyro[has_g]])
        if self._tg.size:
            self.gyro_absent = False
        elif self._ta.size and self._ta[-1] - self._ta[0] >= self.wait_s:
            self.gyro_absent = True
        if self.gyro_absent:
            rows = np.concatenate([self._a, np.zeros_like(self._a)], axis=1)
            t_out = self._ta
            self.counters["gyro_filled_zero"] += int(t_out.size)
            self._ta, self._a = np.empty(0), np.empty((0, 3))
            self.counters["rows"] += int(t_out.size)
            return t_out, rows
        if not self._tg.size or not self._ta.size:
            return np.empty(0), np.empty((0, 6))
        # accelerometer samples before the first gyroscope sample cannot be paired
        early = self._ta < self._tg[0]
        if early.any():
            self.counters["unpaired_acc"] += int(early.sum())
            self._ta, self._a = self._ta[~early], self._a[~early]
        ready = self._ta <= self._tg[-1]
        t_out = self._ta[ready]
        g = np.column_stack([np.interp(t_out, self._tg, self._g[:, c]) for c in range(3)])
        rows = np.concatenate([self._a[ready], g.reshape(-1, 3)], axis=1)
        self._ta, self._a = self._ta[~ready], self._a[~ready]
        # keep the gyroscope samples the pending accelerometer samples still need
        if self._ta.size:
            keep = max(0, int(np.searchsorted(self._tg, self._ta[0], side="right")) - 1)
        else:
            keep = max(0, self._tg.size - 1)
        self._tg, self._g = self._tg[keep:], self._g[keep:]
        self.counters["rows"] += int(t_out.size)
        return t_out, rows
