"""Training losses: multi-pair symmetric InfoNCE with the IMU as anchor, and distillation.

Shaped like open_clip's ``loss.py``: logits and ground truth are separate methods, the
distributed feature gather is its own function (usable without a process group when
``world_size == 1``), and the distillation loss subclasses the contrastive one.
"""

from ._contrastive import (
    LABEL_PROTOTYPES,
    ContrastiveLoss,
    ContrastiveLossConfig,
    Modality,
    text_ids,
)
from ._distill import DistillationLoss, DistillationLossConfig
from ._gather import gather_features

__all__ = [
    "LABEL_PROTOTYPES",
    "ContrastiveLoss",
    "ContrastiveLossConfig",
    "DistillationLoss",
    "DistillationLossConfig",
    "Modality",
    "gather_features",
    "text_ids",
]
