"""How an activity is described: a small parametric recipe, not a function per activity.

An :class:`Activity` is data: a base posture, periodic terms at one movement frequency
(gait-like harmonics), sporadic keyframed events with random timing, an optional gait, and a
few noise knobs. :mod:`aura_training.synth._motion` turns any recipe into joint angles.

Channel names in recipes are pose channels (:data:`~aura_training.synth._skeleton.CHANNELS`)
or side-relative names: ``d_X`` (the hand doing the task), ``n_X`` (the other side), ``b_X``
(both sides, mirrored, in phase), ``a_X`` (both sides in anti-phase: the other side is half a
cycle later), ``s_X`` (a whole-body channel written for a right-hander, sign flipped for the
left hand) and, inside events, ``x_X`` / ``o_X`` (a side drawn per event, and its opposite).
Angles are written in degrees; ``root_z`` in metres; speeds in m/s; ``heading_rate`` in rad/s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from aura_training.synth._schema import ActivityInfo

Num = float | tuple[float, float]
Support = Literal["feet", "seat", "floor", "knees", "free"]
GaitKind = Literal["walk", "run", "stairs_up", "stairs_down"]


@dataclass(frozen=True)
class Osc:
    """One periodic term: ``amp * cos(2 pi (harmonic * phi + phase))``.

    ``harmonic=0`` is a ramp of ``amp`` per cycle (a limb turning full circles, e.g. a crawl
    stroke with ``amp=360``).
    """

    channel: str
    amp: float
    harmonic: int = 1
    phase: float = 0.0


@dataclass(frozen=True)
class Key:
    """One keyframe of an event: reach the absolute ``pose`` in ``dur`` seconds.

    Channels not named keep their previous target. An empty ``pose`` returns every channel the
    event moved back to the base posture, unless ``hold`` is set: then everything stays put.
    """

    dur: tuple[float, float]
    pose: Mapping[str, Num] = field(default_factory=dict)
    hold: bool = False


@dataclass(frozen=True)
class Event:
    """A sporadic movement (a bite, a throw, a reach), repeated with random gaps (seconds)."""

    keys: tuple[Key, ...]
    gap: tuple[float, float]
    weight: float = 1.0


@dataclass(frozen=True)
class Gait:
    """Locomotion: its kind, speed range (m/s) and the fraction of time spent moving."""

    kind: GaitKind
    speed: tuple[float, float]
    duty: float = 1.0
    arms: bool = True
    bout_s: tuple[float, float] = (3.0, 12.0)
    pause_s: tuple[float, float] = (2.0, 10.0)


@dataclass(frozen=True)
class Activity:
    """A complete activity recipe.

    Attributes:
        info: registry metadata (what text may say).
        base: posture values (constants or uniform ranges) overriding the neutral stance.
        support: what carries the body: ``"feet"`` (pelvis height from the lower ankle),
            ``"seat"`` (a seat ``seat`` knee heights high), ``"floor"`` (lying), ``"knees"``
            or ``"free"`` (standing height plus ``root_z``).
        freq: range of the movement frequency in Hz (cycles per second) of ``osc``.
        osc: periodic terms.
        osc_bouts: ``(on_s, off_s)`` ranges when the periodic part comes in bursts.
        events: sporadic movements.
        gait: locomotion, if any.
        hop: flight-time range (s) of ballistic hops, ``hop_harmonic`` hops per cycle.
        fidget: slow (0.02-0.25 Hz) wandering of the arms, degrees.
        micro: fast (2-8 Hz) small movements of the working hands (typing, writing), degrees.
        turn: heading-rate wander, rad/s.
        vibration: RMS vertical acceleration (m/s², 4-20 Hz) the body is shaken with
            (vehicles, bikes).
        wander: ``{channel: amplitude}`` of slow (0.01-0.1 Hz) random variation.
        tremor: multiplier on physiological tremor (arms supported: < 1).
        style: log-normal spread of each periodic amplitude between performances.
        seat: seat height in knee heights (support ``"seat"``): 1 a chair, 2 a saddle.
        special: ``"pushup"`` or ``"climb"`` for the two closed-chain motions.
        variants: named alternative postures (``GenParams.variant``), drawn with equal odds.
        variant_events: the sporadic movements of a variant that does the task another way
            (eating with a fork in the other hand, drinking from a mug held in both hands),
            in place of ``events``; a variant not named here uses ``events``.
    """

    info: ActivityInfo
    base: Mapping[str, Num] = field(default_factory=dict)
    support: Support = "feet"
    freq: tuple[float, float] = (0.0, 0.0)
    osc: tuple[Osc, ...] = ()
    osc_bouts: tuple[tuple[float, float], tuple[float, float]] | None = None
    events: tuple[Event, ...] = ()
    gait: Gait | None = None
    hop: tuple[float, float] | None = None
    hop_harmonic: int = 1
    fidget: float = 2.0
    micro: float = 0.0
    turn: float = 0.02
    vibration: float = 0.0
    wander: Mapping[str, float] = field(default_factory=dict)
    tremor: float = 1.0
    style: float = 0.15
    seat: float = 1.0
    special: str = ""
    variants: Mapping[str, Mapping[str, Num]] = field(default_factory=dict)
    variant_events: Mapping[str, tuple[Event, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stray = sorted(set(self.variant_events) - set(self.variants))
        if stray:
            raise ValueError(f"{self.info.name}: variant_events names variants it does not "
                             f"declare: {stray}")

    def events_of(self, variant: str) -> tuple[Event, ...]:
        """The sporadic movements of ``variant`` (``""``: the recipe's own)."""
        return self.variant_events.get(variant, self.events)
