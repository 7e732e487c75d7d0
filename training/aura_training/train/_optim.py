"""AdamW parameter groups, the warm-up + cosine schedule, and optimiser state by name."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ._config import OptimConfig

__all__ = ["build_optimizer", "lr_at", "optimizer_state", "restore_optimizer"]

# Parameters that are not weight matrices in spirit even when they have 2+ dims.
_NO_DECAY_NAMES = ("cls_token", "pos_embed", "logit_scale")


def lr_at(step: int, total_steps: int, cfg: OptimConfig) -> float:
    """The learning rate of optimiser step ``step`` (0-based): linear warm-up, then cosine."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, total_steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    low = cfg.lr * cfg.min_lr_ratio
    return low + (cfg.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(module: nn.Module, cfg: OptimConfig) -> tuple[torch.optim.AdamW, list[str]]:
    """AdamW with weight decay on weight matrices only.

    Biases, norms, the CLS token, positions and the temperature ``logit_scale`` get no
    decay (decaying the temperature would pull it towards 1, i.e. a hot softmax).

    Returns:
        The optimiser and the names of its parameters in ``state_dict`` order.
    """
    decay: list[tuple[str, nn.Parameter]] = []
    keep: list[tuple[str, nn.Parameter]] = []
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or name.endswith(_NO_DECAY_NAMES):
            keep.append((name, p))
        else:
            decay.append((name, p))
    groups = [
        {"params": [p for _, p in decay], "weight_decay": cfg.weight_decay},
        {"params": [p for _, p in keep], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    return opt, [n for n, _ in decay] + [n for n, _ in keep]


def optimizer_state(opt: torch.optim.Optimizer, names: list[str]) -> dict[str, Tensor]:
    """The optimiser's per-parameter state as flat tensors ``"<param>::<key>"``."""
    out: dict[str, Tensor] = {}
    for idx, st in opt.state_dict()["state"].items():
        for key, value in st.items():
            t = value if isinstance(value, Tensor) else torch.tensor(value)
            out[f"{names[int(idx)]}::{key}"] = t
    return out


def restore_optimizer(opt: torch.optim.Optimizer, names: list[str],
                      tensors: Mapping[str, Tensor]) -> None:
    """Load state written by :func:`optimizer_state` (hyperparameters stay the config's).

    Raises:
        KeyError: the saved state names a parameter this optimiser does not have.
    """
    index = {n: i for i, n in enumerate(names)}
    state: dict[int, dict[str, Tensor]] = {}
    for flat, value in tensors.items():
        name, key = flat.rsplit("::", 1)
        if name not in index:
            raise KeyError(f"the checkpoint has optimiser state for {name!r}, which this "
                           "model does not have")
        state.setdefault(index[name], {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
