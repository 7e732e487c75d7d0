"""Unit conversion of raw device samples to SI (m/s^2, rad/s)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .._errors import PreprocessingError
from .._spec import GRAVITY, SensorSpec

__all__ = ["as_samples", "as_timestamps", "to_si"]

F64 = npt.NDArray[np.float64]

_DEG = math.pi / 180.0


def as_samples(imu: npt.ArrayLike) -> F64:
    """Return ``imu`` as a float64 ``(T, 6)`` array, or raise a clear error.

    Raises:
        PreprocessingError: wrong shape or a non-numeric dtype.
    """
    try:
        arr = np.asarray(imu, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PreprocessingError(
            "IMU samples must be numeric: pass a (T, 6) array [ax ay az gx gy gz]"
        ) from exc
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise PreprocessingError(
            f"IMU samples must have shape (T, 6) [ax ay az gx gy gz], got {arr.shape}; "
            "stack accelerometer and gyroscope columns side by side"
        )
    return arr


def as_timestamps(t: npt.ArrayLike, n: int) -> F64:
    """Return ``t`` as a float64 ``(n,)`` array of seconds, or raise a clear error.

    Raises:
        PreprocessingError: wrong length or non-numeric.
    """
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PreprocessingError("timestamps must be numeric seconds") from exc
    if arr.shape != (n,):
        raise PreprocessingError(
            f"timestamps must have shape ({n},) to match the samples, got {arr.shape}"
        )
    return arr


def to_si(imu: npt.ArrayLike, spec: SensorSpec) -> F64:
    """Convert ``(T, 6)`` samples in the device's units to m/s^2 and rad/s.

    The gravity convention is not touched here: it is a property of the signal, not a unit.

    Raises:
        PreprocessingError: wrong shape.
    """
    x = as_samples(imu).copy()
    if spec.accel_unit == "g":
        x[:, :3] *= GRAVITY
    if spec.gyro_unit == "deg/s":
        x[:, 3:] *= _DEG
    return x
