"""Descriptions: grounded in the generated parameters, varied, held-out frames stay held out."""

from __future__ import annotations

import re

import numpy as np
import pytest

from aura_training.synth import ActivityInfo, GenParams, Segment
from aura_training.text import (
    ACTIVITY_PHRASES,
    SETTING_PHRASES,
    TEMPLATES,
    THIRD_PERSON,
    TextContext,
    activity_phrases,
    as_gerund,
    describe,
    describe_sequence,
    normalise,
)

_FAST = ("quickly", "briskly", "fast pace", "quick pace")
_SLOW = ("slowly", "slow pace", "leisurely", "easy pace")


def _words(texts: list[str]) -> str:
    return " ".join(texts).lower()


@pytest.mark.parametrize("hand,other", [("left", "right"), ("right", "left")])
def test_the_generated_hand_is_said_and_the_other_never(hand: str, other: str) -> None:
    ctx = TextContext("brushing teeth", hand=hand, intensity=0.5, setting="bathroom")
    for seed in range(20):
        texts = describe(ctx, np.random.default_rng(seed), n=8)
        assert f"{hand} hand" in texts[0].lower()
        assert other not in _words(texts)


def test_both_hands() -> None:
    texts = describe(TextContext("clapping", hand="both"), np.random.default_rng(0))
    assert "both hands" in texts[0] or "two-handed" in texts[0]
    assert "left" not in _words(texts) and "right" not in _words(texts)


@pytest.mark.parametrize(
    "speed,said,never",
    [(0.7, _SLOW, _FAST), (2.0, _FAST, _SLOW)],
)
def test_walking_speed_is_grounded(speed: float, said: tuple[str, ...],
                                   never: tuple[str, ...]) -> None:
    ctx = TextContext("walking", speed_mps=speed, cadence_hz=1.8, posture="standing")
    said_any = 0
    for seed in range(30):
        texts = describe(ctx, np.random.default_rng(seed), n=6)
        words = _words(texts)
        assert not any(w in words for w in never), texts
        said_any += any(w in words for w in said)
        kmh = re.findall(r"about ([\d.]+) km/h", words)
        assert all(abs(float(k) - speed * 3.6) <= 0.25 for k in kmh)
        steps = re.findall(r"about (\d+) steps per minute", words)
        assert all(abs(int(s) - 108) <= 5 for s in steps)
        assert "while standing" not in words  # walking implies it
    assert said_any >= 25


def test_speed_words_are_relative_to_the_activity() -> None:
    # 2.5 m/s is a fast walk but an easy run.
    walk = _words(describe(TextContext("walking", speed_mps=2.5), np.random.default_rng(1), 12))
    run = _words(describe(TextContext("running", speed_mps=2.5), np.random.default_rng(1), 12))
    assert any(w in walk for w in _FAST) and not any(w in walk for w in _SLOW)
    assert any(w in run for w in _SLOW) and not any(w in run for w in _FAST)


def test_place_posture_and_variant_are_said() -> None:
    ctx = TextContext("typing", posture="sitting", setting="office", intensity=0.2)
    first = describe(ctx, np.random.default_rng(3))[0].lower()
    assert any(p in first for p in ("sitting", "seated"))
    assert "office" in first or "desk" in first
    lying = TextContext("lying", posture="lying", variant="supine", category="posture")
    texts = _words(describe(lying, np.random.default_rng(0), 8))
    assert "back" in texts or "face up" in texts
    assert "gently" not in texts and "vigorously" not in texts  # no effort for a posture


def test_many_distinct_descriptions_and_determinism() -> None:
    ctx = TextContext("playing tennis", hand="right", intensity=0.9, setting="tennis court")
    a = describe(ctx, np.random.default_rng(11), n=10)
    b = describe(ctx, np.random.default_rng(11), n=10)
    assert a == b
    assert len(set(a)) == 10
    assert len({t.split()[1] for t in a}) >= 3  # not one frame


def test_held_out_frames_never_produce_a_training_sentence() -> None:
    contexts = [
        TextContext("walking", speed_mps=1.3, cadence_hz=1.8, setting="park"),
        TextContext("brushing teeth", hand="left", intensity=0.4, setting="bathroom"),
        TextContext("sitting", posture="sitting", category="posture"),
        TextContext("rope skipping", intensity=0.8, cadence_hz=2.2, setting="gym"),
        TextContext("unknown thing", hand="both"),
    ]
    train: set[str] = set()
    test: set[str] = set()
    for ctx in contexts:
        for seed in range(40):
            train.update(describe(ctx, np.random.default_rng(seed), 8, "train"))
            test.update(describe(ctx, np.random.default_rng(10_000 + seed), 8, "test"))
    assert len(train) > 500 and len(test) > 200
    assert train.isdisjoint(test)
    markers = ("appears to be", "we see", "in this scene", "is busy", "the camera shows",
               "was filmed")
    assert not any(m in t.lower() for t in train for m in markers)
    assert set(TEMPLATES["train"]).isdisjoint(TEMPLATES["test"])


def test_sequences_keep_time_order() -> None:
    walk = TextContext("walking", speed_mps=1.2)
    sit = TextContext("sitting", posture="sitting", category="posture")
    for split in ("train", "test"):
        for text in describe_sequence([walk, sit], np.random.default_rng(5), 6, split):
            low = text.lower()
            w = min(low.find(x) for x in ("walk", "strol") if x in low)
            s = low.find("sit")
            assert 0 <= w < s, text


def test_every_lexicon_verb_conjugates() -> None:
    for phrases in ACTIVITY_PHRASES.values():
        for p in phrases:
            assert p.split()[0] in THIRD_PERSON, p


def test_unknown_activity_is_said_by_its_name() -> None:
    assert activity_phrases("rope_skipping")[0] == "skipping rope"
    assert activity_phrases("underwater_basket_weaving") == ("doing underwater basket weaving",)
    assert activity_phrases("juggling_clubs") == ("juggling clubs",)
    texts = describe(TextContext("underwater_basket_weaving"), np.random.default_rng(0), 5)
    assert all("underwater basket weaving" in t.lower() for t in texts)
    assert not any("{" in t for t in texts)


@pytest.mark.parametrize("phrase,gerund", [
    ("ambling", "ambling"), ("power walking", "doing power walking"),
    ("easy run", "going for an easy run"), ("walk", "going for a walk"),
    ("push-ups", "doing push-ups"), ("yoga", "doing yoga"), ("seated", "being seated"),
])
def test_registry_synonyms_become_gerund_phrases(phrase: str, gerund: str) -> None:
    assert as_gerund(phrase) == gerund


def test_every_generated_activity_reads_well() -> None:
    from aura_training import synth

    conjugated = total = 0
    for name in synth.activity_names():
        info = synth.activity_info(name)
        assert activity_phrases(name, info.synonyms)[0].split()[0] in THIRD_PERSON, name
        for phrase in activity_phrases(name, info.synonyms):
            first = phrase.split()[0]
            # A gerund without a known verb ("toothbrushing") only fills gerund frames.
            assert first in THIRD_PERSON or first.endswith("ing"), (name, phrase)
            conjugated += first in THIRD_PERSON
            total += 1
        for setting in info.settings:
            assert normalise(setting) in SETTING_PHRASES, (name, setting)
    assert conjugated / total > 0.9


def test_context_from_a_generated_segment() -> None:
    info = ActivityInfo(name="walking", category="locomotion", pattern="periodic",
                        intensity="moderate", met=3.5, posture="standing", hands="none",
                        settings=("park",), synonyms=("strolling",))
    seg = Segment(0.0, 10.0, "walking",
                  GenParams(speed_mps=1.4, cadence_hz=1.9, intensity=0.5, hand="right",
                            posture="standing", setting="park"))
    ctx = TextContext.from_segment(seg, info)
    assert ctx.hand is None  # walking is not done with a hand
    assert ctx.speed_mps == 1.4 and ctx.setting == "park" and ctx.category == "locomotion"


def test_bad_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split"):
        describe(TextContext("walking"), np.random.default_rng(0), split="val")  # type: ignore[arg-type]
