"""Precomputed features: computed once per clip, stored in the shards beside the raw data."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ConfigError

from ._format import read_shard, write_shard
from ._manifest import load_manifest, save_manifest

__all__ = ["add_features"]


def add_features(
    root: str | os.PathLike[str],
    name: str,
    fn: Callable[[Any], NDArray[Any]],
) -> None:
    """Compute a feature for every clip and store it in the shards (rewritten in place).

    ``fn`` gets each :class:`Sample` and returns a ``(k, ...)`` array for it (for example
    the text embeddings of its descriptions, or a frozen video tower's frame features). The
    manifest's shard sizes and sha256 are updated and ``name`` is added to its features.

    Raises:
        ConfigError: ``name`` is not a plain identifier (it becomes a zip member name).
        CorpusError: the corpus cannot be read.
    """
    if not name.replace("_", "").isalnum():
        raise ConfigError(f"feature name {name!r} must be letters, digits and underscores")
    root = Path(root)
    manifest = load_manifest(root)
    shards = []
    for info in manifest.shards:
        path = root / info.path
        samples = read_shard(path, features=manifest.features)
        updated = [dataclasses.replace(s, features={**s.features, name: np.asarray(fn(s))})
                   for s in samples]
        stats = write_shard(path, updated)
        shards.append(info.model_copy(update={"bytes": stats.bytes, "sha256": stats.sha256}))
    features = sorted({*manifest.features, name})
    save_manifest(root, manifest.model_copy(update={"shards": shards, "features": features}))
