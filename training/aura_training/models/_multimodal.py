"""One module holding an encoder per modality (the thing the trainer optimises)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from aura_sdk import ConfigError

from ._registry import EncoderConfig, build_encoder

__all__ = ["MultiModalEncoder"]


class MultiModalEncoder(nn.Module):
    """An encoder per modality, all mapping into one shared space.

    Args:
        encoders: modality name (``"imu"``, ``"text"``, ``"video"``, ``"mocap"``) -> encoder.

    Raises:
        ConfigError: no encoders, or their ``embed_dim`` differ.
    """

    def __init__(self, encoders: Mapping[str, nn.Module]) -> None:
        super().__init__()
        dims = {name: int(getattr(enc, "embed_dim", -1)) for name, enc in encoders.items()}
        if not dims or len(set(dims.values())) != 1:
            raise ConfigError(f"encoders must share one embed_dim, got {dims}")
        self.encoders = nn.ModuleDict(dict(encoders))
        self.embed_dim = next(iter(dims.values()))

    @classmethod
    def from_configs(cls, specs: Mapping[str, str | Mapping[str, Any] | EncoderConfig],
                     ) -> MultiModalEncoder:
        """Build every modality's encoder with :func:`build_encoder`."""
        return cls({name: build_encoder(spec) for name, spec in specs.items()})

    def forward(self, inputs: Mapping[str, Any]) -> dict[str, Tensor]:
        """Embed each modality present in ``inputs`` that has an encoder.

        Args:
            inputs: modality -> that encoder's input (raw data or precomputed features);
                ``"imu_placement"``: ``(B,)`` placement ids for an IMU encoder that reads
                them (see :class:`~aura_training.models.ImuTransformer`).

        Returns:
            modality -> ``(B, embed_dim)`` embeddings.
        """
        out = {}
        for name, enc in self.encoders.items():
            if name not in inputs:
                continue
            if name == "imu" and getattr(enc, "uses_placement", False):
                out[name] = enc(inputs[name], inputs.get("imu_placement"))
            else:
                out[name] = enc(inputs[name])
        return out
