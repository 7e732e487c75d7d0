"""The activity registry and continuous sessions: activities blended into one motion clip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from aura_training.synth._catalog_daily import DAILY
from aura_training.synth._catalog_sport import SPORT
from aura_training.synth._motion import synthesize
from aura_training.synth._schema import ActivityInfo, MotionClip, Segment, SubjectParams
from aura_training.synth._signals import min_jerk
from aura_training.synth._skeleton import CH, N_CH, body_frames, sample_subject
from aura_training.synth._spec import Activity

FloatArray = NDArray[np.float64]

#: Every activity recipe by name (metadata in ``.info``), in catalogue order.
REGISTRY: dict[str, Activity] = {a.info.name: a for a in (*DAILY, *SPORT)}


def activity_names() -> tuple[str, ...]:
    """Names of all activities the generator knows."""
    return tuple(REGISTRY)


def activity_info(name: str) -> ActivityInfo:
    """Registry metadata of one activity.

    Raises:
        KeyError: ``name`` is not a known activity (the message lists the known ones).
    """
    try:
        return REGISTRY[name].info
    except KeyError:
        raise KeyError(f"unknown activity {name!r}; known: {', '.join(REGISTRY)}") from None


def _plan(
    rng: np.random.Generator,
    duration_s: float,
    pool: Sequence[str],
    segment_s: tuple[float, float],
    weights: Mapping[str, float] | None = None,
) -> list[tuple[str, float]]:
    plan: list[tuple[str, float]] = []
    total, last = 0.0, ""
    while total < duration_s:
        names = [n for n in pool if n != last] or list(pool)
        if weights:
            w = np.array([weights.get(n, 1.0) for n in names])
            name = str(names[int(rng.choice(len(names), p=w / w.sum()))])
        else:
            name = str(names[int(rng.integers(len(names)))])
        # Log-uniform lengths: many short bouts, some long ones, as in free living.
        dur = float(np.exp(rng.uniform(np.log(segment_s[0]), np.log(segment_s[1]))))
        dur = min(dur, max(duration_s - total, segment_s[0]))
        plan.append((name, dur))
        total += dur
        last = name
    return plan


def generate_session(
    seed: int,
    duration_s: float = 300.0,
    *,
    plan: Sequence[tuple[str, float]] | None = None,
    activities: Sequence[str] | None = None,
    subject: SubjectParams | None = None,
    rate_hz: float = 100.0,
    segment_s: tuple[float, float] = (12.0, 90.0),
    weights: Mapping[str, float] | None = None,
) -> MotionClip:
    """Generate one continuous session: activities joined by smooth transitions.

    Args:
        seed: the only source of randomness; the same seed gives the same clip.
        duration_s: approximate length of the labelled part when ``plan`` is not given.
        plan: explicit ``(activity, seconds)`` list; otherwise drawn from ``activities``.
        activities: pool to draw from (default: every registered activity).
        subject: the person; drawn from the seed when omitted (subject id = seed).
        rate_hz: internal frame rate.
        segment_s: range of drawn segment lengths (log-uniform).
        weights: relative odds of drawing each activity of the pool (default 1 each), e.g.
            postures more often than a minority sport.

    Returns:
        A :class:`MotionClip` whose timeline lists the segments; transitions between them
        (1-2.5 s, 2.5-4.5 s when the posture changes) are unlabelled blends.

    Raises:
        KeyError: an activity name is unknown.
        ValueError: ``rate_hz`` or ``duration_s`` is not positive, or a planned segment is
            shorter than 0.5 s.
    """
    if rate_hz <= 0 or (plan is None and duration_s <= 0):
        raise ValueError(f"rate_hz ({rate_hz}) and duration_s ({duration_s}) must be positive")
    rng = np.random.default_rng(seed)
    if subject is None:
        subject = sample_subject(rng, subject_id=seed)
    pool = list(activities) if activities is not None else list(REGISTRY)
    steps = list(plan) if plan is not None else _plan(rng, duration_s, pool, segment_s,
                                                      weights)
    for name, dur in steps:
        activity_info(name)
        if not dur >= 0.5:
            raise ValueError(f"segment {name!r} lasts {dur} s; segments need at least 0.5 s")
    fs = float(rate_hz)

    # Timeline: pure segments separated by blends.
    trans: list[float] = []
    for (name_a, _), (name_b, _) in pairwise(steps):
        posture_change = REGISTRY[name_a].info.posture != REGISTRY[name_b].info.posture
        trans.append(float(rng.uniform(2.5, 4.5) if posture_change else rng.uniform(1.0, 2.5)))
    starts, t = [], 0.0
    for i, (_, dur) in enumerate(steps):
        starts.append(t)
        t += dur + (trans[i] if i < len(trans) else 0.0)
    n = round(t * fs)
    times = np.arange(n) / fs
    pose = np.zeros((n, N_CH))
    segments: list[Segment] = []
    for i, (name, dur) in enumerate(steps):
        a, b = starts[i], starts[i] + dur
        lo = a - (trans[i - 1] if i > 0 else 0.0)
        hi = b + (trans[i] if i < len(trans) else 0.0)
        i0, i1 = round(lo * fs), min(round(hi * fs), n)
        p, params = synthesize(REGISTRY[name], rng, subject, i1 - i0, fs)
        tt = times[i0:i1]
        w: FloatArray = np.ones(i1 - i0, dtype=np.float64)
        if i > 0:
            w = w * min_jerk((tt - lo) / trans[i - 1])
        if i < len(trans):
            w = w * (1.0 - min_jerk((tt - b) / trans[i]))
        pose[i0:i1] += w[:, None] * p
        segments.append(Segment(round(a, 6), round(b, 6), name, params))

    heading = rng.uniform(-np.pi, np.pi) + np.cumsum(pose[:, CH["heading_rate"]]) / fs
    fwd, lat = pose[:, CH["fwd_speed"]], pose[:, CH["lat_speed"]]
    vx = fwd * np.cos(heading) - lat * np.sin(heading)
    vy = fwd * np.sin(heading) + lat * np.cos(heading)
    root = np.stack(
        [
            np.cumsum(vx) / fs,
            np.cumsum(vy) / fs,
            np.cumsum(pose[:, CH["climb_rate"]]) / fs + pose[:, CH["root_z"]],
        ],
        axis=1,
    )
    joints, rots = body_frames(pose, subject, root, heading)
    transitions = tuple(
        (round(starts[i] + steps[i][1], 6), round(starts[i + 1], 6)) for i in range(len(trans))
    )
    return MotionClip(
        subject=subject,
        rate_hz=fs,
        joints=joints,
        segment_rot=rots,
        timeline=tuple(segments),
        transitions=transitions,
        seed=int(seed),
    )


def generate_clip(
    activity: str,
    duration_s: float,
    seed: int,
    *,
    subject: SubjectParams | None = None,
    rate_hz: float = 100.0,
) -> MotionClip:
    """One activity for ``duration_s`` seconds (a session of a single segment).

    Raises:
        KeyError: ``activity`` is unknown.
        ValueError: ``duration_s`` or ``rate_hz`` is not positive.
    """
    return generate_session(seed, plan=[(activity, duration_s)], subject=subject, rate_hz=rate_hz)
