"""Label prompts for zero-shot classification, with train and held-out template sets.

A label's text prototype is the mean of the normalised embeddings of its prompts
(STYLE.md rule 8). Training-time evaluation uses the ``"train"`` templates; a final report
may use the held-out ``"test"`` templates to show the classifier does not hinge on wording.
"""

from __future__ import annotations

from ._grammar import Split, activity_phrases
from ._lexicon import normalise

__all__ = ["PROMPT_TEMPLATES", "label_phrase", "label_prompts"]

PROMPT_TEMPLATES: dict[Split, tuple[str, ...]] = {
    "train": (
        "a person {label}",
        "someone {label}",
        "a person is {label}",
        "a video of a person {label}",
        "a recording of someone {label}",
        "the person is {label}",
        "a wrist sensor signal of someone {label}",
        "an example of {label}",
    ),
    "test": (
        "a human {label}",
        "this person is {label}",
        "footage of somebody {label}",
        "a clip of a subject {label}",
    ),
}


def label_phrase(label: str) -> str:
    """The gerund phrase a prompt uses for a label (``"push-ups"`` -> ``"doing push-ups"``)."""
    return activity_phrases(label)[0] if normalise(label) else normalise(label)


def label_prompts(label: str, split: Split = "train") -> list[str]:
    """All prompts of ``split`` for one label, e.g. ``"a person playing badminton"``.

    Args:
        label: an activity label (free text; known activities get their usual phrase).
        split: ``"train"`` or ``"test"`` templates.

    Returns:
        One prompt per template of the split.

    Raises:
        ValueError: unknown ``split`` or an empty label.
    """
    if split not in PROMPT_TEMPLATES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not normalise(label):
        raise ValueError("label must be a non-empty activity name")
    phrase = label_phrase(label)
    return [t.format(label=phrase) for t in PROMPT_TEMPLATES[split]]
