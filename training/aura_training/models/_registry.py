"""Named encoder configs and the one function that builds any encoder.

The registry is a read-only table of frozen config objects: importing it builds no model,
loads no weights and registers nothing. A config can be given as a preset name, as a config
object, or as a mapping (from YAML) with either a ``kind`` or a ``preset`` key plus fields
to override.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from torch import nn

from aura_sdk import ConfigError

from ._common import FeatureProjection, ProjectionConfig
from ._imu2clip import Imu2ClipConfig, Imu2ClipEncoder
from ._imu_transformer import ImuTransformer, ImuTransformerConfig
from ._mocap import MocapCnn, MocapCnnConfig
from ._text import TextEncoder, TextTowerConfig
from ._video import VideoCnn, VideoCnnConfig

__all__ = ["ENCODER_PRESETS", "EncoderConfig", "build_encoder", "encoder_config"]

#: Any encoder config; the ``kind`` field selects the family.
EncoderConfig = Annotated[
    ImuTransformerConfig | Imu2ClipConfig | VideoCnnConfig | MocapCnnConfig | TextTowerConfig
    | ProjectionConfig,
    Field(discriminator="kind"),
]

_BUILDERS: Mapping[str, Any] = MappingProxyType({
    "imu_transformer": ImuTransformer,
    "imu2clip": Imu2ClipEncoder,
    "video_cnn": VideoCnn,
    "mocap_cnn": MocapCnn,
    "text_minilm": TextEncoder,
    "projection": FeatureProjection,
})

#: Named configs. IMU: ``imu-ss`` is the paper's SS model (200 Hz x 5 s, 125 patches);
#: ``imu-ss-50hz`` the same network on 50 Hz input (25 patches of 0.2 s), for CPU training;
#: ``imu-xs`` a smaller teacher for CPU; ``imu-student`` the distillation student that ships
#: (under a fifth of ``imu-xs``'s FLOPs per window);
#: ``imu2clip`` / ``imu2clip-50hz`` the baseline at both rates. Other modalities: ``video-cnn``
#: (middle frame, as the paper), ``video-cnn-4f`` (4 frames), ``video-motion`` (the differences
#: of 16 frames, with training jitter: see :mod:`._video`), ``mocap-cnn``, ``text-minilm``
#: (frozen, no projection), ``text-minilm-proj`` (frozen + learned Linear).
ENCODER_PRESETS: Mapping[str, EncoderConfig] = MappingProxyType({
    "imu-ss": ImuTransformerConfig(),
    "imu-ss-50hz": ImuTransformerConfig(sample_rate_hz=50.0, patch_size=10),
    "imu-xs": ImuTransformerConfig(sample_rate_hz=50.0, patch_size=10, dim=128, depth=4,
                                   heads=4, mlp_dim=256),
    "imu-student": ImuTransformerConfig(sample_rate_hz=50.0, patch_size=10, dim=64, depth=3,
                                        heads=4, mlp_dim=96),
    "imu2clip": Imu2ClipConfig(),
    "imu2clip-50hz": Imu2ClipConfig(sample_rate_hz=50.0),
    "video-cnn": VideoCnnConfig(),
    "video-cnn-4f": VideoCnnConfig(n_frames=4),
    "video-motion": VideoCnnConfig(n_frames=16, motion=True, jitter_px=4),
    "mocap-cnn": MocapCnnConfig(),
    "text-minilm": TextTowerConfig(),
    "text-minilm-proj": TextTowerConfig(projection=True),
})


@functools.cache
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(EncoderConfig)


def encoder_config(spec: str | Mapping[str, Any] | EncoderConfig, /,
                   **overrides: Any) -> EncoderConfig:
    """Resolve a preset name, a mapping or a config into a validated config.

    Args:
        spec: a name in :data:`ENCODER_PRESETS`; a config object; or a mapping with a
            ``kind`` (a full config) or a ``preset`` key (that preset, with the mapping's
            other keys as overrides).
        **overrides: fields to replace (validated again), e.g. ``embed_dim=512``.

    Returns:
        The frozen config.

    Raises:
        ConfigError: unknown preset or kind, or an invalid field (the message lists them).
    """
    if isinstance(spec, str):
        if spec not in ENCODER_PRESETS:
            raise ConfigError(f"unknown encoder {spec!r}; presets: {sorted(ENCODER_PRESETS)}")
        base: Any = ENCODER_PRESETS[spec]
    elif isinstance(spec, Mapping):
        fields = dict(spec)
        if "preset" in fields:
            return encoder_config(str(fields.pop("preset")), **{**fields, **overrides})
        try:
            base = _adapter().validate_python(fields)
        except ValidationError as exc:
            raise ConfigError(f"invalid encoder config: {exc}") from exc
    else:
        base = spec
    if not overrides:
        return base
    try:
        return _adapter().validate_python({**base.model_dump(), **overrides})
    except ValidationError as exc:
        raise ConfigError(f"invalid encoder config: {exc}") from exc


def build_encoder(spec: str | Mapping[str, Any] | EncoderConfig, /, **overrides: Any) -> nn.Module:
    """Build an encoder (fresh, randomly initialised; seed torch first for determinism).

    Args:
        spec: see :func:`encoder_config`.
        **overrides: config fields to replace.

    Returns:
        The encoder ``nn.Module``; it has ``config``, ``embed_dim`` and ``dummy_input``.

    Raises:
        ConfigError: see :func:`encoder_config`.
    """
    config = encoder_config(spec, **overrides)
    return _BUILDERS[config.kind](config)
