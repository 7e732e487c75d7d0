"""A small video encoder trained from scratch: a few grayscale frames -> a CNN.

No CLIP weights ship offline (DESIGN.md), so the paper's frozen ViT-B/32 on the middle exo
frame becomes a small CNN on the corpus's 64 x 64 grayscale frames. ``n_frames=1`` takes
the middle frame, as the paper does; more frames are taken evenly spaced and stacked as input
channels (early fusion), which lets the first convolution see motion. GroupNorm rather than
BatchNorm keeps each embedding independent of the rest of the batch.

``motion=True`` feeds the differences between successive chosen frames instead of the frames:
what stays still (the room, an occluder, the build and clothing of the subject) cancels, and
what moves is left. Trained on the frames themselves, the network memorises the rendered
training scenes and its IMU-video retrieval on unseen subjects falls to chance
(docs/results.md, "The video pair"). ``jitter_px`` shifts each training clip by a random
whole number of pixels and draws a random contrast and brightness for it (every frame of the
clip alike), so where the subject stands in the frame and how the scene is lit do not
identify a clip either; evaluation (``model.eval()``) sees the clips as they are.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError

from ._common import EncoderConfigBase, l2_normalize

__all__ = ["VideoCnn", "VideoCnnConfig", "frame_indices"]


class VideoCnnConfig(EncoderConfigBase):
    """Frames and widths of the video CNN.

    Attributes:
        frame_size: frame height = width in pixels.
        n_frames: frames used per clip, evenly spaced (1 = the middle frame).
        widths: output channels of each stage; each stage halves the resolution.
        groups: GroupNorm groups (must divide every width).
        motion: read the ``n_frames - 1`` differences of successive chosen frames, not the
            frames (needs ``n_frames >= 2``).
        jitter_px: in training, shift each clip by up to this many pixels along each axis
            (edge pixels repeat) and scale its contrast by 0.7-1.3 and its brightness by
            +-0.1; 0 switches the augmentation off.
    """

    kind: Literal["video_cnn"] = "video_cnn"
    frame_size: int = Field(default=64, ge=8, le=1024)
    n_frames: int = Field(default=1, ge=1, le=64)
    widths: tuple[int, ...] = (16, 32, 64, 128)
    groups: int = Field(default=8, ge=1)
    motion: bool = False
    jitter_px: int = Field(default=0, ge=0, le=32)

    @model_validator(mode="after")
    def _check(self) -> VideoCnnConfig:
        if not self.widths or any(w < 1 or w % self.groups for w in self.widths):
            raise ValueError(f"widths {self.widths} must be non-empty and divisible by "
                             f"groups={self.groups}")
        if self.motion and self.n_frames < 2:
            raise ValueError("motion=True reads differences of successive frames: it needs "
                             f"n_frames >= 2 (got {self.n_frames})")
        if 2 * self.jitter_px >= self.frame_size:
            raise ValueError(f"jitter_px={self.jitter_px} must be under half the frame size "
                             f"({self.frame_size})")
        return self

    @property
    def in_channels(self) -> int:
        """Channels the first convolution reads: the frames, or their differences."""
        return self.n_frames - 1 if self.motion else self.n_frames


def frame_indices(available: int, wanted: int) -> list[int]:
    """Indices of ``wanted`` evenly spaced frames out of ``available`` (centres of equal bins).

    ``wanted=1`` gives the middle frame, ``available // 2``.

    Raises:
        ConfigError: fewer frames are available than wanted.
    """
    if available < wanted:
        raise ConfigError(f"the clip has {available} frames but the video encoder needs "
                          f"{wanted}")
    return [int((i + 0.5) * available / wanted) for i in range(wanted)]


class ConvStage(nn.Module):
    """Stride-2 3x3 conv, then a 3x3 conv, each with GroupNorm and GELU."""

    def __init__(self, c_in: int, c_out: int, groups: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
            nn.GroupNorm(groups, c_out), nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.GroupNorm(groups, c_out), nn.GELU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class VideoCnn(nn.Module):
    """Video encoder: ``(B, N, H, W)`` frames -> ``(B, embed_dim)`` embeddings."""

    def __init__(self, config: VideoCnnConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        stages, c_in = [], config.in_channels
        for w in config.widths:
            stages.append(ConvStage(c_in, w, config.groups))
            c_in = w
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c_in, config.embed_dim)

    def forward(self, frames: Tensor) -> Tensor:
        """Embed clips.

        Args:
            frames: ``(B, N, H, W)`` grayscale frames, ``uint8`` (0-255) or float in [0, 1],
                ``N >= n_frames``, ``H = W = frame_size``.

        Returns:
            ``(B, embed_dim)`` embeddings (unit vectors when ``config.normalize``).

        Raises:
            ConfigError: wrong shape or too few frames.
        """
        s = self.config.frame_size
        if frames.ndim != 4 or frames.shape[2:] != (s, s):
            raise ConfigError(f"video encoder expects (B, N, {s}, {s}) frames, got "
                              f"{tuple(frames.shape)}")
        idx = frame_indices(frames.shape[1], self.config.n_frames)
        x = frames[:, idx].float()  # (B, n_frames, H, W)
        if frames.dtype == torch.uint8:
            x = x / 255.0
        if self.training and self.config.jitter_px > 0:
            x = self._jitter(x)
        # frames to [-1, 1]; differences of [0, 1] frames are in [-1, 1] already
        x = x[:, 1:] - x[:, :-1] if self.config.motion else x * 2.0 - 1.0
        x = self.stages(x)  # (B, C, H / 2^k, W / 2^k)
        return l2_normalize(self.head(x.mean(dim=(2, 3))), self.config.normalize)

    def _jitter(self, x: Tensor) -> Tensor:
        """Each clip of ``(B, N, H, W)`` frames in [0, 1] shifted by its own random whole
        pixels (edges repeated), with its own contrast and brightness."""
        b, _, h, w = x.shape
        j = self.config.jitter_px
        padded = nn.functional.pad(x, (j, j, j, j), mode="replicate")
        dy = torch.randint(0, 2 * j + 1, (b,), device=x.device)
        dx = torch.randint(0, 2 * j + 1, (b,), device=x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        bi = torch.arange(b, device=x.device)[:, None, None, None]
        ni = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        shifted = padded[bi, ni, rows, cols]
        gain = torch.empty(b, 1, 1, 1, device=x.device).uniform_(0.7, 1.3)
        bias = torch.empty(b, 1, 1, 1, device=x.device).uniform_(-0.1, 0.1)
        mean = shifted.mean(dim=(1, 2, 3), keepdim=True)
        return ((shifted - mean) * gain + mean + bias).clamp(0.0, 1.0)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Random uint8 clips of 50 frames (5 s at 10 fps)."""
        s = self.config.frame_size
        n = max(50, self.config.n_frames)
        return torch.randint(0, 256, (batch_size, n, s, s), generator=generator,
                             dtype=torch.uint8)
