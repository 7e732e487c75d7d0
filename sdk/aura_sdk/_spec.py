"""What a device sends (:class:`SensorSpec`) and what a model expects (:class:`ModelInputSpec`).

Both are frozen, validated pydantic models. The channel order is fixed everywhere in AURA:
``[ax, ay, az, gx, gy, gz]``. A model's input is always in SI units (m/s^2, rad/s); the
preprocessing in :mod:`aura_sdk.preprocessing` converts whatever the device sends.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._errors import ConfigError

__all__ = [
    "CHANNELS",
    "GRAVITY",
    "PLACEMENTS",
    "UPRIGHT_SUFFIX",
    "ModelInputSpec",
    "SensorSpec",
]

CHANNELS: tuple[str, ...] = ("ax", "ay", "az", "gx", "gy", "gz")
#: Standard gravity, m/s^2 (CGPM 1901; ISO 80000-3).
GRAVITY = 9.80665

#: Where a device may be worn, for :attr:`SensorSpec.placement`: on a wrist (a watch or band),
#: at the waist (a belt clip or pouch over the front of the hip), in a front trouser pocket, or
#: on the upper arm (an armband).
PLACEMENTS: tuple[str, ...] = ("wrist", "waist", "pocket", "upper_arm")

#: An encoder's placement input names a placement whose device frame was turned to the
#: wearer's upright (:attr:`SensorSpec.upright`) as the placement plus this suffix
#: (``"waist+upright"``); an encoder that lists such names was trained on turned frames.
UPRIGHT_SUFFIX = "+upright"

_MIN_RATE_HZ = 1.0
_MAX_RATE_HZ = 10_000.0


def check_placement(placement: str | None, *, upright_ok: bool = False) -> str | None:
    """``placement`` itself when it is one of :data:`PLACEMENTS` or ``None`` (with
    ``upright_ok``, also such a name plus :data:`UPRIGHT_SUFFIX`).

    Raises:
        ConfigError: any other value.
    """
    base = placement
    if upright_ok and placement is not None and placement.endswith(UPRIGHT_SUFFIX):
        base = placement[: -len(UPRIGHT_SUFFIX)]
    if base is not None and base not in PLACEMENTS:
        raise ConfigError(
            f"placement={placement!r} is not one of {list(PLACEMENTS)}; pass the nearest of "
            "them, or None when the device may be worn anywhere")
    return placement


class SensorSpec(BaseModel):
    """What a device streams: rate, units and gravity convention of ``[ax ay az gx gy gz]``.

    Attributes:
        sample_rate_hz: nominal output data rate of the device (timestamps may jitter around it).
        accel_unit: ``"g"`` or ``"m/s^2"``.
        gyro_unit: ``"deg/s"`` or ``"rad/s"``.
        gravity_removed: ``False`` for raw specific force (a still device reads +1 g upward);
            ``True`` for linear acceleration with gravity removed by the device's own sensor
            fusion (Android ``TYPE_LINEAR_ACCELERATION``, Core Motion ``userAcceleration``).
        placement: where the device is worn, one of :data:`PLACEMENTS`, or ``None`` (not
            said). A model with a placement input reads it (a belt phone tilts a few degrees
            between standing and sitting where a watch turns with the forearm); other models
            ignore it.
        upright: the direction, in the device's axes, of what its accelerometer reads while
            the wearer stands or walks upright (any length; :func:`aura_sdk.preprocessing.
            estimate_upright` finds it from a stretch of walking), or ``None`` (not known).
            With a ``placement``, a model trained for it turns the device frame so that this
            is the placement's upright axis, which tells standing, sitting and lying apart
            whatever way round the device is worn; other models ignore it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The placements :attr:`placement` takes (:data:`PLACEMENTS`).
    PLACEMENTS: ClassVar[tuple[str, ...]] = PLACEMENTS

    sample_rate_hz: float = Field(gt=0)
    accel_unit: Literal["g", "m/s^2"] = "m/s^2"
    gyro_unit: Literal["deg/s", "rad/s"] = "rad/s"
    gravity_removed: bool = False
    placement: str | None = None
    upright: tuple[float, float, float] | None = None

    @field_validator("placement")
    @classmethod
    def _known_placement(cls, v: str | None) -> str | None:
        return check_placement(v)

    @field_validator("upright", mode="before")
    @classmethod
    def _upright_sequence(cls, v: object) -> object:
        if v is None or isinstance(v, tuple):
            return v
        try:  # a list or an array
            return tuple(float(c) for c in v)  # type: ignore[attr-defined]
        except TypeError:
            return v

    @field_validator("upright")
    @classmethod
    def _upright_direction(cls, v: tuple[float, float, float] | None
                           ) -> tuple[float, float, float] | None:
        if v is None:
            return None
        n = math.sqrt(sum(c * c for c in v))
        if not math.isfinite(n) or n < 1e-9:
            raise ValueError(f"upright={v!r} must be a finite, non-zero direction (what the "
                             "accelerometer reads while the wearer stands upright)")
        return (v[0] / n, v[1] / n, v[2] / n)

    @property
    def input_placement(self) -> str | None:
        """The placement name an encoder's placement input is asked for: ``placement``, or
        ``placement + UPRIGHT_SUFFIX`` when ``upright`` is known too."""
        if self.placement is not None and self.upright is not None:
            return self.placement + UPRIGHT_SUFFIX
        return self.placement

    @field_validator("sample_rate_hz")
    @classmethod
    def _rate_in_range(cls, v: float) -> float:
        if not math.isfinite(v) or not (_MIN_RATE_HZ <= v <= _MAX_RATE_HZ):
            raise ValueError(
                f"sample_rate_hz={v!r} is outside {_MIN_RATE_HZ:g}..{_MAX_RATE_HZ:g} Hz; "
                "pass the device's nominal output data rate in Hz"
            )
        return float(v)

    @property
    def period_s(self) -> float:
        """Nominal sample period in seconds."""
        return 1.0 / self.sample_rate_hz


class ModelInputSpec(BaseModel):
    """What a model's encoder consumes: one window of normalised SI samples.

    Attributes:
        sample_rate_hz: the model's uniform sample rate.
        window_samples: samples per window (fixed: TensorRT engines hate dynamic shapes).
        hop_samples: default hop between live windows.
        channels: always ``CHANNELS``; stored so a bundle states it explicitly.
        gravity: ``"included"`` (raw specific force), ``"removed"`` (linear acceleration) or
            ``"either"`` (trained on both conventions; fed as the device sends it).
        norm_mean, norm_std: per-channel statistics; the encoder sees ``(x - mean) / std``.
        pad_mode: how a segment shorter than a window is completed, exactly as in training:
            ``"edge"`` repeats the last sample, ``"wrap"`` repeats the segment from its start,
            ``"zero"`` fills with the channel mean (zero after normalisation).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_rate_hz: float = Field(gt=0, le=_MAX_RATE_HZ)
    window_samples: int = Field(ge=8, le=100_000)
    hop_samples: int = Field(ge=1)
    channels: tuple[str, ...] = CHANNELS
    gravity: Literal["included", "removed", "either"] = "either"
    norm_mean: tuple[float, float, float, float, float, float] = (0.0,) * 6
    norm_std: tuple[float, float, float, float, float, float] = (1.0,) * 6
    pad_mode: Literal["edge", "wrap", "zero"] = "edge"

    @field_validator("channels")
    @classmethod
    def _fixed_channels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if tuple(v) != CHANNELS:
            raise ValueError(f"channels must be {list(CHANNELS)} in that order, got {list(v)}")
        return tuple(v)

    @field_validator("norm_mean", "norm_std")
    @classmethod
    def _finite(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not all(math.isfinite(x) for x in v):
            raise ValueError("normalisation statistics must be finite numbers")
        return v

    @field_validator("norm_std")
    @classmethod
    def _positive_std(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(x <= 0 for x in v):
            raise ValueError("norm_std entries must be > 0 (a zero std would divide by zero)")
        return v

    @model_validator(mode="after")
    def _hop_fits(self) -> ModelInputSpec:
        if self.hop_samples > self.window_samples:
            raise ValueError(
                f"hop_samples={self.hop_samples} exceeds window_samples={self.window_samples}; "
                "windows would skip data"
            )
        return self

    @property
    def window_s(self) -> float:
        """Window length in seconds."""
        return self.window_samples / self.sample_rate_hz

    @property
    def hop_s(self) -> float:
        """Default hop in seconds."""
        return self.hop_samples / self.sample_rate_hz
