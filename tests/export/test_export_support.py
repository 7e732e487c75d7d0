"""Shared pieces for the export tests: a briefly trained student, windows, cached once.

The quantisation and bundle tests need an encoder whose embeddings carry label information,
or agreement numbers would only describe noise; a few seconds of supervised alignment to the
frozen tower's label prototypes gives one (far from a real model, well above chance).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from aura_export import WindowSet, build_prototypes, synthetic_windows, vocabulary_prompts
from aura_sdk import ModelInputSpec
from aura_sdk.bundle import Prototypes
from aura_training.models import build_encoder

torch.set_num_threads(1)  # two shared cores: leave one to the exporter's onnxruntime

SPEC = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125)
ACTIVITIES = ("standing", "walking", "running", "walking upstairs", "cycling", "jumping jacks",
              "doing push-ups", "waving", "brushing teeth", "playing tennis")


class TinyEncoder(torch.nn.Module):
    """A cheap-to-export stand-in: window mean and std -> Linear -> unit vector."""

    def __init__(self, dim: int = 384, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.lin = torch.nn.Linear(12, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = torch.cat([x.mean(dim=1), x.std(dim=1)], dim=1)  # (B, 12)
        return F.normalize(self.lin(feats), dim=-1)


@functools.lru_cache(maxsize=1)
def label_prototypes() -> Prototypes:
    """Tower prototypes of :data:`ACTIVITIES` (no aliases: quick)."""
    return build_prototypes(vocabulary_prompts(ACTIVITIES, aliases=False))


@functools.lru_cache(maxsize=1)
def train_windows() -> WindowSet:
    return synthetic_windows(SPEC, ACTIVITIES, clips_per_activity=8, seed=1, rate_hz=50.0)


@functools.lru_cache(maxsize=1)
def val_windows() -> WindowSet:
    return synthetic_windows(SPEC, ACTIVITIES, clips_per_activity=3, seed=2, rate_hz=50.0)


@functools.lru_cache(maxsize=1)
def trained_student() -> torch.nn.Module:
    """imu-student aligned to the label prototypes for 120 seeded steps (a few seconds)."""
    torch.manual_seed(0)
    model = build_encoder("imu-student")
    protos = torch.from_numpy(np.array(label_prototypes().embeddings))  # writable copy
    ws = train_windows()
    assert ws.labels is not None
    x = torch.from_numpy(ws.x)
    y = torch.tensor([ACTIVITIES.index(v) for v in ws.labels])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(120):
        idx = torch.randint(0, x.shape[0], (32,), generator=gen)
        loss = F.cross_entropy(model(x[idx]) @ protos.T / 0.05, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
