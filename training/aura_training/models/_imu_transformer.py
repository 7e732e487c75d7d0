"""The AURA-MFM Transformer IMU encoder (the paper's "SS" size and its relatives).

Patch embedding (a strided Conv1d over the window, then LayerNorm), a learned CLS token and
learned positions, pre-norm Transformer blocks *with* residual connections (the reference
code leaves them out), a final LayerNorm and a Linear from the CLS token to the shared space.

Export-friendly by construction: the window is fixed by the config, the batch is free, and
there is no data-dependent control flow; attention is ``F.scaled_dot_product_attention``
(written out with fixed token counts in an exported graph, see ``SelfAttention._exported``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError

from ._common import EncoderConfigBase, l2_normalize, trunc_normal_init

__all__ = ["ImuTransformer", "ImuTransformerConfig"]


class ImuTransformerConfig(EncoderConfigBase):
    """Size, input rate and window of the Transformer IMU encoder.

    The defaults are the paper's "SS" model at 200 Hz x 5 s: 125 patches of 8 samples.

    Attributes:
        sample_rate_hz: model input rate (the SDK resamples every device to it).
        window_s: window length in seconds; ``sample_rate_hz * window_s`` must be a whole
            number of samples divisible by ``patch_size``.
        channels: input channels (``[ax ay az gx gy gz]``).
        patch_size: samples per token (Conv1d kernel = stride).
        dim: token width.
        depth: number of Transformer blocks.
        heads: attention heads (must divide ``dim``).
        mlp_dim: hidden width of each block's MLP.
        dropout: dropout on attention weights and block outputs during training.
        qkv_bias: bias on the query/key/value projection (the reference has none).
        placements: where the sensor may be worn, as an optional second input (e.g.
            ``("wrist", "waist", "pocket", "upper_arm")``): a learned vector per placement
            (and one for "not said") is added to every token, so gravity can mean "lying"
            at the belt and "typing" at the wrist. Empty: no placement input.
    """

    kind: Literal["imu_transformer"] = "imu_transformer"
    sample_rate_hz: float = Field(default=200.0, gt=0, le=10000)
    window_s: float = Field(default=5.0, gt=0, le=120)
    channels: int = Field(default=6, ge=1)
    patch_size: int = Field(default=8, ge=1)
    dim: int = Field(default=192, ge=1)
    depth: int = Field(default=6, ge=1, le=64)
    heads: int = Field(default=6, ge=1)
    mlp_dim: int = Field(default=384, ge=1)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    qkv_bias: bool = False
    placements: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_shapes(self) -> ImuTransformerConfig:
        n = self.sample_rate_hz * self.window_s
        if abs(n - round(n)) > 1e-6:
            raise ValueError(f"sample_rate_hz * window_s = {n:g} is not a whole number of "
                             "samples; pick a window that is")
        if round(n) % self.patch_size:
            raise ValueError(f"the window of {round(n)} samples is not divisible by "
                             f"patch_size={self.patch_size}; change one of them")
        if self.dim % self.heads:
            raise ValueError(f"heads={self.heads} must divide dim={self.dim}")
        if len(set(self.placements)) != len(self.placements) or "" in self.placements:
            raise ValueError(f"placements must be distinct non-empty names, got "
                             f"{list(self.placements)}")
        return self

    @property
    def window_samples(self) -> int:
        """Samples per window (the ONNX input's fixed time axis)."""
        return round(self.sample_rate_hz * self.window_s)

    @property
    def n_patches(self) -> int:
        """Tokens per window, without the CLS token."""
        return self.window_samples // self.patch_size


class PatchEmbed(nn.Module):
    """Non-overlapping patches of ``patch_size`` samples -> ``dim``-wide tokens."""

    def __init__(self, channels: int, dim: int, patch_size: int) -> None:
        super().__init__()
        self.proj = nn.Conv1d(channels, dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(x.transpose(1, 2))  # (B, C, T) -> (B, dim, N)
        return self.norm(x.transpose(1, 2))  # (B, N, dim)


class SelfAttention(nn.Module):
    """Multi-head self-attention over all tokens (no mask: every window is full)."""

    def __init__(self, dim: int, heads: int, qkv_bias: bool, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        if torch.compiler.is_exporting():
            return self._exported(x)
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads)  # (B, N, 3, h, c/h)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, h, N, c/h)
        y = F.scaled_dot_product_attention(q, k, v,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, n, c)  # (B, N, C)
        return self.proj_drop(self.proj(y))

    def _exported(self, x: Tensor) -> Tensor:
        """The same attention written out for the ONNX graph (inference only): the token
        count and width are fixed by the config, so only the batch stays symbolic and the
        graph keeps no shape arithmetic. torch lowers ``scaled_dot_product_attention`` with
        the key's shape read at run time (Shape, Slice, Concat, Reshape per block): 128
        nodes for the student instead of 92, and 1.6x its batch-1 time in onnxruntime."""
        _, n, c = x.shape
        n, c = int(n), int(c)
        d = c // self.heads
        qkv = self.qkv(x).reshape(-1, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, h, N, d)
        att = torch.softmax((q * d ** -0.5) @ k.transpose(-2, -1), dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(-1, n, c))


class Mlp(nn.Module):
    """Linear -> GELU -> Linear, with dropout on the output."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))


class Block(nn.Module):
    """Pre-norm Transformer block: ``x + attn(ln(x))`` then ``x + mlp(ln(x))``."""

    def __init__(self, config: ImuTransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.dim)
        self.attn = SelfAttention(config.dim, config.heads, config.qkv_bias, config.dropout)
        self.ln2 = nn.LayerNorm(config.dim)
        self.mlp = Mlp(config.dim, config.mlp_dim, config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ImuTransformer(nn.Module):
    """Transformer IMU encoder: ``(B, T, 6)`` windows -> ``(B, embed_dim)`` embeddings.

    Args:
        config: sizes, rate and window (see :class:`ImuTransformerConfig`).
    """

    def __init__(self, config: ImuTransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        self.patch = PatchEmbed(config.channels, config.dim, config.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.n_patches + 1, config.dim))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.embed_dim)
        self.apply(trunc_normal_init)
        nn.init.trunc_normal_(self.cls_token, std=0.02, a=-0.04, b=0.04)
        nn.init.trunc_normal_(self.pos_embed, std=0.02, a=-0.04, b=0.04)
        # Last, so the other weights are drawn as without it; zero: starts as if not said.
        self.placement = (nn.Embedding(len(config.placements) + 1, config.dim)
                          if config.placements else None)
        if self.placement is not None:
            nn.init.zeros_(self.placement.weight)

    @property
    def uses_placement(self) -> bool:
        """Whether :meth:`forward` reads a placement (``config.placements`` is set)."""
        return self.placement is not None

    def forward(self, x: Tensor, placement: Tensor | None = None) -> Tensor:
        """Embed IMU windows.

        Args:
            x: ``(B, window_samples, channels)`` float windows, preprocessed by the SDK.
            placement: ``(B,)`` int64: 0 for "not said", ``1 + i`` for
                ``config.placements[i]``; ``None``: not said for the whole batch. Ignored
                by an encoder without placements.

        Returns:
            ``(B, embed_dim)`` embeddings (unit vectors when ``config.normalize``).

        Raises:
            ConfigError: the window does not have the configured shape.
        """
        cfg = self.config
        if x.ndim != 3 or x.shape[1] != cfg.window_samples or x.shape[2] != cfg.channels:
            raise ConfigError(f"IMU encoder expects (B, {cfg.window_samples}, {cfg.channels}) "
                              f"windows, got {tuple(x.shape)}; resample/window to "
                              f"{cfg.sample_rate_hz:g} Hz x {cfg.window_s:g} s")
        tokens = self.patch(x)  # (B, N, dim)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, dim)
        h = torch.cat([cls, tokens], dim=1) + self.pos_embed  # (B, N + 1, dim)
        if self.placement is not None:
            if placement is None:
                placement = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            if placement.shape != (x.shape[0],):
                raise ConfigError(f"placement must be ({x.shape[0]},) ids, got "
                                  f"{tuple(placement.shape)}")
            h = h + self.placement(placement)[:, None, :]
        for block in self.blocks:
            h = block(h)
        h = self.norm(h)
        return l2_normalize(self.head(h[:, 0]), cfg.normalize)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Random ``(batch_size, window_samples, channels)`` windows."""
        cfg = self.config
        return torch.randn(batch_size, cfg.window_samples, cfg.channels, generator=generator)
