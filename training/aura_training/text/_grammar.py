"""A small compositional grammar of activity descriptions, grounded in generated parameters.

A description is a sentence frame (template) filled with a subject phrase, a verb phrase
for the activity (a synonym drawn from the lexicon), and modifiers that say only what the
generator actually drew: speed (words, and sometimes km/h), cadence, intensity, the hand
doing the work, the posture, the variant and the place. Frames are split in two disjoint
sets: ``"train"`` frames for training texts, ``"test"`` frames held out so evaluation sees
paraphrases the model never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from aura_training.synth._schema import ActivityInfo, Segment

from ._lexicon import (
    ACTIVITY_PHRASES,
    SETTING_PHRASES,
    THIRD_PERSON,
    VARIANT_PHRASES,
    as_gerund,
    normalise,
)

__all__ = [
    "SEQUENCE_TEMPLATES",
    "SUBJECTS",
    "TEMPLATES",
    "Split",
    "TextContext",
    "activity_phrases",
    "describe",
    "describe_sequence",
]

Split = Literal["train", "test"]

SUBJECTS: tuple[str, ...] = (
    "a person", "someone", "the person", "a participant", "the subject", "an individual",
    "the user", "somebody",
)  # fmt: skip

#: Sentence frames per split. Fields: {s} subject, {g} gerund phrase, {v} third-person verb
#: phrase, {G} capitalised gerund phrase, {m} modifiers, {w} place, {W} capitalised place.
TEMPLATES: dict[Split, tuple[str, ...]] = {
    "train": (
        "{s} {v}{m}{w}.",
        "{s} is {g}{m}{w}.",
        "{s} {v}{w}{m}.",
        "{W}, {s} is {g}{m}.",
        "a video of {s} {g}{m}{w}",
        "{s} {g}{m}{w}",
        "{s} can be seen {g}{m}{w}.",
        "{s} keeps {g}{m}{w}.",
        "footage of {s} {g}{m}{w}",
        "{G}{m}{w}.",
        "this clip shows {s} {g}{m}{w}.",
        "{s} spends a while {g}{m}{w}.",
        "the recording captures {s} {g}{m}{w}.",
        "{s} is currently {g}{m}{w}.",
    ),
    "test": (
        "{s} appears to be {g}{m}{w}.",
        "we see {s} {g}{m}{w}.",
        "in this scene, {s} {v}{m}{w}.",
        "{s} is busy {g}{m}{w}.",
        "the camera shows {s} {g}{m}{w}.",
        "{s} was filmed {g}{m}{w}.",
    ),
}

#: Frames joining two or more activities in time order. {a} and {b} are "<verb phrase>
#: <modifiers>" in third person ({va}, {vb}) or gerund ({ga}, {gb}) form.
SEQUENCE_TEMPLATES: dict[Split, tuple[str, ...]] = {
    "train": (
        "{s} {va}, then {vb}.",
        "{s} is {ga} and then {gb}.",
        "{s} starts {ga} and switches to {gb}.",
        "{G_a}, followed by {gb}.",
    ),
    "test": (
        "{s} {va} before {gb}.",
        "first {s} is {ga}; afterwards, {gb}.",
    ),
}

_HAND = {
    "left": ("with the left hand", "using the left hand", "with their left hand"),
    "right": ("with the right hand", "using the right hand", "with their right hand"),
    "both": ("with both hands", "using both hands", "two-handed"),
}
_POSTURE = {
    "sitting": ("while sitting", "seated", "sitting down"),
    "standing": ("while standing", "on their feet", "standing up"),
    "lying": ("while lying down", "lying down"),
    "kneeling": ("on their knees", "while kneeling"),
    "squatting": ("in a squat", "while squatting"),
    "plank": ("in a plank position", "from a plank"),
    "hanging": ("while hanging on", "hanging from the holds"),
}
_GAIT_WORDS = {
    "slow": ("slowly", "at a slow pace", "leisurely", "at an easy pace"),
    "normal": ("at a normal pace", "at a steady pace", "at a moderate pace"),
    "fast": ("quickly", "briskly", "at a fast pace", "at a quick pace"),
}
_INTENSITY_WORDS = {
    "low": ("gently", "lightly", "with little effort", "calmly"),
    "mid": ("steadily", "with moderate effort", "at a moderate intensity"),
    "high": ("vigorously", "energetically", "with a lot of effort", "intensely"),
}
_POSTURE_ACTIVITIES = ("standing", "sitting", "lying", "kneeling", "squatting")
# Activities whose speed is worth saying (others may drift about, but that is not the point).
_TRAVEL_WORDS = ("walk", "run", "jog", "sprint", "stairs", "hik", "cycl", "bik", "carry",
                 "push", "swim", "skat", "rid")


@dataclass(frozen=True)
class TextContext:
    """What a description of one activity segment may say.

    Attributes:
        activity: the activity label (``"walking"``, ``"playing tennis"``).
        synonyms: other names for it (from the activity registry).
        category: coarse activity group (``"locomotion"``, ``"posture"``, ...), may be "".
        pattern: ``"static"``, ``"periodic"`` or ``"sporadic"``, may be "".
        hand: ``"left"``, ``"right"``, ``"both"`` or ``None`` (not said).
        speed_mps: mean horizontal speed; said only above 0.3 m/s.
        cadence_hz: steps or repetitions per second; 0 or ``None`` for none.
        intensity: 0 (gentle) .. 1 (vigorous), or ``None``.
        posture: the segment's posture, or ``None``.
        setting: the place, or ``None``.
        variant: a finer description (``"supine"``, ``"forehand"``), or "".
    """

    activity: str
    synonyms: tuple[str, ...] = ()
    category: str = ""
    pattern: str = ""
    hand: str | None = None
    speed_mps: float | None = None
    cadence_hz: float | None = None
    intensity: float | None = None
    posture: str | None = None
    setting: str | None = None
    variant: str = ""

    @classmethod
    def from_segment(cls, segment: Segment, info: ActivityInfo | None = None) -> TextContext:
        """The context of a generated timeline segment (and its registry entry, if known)."""
        p = segment.params
        hand = p.hand if p.hand in ("left", "right", "both") else None
        if info is not None and info.hands == "none":
            hand = None
        return cls(
            activity=segment.activity,
            synonyms=tuple(info.synonyms) if info is not None else (),
            category=info.category if info is not None else "",
            pattern=info.pattern if info is not None else "",
            hand=hand,
            speed_mps=float(p.speed_mps),
            cadence_hz=float(p.cadence_hz),
            intensity=float(p.intensity),
            posture=p.posture,
            setting=p.setting or None,
            variant=p.variant,
        )


def activity_phrases(activity: str, synonyms: Sequence[str] = ()) -> tuple[str, ...]:
    """Gerund phrases that name an activity: the lexicon's, then registry synonyms.

    An activity the lexicon does not know is said by its own name (``"rope_skipping"`` ->
    ``"rope skipping"``).
    """
    key = normalise(activity)
    out = list(ACTIVITY_PHRASES.get(key, ()))
    for syn in (key, *synonyms):
        s = normalise(syn)
        for phrase in ACTIVITY_PHRASES.get(s, (as_gerund(s),)):
            if phrase not in out:
                out.append(phrase)
    return tuple(out)


def _third_person(gerund: str) -> str | None:
    first, _, rest = gerund.partition(" ")
    verb = THIRD_PERSON.get(first.lower())
    if verb is None:
        return None
    return f"{verb} {rest}".strip()


def _speed_class(ctx: TextContext, speed: float) -> str:
    name = normalise(ctx.activity)
    if any(w in name for w in ("run", "jog", "sprint")):
        lo, hi = 2.7, 3.9
    elif any(w in name for w in ("cycl", "bik", "rid")):
        lo, hi = 3.5, 6.0
    else:
        lo, hi = 1.0, 1.6
    return "slow" if speed < lo else "fast" if speed > hi else "normal"


def _modifiers(ctx: TextContext, rng: np.random.Generator) -> dict[str, str]:
    """One phrase per groundable parameter, drawn among its paraphrases."""
    pick = lambda options: str(options[int(rng.integers(len(options)))])  # noqa: E731
    mods: dict[str, str] = {}
    name = normalise(ctx.activity)
    travels = ctx.category == "locomotion" or any(w in name for w in _TRAVEL_WORDS)
    if ctx.speed_mps is not None and ctx.speed_mps > 0.3 and travels:
        words = _GAIT_WORDS[_speed_class(ctx, ctx.speed_mps)]
        if rng.random() < 0.3:
            kmh = round(ctx.speed_mps * 3.6 * 2) / 2
            mods["speed"] = f"at about {kmh:g} km/h"
        else:
            mods["speed"] = pick(words)
    if ctx.cadence_hz and ctx.cadence_hz > 0.2 and rng.random() < 0.5:
        per_min = int(round(ctx.cadence_hz * 60 / 5) * 5)
        gait = ctx.category == "locomotion" or any(
            w in name for w in ("walk", "run", "jog", "stairs", "sprint", "hik"))
        unit = "steps" if gait else "repetitions"
        mods["cadence"] = f"at about {per_min} {unit} per minute"
    is_posture = ctx.category == "posture" or name.startswith(_POSTURE_ACTIVITIES)
    if ctx.intensity is not None and "speed" not in mods and not (
        is_posture or ctx.pattern == "static"
    ):
        level = "low" if ctx.intensity < 0.33 else "high" if ctx.intensity > 0.67 else "mid"
        mods["intensity"] = pick(_INTENSITY_WORDS[level])
    if ctx.hand in _HAND:
        mods["hand"] = pick(_HAND[ctx.hand])
    # Standing is what moving about and sport imply; saying it adds nothing.
    implied = ctx.posture == "standing" and (
        "speed" in mods or ctx.category in ("locomotion", "sport", "exercise"))
    if ctx.posture in _POSTURE and not (is_posture or implied):
        mods["posture"] = pick(_POSTURE[ctx.posture])
    if ctx.variant and normalise(ctx.variant) in VARIANT_PHRASES:
        mods["variant"] = pick(VARIANT_PHRASES[normalise(ctx.variant)])
    return mods


def _place(ctx: TextContext, rng: np.random.Generator) -> str:
    if not ctx.setting:
        return ""
    key = normalise(ctx.setting)
    options = SETTING_PHRASES.get(key, (f"in the {key}",))
    return str(options[int(rng.integers(len(options)))])


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _pieces(
    ctx: TextContext, rng: np.random.Generator, full: bool
) -> tuple[str, str | None, str, str]:
    """(gerund, third person, modifiers with leading space, place) for one description."""
    phrases = activity_phrases(ctx.activity, ctx.synonyms)
    gerund = phrases[int(rng.integers(len(phrases)))]
    mods = _modifiers(ctx, rng)
    variant = mods.pop("variant", "")
    keys = sorted(mods)
    rng.shuffle(keys)
    chosen = [mods[k] for k in keys if full or rng.random() < 0.55]
    if variant:
        gerund = f"{gerund} {variant}"
    m = "".join(f" {x}" for x in chosen)
    w = _place(ctx, rng) if (full or rng.random() < 0.5) else ""
    return gerund, _third_person(gerund), m, w


def describe(
    ctx: TextContext, rng: np.random.Generator, n: int = 8, split: Split = "train"
) -> list[str]:
    """Natural descriptions of one activity segment.

    The first description carries every groundable modifier (so the hand, speed and place
    the generator drew are always said at least once); the others say a random subset, in a
    random order, through random frames of ``split``.

    Args:
        ctx: what may be said.
        rng: the random generator.
        n: how many descriptions (distinct when the grammar allows).
        split: ``"train"`` or ``"test"`` frames.

    Returns:
        Up to ``n`` distinct sentences.

    Raises:
        ValueError: ``split`` is not ``"train"`` or ``"test"``.
    """
    if split not in TEMPLATES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    frames = TEMPLATES[split]
    out: list[str] = []
    for attempt in range(4 * n):
        gerund, third, m, w = _pieces(ctx, rng, full=attempt == 0)
        usable = [f for f in frames if (third or "{v}" not in f) and (w or "{W}" not in f)]
        frame = usable[int(rng.integers(len(usable)))]
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        text = frame.format(s=subject, g=gerund, v=third or gerund, G=_cap(gerund), m=m,
                            w=f" {w}" if w else "", W=_cap(w))
        text = _cap(text)
        if text not in out:
            out.append(text)
        if len(out) == n:
            break
    return out


def describe_sequence(
    ctxs: Sequence[TextContext], rng: np.random.Generator, n: int = 4, split: Split = "train"
) -> list[str]:
    """Descriptions of consecutive activities in time order ("walks, then sits down").

    Args:
        ctxs: the segments' contexts in time order (one context gives :func:`describe`).
        rng: the random generator.
        n: how many descriptions.
        split: ``"train"`` or ``"test"`` frames.

    Returns:
        Up to ``n`` distinct sentences.

    Raises:
        ValueError: ``ctxs`` is empty or ``split`` unknown.
    """
    if split not in SEQUENCE_TEMPLATES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not ctxs:
        raise ValueError("describe_sequence needs at least one context")
    if len(ctxs) == 1:
        return describe(ctxs[0], rng, n, split)
    out: list[str] = []
    for attempt in range(4 * n):
        parts = [_pieces(c, rng, full=attempt == 0) for c in ctxs]
        ger = [f"{g}{m}" for g, _, m, _ in parts]
        thr = [f"{t}{m}" if t else None for _, t, m, _ in parts]
        usable = [
            f for f in SEQUENCE_TEMPLATES[split]
            if ("{va}" not in f or all(thr[:-1])) and ("{vb}" not in f or thr[-1])
        ]
        frame = usable[int(rng.integers(len(usable)))]
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        # Middle activities chain with commas in the same form as the first one.
        a_g = ", then ".join(ger[:-1])
        a_t = ", then ".join(x or "" for x in thr[:-1])
        text = frame.format(s=subject, va=a_t, ga=a_g, G_a=_cap(a_g), vb=thr[-1] or ger[-1],
                            gb=ger[-1])
        text = _cap(text)
        if text not in out:
            out.append(text)
        if len(out) == n:
            break
    return out
