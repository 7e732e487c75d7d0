"""The corpus on disk: sharded ``.npz`` files plus a ``manifest.json`` index.

Write with :class:`CorpusWriter` (or ``aura data synth``), stream with
:class:`CorpusReader`, whose shard assignment by (rank, world size, worker, workers)
partitions the shards among ``torchrun`` ranks and DataLoader workers. Nothing here imports
torch; :mod:`aura_training.corpus.torch_dataset` wraps the reader as a torch
``IterableDataset``.
"""

from ._errors import CorpusError, CorpusNotFoundError
from ._features import add_features
from ._format import SHARD_FORMAT_VERSION, ShardStats, member_sizes, read_shard, write_shard
from ._manifest import (
    MANIFEST_NAME,
    ClipInfo,
    CorpusManifest,
    ShardInfo,
    SplitInfo,
    load_manifest,
    save_manifest,
)
from ._reader import CorpusReader, assign_shards
from ._sample import MOCAP_FPS, VIDEO_FPS, Caption, ImuStream, Sample, TimelineEntry
from ._user import recordings_corpus
from ._windows import Window, crop, iter_windows
from ._writer import CorpusWriter, build_manifest, clip_info, shard_name

__all__ = [
    "MANIFEST_NAME",
    "MOCAP_FPS",
    "SHARD_FORMAT_VERSION",
    "VIDEO_FPS",
    "Caption",
    "ClipInfo",
    "CorpusError",
    "CorpusManifest",
    "CorpusNotFoundError",
    "CorpusReader",
    "CorpusWriter",
    "ImuStream",
    "Sample",
    "ShardInfo",
    "ShardStats",
    "SplitInfo",
    "TimelineEntry",
    "Window",
    "add_features",
    "assign_shards",
    "build_manifest",
    "clip_info",
    "crop",
    "iter_windows",
    "load_manifest",
    "member_sizes",
    "read_shard",
    "recordings_corpus",
    "save_manifest",
    "shard_name",
    "write_shard",
]
