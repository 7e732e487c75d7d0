"""The synthetic four-modality corpus: plan, generate (in parallel), write, index.

The plan is drawn from the seed alone: session lengths, the subject of each session, each
subject's split, the activity pool of each session and the shard each session lands in.
Every session then has its own seed, and a worker process generates and writes whole
shards, so the corpus is the same bytes whatever the number of workers.

Splits:

* ``train`` / ``val`` / ``test`` are by subject (people in val or test never appear in
  train);
* ``held_out_activities`` appear only in ``test`` (true zero-shot; about half of the test
  sessions are drawn from them alone);
* texts of ``train`` clips come from the training sentence frames, texts of ``val`` and
  ``test`` clips from the held-out frames (unseen paraphrases).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aura_sdk import ConfigError

from ..render import RenderRanges, render_clip
from ..synth import PLACEMENTS
from ..text import Split, TextContext, describe, describe_sequence
from ._format import jsonable, write_shard
from ._imu import (
    activity_info,
    activity_names,
    generate_session,
    sample_subject,
    virtual_imu_streams,
)
from ._manifest import CorpusManifest, save_manifest
from ._sample import MOCAP_FPS, VIDEO_FPS, ImuStream, Sample, TimelineEntry
from ._writer import build_manifest, clip_info, prepare_root, shard_name

__all__ = [
    "DEFAULT_HELD_OUT",
    "GENERATOR_NAME",
    "SessionPlan",
    "SynthConfig",
    "generate_sample",
    "plan_sessions",
    "synthesize_corpus",
]

logger = logging.getLogger(__name__)

GENERATOR_NAME = "aura_training.corpus.synth"
#: Activities kept out of train and val by default: each has relatives that are seen
#: (tennis / badminton, squats / jumping jacks, guitar / violin ...), so zero-shot is hard
#: but fair.
DEFAULT_HELD_OUT: tuple[str, ...] = (
    "playing badminton", "jumping jacks", "wiping a table", "playing violin", "rowing",
)  # fmt: skip


#: Relative odds of activities in a session plan (others 1). People spend most of a day
#: sitting, standing, lying and walking (a day's time use is dominated by them), while a
#: uniform draw over the 57 activities gives each posture under 2 % of the corpus, and at a
#: belt or pocket (one stream of five) too few windows to learn a posture from.
DEFAULT_ACTIVITY_WEIGHTS: dict[str, float] = {"sitting": 3.0, "standing": 3.0,
                                              "lying down": 3.0, "walking": 2.0}


class SynthConfig(BaseModel):
    """What ``aura data synth`` generates.

    Attributes:
        minutes: total labelled-and-transition clip time to generate.
        seed: the only source of randomness.
        session_s: range of session lengths (uniform), seconds.
        segment_s: range of activity bout lengths within a session (log-uniform).
        subjects: size of the subject pool (default: one per three sessions, at least 10).
        val_subjects, test_subjects: fractions of the pool held out per split.
        held_out_activities: activities only the test split contains.
        shard_seconds: clip time per shard (smaller shards split better over readers).
        texts_per_segment: descriptions per timeline segment.
        video: render the exo video.
        video_size: frame width = height in pixels.
        motion_rate_hz: internal rate of the motion generator.
        random_mount: share of uniformly random device mountings per placement kind
            (``{"wrist": 0.15}``); kinds left out keep the generator's defaults
            (:data:`aura_training.synth._imu.RANDOM_MOUNT_P`: wrist 0.15, others 0.1).
        activity_weights: relative odds of each activity in a session's plan (others 1):
            by default the three postures and walking come up three and two times as
            often as a minority activity (:data:`DEFAULT_ACTIVITY_WEIGHTS`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    minutes: float = Field(gt=0)
    seed: int = Field(ge=0)
    session_s: tuple[float, float] = (20.0, 60.0)
    segment_s: tuple[float, float] = (8.0, 30.0)
    subjects: int | None = Field(default=None, ge=3)
    val_subjects: float = Field(default=0.1, ge=0, lt=0.5)
    test_subjects: float = Field(default=0.15, gt=0, lt=0.5)
    held_out_activities: tuple[str, ...] = DEFAULT_HELD_OUT
    shard_seconds: float = Field(default=180.0, gt=0)
    texts_per_segment: int = Field(default=6, ge=1, le=32)
    video: bool = True
    video_size: int = Field(default=64, ge=16, le=256)
    motion_rate_hz: float = Field(default=100.0, ge=20.0, le=1000.0)
    random_mount: dict[str, float] = Field(default_factory=dict)
    activity_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ACTIVITY_WEIGHTS))

    @field_validator("activity_weights")
    @classmethod
    def _check_weights(cls, v: dict[str, float]) -> dict[str, float]:
        known = set(activity_names())
        bad = sorted(k for k in v if k not in known)
        if bad:
            raise ValueError(f"activity_weights names unknown activities {bad}; see "
                             "`aura data info` or aura_training.synth.activity_names()")
        out = {k: x for k, x in v.items() if not (float(x) > 0 and float(x) < 1e6)}
        if out:
            raise ValueError(f"activity_weights must be positive, got {out}")
        return {k: float(x) for k, x in v.items()}

    @field_validator("random_mount")
    @classmethod
    def _check_random_mount(cls, v: dict[str, float]) -> dict[str, float]:
        kinds = tuple(PLACEMENTS)
        bad = sorted(k for k in v if k not in kinds)
        if bad:
            raise ValueError(f"random_mount names unknown placements {bad}; use {kinds}")
        out = {k: float(x) for k, x in v.items() if not 0.0 <= float(x) <= 1.0}
        if out:
            raise ValueError(f"random_mount shares must be within [0, 1], got {out}")
        return v


class SessionPlan(BaseModel):
    """One planned session (a corpus clip)."""

    model_config = ConfigDict(frozen=True)

    index: int
    seed: int
    duration_s: float
    subject_id: int
    split: str
    activities: tuple[str, ...]
    shard: int


def _held_out(cfg: SynthConfig) -> tuple[str, ...]:
    known = set(activity_names())
    unknown = [a for a in cfg.held_out_activities if a not in known]
    if unknown:
        raise ConfigError(f"held-out activities {unknown} are not generated; known: "
                          f"{sorted(known)}")
    return tuple(cfg.held_out_activities)


def plan_sessions(cfg: SynthConfig) -> list[SessionPlan]:
    """Draw the whole corpus plan from ``cfg.seed`` (cheap: no motion is generated).

    Raises:
        ConfigError: unknown held-out activities, or none left to train on.
    """
    held = set(_held_out(cfg))
    seen = tuple(a for a in activity_names() if a not in held)
    if not seen:
        raise ConfigError("every activity is held out; nothing is left for training")
    rng = np.random.default_rng([cfg.seed, 0x5EED])
    total = cfg.minutes * 60.0
    lengths: list[float] = []
    while total - sum(lengths) > 1e-6:
        left = total - sum(lengths)
        draw = float(rng.uniform(*cfg.session_s))
        # The last session takes what is left; a sliver under 5 s joins the one before.
        if left - draw < 5.0 and lengths and left < 5.0:
            lengths[-1] += left
            break
        lengths.append(left if left - draw < 5.0 else draw)
    pool = cfg.subjects or max(10, -(-len(lengths) // 3))
    order = rng.permutation(pool)
    n_test = max(1, round(cfg.test_subjects * pool))
    n_val = max(1 if cfg.val_subjects > 0 else 0, round(cfg.val_subjects * pool))
    split_of = {int(s): "test" for s in order[:n_test]}
    split_of.update({int(s): "val" for s in order[n_test : n_test + n_val]})
    split_of.update({int(s): "train" for s in order[n_test + n_val :]})
    pool_of = {sp: sorted(sid for sid, v in split_of.items() if v == sp)
               for sp in ("train", "val", "test")}
    share = {"train": 1.0 - cfg.val_subjects - cfg.test_subjects, "val": cfg.val_subjects,
             "test": cfg.test_subjects}
    given = dict.fromkeys(share, 0.0)
    sessions = []
    for k, dur in enumerate(lengths):
        # Each split gets its share of the time: the session goes to the split furthest
        # behind, then to one of that split's subjects.
        done = sum(given.values()) + dur
        split = max((sp for sp in share if pool_of[sp]),
                    key=lambda sp: share[sp] * done - given[sp])
        given[split] += dur
        sid = int(pool_of[split][int(rng.integers(len(pool_of[split])))])
        if split == "test" and held and rng.random() < 0.5:
            acts = tuple(sorted(held))
        elif split == "test":
            acts = tuple(activity_names())
        else:
            acts = seen
        seed = int(np.random.SeedSequence([cfg.seed, k]).generate_state(1)[0])
        sessions.append(SessionPlan(index=k, seed=seed, duration_s=dur, subject_id=sid,
                                    split=split, activities=acts, shard=-1))
    # Shards: per split, consecutive sessions until shard_seconds is reached.
    out: list[SessionPlan] = []
    shard = 0
    for split in ("train", "val", "test"):
        acc = 0.0
        members = [s for s in sessions if s.split == split]
        for i, s in enumerate(members):
            out.append(s.model_copy(update={"shard": shard}))
            acc += s.duration_s
            if acc >= cfg.shard_seconds and i < len(members) - 1:
                shard, acc = shard + 1, 0.0
        if members:
            shard += 1
    return sorted(out, key=lambda s: (s.shard, s.index))


def _resample_joints(joints: np.ndarray, rate_hz: float, fps: float, n: int) -> np.ndarray:
    """Joints at ``fps`` by linear interpolation of the internal-rate track."""
    src = np.arange(joints.shape[0]) / rate_hz
    dst = np.arange(n) / fps
    flat = joints.reshape(joints.shape[0], -1)
    out = np.empty((n, flat.shape[1]))
    for c in range(flat.shape[1]):
        out[:, c] = np.interp(dst, src, flat[:, c])
    return out.reshape(n, *joints.shape[1:])


class _Stopwatch:
    """Adds the time of each stage to a dict, when one is given (the benchmark's)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self.t = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.into is not None:
            now = time.perf_counter()
            self.into[stage] = self.into.get(stage, 0.0) + now - self.t
            self.t = now


def generate_sample(
    plan: SessionPlan, cfg: SynthConfig, timings: dict[str, float] | None = None
) -> Sample:
    """Generate one planned session with all four modalities.

    Args:
        plan: the session (from :func:`plan_sessions`).
        cfg: the corpus configuration.
        timings: if given, seconds spent per stage (motion, imu, mocap, video, text) are
            added to it.
    """
    watch = _Stopwatch(timings)
    subject_rng = np.random.default_rng([cfg.seed, 0x5B, plan.subject_id])
    subject = sample_subject(subject_rng, subject_id=plan.subject_id)
    # The generator adds transitions on top of the labelled time it is asked for: cut the
    # session at the planned length, so --minutes is what you get.
    clip = generate_session(plan.seed, plan.duration_s,
                                  activities=plan.activities, subject=subject,
                                  rate_hz=cfg.motion_rate_hz, segment_s=cfg.segment_s,
                                  weights=cfg.activity_weights)
    watch.lap("motion")
    rng = np.random.default_rng([plan.seed, 1])
    duration = min(clip.duration_s, plan.duration_s)
    imu, imu_params = virtual_imu_streams(clip, rng, random_mount=cfg.random_mount)
    imu = {loc: ImuStream(t=st.t[st.t < duration], data=st.data[st.t < duration],
                          spec=st.spec, location=loc) for loc, st in imu.items()}
    watch.lap("imu")
    n_frames = int(np.floor(duration * MOCAP_FPS + 1e-9))
    mocap = _resample_joints(clip.joints, clip.rate_hz, MOCAP_FPS, n_frames)
    params: dict[str, Any] = {"subject": asdict(clip.subject), "session_seed": plan.seed,
                              "imu": imu_params,
                              "transitions": [list(t) for t in clip.transitions
                                              if t[0] < duration]}
    watch.lap("mocap")
    video = None
    if cfg.video:
        ranges = RenderRanges(noise_sigma=(0.0, 0.0))  # noise is added at read time
        res = render_clip(mocap, rng, size=cfg.video_size, ranges=ranges)
        video = res.frames
        params["camera"] = res.params
        params["video_noise_sigma"] = float(rng.uniform(0.0, 3.0))
    watch.lap("video")
    templates: Split = "train" if plan.split == "train" else "test"
    # Segments cut by the session's end keep their clipped part if it is worth a label.
    segments = [seg for seg in clip.timeline if min(seg.end_s, duration) - seg.start_s >= 1.0]
    ctxs = [TextContext.from_segment(seg, activity_info(seg.activity))
            for seg in segments]
    timeline = tuple(
        TimelineEntry(seg.start_s, min(seg.end_s, duration), seg.activity,
                      tuple(describe(ctx, rng, cfg.texts_per_segment, templates)),
                      jsonable(asdict(seg.params)))
        for seg, ctx in zip(segments, ctxs, strict=True))
    texts = tuple(describe_sequence(ctxs, rng, max(2, cfg.texts_per_segment // 2), templates)
                  ) if ctxs else ()
    watch.lap("text")
    return Sample(
        clip_id=f"synth-{plan.index:07d}", source="synth", split=plan.split,
        subject=f"synth-{plan.subject_id:05d}", duration_s=float(duration), imu=imu,
        mocap=mocap.astype(np.float32), video=video, timeline=timeline, texts=texts,
        params=jsonable(params), mocap_fps=MOCAP_FPS, video_fps=VIDEO_FPS)


def _write_job(job: tuple[str, int, str, list[SessionPlan], SynthConfig]) -> tuple[
        int, Any, list[Any]]:
    root, shard, rel, plans, cfg = job
    samples = [generate_sample(p, cfg) for p in plans]
    stats = write_shard(Path(root) / rel, samples)
    held = cfg.held_out_activities
    return shard, stats, [clip_info(s, shard, held) for s in samples]


def generator_record(cfg: SynthConfig) -> dict[str, Any]:
    """What the manifest says about the producer."""
    try:
        version = metadata.version("aura-sdk")
    except metadata.PackageNotFoundError:  # a source tree
        version = "unknown"
    return {"name": GENERATOR_NAME, "version": version, "seed": cfg.seed,
            "config": cfg.model_dump(mode="json")}


def synthesize_corpus(
    root: str | os.PathLike[str],
    cfg: SynthConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[float], None] | None = None,
) -> CorpusManifest:
    """Generate and write a whole corpus.

    Args:
        root: the output directory.
        cfg: what to generate.
        workers: processes generating shards in parallel (the output does not depend on it).
        overwrite: replace a corpus already at ``root``.
        progress: called with the clip seconds of each finished shard.

    Returns:
        The saved manifest.

    Raises:
        ConfigError: bad configuration, or a corpus exists at ``root`` without ``overwrite``.
    """
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    root = Path(root)
    prepare_root(root, overwrite)
    plans = plan_sessions(cfg)
    by_shard: dict[int, list[SessionPlan]] = {}
    for p in plans:
        by_shard.setdefault(p.shard, []).append(p)
    count: dict[str, int] = {}
    jobs = []
    for shard, members in sorted(by_shard.items()):
        split = members[0].split
        jobs.append((str(root), shard, shard_name(split, count.get(split, 0)), members, cfg))
        count[split] = count.get(split, 0) + 1
    results: dict[int, tuple[Any, list[Any]]] = {}

    def collect(shard: int, stats: Any, clips: list[Any]) -> None:
        results[shard] = (stats, clips)
        if progress is not None:
            progress(stats.duration_s)

    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            collect(*_write_job(job))
    else:
        with multiprocessing.get_context().Pool(min(workers, len(jobs))) as pool:
            for shard, stats, clips in pool.imap_unordered(_write_job, jobs):
                collect(shard, stats, clips)
    entries: Sequence[tuple[str, Any, list[Any]]] = [
        (by_shard[s][0].split, *results[s]) for s in sorted(results)]
    mods = ["imu", "mocap", "video", "text"] if cfg.video else ["imu", "mocap", "text"]
    manifest = build_manifest(
        entries, root, source="synth", generator=generator_record(cfg), modalities=mods,
        held_out_activities=cfg.held_out_activities,
        text_templates={"train": "train", "val": "test", "test": "test"})
    save_manifest(root, manifest)
    return manifest
