"""Distillation: a small student IMU encoder learns the teacher's embedding space.

The student's loss is the contrastive loss (usually IMU-text only, so the student stays
aligned with the text prototypes it will be scored against) plus a term that pulls each
student embedding onto the teacher's embedding of the same window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from aura_sdk import ConfigError

from ._contrastive import ContrastiveLoss, ContrastiveLossConfig, Modality

__all__ = ["DistillationLoss", "DistillationLossConfig"]


def _text_only() -> dict[Modality, float]:
    return {"text": 1.0}


class DistillationLossConfig(ContrastiveLossConfig):
    """The contrastive settings plus the teacher-matching term.

    Attributes:
        pairs: as for :class:`ContrastiveLossConfig`; IMU-text alone by default.
        distill: ``"cosine"``: ``1 - cos(student, teacher)``; ``"mse"``: mean squared
            error between the raw embeddings (before any normalisation; for unit vectors
            it is ``2 (1 - cos) / D``, so it only differs from cosine on unnormalised
            outputs).
        distill_weight: weight of the teacher-matching term.
    """

    pairs: dict[Modality, float] = Field(default_factory=_text_only)
    distill: Literal["cosine", "mse"] = "cosine"
    distill_weight: float = Field(default=1.0, ge=0)


class DistillationLoss(ContrastiveLoss):
    """Contrastive loss of the student plus ``distill_weight`` x the teacher-matching term.

    The teacher's embeddings are detached: no gradient reaches the teacher.
    """

    config: DistillationLossConfig

    def __init__(self, config: DistillationLossConfig | None = None, *, rank: int = 0,
                 world_size: int = 1) -> None:
        super().__init__(config if config is not None else DistillationLossConfig(),
                         rank=rank, world_size=world_size)

    def distill_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        """The teacher-matching term, averaged over the batch.

        Args:
            student: ``(B, D)`` student embeddings of the anchor modality.
            teacher: ``(B, D)`` teacher embeddings of the same windows.

        Raises:
            ConfigError: the shapes differ.
        """
        if student.shape != teacher.shape or student.ndim != 2:
            raise ConfigError(f"student {tuple(student.shape)} and teacher "
                              f"{tuple(teacher.shape)} embeddings must both be (B, D)")
        t = teacher.detach().float()
        s = student.float()
        if self.config.distill == "mse":
            return F.mse_loss(s, t)
        return (1.0 - F.cosine_similarity(s, t, dim=-1)).mean()

    def pair_losses(self, features: Mapping[str, Tensor],
                    ids: Mapping[str, Tensor] | None = None,
                    teacher: Tensor | None = None) -> dict[str, Tensor]:
        """The contrastive pair losses, plus ``"distill"`` when ``teacher`` is given."""
        losses = super().pair_losses(features, ids)
        if teacher is not None:
            losses["distill"] = self.distill_loss(features[self.config.anchor], teacher)
        return losses

    def weights(self) -> dict[str, float]:
        """Pair weights plus ``"distill"``."""
        return {**super().weights(), "distill": self.config.distill_weight}

    def forward(self, features: Mapping[str, Tensor],
                ids: Mapping[str, Tensor] | None = None,
                teacher: Tensor | None = None) -> Tensor:
        """Weighted sum of the pair losses and the teacher-matching term.

        Args:
            features: the student's anchor embeddings and the partners' (see
                :meth:`ContrastiveLoss.pair_losses`).
            ids: optional duplicate ids per pair.
            teacher: ``(B, D)`` teacher embeddings of the anchor windows (required).

        Raises:
            ConfigError: ``teacher`` is missing, or shapes disagree.
        """
        if teacher is None:
            raise ConfigError("DistillationLoss needs the teacher's embeddings (teacher=...)")
        weights = self.weights()
        losses = self.pair_losses(features, ids, teacher)
        return torch.stack([weights[k] * v for k, v in losses.items()]).sum()
