"""Process-group setup for single-process and ``torchrun`` runs (gloo on CPU, nccl on GPU).

Rank, world size and local rank come from the variables ``torchrun`` sets (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, plus ``MASTER_ADDR``/``MASTER_PORT`` for the rendezvous), so
the same code runs on one CPU, several GPUs of one server, or several nodes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from aura_sdk import ConfigError

__all__ = ["DistInfo", "init_distributed"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands.

    Attributes:
        rank, world_size, local_rank: from the ``torchrun`` environment (0, 1, 0 alone).
        device: the device this process trains on.
        backend: ``"gloo"``, ``"nccl"`` or ``None`` (single process).
        owns_group: this object initialised the process group (and should destroy it).
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None
    owns_group: bool

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes checkpoints, metrics and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one rank."""
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for every rank (no-op alone)."""
        if self.distributed:
            dist.barrier()

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every rank (pickled by torch over the process group)."""
        if not self.distributed:
            return obj
        box: list[Any] = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_gather(self, obj: T) -> list[T]:
        """Every rank's ``obj``, in rank order."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        """Destroy the process group if this object created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def init_distributed(device: str = "auto") -> DistInfo:
    """Read the ``torchrun`` environment and join the process group if there is one.

    Args:
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Raises:
        ConfigError: ``cuda`` asked for and unavailable, or a malformed environment.
    """
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        raise ConfigError(f"malformed RANK / WORLD_SIZE / LOCAL_RANK: {exc}") from exc
    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise ConfigError("device 'cuda' asked for but no CUDA device is visible; use "
                          "device: cpu (or auto)")
    use_cuda = cuda and device in ("auto", "cuda")
    dev = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    backend: str | None = None
    owns = False
    if world > 1:
        backend = "nccl" if use_cuda else "gloo"
        if dist.is_initialized():
            rank, world = dist.get_rank(), dist.get_world_size()
        else:
            kwargs: dict[str, Any] = {"device_id": dev} if use_cuda else {}
            dist.init_process_group(backend, init_method="env://", rank=rank,
                                    world_size=world, **kwargs)
            owns = True
        logger.info("rank %d of %d (%s) on %s", rank, world, backend, dev)
    return DistInfo(rank=rank, world_size=world, local_rank=local, device=dev,
                    backend=backend, owns_group=owns)
