"""Gathering features from every rank for a contrastive loss over the global batch."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from aura_sdk import ConfigError

__all__ = ["gather_features"]


def _all_gather_autograd(x: Tensor) -> Tensor:
    """All-gather along dim 0 whose backward sums each slice's gradient back to its rank."""
    try:  # torch 2.13 deprecates the torch.distributed.nn all_gather in favour of this
        from torch.distributed._functional_collectives import all_gather_single
    except ImportError:  # older torch: the (since deprecated) autograd all_gather
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(x), dim=0)
    group = dist.group.WORLD
    if group is None:
        raise ConfigError("world_size > 1 needs torch.distributed.init_process_group() first")
    out = all_gather_single(x.contiguous(), 0, group)
    return out.wait() if hasattr(out, "wait") else out


def gather_features(
    features: Tensor,
    rank: int,
    world_size: int,
    *,
    local_loss: bool = False,
    gather_with_grad: bool = False,
) -> Tensor:
    """Concatenate every rank's ``features`` along the batch axis, in rank order.

    With ``world_size == 1`` this returns ``features`` itself and needs no process group.
    Otherwise a default process group must be initialised and every rank must pass a
    tensor of the same shape (use equal per-rank batches, e.g. ``drop_last=True``).

    Args:
        features: ``(B, ...)`` this rank's features.
        rank: this process's rank.
        world_size: number of ranks.
        local_loss: the caller computes the loss only for its own rows; then, without
            ``gather_with_grad``, this rank's slice of the result is detached like the rest.
        gather_with_grad: gather through the autograd-aware all-gather, so gradients flow
            back to the rank that produced each slice (exact global-batch gradients).
            Without it the gather is detached, except that this rank's own slice is the
            local tensor when ``local_loss`` is false (it keeps its graph).

    Returns:
        ``(world_size * B, ...)`` features.

    Raises:
        ConfigError: ``rank`` is not in ``[0, world_size)``, or ``world_size > 1`` without
            an initialised process group.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank {rank} is not in [0, world_size={world_size})")
    if world_size == 1:
        return features
    if not (dist.is_available() and dist.is_initialized()):
        raise ConfigError(f"world_size={world_size} needs a process group: call "
                          "torch.distributed.init_process_group() first (torchrun sets it up)")
    if gather_with_grad:
        return _all_gather_autograd(features)
    parts = [torch.empty_like(features) for _ in range(world_size)]
    dist.all_gather(parts, features.contiguous())
    if not local_loss:
        parts[rank] = features  # the local slice keeps its autograd graph
    return torch.cat(parts, dim=0)
