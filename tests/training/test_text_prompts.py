"""Zero-shot label prompts: train and held-out template sets."""

from __future__ import annotations

import pytest

from aura_training.text import PROMPT_TEMPLATES, label_phrase, label_prompts


def test_prompts_use_the_activity_phrase() -> None:
    assert label_prompts("walking")[0] == "a person walking"
    assert "a person doing push-ups" in label_prompts("push-ups")
    assert label_phrase("playing badminton") == "playing badminton"
    assert label_phrase("Jumping_Jacks") == "doing jumping jacks"


def test_train_and_test_prompts_are_disjoint() -> None:
    assert set(PROMPT_TEMPLATES["train"]).isdisjoint(PROMPT_TEMPLATES["test"])
    for label in ("walking", "playing tennis", "cooking"):
        train = set(label_prompts(label, "train"))
        test = set(label_prompts(label, "test"))
        assert len(train) == len(PROMPT_TEMPLATES["train"])
        assert train.isdisjoint(test)
        assert all(label_phrase(label) in p for p in train | test)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="split"):
        label_prompts("walking", "val")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        label_prompts("  ")
