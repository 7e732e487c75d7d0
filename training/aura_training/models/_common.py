"""Pieces every encoder family shares: the config base, the projection encoder, counting.

Every encoder maps one modality's batch to ``(B, embed_dim)`` embeddings in the shared space
(unit vectors unless its config says ``normalize=False``) and offers ``dummy_input`` for
export, FLOP counting and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from aura_sdk import ConfigError

__all__ = [
    "Encoder",
    "EncoderConfigBase",
    "FeatureProjection",
    "ProjectionConfig",
    "count_flops",
    "count_parameters",
    "trunc_normal_init",
]


class EncoderConfigBase(BaseModel):
    """Fields every encoder config has (frozen; unknown fields are rejected).

    Attributes:
        embed_dim: dimension of the shared embedding space the encoder maps into.
        normalize: L2-normalise the output (the contrastive loss and zero-shot scoring use
            cosine similarity, so exported encoders emit unit vectors).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    embed_dim: int = Field(default=384, ge=1, le=8192)
    normalize: bool = True


@runtime_checkable
class Encoder(Protocol):
    """What the trainer, the loss and the exporter rely on."""

    embed_dim: int

    def __call__(self, x: Any) -> Tensor:  # (B, embed_dim)
        """Embed one batch."""
        ...

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Any:
        """A random input batch of the right shape and dtype."""
        ...


def trunc_normal_init(module: nn.Module, std: float = 0.02) -> None:
    """ViT-style init: truncated-normal Linear weights, zero biases, unit LayerNorm."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        if module.weight is not None:
            nn.init.ones_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def l2_normalize(x: Tensor, enabled: bool = True) -> Tensor:
    """``x / ||x||`` along the last axis (a no-op when ``enabled`` is false)."""
    return F.normalize(x, dim=-1) if enabled else x


class ProjectionConfig(EncoderConfigBase):
    """An encoder over precomputed features (cached text embeddings, frozen-tower frames).

    Attributes:
        in_dim: feature dimension of the input.
        hidden_dim: one GELU hidden layer of this width, or ``None`` for a single Linear.
        identity_init: start a square single-Linear projection at the identity (keeps a
            frozen tower's space at step 0).
    """

    kind: Literal["projection"] = "projection"
    in_dim: int = Field(ge=1, le=65536)
    hidden_dim: int | None = Field(default=None, ge=1, le=65536)
    identity_init: bool = True


class FeatureProjection(nn.Module):
    """Precomputed ``(B, in_dim)`` features -> ``(B, embed_dim)`` embeddings."""

    def __init__(self, config: ProjectionConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        self.net: nn.Module
        if config.hidden_dim is None:
            self.net = nn.Linear(config.in_dim, config.embed_dim)
            if config.identity_init and config.in_dim == config.embed_dim:
                nn.init.eye_(self.net.weight)
                nn.init.zeros_(self.net.bias)
        else:
            self.net = nn.Sequential(nn.Linear(config.in_dim, config.hidden_dim), nn.GELU(),
                                     nn.Linear(config.hidden_dim, config.embed_dim))

    def forward(self, x: Tensor) -> Tensor:
        """Project features.

        Args:
            x: ``(B, in_dim)`` float features.

        Returns:
            ``(B, embed_dim)`` embeddings.

        Raises:
            ConfigError: ``x`` does not have ``in_dim`` features.
        """
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise ConfigError(f"projection expects (B, {self.config.in_dim}) features, "
                              f"got {tuple(x.shape)}")
        return l2_normalize(self.net(x), self.config.normalize)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Random ``(batch_size, in_dim)`` features."""
        return torch.randn(batch_size, self.config.in_dim, generator=generator)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _sdpa_flops(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any,
                **kwargs: Any) -> int:
    # Q K^T and attn V: two batched matmuls of 2 * N * M * D flops per (batch, head).
    b, h, n, d = query_shape
    m, dv = key_shape[2], value_shape[3]
    return int(2 * b * h * n * m * d + 2 * b * h * n * m * dv)


def count_flops(module: nn.Module, *inputs: Any) -> int:
    """Forward FLOPs of ``module(*inputs)`` (multiply-add = 2 FLOPs).

    Uses :class:`torch.utils.flop_counter.FlopCounterMode` (matmuls, convolutions, GRU
    cells) plus the CPU attention kernel it does not count; element-wise work (norms,
    activations, softmax) is not counted.
    """
    aten = torch.ops.aten
    custom: dict[Any, Callable[..., int]] = {}
    cpu_sdpa = getattr(aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if cpu_sdpa is not None:
        custom[cpu_sdpa] = _sdpa_flops
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=custom) as counter:
        module(*inputs)
    return int(counter.get_total_flops())
