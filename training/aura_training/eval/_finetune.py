"""Fine-tune transfer: the IMU encoder plus a linear head, trained end to end on labels (torch).

A copy of the encoder is trained (the caller's model is left untouched) with a fresh linear
head on top of its embedding, by AdamW with a cosine-decayed learning rate (the head learns
faster than the pretrained encoder), for a few epochs over a labelled training split; the
test split is then classified by the arg-max of the head. Everything is seeded and runs
inside :func:`torch.random.fork_rng`, so the caller's random state is not disturbed.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from aura_sdk import ConfigError

from ._classify import ClassificationMetrics, classification_metrics

__all__ = ["FinetuneConfig", "FinetuneResult", "finetune_transfer"]


class FinetuneConfig(BaseModel):
    """Budget and optimiser of the fine-tune transfer evaluation.

    Attributes:
        epochs: passes over the training windows.
        batch_size: windows per step.
        lr: peak learning rate of the encoder.
        head_lr: peak learning rate of the linear head.
        weight_decay: AdamW weight decay (encoder and head weights).
        seed: seeds the head's initialisation, the batch order and dropout.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(default=5, ge=1, le=1000)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=1e-4, gt=0)
    head_lr: float = Field(default=1e-2, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    seed: int = 0


@dataclass(frozen=True, eq=False)
class FinetuneResult:
    """Test metrics of the fine-tuned encoder and its training curve.

    Attributes:
        metrics: test-set classification metrics.
        train_accuracy: accuracy on the training windows during the last epoch.
        epoch_loss: mean training cross-entropy of each epoch.
        n_train: training windows.
        seconds: wall time of the fine-tuning.
        config: the budget used.
    """

    metrics: ClassificationMetrics
    train_accuracy: float
    epoch_loss: list[float] = field(default_factory=list)
    n_train: int = 0
    seconds: float = 0.0
    config: FinetuneConfig = field(default_factory=FinetuneConfig)

    def as_dict(self) -> dict[str, object]:
        """JSON form: the test metrics plus the curve and the budget."""
        out = self.metrics.as_dict()
        out.update(train_accuracy=self.train_accuracy, epoch_loss=self.epoch_loss,
                   n_train=self.n_train, seconds=self.seconds, config=self.config.model_dump())
        return out


class _Classifier(nn.Module):
    def __init__(self, encoder: nn.Module, embed_dim: int, n_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(embed_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))  # (B, n_classes)


def _predict(net: nn.Module, x: NDArray[np.float32], batch_size: int,
             device: torch.device) -> NDArray[np.int64]:
    net.eval()
    out = []
    with torch.no_grad():
        for a in range(0, x.shape[0], batch_size):
            xb = torch.from_numpy(x[a : a + batch_size]).to(device)
            out.append(net(xb).argmax(dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.int64)


def finetune_transfer(
    encoder: nn.Module,
    train_x: ArrayLike,
    train_y: ArrayLike,
    test_x: ArrayLike,
    test_y: ArrayLike,
    labels: Sequence[str],
    config: FinetuneConfig | None = None,
) -> FinetuneResult:
    """Fine-tune a copy of ``encoder`` with a linear head; classify the test windows.

    Args:
        encoder: the IMU encoder (``(B, T, 6)`` -> ``(B, embed_dim)``); not modified.
        train_x, test_x: ``(n, T, 6)`` model inputs.
        train_y, test_y: class indices into ``labels``.
        labels: class names.
        config: epochs, batch size, learning rates, seed.

    Returns:
        Test metrics and the training curve.

    Raises:
        ConfigError: empty sets, mismatched lengths or labels out of range.
    """
    cfg = config or FinetuneConfig()
    xtr = np.ascontiguousarray(train_x, dtype=np.float32)
    xte = np.ascontiguousarray(test_x, dtype=np.float32)
    ytr = np.asarray(train_y, dtype=np.int64)
    yte = np.asarray(test_y, dtype=np.int64)
    if xtr.shape[0] == 0 or xte.shape[0] == 0:
        raise ConfigError("fine-tuning needs training and test windows")
    if ytr.shape != (xtr.shape[0],) or yte.shape != (xte.shape[0],):
        raise ConfigError("one label per window is needed")
    if ytr.min() < 0 or ytr.max() >= len(labels):
        raise ConfigError(f"training labels must lie in 0..{len(labels) - 1}")
    embed_dim = int(getattr(encoder, "embed_dim", 0))
    if embed_dim < 1:
        raise ConfigError("the encoder must say its embed_dim")
    device = next(encoder.parameters()).device
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg.seed)
        net = _Classifier(copy.deepcopy(encoder), embed_dim, len(labels)).to(device)
        net.encoder.requires_grad_(True)
        opt = torch.optim.AdamW([
            {"params": net.encoder.parameters(), "lr": cfg.lr},
            {"params": net.head.parameters(), "lr": cfg.head_lr},
        ], weight_decay=cfg.weight_decay)
        steps_per_epoch = math.ceil(xtr.shape[0] / cfg.batch_size)
        total = cfg.epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1.0 + math.cos(math.pi * step / total)))
        gen = torch.Generator().manual_seed(cfg.seed)
        epoch_loss: list[float] = []
        correct = 0
        for _ in range(cfg.epochs):
            net.train()
            order = torch.randperm(xtr.shape[0], generator=gen).numpy()
            losses, correct = [], 0
            for a in range(0, order.size, cfg.batch_size):
                idx = order[a : a + cfg.batch_size]
                xb = torch.from_numpy(xtr[idx]).to(device)
                yb = torch.from_numpy(ytr[idx]).to(device)
                logits = net(xb)
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss.detach()) * idx.size)
                correct += int((logits.argmax(dim=1) == yb).sum())
            epoch_loss.append(sum(losses) / xtr.shape[0])
        pred = _predict(net, xte, cfg.batch_size, device)
    return FinetuneResult(
        metrics=classification_metrics(yte, pred, labels),
        train_accuracy=correct / xtr.shape[0], epoch_loss=epoch_loss,
        n_train=int(xtr.shape[0]), seconds=time.perf_counter() - t0, config=cfg)
