"""Text for the corpus: grounded activity descriptions and zero-shot label prompts.

Descriptions come from a small compositional grammar (subject phrases, verb phrases per
activity with synonyms, modifiers from the generated parameters) whose sentence frames are
split into a training set and a held-out test set. Label prompts have their own split.
"""

from ._grammar import (
    SEQUENCE_TEMPLATES,
    SUBJECTS,
    TEMPLATES,
    Split,
    TextContext,
    activity_phrases,
    describe,
    describe_sequence,
)
from ._lexicon import (
    ACTIVITY_PHRASES,
    SETTING_PHRASES,
    THIRD_PERSON,
    VARIANT_PHRASES,
    as_gerund,
    normalise,
)
from ._prompts import PROMPT_TEMPLATES, label_phrase, label_prompts

__all__ = [
    "ACTIVITY_PHRASES",
    "PROMPT_TEMPLATES",
    "SEQUENCE_TEMPLATES",
    "SETTING_PHRASES",
    "SUBJECTS",
    "TEMPLATES",
    "THIRD_PERSON",
    "VARIANT_PHRASES",
    "Split",
    "TextContext",
    "activity_phrases",
    "as_gerund",
    "describe",
    "describe_sequence",
    "label_phrase",
    "label_prompts",
    "normalise",
]
