"""A thin torch ``IterableDataset`` over :class:`CorpusReader` (this module imports torch).

Each DataLoader worker of each rank reads only its own shards: the worker index comes from
``torch.utils.data.get_worker_info()``, the rank and world size from ``torch.distributed``
when a process group is up (else the ``RANK`` / ``WORLD_SIZE`` variables ``torchrun`` sets,
else 0 and 1). Call :meth:`CorpusDataset.set_epoch` before each epoch to reshuffle.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from ._format import MODALITIES
from ._reader import CorpusReader
from ._sample import Sample

__all__ = ["CorpusDataset", "current_rank"]


def current_rank() -> tuple[int, int]:
    """``(rank, world_size)`` of this process."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


class CorpusDataset(IterableDataset[Any]):
    """Stream corpus clips in DataLoader workers, each worker on its own shards.

    Args:
        root: the corpus directory.
        split: split(s) to read, or ``None`` for all.
        modalities: modalities to load.
        features: precomputed features to load.
        transform: applied to each :class:`Sample` in the worker; return ``None`` to skip
            it. Without one the dataset yields samples (use a collate_fn that keeps lists).
        shuffle_seed: shuffle shards and clips per epoch with this seed; ``None`` does not.
        drop_uneven: give every reader the same number of shards, so ranks end together.
        video_noise: add the drawn sensor noise to frames (see :class:`CorpusReader`).
        rank, world_size: override what :func:`current_rank` finds.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str | Iterable[str] | None = None,
        *,
        modalities: Iterable[str] = MODALITIES,
        features: Iterable[str] = (),
        transform: Callable[[Sample], Any] | None = None,
        shuffle_seed: int | None = None,
        drop_uneven: bool = True,
        video_noise: bool = False,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        self.reader = CorpusReader(root, split, modalities=modalities, features=features,
                                   video_noise=video_noise)
        self.transform = transform
        self.shuffle_seed = shuffle_seed
        self.drop_uneven = drop_uneven
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's shuffle (call on the dataset before iterating a new epoch)."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[Any]:
        found_rank, found_world = current_rank()
        rank = found_rank if self.rank is None else self.rank
        world = found_world if self.world_size is None else self.world_size
        info = get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
        for sample in self.reader.iter_samples(rank, world, worker_id, num_workers,
                                               epoch=self.epoch, shuffle_seed=self.shuffle_seed,
                                               drop_uneven=self.drop_uneven):
            item = sample if self.transform is None else self.transform(sample)
            if item is not None:
                yield item
