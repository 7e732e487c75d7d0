"""Streaming a corpus: each DataLoader worker of each ``torchrun`` rank reads its own shards.

Readers are numbered ``rank * num_workers + worker_id`` out of ``world_size * num_workers``;
reader ``r`` takes every shard at positions ``r, r + R, r + 2R ...`` of the (optionally
epoch-shuffled) shard order. Over all readers that is a partition of the shards: nothing
read twice, nothing missed. No torch here: this yields numpy; see ``_torch.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from aura_sdk import ConfigError

from ._errors import CorpusError
from ._format import MODALITIES, read_shard
from ._manifest import CorpusManifest, ShardInfo, load_manifest
from ._sample import Sample

__all__ = ["CorpusReader", "assign_shards"]

logger = logging.getLogger(__name__)


def assign_shards(
    n_shards: int,
    rank: int = 0,
    world_size: int = 1,
    worker_id: int = 0,
    num_workers: int = 1,
    *,
    epoch: int = 0,
    shuffle_seed: int | None = None,
    drop_uneven: bool = False,
) -> list[int]:
    """Which shard indices one reader takes.

    Args:
        n_shards: shards to share out.
        rank, world_size: the process among ``torchrun`` ranks.
        worker_id, num_workers: the DataLoader worker within the process.
        epoch: with ``shuffle_seed``, a new shard order each epoch (the same on every reader).
        shuffle_seed: ``None`` keeps manifest order.
        drop_uneven: give every reader the same number of shards, dropping the remainder
            (different shards each epoch when shuffled), so ranks finish together.

    Returns:
        Shard indices in reading order.

    Raises:
        ConfigError: an index is outside its range.
    """
    if world_size < 1 or num_workers < 1:
        raise ConfigError(f"world_size={world_size} and num_workers={num_workers} must be >= 1")
    if not 0 <= rank < world_size:
        raise ConfigError(f"rank={rank} is outside 0..{world_size - 1}")
    if not 0 <= worker_id < num_workers:
        raise ConfigError(f"worker_id={worker_id} is outside 0..{num_workers - 1}")
    order = np.arange(n_shards)
    if shuffle_seed is not None:
        order = np.random.default_rng([shuffle_seed, epoch]).permutation(n_shards)
    readers = world_size * num_workers
    if drop_uneven:
        order = order[: (n_shards // readers) * readers]
    return [int(i) for i in order[rank * num_workers + worker_id :: readers]]


class CorpusReader:
    """Read a corpus written by :class:`CorpusWriter` (or ``aura data synth``).

    Args:
        root: the corpus directory.
        split: a split name, several, or ``None`` for all.
        modalities: which modalities to load (others are not decompressed).
        features: precomputed features to load.
        verify: check each shard's sha256 against the manifest before reading it.
        video_noise: add per-pixel sensor noise to frames at the level drawn at synthesis
            (``params["video_noise_sigma"]``), seeded by clip and epoch. The corpus stores
            noise-free frames because noise is incompressible.

    Raises:
        CorpusNotFoundError: no corpus at ``root``.
        CorpusError: the manifest is invalid or a split is unknown.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str | Iterable[str] | None = None,
        *,
        modalities: Iterable[str] = MODALITIES,
        features: Iterable[str] = (),
        verify: bool = False,
        video_noise: bool = False,
    ) -> None:
        self.root = Path(root)
        self.manifest: CorpusManifest = load_manifest(self.root)
        splits = None if split is None else ({split} if isinstance(split, str) else set(split))
        if splits is not None and not splits <= set(self.manifest.splits):
            raise CorpusError(f"unknown split(s) {sorted(splits - set(self.manifest.splits))}; "
                              f"this corpus has {sorted(self.manifest.splits)}", path=self.root)
        self.shards: list[ShardInfo] = [
            s for s in self.manifest.shards if splits is None or s.split in splits]
        self.modalities = tuple(modalities)
        self.features = tuple(features)
        self.verify = verify
        self.video_noise = video_noise

    def __len__(self) -> int:
        return sum(s.clips for s in self.shards)

    def shards_for(
        self,
        rank: int = 0,
        world_size: int = 1,
        worker_id: int = 0,
        num_workers: int = 1,
        *,
        epoch: int = 0,
        shuffle_seed: int | None = None,
        drop_uneven: bool = False,
    ) -> list[ShardInfo]:
        """The shards one reader takes (see :func:`assign_shards`)."""
        idx = assign_shards(len(self.shards), rank, world_size, worker_id, num_workers,
                            epoch=epoch, shuffle_seed=shuffle_seed, drop_uneven=drop_uneven)
        if not idx and self.shards:
            logger.warning("reader %d of %d gets no shard (only %d shards): it yields nothing",
                           rank * num_workers + worker_id, world_size * num_workers,
                           len(self.shards))
        return [self.shards[i] for i in idx]

    def read(self, shard: ShardInfo) -> list[Sample]:
        """All clips of one shard (checked against its sha256 when ``verify``)."""
        path = self.root / shard.path
        if self.verify:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != shard.sha256:
                raise CorpusError("sha256 does not match the manifest: the shard is damaged "
                                  "or was replaced; regenerate it", path=path)
        return read_shard(path, self.modalities, self.features)

    def iter_samples(
        self,
        rank: int = 0,
        world_size: int = 1,
        worker_id: int = 0,
        num_workers: int = 1,
        *,
        epoch: int = 0,
        shuffle_seed: int | None = None,
        drop_uneven: bool = False,
    ) -> Iterator[Sample]:
        """Stream the clips of this reader's shards, shard by shard.

        With ``shuffle_seed`` the shard order and the clip order within each shard are
        shuffled per epoch (deterministically).
        """
        for shard in self.shards_for(rank, world_size, worker_id, num_workers, epoch=epoch,
                                     shuffle_seed=shuffle_seed, drop_uneven=drop_uneven):
            samples = self.read(shard)
            if shuffle_seed is not None:
                key = zlib.crc32(shard.path.encode())
                order = np.random.default_rng([shuffle_seed, epoch, key]).permutation(
                    len(samples))
                samples = [samples[i] for i in order]
            for s in samples:
                yield self._noisy(s, epoch) if self.video_noise else s

    def __iter__(self) -> Iterator[Sample]:
        return self.iter_samples()

    @staticmethod
    def _noisy(s: Sample, epoch: int) -> Sample:
        sigma = float(s.params.get("video_noise_sigma", 0.0))
        if s.video is None or sigma <= 0:
            return s
        rng = np.random.default_rng([epoch, zlib.crc32(s.clip_id.encode())])
        noisy = s.video + rng.normal(0.0, sigma, size=s.video.shape)
        video = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        return dataclasses.replace(s, video=video)
