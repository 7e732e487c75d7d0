"""``aura retrain``: fine-tuning the shipped teacher on a user's labelled recordings, and
the whole synth -> pretrain -> distil -> export pipeline at smoke scale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from aura_sdk import load_bundle  # noqa: E402
from aura_sdk._recording import LabelSpan, write_labels, write_recording  # noqa: E402
from aura_sdk.bundle import read_bundle  # noqa: E402
from aura_training.corpus import load_manifest, recordings_corpus  # noqa: E402
from aura_training.synth._replay import session_recording  # noqa: E402
from aura_training.train import default_teacher_path, read_checkpoint  # noqa: E402

#: a label the generator does not know: the user's own word for hammering
CUSTOM = "driving nails"


def _user_recording(tmp: Path, seed: int) -> tuple[Path, Path]:
    rec = session_recording([("sitting", 30.0), ("hammering", 40.0), ("walking", 30.0),
                             ("hammering", 25.0)], seed=seed)
    csv, labels = tmp / f"rec{seed}.csv", tmp / f"rec{seed}.labels.csv"
    write_recording(csv, rec)
    write_labels(labels, tuple(LabelSpan(s.start_s, s.end_s,
                                         CUSTOM if s.label == "hammering" else s.label)
                               for s in rec.spans))
    return csv, labels


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from aura_export.cli_retrain import main

    tmp = tmp_path_factory.mktemp("ft")
    csv, labels = _user_recording(tmp, seed=21)
    out = tmp / "my.aura"
    code = main(["--recording", str(csv), "--labels", str(labels), "--out", str(out),
                 "--work", str(tmp / "work"), "--steps", "6", "--batch-size", "8",
                 "--name", "my-model"])
    return {"code": code, "out": out, "work": tmp / "work", "csv": csv}


def test_recordings_become_train_and_val_clips_of_every_label(tmp_path: Path) -> None:
    csv, labels = _user_recording(tmp_path, seed=22)
    m = recordings_corpus([(csv, labels)], tmp_path / "c", clip_s=10.0)
    assert set(m.splits["train"].activities) == {"sitting", CUSTOM, "walking"}
    assert set(m.splits["val"].activities) == {"sitting", CUSTOM, "walking"}
    total = sum(m.splits[s].duration_s for s in ("train", "val"))
    assert total == pytest.approx(125.0, abs=6.0)  # every labelled second (transitions aside)
    assert load_manifest(tmp_path / "c").source == "user"


def test_bad_recordings_are_refused_with_the_fix(tmp_path: Path) -> None:
    from aura_sdk import ConfigError

    csv, _ = _user_recording(tmp_path, seed=23)
    far = tmp_path / "far.csv"
    write_labels(far, (LabelSpan(1000.0, 1100.0, "walking"),))
    with pytest.raises(ConfigError, match="time base"):
        recordings_corpus([(csv, far)], tmp_path / "c1")
    with pytest.raises(ConfigError, match="no labelled spans"):
        recordings_corpus([(csv, None)], tmp_path / "c2")


def test_cli_pairs_recordings_with_labels(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from aura_export.cli_retrain import main

    csv, labels = _user_recording(tmp_path, seed=24)
    assert main(["--recording", str(csv), "--out", str(tmp_path / "x.aura")]) == 1
    assert "need a labels file" in capsys.readouterr().err
    assert main(["--recording", str(csv), "--labels", str(labels), "--labels", str(labels),
                 "--out", str(tmp_path / "x.aura")]) == 1
    assert "one labels file per recording" in capsys.readouterr().err
    assert main(["--recording", str(csv), "--labels", str(labels), "--seed", "2",
                 "--out", str(tmp_path / "x.aura")]) == 1
    assert "--seed goes with --preset" in capsys.readouterr().err


def test_finetuning_writes_a_bundle_with_the_users_labels(finetuned: dict[str, Any]) -> None:
    assert finetuned["code"] == 0
    bundle = read_bundle(finetuned["out"])
    labels = list(bundle.prototypes.labels)
    assert CUSTOM in labels and "walking" in labels and "playing golf" in labels
    assert bundle.manifest.name == "my-model"
    model = load_bundle(finetuned["out"])
    x = np.random.default_rng(0).normal(size=(250, 6))
    x[:, 2] += 9.81
    from aura_sdk import SensorSpec

    probs = model.classify(x, SensorSpec(sample_rate_hz=50.0), labels=[CUSTOM, "sitting"])
    assert set(probs) == {CUSTOM, "sitting"}
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)


def test_finetuning_moves_the_weights_and_records_before_and_after(
        finetuned: dict[str, Any]) -> None:
    record = json.loads((finetuned["work"] / "retrain.json").read_text())
    assert [s["stage"] for s in record["stages"]] == ["data", "evaluate base", "fine-tune",
                                                      "evaluate", "export"]
    for key in ("zero_shot_before", "zero_shot_after"):
        r = record[key]
        assert 0.0 <= r["accuracy"] <= 1.0 and r["n"] > 0
        assert set(r["labels"]) == {"sitting", CUSTOM, "walking"}
    base = read_checkpoint(default_teacher_path()).model_tensors()
    tuned = read_checkpoint(finetuned["work"] / "finetune").model_tensors()
    key = next(k for k in tuned if k.startswith("encoders.imu.") and k.endswith("weight"))
    assert not torch.equal(base[key], tuned[key])
    assert record["base"] == str(default_teacher_path())


def test_retrain_smoke_runs_every_stage(tmp_path: Path) -> None:
    from aura_export._retrain import retrain_from_scratch

    lines: list[str] = []
    record = retrain_from_scratch("smoke", tmp_path / "work", tmp_path / "smoke.aura",
                                  seed=3, print_fn=lines.append)
    # --seed reaches both trainings, not the corpus
    from aura_training.corpus import load_manifest
    from aura_training.train import read_checkpoint

    assert record["seed"] == 3
    for stage in ("teacher", "student"):
        assert read_checkpoint(tmp_path / "work" / stage).config.seed == 3
    assert load_manifest(tmp_path / "work" / "corpus").generator["config"]["seed"] == 0
    assert [s["stage"] for s in record["stages"]] == ["pretrain", "distil", "export",
                                                      "teacher checkpoint"]
    assert any(line.startswith("[2/4] distil") for line in lines)
    d = record["distill"]
    assert d["flops_ratio"] <= 0.2 and d["student"]["flops"] < d["teacher"]["flops"]
    b = record["bundle"]
    assert b["encoders"] == ["fp32", "int8"] and b["bytes"] < 3 * 1024 * 1024
    assert read_bundle(tmp_path / "smoke.aura").manifest.name == "aura-smoke"
    assert (tmp_path / "work" / "teacher-slim" / "model.safetensors").is_file()


def test_the_default_recipe_gives_both_encoders_a_placement_input_and_small_rotations(
) -> None:
    from aura_export._retrain import RETRAIN_PRESETS
    from aura_sdk import SensorSpec
    from aura_sdk.preprocessing import UPRIGHT_SUFFIX
    from aura_training.cli_train import parse_overrides
    from aura_training.train import preset_config

    p = RETRAIN_PRESETS["default"]
    for preset, sets, imu in ((p.teacher, p.teacher_overrides, "imu-xs"),
                              (p.student, p.student_overrides, "imu-student")):
        cfg = preset_config(preset, parse_overrides(list(sets)))
        places = list(SensorSpec.PLACEMENTS)
        assert cfg.model["imu"] == {"preset": imu, "placements": [
            *places, *(p + UPRIGHT_SUFFIX for p in places)]}
        assert cfg.data.upright_prob == 0.7  # and read turned to the wearer's upright
        assert cfg.augment.rotate_max_deg == 10.0
        assert cfg.data.positives == "activity" and cfg.data.label_prompt_prob == 0.2
        assert cfg.loss.label_weight == 0.5  # the closed-set term over all training labels
    # the teacher synthesises the corpus both train on: 30 hours
    teacher = preset_config(p.teacher, parse_overrides(list(p.teacher_overrides)))
    assert teacher.data.synth is not None and teacher.data.synth.minutes == 1800.0
