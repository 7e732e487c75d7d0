"""Pieces every vendor decoder shares: unit constants, the profile type, acc/gyro pairing.

Nothing here does I/O. Imports numpy and the stdlib only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .._types import DecoderStats, DeviceProfile, ImuSamples

__all__ = [
    "DEG",
    "NAN3",
    "AccGyroPairer",
    "DeviceOptionError",
    "G",
    "Row",
    "VendorProfile",
    "make_samples",
    "nan_rows",
    "quantize",
    "sample_rows",
]

#: Standard gravity (m/s^2): every "g" on a wire is converted with this value.
G = 9.80665
#: Degrees to radians.
DEG = math.pi / 180.0

F64 = npt.NDArray[np.float64]
#: One x y z row in SI units.
Row = tuple[float, float, float]
NAN3: Row = (math.nan, math.nan, math.nan)


class DeviceOptionError(ValueError):
    """A decoder or encoder option has a value the device does not support.

    The message names the option, the value and the accepted values.
    """


@dataclass(frozen=True)
class VendorProfile(DeviceProfile):
    """A :class:`DeviceProfile` with the extra facts a vendor device needs.

    ``control_uuid`` is the BLE characteristic that ``start_commands`` / ``stop_commands`` are
    written to; an empty command tuple means enabling / disabling notifications on
    ``notify_uuids`` is all it takes.

    Attributes:
        baud_rate: serial line rate (None for BLE).
        scale: human-readable wire scale factors as ``(sensor, description)`` pairs, e.g.
            ``(("acc", "int16 / 32768 * 16 g"),)``.
        timestamps: what a timestamp on the wire means, or how samples are timed without one.
        sources: where each fact comes from (repository + file, or documentation URL).
    """

    baud_rate: int | None = None
    scale: tuple[tuple[str, str], ...] = ()
    timestamps: str = "none on the wire: the host stamps arrival"
    sources: tuple[str, ...] = field(default_factory=tuple)


def nan_rows(n: int) -> F64:
    """``(n, 3)`` array of NaN: the channels a frame did not carry."""
    return np.full((n, 3), np.nan, dtype=np.float64)


def quantize(values: F64, scale: float, lo: int, hi: int) -> npt.NDArray[np.int64]:
    """Round ``values / scale`` to integers clipped to ``[lo, hi]``; NaN becomes 0."""
    q = np.rint(np.nan_to_num(np.asarray(values, dtype=np.float64) / scale))
    return np.clip(q, lo, hi).astype(np.int64)


def _row(values: F64) -> Row | None:
    x, y, z = (float(v) for v in values)
    return (x, y, z) if math.isfinite(x + y + z) else None


def sample_rows(samples: ImuSamples) -> list[tuple[Row | None, Row | None]]:
    """Per sample, the acc row and gyro row as tuples, or None where the row is not finite."""
    return [(_row(samples.acc[i]), _row(samples.gyro[i])) for i in range(len(samples))]


def make_samples(
    acc: F64 | None, gyro: F64 | None, t: F64 | None = None, seq: int | None = None
) -> ImuSamples:
    """Build :class:`ImuSamples`, filling a missing sensor with NaN rows."""
    if acc is not None:
        a = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        g = nan_rows(a.shape[0]) if gyro is None else np.asarray(gyro, dtype=np.float64)
    elif gyro is not None:
        g = np.asarray(gyro, dtype=np.float64).reshape(-1, 3)
        a = nan_rows(g.shape[0])
    else:
        raise ValueError("make_samples needs acc or gyro")
    return ImuSamples(acc=a, gyro=g.reshape(-1, 3), t=t, seq=seq)


class AccGyroPairer:
    """Pairs accelerometer and gyroscope rows that arrive in separate frames.

    Devices such as WitMotion (serial) and MetaWear send acc and gyro in separate frames at
    the same rate, acc first in each output cycle. The rule, chosen so that nothing is ever
    invented, duplicated or reordered:

    * acc rows wait (at most one frame's worth) for the next gyro frame;
    * a gyro frame pairs row by row with the waiting acc rows, oldest first;
    * acc rows left unpaired (another acc frame came first) are emitted with NaN gyro;
    * gyro rows with no waiting acc are emitted with NaN acc.

    Every emitted acc row and gyro row is one the device sent, each exactly once, in order.
    The cost is at most one frame of latency on the acc side; :meth:`flush` releases it.
    Rows are plain tuples (SI units) so that per-frame work stays cheap.

    Args:
        pair: ``False`` emits every acc row at once with NaN gyro (pairing off).
        stats: counters whose ``samples`` :meth:`take` advances by the rows it returns.
    """

    def __init__(self, pair: bool = True, stats: DecoderStats | None = None) -> None:
        self.pair = pair
        self.stats = stats
        self._pending: list[Row] = []
        self._out_acc: list[Row] = []
        self._out_gyro: list[Row] = []

    def push_acc(self, rows: list[Row]) -> None:
        """Queue accelerometer rows (m/s^2); releases rows still waiting with NaN gyro."""
        self.flush()
        self._pending = list(rows)
        if not self.pair:
            self.flush()

    def push_gyro(self, rows: list[Row]) -> None:
        """Pair gyroscope rows (rad/s) with waiting acc rows, or emit them alone."""
        pending, self._pending = self._pending, []
        m = min(len(pending), len(rows))
        self._out_acc += pending[:m]
        self._out_gyro += rows[:m]
        for row in pending[m:]:
            self._out_acc.append(row)
            self._out_gyro.append(NAN3)
        for row in rows[m:]:
            self._out_acc.append(NAN3)
            self._out_gyro.append(row)

    def push_pair(self, acc: Row, gyro: Row) -> None:
        """Emit one row whose acc and gyro came in the same frame."""
        self.flush()
        self._out_acc.append(acc)
        self._out_gyro.append(gyro)

    def flush(self) -> None:
        """Release waiting acc rows with NaN gyro (end of stream, or pairing disabled)."""
        for row in self._pending:
            self._out_acc.append(row)
            self._out_gyro.append(NAN3)
        self._pending = []

    def take(self) -> list[ImuSamples]:
        """Everything emitted since the last call, as one :class:`ImuSamples` (or none)."""
        if not self._out_acc:
            return []
        acc = np.array(self._out_acc, dtype=np.float64).reshape(-1, 3)
        gyro = np.array(self._out_gyro, dtype=np.float64).reshape(-1, 3)
        self._out_acc = []
        self._out_gyro = []
        if self.stats is not None:
            self.stats.samples += acc.shape[0]
        return [ImuSamples(acc=acc, gyro=gyro)]
