"""``aura train`` through its ``main(argv)``, and the frozen public surface of the trainer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_train_config import tiny_corpus

pytest.importorskip("torch")

import aura_training.train as train_pkg
from aura_training.cli_train import TRAIN_COMMAND, main, parse_overrides
from aura_training.train import read_checkpoint, read_metrics


def test_public_api_is_frozen() -> None:
    assert sorted(train_pkg.__all__) == sorted([
        "CHECKPOINT_FORMAT", "DEFAULT_INPUT_SPEC", "DEFAULT_TEACHER_DIR", "MIRROR", "PRESETS",
        "AugmentConfig", "Checkpoint", "ClipWindower", "DataConfig", "DistillConfig",
        "InputConfig", "OptimConfig", "TextTable", "TrainConfig", "TrainResult", "Trainer",
        "WindowItem", "WindowStream", "augment_imu", "compute_norm_stats",
        "default_teacher_path", "find_checkpoint", "load_checkpoint", "load_config", "lr_at",
        "preset_config", "random_rotation", "read_checkpoint", "read_metrics",
        "slim_checkpoint", "stream_mix", "stream_windows"])
    assert all(hasattr(train_pkg, n) for n in train_pkg.__all__)
    assert TRAIN_COMMAND.help and callable(TRAIN_COMMAND.configure)


def test_overrides_parse_dotted_keys_as_yaml() -> None:
    assert parse_overrides(["optim.lr=5e-4", "steps=10", "data.locations=[left_wrist]",
                            "data.val_split=null"]) == {
        "optim": {"lr": 5e-4}, "steps": 10,
        "data": {"locations": ["left_wrist"], "val_split": None}}
    assert main(["--preset", "smoke", "--set", "novalue"]) == 1


def test_print_config_dumps_a_loadable_yaml(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--preset", "cpu-teacher", "--print-config", "--steps", "5",
                 "--data", str(tmp_path / "c")]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["steps"] == 5 and cfg["name"] == "cpu-teacher"
    assert cfg["data"]["dir"] == str(tmp_path / "c")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["--config", str(path), "--print-config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == cfg
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**cfg, "optimiser": {}}))
    assert main(["--config", str(bad)]) == 1
    assert "optimiser" in capsys.readouterr().err


def test_cli_trains_a_config_file_and_resumes(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tiny_corpus()
    cfg = {
        "name": "cli", "data": {"dir": str(corpus),
                                "text_cache": str(corpus.parent / "text_cache.npz")},
        "model": {"imu": {"preset": "imu-xs", "dim": 32, "depth": 1, "heads": 2,
                          "mlp_dim": 64}, "text": "text-minilm"},
        "loss": {"pairs": {"text": 1.0}}, "input": {"norm_clips": 4},
        "batch_size": 8, "steps": 3, "threads": 1, "eval_batches": 1, "log_every": 1,
        "out_dir": str(tmp_path / "run"),
    }
    path = tmp_path / "imu_text.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["--config", str(path), "--quiet"]) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    assert main(["--config", str(path), "--quiet", "--steps", "5"]) == 0
    assert "trained 5 steps" in capsys.readouterr().out
    assert read_checkpoint(tmp_path / "run").step == 5
    steps = [int(r["step"]) for r in read_metrics(tmp_path / "run" / "metrics.csv") if r["loss"]]
    assert steps == [1, 2, 3, 4, 5]
    assert main(["--config", str(path), "--quiet", "--data", str(tmp_path / "none"),
                 "--no-resume"]) == 1
    assert "aura data synth" in capsys.readouterr().err
