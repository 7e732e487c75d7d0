"""Writing a corpus: shards per split, then the manifest that indexes them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError

from ._format import ShardStats, write_shard
from ._manifest import (
    MANIFEST_NAME,
    ClipInfo,
    CorpusManifest,
    ShardInfo,
    SplitInfo,
    save_manifest,
)
from ._sample import Sample

__all__ = ["CorpusWriter", "build_manifest", "clip_info", "shard_name"]

SPLITS = ("train", "val", "test")


def shard_name(split: str, index: int) -> str:
    """The relative path of a split's ``index``-th shard."""
    return f"shards/{split}-{index:05d}.npz"


def clip_info(sample: Sample, shard: int, held_out: Iterable[str] = ()) -> ClipInfo:
    """The manifest entry of a clip written to shard number ``shard``."""
    held = set(held_out)
    return ClipInfo(clip_id=sample.clip_id, shard=shard, split=sample.split,
                    subject=sample.subject, duration_s=float(sample.duration_s),
                    activities=list(sample.activities),
                    zero_shot=bool(held.intersection(sample.activities)),
                    locations=sorted(sample.imu))


def build_manifest(
    shards: Sequence[tuple[str, ShardStats, Sequence[ClipInfo]]],
    root: Path,
    *,
    source: str,
    generator: Mapping[str, Any],
    modalities: Iterable[str],
    held_out_activities: Iterable[str] = (),
    text_templates: Mapping[str, str] | None = None,
    features: Iterable[str] = (),
) -> CorpusManifest:
    """Index written shards.

    Args:
        shards: ``(split, stats, clips)`` per shard, in manifest order; each clip's
            ``shard`` field must be that shard's position in this sequence.
        root: the corpus root (shard paths are stored relative to it).
        source, generator, modalities, held_out_activities, text_templates, features:
            recorded as is.

    Returns:
        The manifest (not yet saved).
    """
    infos: list[ShardInfo] = []
    clips: list[ClipInfo] = []
    for split, st, shard_clips in shards:
        rel = Path(st.path).resolve().relative_to(root.resolve()).as_posix()
        infos.append(ShardInfo(path=rel, split=split, clips=st.clips, duration_s=st.duration_s,
                               bytes=st.bytes, sha256=st.sha256,
                               activities=dict(sorted(st.activities.items()))))
        clips.extend(shard_clips)
    splits: dict[str, SplitInfo] = {}
    rank = {s: i for i, s in enumerate(SPLITS)}
    for split in sorted({i.split for i in infos}, key=lambda s: (rank.get(s, 99), s)):
        sh = [i for i in infos if i.split == split]
        acts: dict[str, float] = {}
        for i in sh:
            for k, v in i.activities.items():
                acts[k] = acts.get(k, 0.0) + v
        splits[split] = SplitInfo(
            clips=sum(i.clips for i in sh), duration_s=float(sum(i.duration_s for i in sh)),
            bytes=sum(i.bytes for i in sh),
            subjects=sorted({c.subject for c in clips if c.split == split}),
            activities=dict(sorted(acts.items())))
    return CorpusManifest(source=source, generator=dict(generator), modalities=list(modalities),
                          held_out_activities=sorted(held_out_activities),
                          text_templates=dict(text_templates or {}), splits=splits,
                          features=sorted(set(features)), shards=infos, clips=clips)


class CorpusWriter:
    """Write clips one by one into shards of about ``shard_seconds`` each, then the manifest.

    Use it as a context manager; the manifest is written on a clean exit (or by
    :meth:`close`). Clips are grouped by their ``split``.

    Args:
        root: the corpus directory (created).
        source: what the clips are (``"synth"``, ``"pamap2"`` ...).
        generator: name, version, seed and arguments of the producer.
        shard_seconds: close a shard once it holds this much clip time.
        held_out_activities: activities reserved for the zero-shot test split.
        text_templates: template set used per split, for the record.
        overwrite: replace an existing corpus at ``root``.

    Raises:
        ConfigError: ``root`` already holds a corpus and ``overwrite`` is false, or
            ``shard_seconds`` is not positive.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        source: str,
        generator: Mapping[str, Any] | None = None,
        shard_seconds: float = 180.0,
        held_out_activities: Iterable[str] = (),
        text_templates: Mapping[str, str] | None = None,
        overwrite: bool = False,
    ) -> None:
        if shard_seconds <= 0:
            raise ConfigError(f"shard_seconds must be > 0, got {shard_seconds}")
        self.root = Path(root)
        prepare_root(self.root, overwrite)
        self.source = source
        self.generator = dict(generator or {})
        self.shard_seconds = float(shard_seconds)
        self.held_out = tuple(held_out_activities)
        self.text_templates = dict(text_templates or {})
        self._pending: dict[str, list[Sample]] = {}
        self._count: dict[str, int] = {}
        self._written: list[tuple[str, ShardStats, list[ClipInfo]]] = []
        self._modalities: set[str] = set()
        self._features: set[str] = set()
        self.manifest: CorpusManifest | None = None

    def add(self, sample: Sample) -> None:
        """Queue a clip; a shard is written whenever a split has ``shard_seconds`` queued."""
        pending = self._pending.setdefault(sample.split, [])
        pending.append(sample)
        self._modalities.update(sample.modalities)
        self._features.update(sample.features)
        if sum(s.duration_s for s in pending) >= self.shard_seconds:
            self._flush(sample.split)

    def add_written(self, split: str, stats: ShardStats, clips: Sequence[ClipInfo],
                    modalities: Iterable[str]) -> None:
        """Record a shard written elsewhere (by a worker process) under ``root``."""
        pos = len(self._written)
        self._written.append((split, stats, [c.model_copy(update={"shard": pos}) for c in clips]))
        self._modalities.update(modalities)

    def _flush(self, split: str) -> None:
        samples = self._pending.pop(split, [])
        if not samples:
            return
        index = self._count.get(split, 0)
        self._count[split] = index + 1
        stats = write_shard(self.root / shard_name(split, index), samples)
        shard_pos = len(self._written)
        self._written.append(
            (split, stats, [clip_info(s, shard_pos, self.held_out) for s in samples]))

    def close(self) -> CorpusManifest:
        """Write what is queued and the manifest; return the manifest."""
        if self.manifest is not None:
            return self.manifest
        for split in sorted(self._pending):
            self._flush(split)
        order = {s: i for i, s in enumerate(SPLITS)}
        ranked = sorted(range(len(self._written)),
                        key=lambda i: (order.get(self._written[i][0], 99), self._written[i][0],
                                       str(self._written[i][1].path)))
        remap = {old: new for new, old in enumerate(ranked)}
        entries = []
        for old in ranked:
            split, stats, clips = self._written[old]
            entries.append(
                (split, stats, [c.model_copy(update={"shard": remap[c.shard]}) for c in clips]))
        mods = [m for m in ("imu", "mocap", "video", "text") if m in self._modalities]
        self.manifest = build_manifest(entries, self.root, source=self.source,
                                       generator=self.generator, modalities=mods,
                                       held_out_activities=self.held_out,
                                       text_templates=self.text_templates,
                                       features=self._features)
        save_manifest(self.root, self.manifest)
        return self.manifest

    def __enter__(self) -> CorpusWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()


def prepare_root(root: Path, overwrite: bool) -> None:
    """Create ``root``; refuse to write over a corpus unless ``overwrite``."""
    if (root / MANIFEST_NAME).exists() or (root / "shards").exists():
        if not overwrite:
            raise ConfigError(f"{root} already holds a corpus; pass overwrite=True "
                              "(--overwrite) or choose another directory")
        shutil.rmtree(root / "shards", ignore_errors=True)
        (root / MANIFEST_NAME).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
