"""A user's own labelled recordings as a corpus, for fine-tuning (``aura retrain``).

Input is what the SDK already reads and writes: a recording (the ``t,ax,ay,az,gx,gy,gz`` CSV
of ``aura decode`` / ``aura live --record``, SI units, or the NPZ form) and a labels file
of ``start,end,label`` spans in seconds on the recording's time base (or the recording's own
ground-truth timeline). Every labelled span is cut into clips of at most ``clip_s``; clips
are split between ``train`` and ``val`` per label (every ``val_every``-th clip of a label
goes to ``val``, and the last one of a label with two to ``val_every - 1`` clips, so both
splits hold every label that has two clips or more).
Each clip's text is its label's first prompt ("a person tightening a bolt"), which is how
a window meets text in the contrastive loss.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aura_sdk import ConfigError, SensorSpec
from aura_sdk.recording import LabelSpan, Recording, read_labels, read_recording

from ..text import label_prompts
from ._manifest import CorpusManifest
from ._sample import ImuStream, Sample, TimelineEntry
from ._writer import CorpusWriter

__all__ = ["recordings_corpus"]

#: Clips shorter than this are dropped: one 5-s window plus the resampler's edge margins.
_MIN_CLIP_S = 6.0


def _clips(span: LabelSpan, t0: float, t1: float, clip_s: float) -> list[tuple[float, float]]:
    start, end = max(span.start_s, t0), min(span.end_s, t1)
    if end - start < _MIN_CLIP_S:
        return []
    # as few clips as keep each one no longer than clip_s, none shorter than _MIN_CLIP_S
    n = max(1, min(math.ceil((end - start) / clip_s), int((end - start) // _MIN_CLIP_S)))
    edges = np.linspace(start, end, n + 1)
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges)]


def _sample(rec: Recording, a: float, b: float, label: str, *, clip_id: str, subject: str,
            split: str, spec: SensorSpec, location: str, source: str) -> Sample:
    keep = (rec.t >= a) & (rec.t < b)
    t = rec.t[keep] - a
    data = rec.imu[keep].astype(np.float32)
    # one text per label: windows of one label then share a text id, so the contrastive
    # loss treats them as positives of each other, not as negatives (few labels, big batches)
    entry = TimelineEntry(0.0, b - a, label, texts=(label_prompts(label, "train")[0],),
                          params={"source_file": source, "start_s": a, "end_s": b})
    return Sample(clip_id=clip_id, source="user", split=split, subject=subject,
                  duration_s=b - a, imu={location: ImuStream(t, data, spec, location)},
                  timeline=(entry,), params={"recording": source})


def recordings_corpus(
    recordings: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str] | None]],
    root: str | os.PathLike[str],
    *,
    gravity_removed: bool = False,
    location: str = "left_wrist",
    clip_s: float = 30.0,
    val_every: int = 5,
    overwrite: bool = False,
) -> CorpusManifest:
    """Write labelled recordings as a ``train`` / ``val`` corpus at ``root``.

    Args:
        recordings: ``(recording, labels)`` pairs; ``labels`` ``None`` takes the
            recording's own timeline (NPZ ground truth).
        root: the corpus directory.
        gravity_removed: the device's accelerometer convention (``False``: raw specific
            force, +1 g up at rest, what ``aura decode`` writes for most devices).
        location: where the device was worn (``left_wrist``, ``right_wrist`` ...).
        clip_s: longest clip; spans are cut into near-equal clips no longer than this.
        val_every: every this-many-th clip of a label goes to ``val``.
        overwrite: replace an existing corpus at ``root``.

    Returns:
        The manifest written.

    Raises:
        ConfigError: a missing or malformed file, a recording without labels, no span of
            at least 5 s, or bad options.
    """
    if clip_s < _MIN_CLIP_S:
        raise ConfigError(f"clip_s must be at least {_MIN_CLIP_S:g} s (one window), got {clip_s}")
    if val_every < 2:
        raise ConfigError(f"val_every must be at least 2, got {val_every}")
    if not recordings:
        raise ConfigError("no recordings given: pass at least one recording with its labels")
    per_label: dict[str, list[dict[str, Any]]] = {}
    sources: list[dict[str, Any]] = []
    for i, (rec_path, labels_path) in enumerate(recordings):
        rec = read_recording(rec_path)
        spans = read_labels(labels_path) if labels_path is not None else rec.spans
        if not spans:
            raise ConfigError(f"{rec_path} has no labelled spans: pass a labels file "
                              "(start,end,label per line, seconds on the recording's clock)")
        if len(rec) < 2:
            raise ConfigError(f"{rec_path} holds fewer than two samples")
        spec = SensorSpec(sample_rate_hz=rec.nominal_rate_hz(), gravity_removed=gravity_removed)
        stem = f"r{i:02d}-{Path(rec_path).stem}"
        t0, t1 = float(rec.t[0]), float(rec.t[-1])
        used = 0
        for span in spans:
            for a, b in _clips(span, t0, t1, clip_s):
                per_label.setdefault(span.label, []).append(dict(
                    rec=rec, a=a, b=b, label=span.label, clip_id=f"{stem}-{used:04d}",
                    subject=stem, spec=spec, location=location, source=str(rec_path)))
                used += 1
        sources.append({"recording": str(rec_path), "labels": str(labels_path or ""),
                        "rate_hz": spec.sample_rate_hz, "clips": used,
                        "dropped_rows": rec.dropped_rows})
    samples: list[Sample] = []
    for clips in per_label.values():
        val = {k for k in range(len(clips)) if k % val_every == val_every - 1}
        if not val and len(clips) >= 2:  # every label with two clips is validated
            val = {len(clips) - 1}
        for k, c in enumerate(clips):
            samples.append(_sample(c.pop("rec"), c.pop("a"), c.pop("b"), c.pop("label"),
                                   split="val" if k in val else "train", **c))
    if not samples:
        raise ConfigError(f"no labelled span of at least {_MIN_CLIP_S:g} s lies inside the "
                          "recordings: check that the labels use the recordings' time base")
    generator = {"name": "aura retrain --recordings", "gravity_removed": gravity_removed,
                 "location": location, "clip_s": clip_s, "val_every": val_every,
                 "recordings": sources}
    with CorpusWriter(root, source="user", generator=generator, shard_seconds=600.0,
                      overwrite=overwrite) as writer:
        for s in samples:
            writer.add(s)
    assert writer.manifest is not None
    return writer.manifest
