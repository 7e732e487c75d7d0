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


def _checkpoint(root: Path, bias: float) -> Path:
    """A real trainer checkpoint (aura_training.train's own writer) of an untrained model."""
    import torch

    from aura_sdk import ModelInputSpec
    from aura_training.train import preset_config
    from aura_training.train._checkpoint import build_model, save_checkpoint

    cfg = preset_config("smoke", {"model": {"imu": "imu-student", "text": "text-minilm-proj"},
                                  "loss": {"pairs": {"text": 1.0}}, "out_dir": str(root)})
    torch.manual_seed(0)
    model = build_model(cfg)
    proj = model.encoders["text"].proj
    with torch.no_grad():
        proj.weight.copy_(torch.eye(384) + 0.05 * torch.randn(384, 384))
        proj.bias.fill_(bias)
    spec = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125,
                          norm_std=(3.0, 3.0, 3.0, 1.0, 1.0, 1.0))
    save_checkpoint(root, 5, model=model, logit_scale=torch.tensor(2.5), optimizer_state={},
                    config=cfg, input_spec=spec, state={})
    return root


def test_checkpoint_export_carries_spec_temperature_projection_and_provenance(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    from aura_export import build_prototypes, vocabulary_prompts

    run = _checkpoint(tmp_path / "run", bias=0.0)
    labels = tmp_path / "labels.txt"
    labels.write_text("walking\nrunning\n", encoding="utf-8")
    out = tmp_path / "trained.aura"
    assert main(["--checkpoint", str(run), "--out", str(out), "--labels", str(labels),
                 "--precision", "fp32", "--no-aliases"]) == 0
    assert "UNTRAINED" not in capsys.readouterr().out
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    m = bundle.manifest
    assert m.input.norm_std == (3.0, 3.0, 3.0, 1.0, 1.0, 1.0)  # the checkpoint's spec
    assert m.scoring.temperature == pytest.approx(np.exp(-2.5), rel=1e-6)
    ck = m.training["checkpoint"]
    assert isinstance(ck, dict) and ck["step"] == 5 and len(str(ck["sha256"])) == 64
    assert m.training["trained"] is True and "UNTRAINED" not in bundle.model_card
    # the learned text projection ships, and the prototypes live in the projected space
    assert m.text_encoder is not None and m.text_encoder.projection_file is not None
    p = bundle.text_projection
    assert p is not None and p.shape == (384, 384)
    text = build_prototypes(vocabulary_prompts(["walking", "running"], aliases=False))
    want = np.asarray(text.embeddings, np.float64) @ p
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(bundle.prototypes.embeddings, want, atol=1e-5)
    assert float(np.abs(want - text.embeddings).max()) > 1e-2  # really projected


def test_aliases_are_opt_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _checkpoint(tmp_path / "run", bias=0.0)
    labels = tmp_path / "labels.txt"
    labels.write_text("walking upstairs\nrunning\n", encoding="utf-8")
    made = {}
    for name, flag in (("plain", []), ("aliases", ["--aliases"])):
        out = tmp_path / f"{name}.aura"
        assert main(["--checkpoint", str(run), "--out", str(out), "--labels", str(labels),
                     "--precision", "fp32", *flag]) == 0
        made[name] = read_bundle(out, TrustPolicy(mode="off"))
    capsys.readouterr()
    plain, alias = made["plain"], made["aliases"]
    # by default a label's prompts are the templates with its phrase: 8 each
    assert plain.manifest.training["export"]["prompt_aliases"] is False  # type: ignore[index]
    assert len(plain.prototypes.prompts) == 16
    assert alias.manifest.training["export"]["prompt_aliases"] is True  # type: ignore[index]
    assert any("climbing stairs" in p for p in alias.prototypes.prompts)
    assert not any("climbing stairs" in p for p in plain.prototypes.prompts)


def test_checkpoint_with_a_projection_bias_is_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = _checkpoint(tmp_path / "run", bias=0.1)
    assert main(["--checkpoint", str(run), "--out", str(tmp_path / "x.aura")]) == 1
    assert "has a bias" in capsys.readouterr().err
    assert main(["--checkpoint", str(tmp_path / "nothing"), "--out",
                 str(tmp_path / "y.aura")]) == 1
