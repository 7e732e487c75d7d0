"""Text prototypes: prompt ensembles per label, encoded by the frozen training-side text tower.

A label's prototype is the mean of the L2-normalised embeddings of its prompts, normalised
again (STYLE.md rule 8). Its prompts are the label-prompt templates the trainer evaluates with
(:data:`aura_training.text.PROMPT_TEMPLATES` ``["train"]``) filled with the label's phrase and,
only when asked for, with each of its aliases (the lexicon's synonyms, e.g. "walking upstairs"
also as "climbing stairs").

Aliases are off by default. The trainer's label term (``loss.label_weight``) aligns windows to
exactly the phrase-only prototypes, and an alias can pull a label toward a rival ("texting", an
alias of "using a smartphone", sits next to "typing"): on the held-out split, prototypes with
aliases put 13 of 17 smartphone windows under typing, the phrase-only ones none, and the
`everyday` closed set went from 0.591 to 0.680 for the same encoder (docs/results.md row L9).

The device computes prototypes for free-text labels with a different network (int8 MiniLM in
onnxruntime, :class:`aura_sdk.text.TextEncoder`); :func:`device_agreement` measures how close
its prototypes are to the fp32 tower's for the same prompts.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from aura_sdk import ConfigError
from aura_sdk.bundle import Prototypes

__all__ = [
    "DEFAULT_LABELS",
    "LabelPrompts",
    "PrototypeAgreement",
    "build_prototypes",
    "default_vocabulary",
    "device_agreement",
    "label_templates",
    "read_label_file",
    "vocabulary_prompts",
]

#: The default vocabulary: every activity the synthetic generator produces (the model has
#: seen all of them), everyday life first, then exercise, sport and music.
DEFAULT_LABELS: tuple[str, ...] = (
    "standing", "sitting", "lying down", "walking slowly", "walking", "walking fast", "jogging",
    "running", "walking upstairs", "walking downstairs", "carrying a box", "pushing a cart",
    "vacuuming", "sweeping the floor", "wiping a table", "ironing", "washing dishes",
    "washing hands", "brushing teeth", "combing hair", "cooking", "eating", "drinking",
    "typing", "writing", "using a smartphone", "waving", "clapping", "hammering",
    "driving a car", "cycling", "jumping", "jumping jacks", "skipping rope", "doing push-ups",
    "doing squats", "doing sit-ups", "lifting weights", "rowing", "doing yoga", "boxing",
    "swimming", "playing soccer", "playing basketball", "dancing", "rock climbing",
    "repairing a bike", "performing CPR", "playing tennis", "playing badminton",
    "playing table tennis", "throwing a ball", "playing golf", "playing guitar",
    "playing piano", "playing violin", "playing drums",
)  # fmt: skip


def label_templates() -> tuple[str, ...]:
    """The prompt templates (each with ``{label}``) the trainer evaluates labels with."""
    from aura_training.text import PROMPT_TEMPLATES

    return tuple(PROMPT_TEMPLATES["train"])


@dataclass(frozen=True)
class LabelPrompts:
    """Labels and the prompts whose embeddings make each one's prototype.

    Attributes:
        labels: unique, non-empty label names, in order.
        prompts: per label, its prompts (at least one).
        templates: the templates used for labels without explicit prompts (recorded in the
            bundle so the device builds free-text prototypes the same way).

    Raises:
        ConfigError: on construction, duplicate or empty labels, or a label without prompts.
    """

    labels: tuple[str, ...]
    prompts: tuple[tuple[str, ...], ...]
    templates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        labels = tuple(str(x).strip() for x in self.labels)
        if not labels or not all(labels):
            raise ConfigError("a vocabulary needs at least one label, none of them empty")
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ConfigError(f"labels must be unique; repeated: {dupes}")
        prompts = tuple(tuple(str(p) for p in ps) for ps in self.prompts)
        if len(prompts) != len(labels) or any(not ps or not all(p.strip() for p in ps)
                                              for ps in prompts):
            raise ConfigError("every label needs at least one non-empty prompt")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "templates", tuple(self.templates))

    def __len__(self) -> int:
        return len(self.labels)

    def flat(self) -> tuple[tuple[str, ...], npt.NDArray[np.int64]]:
        """All prompts in label order, and the label index of each."""
        prompts = tuple(p for ps in self.prompts for p in ps)
        index = np.array([i for i, ps in enumerate(self.prompts) for _ in ps], dtype=np.int64)
        return prompts, index


def _phrases(labels: Sequence[str], aliases: bool) -> list[list[str]]:
    """Per label: its phrase, then aliases no other label of the vocabulary shares."""
    from aura_training.text import activity_phrases, label_phrase, normalise

    primary = [label_phrase(x) for x in labels]
    if not aliases:
        return [[p] for p in primary]
    lists = [list(dict.fromkeys([p, *activity_phrases(x)])) for p, x in zip(primary, labels,
                                                                            strict=True)]
    taken = {normalise(x) for x in labels} | set(primary)
    seen: dict[str, int] = {}
    for phrases in lists:
        for p in phrases[1:]:
            seen[p] = seen.get(p, 0) + 1
    # an alias that names another label, or that two labels share, would blur them
    return [[phrases[0], *(p for p in phrases[1:] if seen[p] == 1 and p not in taken)]
            for phrases in lists]


def vocabulary_prompts(labels: Sequence[str], *, templates: Sequence[str] | None = None,
                       aliases: bool = False) -> LabelPrompts:
    """Prompt ensembles for labels: every template with the label's phrase (and aliases).

    Args:
        labels: label names (free text is fine: an unknown activity is said as written).
        templates: prompt templates with ``{label}`` (default: :func:`label_templates`).
        aliases: also fill the templates with the lexicon's synonyms of each label (off by
            default: see the module docstring).

    Raises:
        ConfigError: a template without ``{label}``, or bad labels.
    """
    temps = tuple(templates) if templates is not None else label_templates()
    if not temps or any("{label}" not in t for t in temps):
        raise ConfigError("prompt templates must be non-empty and each contain '{label}'")
    names = [str(x).strip() for x in labels]
    if not names or not all(names):
        raise ConfigError("a vocabulary needs at least one label, none of them empty")
    phrases = _phrases(names, aliases)
    prompts = [tuple(t.replace("{label}", p) for p in ps for t in temps) for ps in phrases]
    return LabelPrompts(tuple(names), tuple(prompts), temps)


def default_vocabulary(*, aliases: bool = False, templates: Sequence[str] | None = None
                       ) -> LabelPrompts:
    """:data:`DEFAULT_LABELS` with their prompt ensembles."""
    return vocabulary_prompts(DEFAULT_LABELS, templates=templates, aliases=aliases)


def _rows(text: str, is_csv: bool, where: str) -> Iterable[tuple[int, str, str]]:
    lines = text.splitlines()
    if not is_csv:
        for n, line in enumerate(lines, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                yield n, line.strip(), ""
        return
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) > 2:
            raise ConfigError(f"{where}:{n}: a CSV row holds 'label,prompt' (quote a prompt "
                              f"that contains commas); got {len(row)} fields")
        label, prompt = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        if n == 1 and (label.lower(), prompt.lower()) == ("label", "prompt"):
            continue  # header
        yield n, label, prompt


def read_label_file(path: str | os.PathLike[str], *, templates: Sequence[str] | None = None,
                    aliases: bool = False) -> LabelPrompts:
    """Read a label file: one label per line, or CSV rows ``label,prompt``.

    Blank lines and lines starting with ``#`` are skipped. In a CSV (``.csv`` suffix, or any
    line with a comma) a label may have several rows, one prompt each, and those prompts are
    its whole ensemble; a row with no prompt gives the label the template ensemble. An
    optional header row ``label,prompt`` is skipped.

    Raises:
        ConfigError: unreadable or empty file, a label listed twice in a plain file, or a
            malformed CSV row (the message names the line).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read label file {p}: {exc}") from exc
    is_csv = p.suffix.lower() == ".csv" or any("," in line for line in text.splitlines()
                                               if not line.lstrip().startswith("#"))
    explicit: dict[str, list[str]] = {}
    for n, label, prompt in _rows(text, is_csv, str(p)):
        if label in explicit and not is_csv:
            raise ConfigError(f"{p}:{n}: label {label!r} is listed twice")
        explicit.setdefault(label, [])
        if prompt:
            explicit[label].append(prompt)
    if not explicit:
        raise ConfigError(f"label file {p} lists no label")
    plain = [x for x, ps in explicit.items() if not ps]
    made = vocabulary_prompts(plain, templates=templates, aliases=aliases) if plain else None
    by_label = dict(zip(made.labels, made.prompts, strict=True)) if made else {}
    temps = made.templates if made else (tuple(templates) if templates else label_templates())
    return LabelPrompts(tuple(explicit),
                        tuple(tuple(ps) if ps else by_label[x] for x, ps in explicit.items()),
                        temps)


def _as_array(out: Any) -> npt.NDArray[np.float64]:
    if hasattr(out, "detach"):  # a torch tensor from the training tower
        out = out.detach().cpu().numpy()
    return np.asarray(out, dtype=np.float64)


def build_prototypes(vocabulary: LabelPrompts, *, tower: Any = None) -> Prototypes:
    """Encode every prompt with the frozen fp32 text tower and average per label.

    Args:
        vocabulary: labels and prompts.
        tower: anything with ``encode(list_of_texts) -> (N, 384)``; default: the process-wide
            :func:`aura_training.models.load_text_tower` (all-MiniLM-L6-v2, fp32, cached).

    Returns:
        Unit-norm 384-d prototypes that record their prompts.
    """
    if tower is None:
        from aura_training.models import load_text_tower

        tower = load_text_tower()
    prompts, index = vocabulary.flat()
    emb = _as_array(tower.encode(list(prompts)))
    return Prototypes.from_prompt_embeddings(vocabulary.labels, prompts, index, emb)


@dataclass(frozen=True)
class PrototypeAgreement:
    """Cosine between the device's and the training tower's prototype of each label.

    Attributes:
        labels: the labels compared.
        cosine: per label, cosine of the two prototypes.
    """

    labels: tuple[str, ...]
    cosine: npt.NDArray[np.float64]

    @property
    def min(self) -> float:
        """The worst label's cosine."""
        return float(self.cosine.min())

    @property
    def mean(self) -> float:
        """The mean cosine over labels."""
        return float(self.cosine.mean())

    @property
    def worst_label(self) -> str:
        """The label with the lowest cosine."""
        return self.labels[int(np.argmin(self.cosine))]

    def as_metrics(self, prefix: str = "text.device_vs_tower") -> dict[str, float]:
        """Flat metrics for a bundle manifest."""
        return {f"{prefix}.cosine_min": self.min, f"{prefix}.cosine_mean": self.mean,
                f"{prefix}.labels": float(len(self.labels))}


def device_agreement(prototypes: Prototypes, *, encoder: Any = None,
                     tokenizer: str | os.PathLike[str] | bytes | None = None
                     ) -> PrototypeAgreement:
    """Rebuild prototypes from their recorded prompts with the on-device int8 text encoder.

    Args:
        prototypes: tower prototypes (384-d, with their prompts).
        encoder: a :class:`aura_sdk.text.TextEncoder` (default: a new one).
        tokenizer: the tokenizer a bundle ships (default: the installed package's).

    Raises:
        ConfigError: the prototypes record no prompts for some label.
        MissingExtraError: the ``text`` extra is not installed.
    """
    if encoder is None:
        from aura_sdk.text import TextEncoder

        encoder = TextEncoder(tokenizer=tokenizer)
    index = np.asarray(prototypes.prompt_label)
    missing = [x for i, x in enumerate(prototypes.labels) if not np.any(index == i)]
    if missing:
        raise ConfigError(f"labels {missing[:5]} record no prompt; device agreement needs them")
    emb = _as_array(encoder.encode(list(prototypes.prompts)))
    device = Prototypes.from_prompt_embeddings(prototypes.labels, prototypes.prompts, index, emb)
    cos = np.sum(np.asarray(device.embeddings, np.float64) *
                 np.asarray(prototypes.embeddings, np.float64), axis=1)
    return PrototypeAgreement(prototypes.labels, cos)
