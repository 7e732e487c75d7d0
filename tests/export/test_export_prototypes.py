"""Text prototypes: vocabulary, label files, ensembles, on-device vs training-tower agreement."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from aura_export import (
    DEFAULT_LABELS,
    LabelPrompts,
    build_prototypes,
    default_vocabulary,
    device_agreement,
    label_templates,
    read_label_file,
    vocabulary_prompts,
)
from aura_sdk import ConfigError
from aura_training.synth import activity_names
from aura_training.text import label_prompts


class _FakeTower:
    """Deterministic 'embeddings' that let the ensemble arithmetic be checked by hand."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4))
        for i, t in enumerate(texts):
            out[i, len(t) % 4] = 1.0 + len(t)  # not unit-norm on purpose
            out[i, (len(t) + 1) % 4] = 1.0
        return out


def test_default_vocabulary_covers_the_generator_with_aliases() -> None:
    assert len(DEFAULT_LABELS) >= 40
    assert activity_names() == DEFAULT_LABELS
    v = default_vocabulary(aliases=True)
    templates = label_templates()
    assert v.templates == templates and len(templates) == 8
    assert all("{label}" in t for t in templates)
    prompts = dict(zip(v.labels, v.prompts, strict=True))
    # templates x (phrase + aliases); an alias that names another label is dropped
    assert prompts["walking upstairs"][:2] == ("a person walking upstairs",
                                              "someone walking upstairs")
    assert "a person climbing stairs" in prompts["walking upstairs"]
    assert len(prompts["walking upstairs"]) == 8 * 4
    assert not any("jogging" in p for p in prompts["running"])  # 'jogging' is its own label
    assert not any("strolling" in p for p in prompts["walking"])  # shared with walking slowly
    assert prompts["jumping jacks"][0] == "a person doing jumping jacks"
    flat, index = v.flat()
    assert len(flat) == len(index) == sum(len(p) for p in v.prompts)
    assert index.max() == len(v) - 1
    # the default: the label's phrase only, exactly the prompts the trainer's label term
    # averages into its prototypes (label_prompts(label, "train"))
    plain = default_vocabulary()
    assert all(len(p) == 8 for p in plain.prompts)
    assert [list(p) for p in plain.prompts] == [label_prompts(x, "train") for x in plain.labels]


def test_label_files_plain_and_csv(tmp_path: Path) -> None:
    plain = tmp_path / "labels.txt"
    plain.write_text("# my labels\nwalking\n\n  shaking hands  \n", encoding="utf-8")
    v = read_label_file(plain, aliases=False)
    assert v.labels == ("walking", "shaking hands")
    assert v.prompts[1] == tuple(t.replace("{label}", "shaking hands") for t in v.templates)
    csv = tmp_path / "labels.csv"
    csv.write_text('label,prompt\nwaving,a person waving hello\nwaving,"someone waves, '
                   'smiling"\nsleeping,\n', encoding="utf-8")
    c = read_label_file(csv, aliases=False)
    assert c.labels == ("waving", "sleeping")
    assert c.prompts[0] == ("a person waving hello", "someone waves, smiling")
    assert c.prompts[1][0] == "a person sleeping" and len(c.prompts[1]) == 8
    dup = tmp_path / "dup.txt"
    dup.write_text("walking\nwalking\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dup.txt:2: label 'walking' is listed twice"):
        read_label_file(dup)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.csv:1: .* 3 fields"):
        read_label_file(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lists no label"):
        read_label_file(empty)
    with pytest.raises(ConfigError, match="cannot read label file"):
        read_label_file(tmp_path / "missing.txt")


def test_vocabulary_validation() -> None:
    with pytest.raises(ConfigError, match="must be unique"):
        LabelPrompts(("a", "a"), (("x",), ("y",)))
    with pytest.raises(ConfigError, match="at least one non-empty prompt"):
        LabelPrompts(("a",), ((),))
    with pytest.raises(ConfigError, match=r"contain '\{label\}'"):
        vocabulary_prompts(["walking"], templates=["no placeholder"])


def test_prototypes_are_renormalised_means_of_normalised_prompts() -> None:
    v = vocabulary_prompts(["walking", "waving"], templates=["a {label}", "the {label} now"],
                           aliases=False)
    protos = build_prototypes(v, tower=_FakeTower())
    assert protos.labels == ("walking", "waving") and protos.dim == 4
    assert protos.prompts_for("waving") == ("a waving", "the waving now")
    e = _FakeTower().encode(list(protos.prompts_for("walking")))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    want = e.mean(axis=0) / np.linalg.norm(e.mean(axis=0))
    np.testing.assert_allclose(protos.embeddings[0], want, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(protos.embeddings, axis=1), 1.0, atol=1e-6)


def test_device_text_encoder_agrees_with_the_training_tower() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    vocab = default_vocabulary()
    protos = build_prototypes(vocab)  # the fp32 MiniLM tower
    assert protos.dim == 384 and len(protos.labels) == len(DEFAULT_LABELS)
    agreement = device_agreement(protos)  # int8 MiniLM in onnxruntime, same prompts
    worst = np.argsort(agreement.cosine)[:3]
    print(f"device vs tower over {len(agreement.labels)} labels, {len(protos.prompts)} prompts: "
          f"min {agreement.min:.5f} ({agreement.worst_label}), mean {agreement.mean:.5f}; "
          f"lowest {[(agreement.labels[i], round(float(agreement.cosine[i]), 5)) for i in worst]}")
    assert agreement.labels == protos.labels
    assert agreement.min > 0.99
    assert agreement.min <= agreement.mean < 1.0 + 1e-9
    # distinct labels stay distinct: the agreement is not a collapse onto one vector
    sims = protos.embeddings @ protos.embeddings.T
    assert sims[np.triu_indices(len(protos.labels), 1)].max() < 0.95
    m = agreement.as_metrics()
    assert m["text.device_vs_tower.cosine_min"] == agreement.min
