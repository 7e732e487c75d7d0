"""The IMU2CLIP baseline encoder (Moon et al. 2022, facebookresearch/imu2clip).

As that paper's encoder: a GroupNorm over the raw channels (two groups: accelerometer,
gyroscope), three dilated Conv1d blocks each followed by a max-pool (no activations between
them: the max-pools are the only non-linearity), a GroupNorm, and a GRU whose last hidden
state (512 wide) is the window's representation. We add a Linear projection from the GRU
state to the shared space, so the baseline can live in any embedding dimension.

The reference feeds the ``(B, C, L)`` conv output to a batch-first GRU, so its recurrence
runs over the 32 conv *channels* with the pooled time axis as features; that only fits at
exactly 1000 input samples, where the pooled length happens to be 32. ``gru_over="time"``
(our default) runs the GRU over time as the paper describes; ``gru_over="channels"``
reproduces the reference's behaviour for comparisons.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError

from ._common import EncoderConfigBase, l2_normalize

__all__ = ["Imu2ClipConfig", "Imu2ClipEncoder"]


class Imu2ClipConfig(EncoderConfigBase):
    """The IMU2CLIP encoder's input and sizes (defaults: the reference at 200 Hz x 5 s).

    Attributes:
        sample_rate_hz, window_s: input rate and window, as for the Transformer encoder.
        channels: input channels (even: GroupNorm uses two groups).
        conv_channels: width of the three conv blocks (divisible by 4 for the GroupNorm).
        kernel_sizes: kernel of each conv block.
        dilation: dilation of every conv.
        pool: max-pool kernel (= stride) after each conv.
        hidden: GRU hidden size (512 in IMU2CLIP, CLIP's width).
        gru_over: ``"time"`` or ``"channels"`` (the reference's quirk; see the module doc).
    """

    kind: Literal["imu2clip"] = "imu2clip"
    sample_rate_hz: float = Field(default=200.0, gt=0, le=10000)
    window_s: float = Field(default=5.0, gt=0, le=120)
    channels: int = Field(default=6, ge=2)
    conv_channels: int = Field(default=32, ge=4)
    kernel_sizes: tuple[int, int, int] = (10, 5, 5)
    dilation: int = Field(default=2, ge=1)
    pool: int = Field(default=3, ge=1)
    hidden: int = Field(default=512, ge=1)
    gru_over: Literal["time", "channels"] = "time"

    @property
    def window_samples(self) -> int:
        """Samples per window."""
        return round(self.sample_rate_hz * self.window_s)

    @property
    def pooled_length(self) -> int:
        """Time steps left after the three conv + max-pool blocks."""
        n = self.window_samples
        for k in self.kernel_sizes:
            n = (n - self.dilation * (k - 1)) // self.pool
        return n

    @model_validator(mode="after")
    def _check_shapes(self) -> Imu2ClipConfig:
        n = self.sample_rate_hz * self.window_s
        if abs(n - round(n)) > 1e-6:
            raise ValueError(f"sample_rate_hz * window_s = {n:g} is not a whole number of "
                             "samples; pick a window that is")
        if self.channels % 2 or self.conv_channels % 4:
            raise ValueError("channels must be even and conv_channels divisible by 4 "
                             "(GroupNorm groups)")
        if self.pooled_length < 1:
            raise ValueError(f"a {round(n)}-sample window is too short for kernels "
                             f"{self.kernel_sizes} with dilation {self.dilation} and pool "
                             f"{self.pool}")
        if self.gru_over == "channels" and self.pooled_length != self.conv_channels:
            raise ValueError(f"gru_over='channels' needs the pooled length "
                             f"({self.pooled_length}) to equal conv_channels "
                             f"({self.conv_channels}), as at 200 Hz x 5 s")
        return self


class DilatedBlock(nn.Module):
    """Dilated Conv1d (no bias) followed by a max-pool."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, pool: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel_size=kernel, dilation=dilation, bias=False)
        self.pool = nn.MaxPool1d(kernel_size=pool)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.conv(x))


class Imu2ClipEncoder(nn.Module):
    """IMU2CLIP encoder: ``(B, T, 6)`` windows -> ``(B, embed_dim)`` embeddings."""

    def __init__(self, config: Imu2ClipConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        c, w = config.channels, config.conv_channels
        k1, k2, k3 = config.kernel_sizes
        self.norm_in = nn.GroupNorm(2, c)
        self.blocks = nn.Sequential(
            DilatedBlock(c, w, k1, config.dilation, config.pool),
            DilatedBlock(w, w, k2, config.dilation, config.pool),
            DilatedBlock(w, w, k3, config.dilation, config.pool),
        )
        self.norm_out = nn.GroupNorm(4, w)
        gru_in = w if config.gru_over == "time" else config.pooled_length
        self.gru = nn.GRU(input_size=gru_in, hidden_size=config.hidden, batch_first=True)
        self.head = nn.Linear(config.hidden, config.embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Embed IMU windows.

        Args:
            x: ``(B, window_samples, channels)`` float windows.

        Returns:
            ``(B, embed_dim)`` embeddings (unit vectors when ``config.normalize``).

        Raises:
            ConfigError: the window does not have the configured shape.
        """
        cfg = self.config
        if x.ndim != 3 or x.shape[1] != cfg.window_samples or x.shape[2] != cfg.channels:
            raise ConfigError(f"IMU2CLIP encoder expects (B, {cfg.window_samples}, "
                              f"{cfg.channels}) windows, got {tuple(x.shape)}")
        h = self.norm_out(self.blocks(self.norm_in(x.transpose(1, 2))))  # (B, w, L)
        seq = h.transpose(1, 2) if cfg.gru_over == "time" else h  # (B, L, w) or (B, w, L)
        _, last = self.gru(seq)  # (1, B, hidden)
        return l2_normalize(self.head(last[0]), cfg.normalize)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Random ``(batch_size, window_samples, channels)`` windows."""
        cfg = self.config
        return torch.randn(batch_size, cfg.window_samples, cfg.channels, generator=generator)
