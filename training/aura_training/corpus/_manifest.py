"""The corpus index: ``manifest.json`` at the corpus root (a frozen, validated model)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import CorpusError, CorpusNotFoundError

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "ClipInfo",
    "CorpusManifest",
    "ShardInfo",
    "SplitInfo",
    "load_manifest",
    "save_manifest",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShardInfo(_Frozen):
    """One shard file: where it is, what it holds, how to check it."""

    path: str = Field(description="relative to the corpus root, '/'-separated")
    split: str
    clips: int = Field(ge=0)
    duration_s: float = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str
    activities: dict[str, float] = Field(default_factory=dict)


class ClipInfo(_Frozen):
    """One clip: enough to select clips without opening shards."""

    clip_id: str
    shard: int = Field(ge=0, description="index into CorpusManifest.shards")
    split: str
    subject: str
    duration_s: float = Field(ge=0)
    activities: list[str]
    zero_shot: bool = False
    # Empty in corpora written before placements were recorded (wrist streams only).
    locations: list[str] = Field(default_factory=list, description="its IMU streams")


class SplitInfo(_Frozen):
    """Totals of one split."""

    clips: int
    duration_s: float
    bytes: int
    subjects: list[str]
    activities: dict[str, float]


class CorpusManifest(_Frozen):
    """Everything known about a corpus without reading its shards.

    Attributes:
        source: ``"synth"`` or the real data set it was converted from.
        generator: name, version, seed and arguments of what wrote it.
        modalities: the modalities its clips carry.
        held_out_activities: activities present only in the test split (zero-shot).
        text_templates: which template set the texts of each split were drawn from.
        splits: totals per split.
        features: names of precomputed features stored in the shards.
        shards: every shard file.
        clips: every clip.
    """

    format: Literal["aura-corpus"] = "aura-corpus"
    version: int = MANIFEST_VERSION
    source: str
    generator: dict[str, Any]
    modalities: list[str]
    held_out_activities: list[str] = Field(default_factory=list)
    text_templates: dict[str, str] = Field(default_factory=dict)
    splits: dict[str, SplitInfo]
    features: list[str] = Field(default_factory=list)
    shards: list[ShardInfo]
    clips: list[ClipInfo]

    @property
    def duration_s(self) -> float:
        """Total clip time in seconds."""
        return float(sum(s.duration_s for s in self.shards))

    @property
    def bytes(self) -> int:
        """Total shard bytes."""
        return int(sum(s.bytes for s in self.shards))

    @property
    def locations(self) -> dict[str, int]:
        """Clips per IMU stream location (clips of older manifests do not say)."""
        out: dict[str, int] = {}
        for c in self.clips:
            for loc in c.locations:
                out[loc] = out.get(loc, 0) + 1
        return dict(sorted(out.items()))

    @property
    def activities(self) -> dict[str, float]:
        """Labelled seconds per activity over all splits."""
        out: dict[str, float] = {}
        for s in self.shards:
            for k, v in s.activities.items():
                out[k] = out.get(k, 0.0) + v
        return dict(sorted(out.items()))


def save_manifest(root: str | os.PathLike[str], manifest: CorpusManifest) -> Path:
    """Write ``manifest.json`` (sorted keys, no timestamps: same corpus, same bytes)."""
    path = Path(root) / MANIFEST_NAME
    tmp = path.with_name(MANIFEST_NAME + ".part")
    tmp.write_text(json.dumps(manifest.model_dump(mode="json"), indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_manifest(root: str | os.PathLike[str]) -> CorpusManifest:
    """Read and validate a corpus's manifest.

    Raises:
        CorpusNotFoundError: no corpus (no ``manifest.json``) at ``root``.
        CorpusError: the manifest is malformed or of another version.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise CorpusNotFoundError(
            f"no {MANIFEST_NAME} here; write a corpus with `aura data synth --out {root}`",
            path=Path(root))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot parse the manifest: {exc}", path=path) from exc
    if isinstance(raw, dict) and raw.get("version") not in (None, MANIFEST_VERSION):
        raise CorpusError(f"manifest version {raw.get('version')} is not {MANIFEST_VERSION}; "
                          "regenerate the corpus with this version of aura-sdk", path=path)
    try:
        return CorpusManifest.model_validate(raw)
    except ValidationError as exc:
        raise CorpusError(f"invalid manifest: {exc}", path=path) from exc
