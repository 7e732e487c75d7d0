"""``aura export`` (aura_export.cli_export): the command object and its standalone main."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from aura_export.cli_export import EXPORT_COMMAND, main
from aura_sdk.bundle import TrustPolicy, read_bundle
from aura_sdk.cli._registry import Command


def test_command_object_fits_the_aura_entry_point_protocol() -> None:
    assert isinstance(EXPORT_COMMAND, Command)
    parser = argparse.ArgumentParser()
    EXPORT_COMMAND.configure(parser)
    args = parser.parse_args(["--preset", "imu-student", "--out", "m.aura",
                              "--precision", "int8,fp16"])
    assert args.precision == ("int8", "fp16") and args.checkpoint is None


def test_preset_export_is_labelled_untrained(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("walking\nrunning\ncycling\n", encoding="utf-8")
    out = tmp_path / "untrained.aura"
    argv = ["--preset", "imu-student", "--out", str(out), "--labels", str(labels),
            "--precision", "fp32,int8", "--no-aliases", "--seed", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "[UNTRAINED: pipeline test only]" in printed
    assert "fp32 parity vs torch: max abs" in printed and "TensorRT ONNX parser check" in printed
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    assert bundle.labels == ("walking", "running", "cycling")
    assert bundle.precisions == ("fp32", "int8")
    assert bundle.manifest.training["trained"] is False
    assert bundle.manifest.training["preset"] == "imu-student"
    assert "**UNTRAINED.**" in bundle.model_card
    assert bundle.manifest.scoring.temperature == 0.1
    assert bundle.manifest.scoring.unknown_threshold == 0.0  # no validation: reject nothing
    assert main(argv) == 1  # exists, no --overwrite
    assert "already exists" in capsys.readouterr().err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.aura")
    assert main(["--preset", "imu-student", "--out", out, "--precision", "int4"]) == 2
    assert "precisions are a comma list" in capsys.readouterr().err
    assert main(["--out", out]) == 2  # neither --checkpoint nor --preset
    assert main(["--preset", "video-cnn", "--out", out]) == 1
    assert "not an IMU encoder" in capsys.readouterr().err
    assert main(["--preset", "nope", "--out", out]) == 1
    assert "unknown encoder 'nope'" in capsys.readouterr().err
