"""A motion-capture encoder trained from scratch: 17 COCO keypoints over time -> a 1D CNN.

Input is the corpus's body pose: ``(B, N, 17, 3)`` keypoints in metres, world frame, z up,
at 10 fps (50 frames per 5 s window; 51 channels). Before the network each window is put in
a body-centred frame, so that where the person stands and which way they face do not matter:
keypoints relative to the mid-hip, rotated about z so the mean left-hip direction is +y, plus
the mid-hip velocity (same rotation, m/s) and height above the floor: 55 channels per frame.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError

from ._common import EncoderConfigBase, l2_normalize

__all__ = ["MocapCnn", "MocapCnnConfig", "body_frame_features"]

_LEFT_HIP, _RIGHT_HIP = 11, 12  # COCO order (aura_training.synth COCO_KEYPOINTS)


class MocapCnnConfig(EncoderConfigBase):
    """Input and widths of the mocap encoder.

    Attributes:
        fps: keypoint frame rate (velocities are in m/s).
        window_s: window length; ``fps * window_s`` frames are expected.
        keypoints: keypoints per frame (COCO: 17; hips at indices 11 and 12).
        widths: channels of the conv stages; every stage after the first halves time.
        kernel_size: temporal kernel (odd).
        groups: GroupNorm groups (must divide every width).
        canonicalize: express each window in the body-centred frame (see the module doc);
            ``False`` feeds raw world coordinates.
    """

    kind: Literal["mocap_cnn"] = "mocap_cnn"
    fps: float = Field(default=10.0, gt=0, le=1000)
    window_s: float = Field(default=5.0, gt=0, le=120)
    keypoints: int = Field(default=17, ge=13)
    widths: tuple[int, ...] = (128, 128, 256)
    kernel_size: int = Field(default=5, ge=1)
    groups: int = Field(default=8, ge=1)
    canonicalize: bool = True

    @model_validator(mode="after")
    def _check(self) -> MocapCnnConfig:
        n = self.fps * self.window_s
        if abs(n - round(n)) > 1e-6:
            raise ValueError(f"fps * window_s = {n:g} is not a whole number of frames")
        if not self.widths or any(w < 1 or w % self.groups for w in self.widths):
            raise ValueError(f"widths {self.widths} must be non-empty and divisible by "
                             f"groups={self.groups}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size={self.kernel_size} must be odd")
        return self

    @property
    def window_frames(self) -> int:
        """Frames per window."""
        return round(self.fps * self.window_s)

    @property
    def in_channels(self) -> int:
        """Channels per frame fed to the CNN."""
        return self.keypoints * 3 + (4 if self.canonicalize else 0)


def body_frame_features(joints: Tensor, fps: float) -> Tensor:
    """Body-centred per-frame features of a keypoint window.

    Args:
        joints: ``(B, N, K, 3)`` keypoints in metres, z up, hips at COCO indices 11/12.
        fps: frame rate, for the velocity.

    Returns:
        ``(B, N, 3K + 4)``: keypoints relative to the mid-hip (rotated so the window's mean
        left-hip direction is +y), then mid-hip velocity (rotated, m/s, the first frame's is
        zero) and mid-hip height.
    """
    root = 0.5 * (joints[:, :, _LEFT_HIP] + joints[:, :, _RIGHT_HIP])  # (B, N, 3)
    hips = (joints[:, :, _LEFT_HIP] - joints[:, :, _RIGHT_HIP]).mean(dim=1)[:, :2]  # (B, 2)
    u = F.normalize(hips, dim=-1, eps=1e-6)
    facing_known = hips.norm(dim=-1, keepdim=True) > 1e-6
    u = torch.where(facing_known, u, torch.tensor([0.0, 1.0], dtype=u.dtype, device=u.device))
    ux, uy = u[:, 0], u[:, 1]
    zero, one = torch.zeros_like(ux), torch.ones_like(ux)
    rot = torch.stack([torch.stack([uy, -ux, zero], -1), torch.stack([ux, uy, zero], -1),
                       torch.stack([zero, zero, one], -1)], dim=1)  # (B, 3, 3), maps u to +y
    rel = torch.einsum("bij,bnkj->bnki", rot, joints - root[:, :, None])  # (B, N, K, 3)
    vel = torch.diff(root, dim=1, prepend=root[:, :1]) * fps  # (B, N, 3)
    vel = torch.einsum("bij,bnj->bni", rot, vel)
    b, n = joints.shape[:2]
    return torch.cat([rel.reshape(b, n, -1), vel, root[..., 2:]], dim=-1)  # (B, N, 3K+4)


class MocapCnn(nn.Module):
    """Mocap encoder: ``(B, N, 17, 3)`` keypoints -> ``(B, embed_dim)`` embeddings."""

    def __init__(self, config: MocapCnnConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        layers: list[nn.Module] = []
        c_in, k = config.in_channels, config.kernel_size
        for i, w in enumerate(config.widths):
            layers += [nn.Conv1d(c_in, w, k, stride=1 if i == 0 else 2, padding=k // 2),
                       nn.GroupNorm(config.groups, w), nn.GELU()]
            c_in = w
        self.net = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, config.embed_dim)

    def forward(self, joints: Tensor) -> Tensor:
        """Embed keypoint windows.

        Args:
            joints: ``(B, window_frames, keypoints, 3)`` float keypoints (metres, z up).

        Returns:
            ``(B, embed_dim)`` embeddings (unit vectors when ``config.normalize``).

        Raises:
            ConfigError: the window does not have the configured shape.
        """
        cfg = self.config
        want = (cfg.window_frames, cfg.keypoints, 3)
        if joints.ndim != 4 or tuple(joints.shape[1:]) != want:
            raise ConfigError(f"mocap encoder expects (B, {want[0]}, {want[1]}, 3) keypoints, "
                              f"got {tuple(joints.shape)}")
        joints = joints.float()
        # (B, N, 3K + 4) in the body frame, or (B, N, 3K) raw
        x = body_frame_features(joints, cfg.fps) if cfg.canonicalize else joints.flatten(2)
        h = self.net(x.transpose(1, 2))  # (B, C, N')
        return l2_normalize(self.head(h.mean(dim=2)), cfg.normalize)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Random keypoint windows around a standing height."""
        cfg = self.config
        x = torch.randn(batch_size, cfg.window_frames, cfg.keypoints, 3, generator=generator)
        return 0.3 * x + torch.tensor([0.0, 0.0, 1.0])
