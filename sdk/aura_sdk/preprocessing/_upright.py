"""The wearer's upright direction in the device frame: what makes still postures readable.

A device at rest reads only gravity, so one window of it says how the device is tilted, not
how the body is: a belt phone clipped upright reads +1 g along its long axis when the wearer
stands, and exactly the same when it is clipped a quarter turn round and the wearer lies on
their back. Told where "up" is for this wearer and this mounting (:attr:`SensorSpec.upright
<aura_sdk.SensorSpec.upright>`), the model turns the device frame so that this direction lies
along the placement's own upright axis (:data:`UPRIGHT_AXES`); standing, sitting (the pelvis
tilts back about 10-25°) and lying (about 90°) then differ in a way a model can learn.

"Up" is the direction of the specific force (what a still accelerometer reads: +1 g opposite
to gravity) while the wearer stands or walks upright. :func:`estimate_upright` finds it in a
recording without labels: the mean acceleration over stretches of walking, where the trunk,
thighs and hanging arms are upright on average whatever the mounting.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError, PreprocessingError
from .._spec import GRAVITY, PLACEMENTS, SensorSpec
from ._units import as_samples, to_si

__all__ = ["UPRIGHT_AXES", "WALKING_PLACEMENTS", "UprightTracker", "estimate_upright",
           "rotate_imu", "upright_rotation"]

F64 = npt.NDArray[np.float64]

#: The upright direction of each placement's canonical device frame (the frames the training
#: corpus places devices in): a watch's ``x`` runs along the forearm toward the hand, which
#: hangs down when the wearer stands, so up is ``-x``; a phone at the waist, in a pocket or on
#: an armband stands upright on its long axis, ``+y``.
UPRIGHT_AXES: dict[str, tuple[float, float, float]] = {
    "wrist": (-1.0, 0.0, 0.0),
    "waist": (0.0, 1.0, 0.0),
    "pocket": (0.0, 1.0, 0.0),
    "upper_arm": (0.0, 1.0, 0.0),
}
assert set(UPRIGHT_AXES) == set(PLACEMENTS)

#: Placements whose rhythmic acceleration is walking (or running) often enough for
#: :func:`estimate_upright` and :class:`UprightTracker` to find up without labels: a belt
#: or pocket rides the pelvis and thigh. At a wrist or on an upper arm, chores, rowing, jumping
#: jacks or a violin bow repeat too: on the synthetic test split 70 % of the wrist estimates
#: were more than 20° off (waist: 2 %). There the upright is said, not found.
WALKING_PLACEMENTS: tuple[str, ...] = ("waist", "pocket")

#: gait detection of :func:`estimate_upright`: window and hop (s), the spread of the
#: acceleration magnitude (std, in g) that walking to running shows at any placement, and
#: how periodic it must be at a step or stride period
_WINDOW_S, _HOP_S = 2.56, 1.28
_STD_G = (0.06, 1.2)
_PERIOD_S = (0.25, 1.3)
_MIN_PERIODICITY = 0.3
#: at least this much walking, and directions this concentrated (mean resultant length)
_MIN_WINDOWS = 3
_MIN_CONCENTRATION = 0.9
#: a tracker reports a new upright only when it moved by more than about 5°
_SAME = math.cos(math.radians(5.0))


def _unit(v: npt.ArrayLike, what: str) -> F64:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    n = float(np.linalg.norm(a)) if a.shape == (3,) else 0.0
    if a.shape != (3,) or not math.isfinite(n) or n < 1e-9:
        raise ConfigError(f"{what} must be a finite, non-zero 3-vector, got {v!r}")
    return a / n


def upright_rotation(upright: npt.ArrayLike, placement: str) -> F64:
    """The smallest rotation ``R`` (3, 3) with ``R @ upright`` along ``placement``'s upright
    axis (:data:`UPRIGHT_AXES`): applied to a device's acceleration and angular rate, it
    turns the device frame into one where the wearer's up is the canonical one (turning
    about that axis is left alone: the heading a device faces is not known from gravity).

    Raises:
        ConfigError: ``upright`` is not a non-zero 3-vector, or ``placement`` is unknown.
    """
    if placement not in UPRIGHT_AXES:
        raise ConfigError(f"placement={placement!r} is not one of {list(UPRIGHT_AXES)}; "
                          "an upright direction needs a placement")
    u = _unit(upright, "upright")
    v = np.asarray(UPRIGHT_AXES[placement], dtype=np.float64)
    axis = np.cross(u, v)
    s, c = float(np.linalg.norm(axis)), float(u @ v)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        # opposite: half a turn about any axis across v (the one nearest the first free axis)
        k = np.eye(3)[int(np.argmin(np.abs(v)))]
        axis = np.cross(v, k)
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]],
                  [-axis[1], axis[0], 0.0]]) / s
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def rotate_imu(imu: npt.ArrayLike, rot: npt.ArrayLike) -> F64:
    """``(T, 6)`` samples ``[ax ay az gx gy gz]`` seen in a frame turned by ``rot``: both
    triads rotate alike (any units; a rotation keeps them)."""
    x = as_samples(imu)
    r = np.asarray(rot, dtype=np.float64)
    out = np.empty_like(x)
    out[:, :3] = x[:, :3] @ r.T
    out[:, 3:] = x[:, 3:] @ r.T
    return out


def _periodicity(mag: F64, rate_hz: float) -> float:
    """Highest normalised autocorrelation of ``mag`` at a step or stride period."""
    d = mag - mag.mean()
    energy = float(d @ d)
    if energy <= 0.0:
        return 0.0
    lo = max(1, int(_PERIOD_S[0] * rate_hz))
    hi = min(d.size - 1, math.ceil(_PERIOD_S[1] * rate_hz))
    if hi <= lo:
        return 0.0
    ac = np.correlate(d, d, mode="full")[d.size - 1 + lo : d.size + hi]
    return float(ac.max() / energy)


def _gait_directions(acc: F64, rate: float) -> list[F64]:
    """Unit mean acceleration of each 2.56-s window of ``acc`` (SI, rows finite) that walks:
    its magnitude varies as steps make it and repeats at a step or stride period."""
    n, hop = round(_WINDOW_S * rate), max(1, round(_HOP_S * rate))
    if n < 8 or acc.shape[0] < n:
        return []
    dirs = []
    for a in range(0, acc.shape[0] - n + 1, hop):
        w = acc[a : a + n]
        mag = np.linalg.norm(w, axis=1) / GRAVITY
        std = float(mag.std())
        if not _STD_G[0] <= std <= _STD_G[1] or _periodicity(mag, rate) < _MIN_PERIODICITY:
            continue
        m = w.mean(axis=0)
        norm = float(np.linalg.norm(m))
        if norm > 0.5 * GRAVITY:  # a mean far below 1 g is not a body moving about upright
            dirs.append(m / norm)
    return dirs


def _agreed(dirs: list[F64]) -> F64 | None:
    """The mean of ``dirs`` when there are enough of them and they agree, else ``None``."""
    if len(dirs) < _MIN_WINDOWS:
        return None
    mean = np.mean(dirs, axis=0)
    r = float(np.linalg.norm(mean))
    if r < _MIN_CONCENTRATION:
        return None
    return np.asarray(mean / r, dtype=np.float64)


def estimate_upright(imu: npt.ArrayLike, spec: SensorSpec) -> F64 | None:
    """The wearer's upright direction in the device frame, found without labels: the mean
    direction of the acceleration over the recording's stretches of walking (2.56-s windows
    whose acceleration magnitude varies as steps make it and repeats at a step or stride
    period). ``None`` when the recording holds less than about 5 s of walking, or its walking
    does not agree on one direction (the device moved on the body). Trustworthy for devices
    on the trunk or thigh (:data:`WALKING_PLACEMENTS`), not at a wrist.

    Returns:
        ``(3,)`` unit vector, for :attr:`SensorSpec.upright`.

    Raises:
        PreprocessingError: bad shape, or gravity-removed data (it has no "up" to find).
    """
    if spec.gravity_removed:
        raise PreprocessingError("gravity-removed acceleration has no upright direction to "
                                 "find; estimate it from the raw accelerometer")
    acc = to_si(imu, spec)[:, :3]
    acc = acc[np.all(np.isfinite(acc), axis=1)]  # a corrupt row is a missing sample here
    return _agreed(_gait_directions(acc, spec.sample_rate_hz))


class UprightTracker:
    """The wearer's upright, found as a stream goes (``LiveRecognizer``'s ``upright="auto"``):
    :meth:`feed` it the stream's acceleration in order; :attr:`upright` is the agreed
    direction of the most recent walking (the last ``keep`` walking windows of 2.56 s),
    ``None`` until about 5 s of walking agree. A device that moves on the body is followed
    once its new walking outnumbers the old.

    Args:
        rate_hz: the sample rate of what is fed.
        keep: walking windows remembered.
    """

    def __init__(self, rate_hz: float, keep: int = 24) -> None:
        if not rate_hz > 0 or keep < _MIN_WINDOWS:
            raise ConfigError(f"need rate_hz > 0 and keep >= {_MIN_WINDOWS}; got {rate_hz}, "
                              f"{keep}")
        self.rate_hz = float(rate_hz)
        self.keep = keep
        self._n, self._hop = round(_WINDOW_S * rate_hz), max(1, round(_HOP_S * rate_hz))
        self._buf = np.empty((0, 3))
        self._dirs: list[F64] = []
        self.upright: F64 | None = None

    def feed(self, acc: npt.ArrayLike) -> bool:
        """Take the next ``(n, 3)`` acceleration samples in m/s^2 (gravity included);
        returns whether :attr:`upright` changed."""
        a = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        buf = np.concatenate([self._buf, a[np.all(np.isfinite(a), axis=1)]])
        done = 0 if buf.shape[0] < self._n else (
            (buf.shape[0] - self._n) // self._hop + 1) * self._hop
        new = _gait_directions(buf[: done - self._hop + self._n], self.rate_hz) if done else []
        self._buf = buf[done:]
        if not new:
            return False
        self._dirs = (self._dirs + new)[-self.keep :]
        got = _agreed(self._dirs)
        if got is None or (self.upright is not None and float(got @ self.upright) > _SAME):
            return False
        self.upright = got
        return True
