"""Ed25519 signatures and trust policies: sign/verify round trips, key formats, refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import stat
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError
from test_bundle_support import keypair, make_dir, make_zip, zip_dir

from aura_sdk import (
    BundleIntegrityError,
    BundleSignatureError,
    ConfigError,
    MissingExtraError,
    UntrustedBundleError,
)
from aura_sdk.bundle import (
    SignatureStatus,
    TrustPolicy,
    generate_keypair,
    key_id,
    read_bundle,
    read_public_key_file,
    sign_bundle,
)


def _require(*names: str) -> TrustPolicy:
    return TrustPolicy.from_key_files([keypair(n)[1] for n in names])


def test_keygen_files_and_formats(tmp_path: Path) -> None:
    private, public = generate_keypair(tmp_path / "dev")
    assert (private.name, public.name) == ("dev.key", "dev.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    raw = read_public_key_file(public)
    assert len(raw) == 32
    assert key_id(raw) == hashlib.sha256(raw).hexdigest()[:16]
    (tmp_path / "raw.bin").write_bytes(raw)
    (tmp_path / "b64.txt").write_text(base64.b64encode(raw).decode() + "\n")
    assert read_public_key_file(tmp_path / "raw.bin") == raw
    assert read_public_key_file(tmp_path / "b64.txt") == raw
    assert TrustPolicy(trusted_keys=[tmp_path / "raw.bin"]).trusted_key_ids == {key_id(raw)}
    with pytest.raises(ConfigError, match="never overwritten"):
        generate_keypair(tmp_path / "dev")
    (tmp_path / "junk.pub").write_text("hello world")
    with pytest.raises(ConfigError, match=r"junk\.pub"):
        read_public_key_file(tmp_path / "junk.pub")


def test_sign_directory_in_place(tmp_path: Path) -> None:
    b = make_dir(tmp_path)
    kid = sign_bundle(b, keypair("alice")[0])
    assert kid == key_id(read_public_key_file(keypair("alice")[1]))
    loaded = read_bundle(b, _require("alice"))
    assert loaded.signature.status is SignatureStatus.TRUSTED
    assert loaded.signature.key_id == kid
    doc = json.loads((b / "signature.json").read_text())
    assert doc["algorithm"] == "ed25519" and doc["key_id"] == kid
    # independent check: the signature covers exactly the manifest bytes on disk
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"]))
    public.verify(base64.b64decode(doc["signature"]), (b / "manifest.json").read_bytes())


def test_sign_zip_in_place_keeps_members(tmp_path: Path) -> None:
    z = make_zip(tmp_path)
    before = {i.filename: zipfile.ZipFile(z).read(i) for i in zipfile.ZipFile(z).infolist()}
    sign_bundle(z, keypair("alice")[0])
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        assert names[-1] == "signature.json"
        assert {n: zf.read(n) for n in names if n != "signature.json"} == before
    assert read_bundle(z, _require("alice")).signature.status is SignatureStatus.TRUSTED


def test_sign_to_out_converts_and_leaves_source(tmp_path: Path) -> None:
    b = make_dir(tmp_path)
    out = tmp_path / "signed.aura"
    sign_bundle(b, keypair("alice")[0], out=out)
    assert not (b / "signature.json").exists()
    assert zipfile.is_zipfile(out)
    assert read_bundle(out, _require("alice")).kind == "zip"
    with pytest.raises(ConfigError, match="already exists"):
        sign_bundle(b, keypair("alice")[0], out=out)


def test_resign_replaces_signature(tmp_path: Path) -> None:
    z = make_zip(tmp_path)
    sign_bundle(z, keypair("alice")[0])
    kid = sign_bundle(z, keypair("bob")[0])
    assert zipfile.ZipFile(z).namelist().count("signature.json") == 1
    assert read_bundle(z, _require("bob")).signature.key_id == kid
    with pytest.raises(UntrustedBundleError, match=kid):
        read_bundle(z, _require("alice"))
    assert read_bundle(z, _require("alice", "bob")).signature.status is SignatureStatus.TRUSTED


def test_warn_mode_loads_unknown_key_with_warning(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    b = make_dir(tmp_path)
    kid = sign_bundle(b, keypair("mallory")[0])
    with caplog.at_level(logging.WARNING, logger="aura_sdk.bundle"):
        loaded = read_bundle(b, TrustPolicy(mode="warn", trusted_keys=[keypair("alice")[1]]))
    assert loaded.signature.status is SignatureStatus.UNTRUSTED
    assert loaded.signature.key_id == kid
    assert any(kid in r.getMessage() and "not among the trusted" in r.getMessage()
               for r in caplog.records)


def test_warn_mode_unsigned_loads_with_warning(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="aura_sdk.bundle"):
        loaded = read_bundle(make_dir(tmp_path))
    assert loaded.signature.status is SignatureStatus.UNSIGNED
    assert any("unsigned" in r.getMessage() for r in caplog.records)


def test_off_mode_ignores_even_a_bad_signature(tmp_path: Path) -> None:
    b = make_dir(tmp_path)
    (b / "signature.json").write_text('{"algorithm": "rot13"}')
    assert read_bundle(b, TrustPolicy(mode="off")).signature.status is \
        SignatureStatus.NOT_CHECKED
    with pytest.raises(BundleSignatureError, match="malformed"):
        read_bundle(b)


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda d: d.update(algorithm="rsa"), "malformed"),
    (lambda d: d.update(extra="x"), "malformed"),
    (lambda d: d.update(key_id="0" * 16), "does not match its public key"),
    (lambda d: d.update(signature=base64.b64encode(b"short").decode()), "64"),
    (lambda d: d.update(public_key="***"), "malformed"),
])
def test_malformed_signature_files(tmp_path: Path, edit: object, needle: str) -> None:
    b = make_dir(tmp_path)
    sign_bundle(b, keypair("alice")[0])
    doc = json.loads((b / "signature.json").read_text())
    edit(doc)  # type: ignore[operator]
    (b / "signature.json").write_text(json.dumps(doc))
    with pytest.raises(BundleSignatureError, match=needle) as info:
        read_bundle(b, _require("alice"))
    assert type(info.value) is BundleSignatureError
    assert "signature.json" in str(info.value)


def test_write_bundle_can_sign(tmp_path: Path) -> None:
    from aura_export import write_example_bundle

    out = tmp_path / "signed.aura"
    write_example_bundle(out, window_samples=16, embedding_dim=8, examples_per_label=2,
                         precisions=("fp32",), signing_key=keypair("alice")[0])
    loaded = read_bundle(out, _require("alice"))
    assert loaded.signature.status is SignatureStatus.TRUSTED
    assert "signature.json" not in loaded.manifest.files


def test_defective_bundle_is_never_signed(tmp_path: Path) -> None:
    b = make_dir(tmp_path)
    (b / "encoder_int8.onnx").write_bytes(b"swapped")
    with pytest.raises(BundleIntegrityError, match=r"encoder_int8\.onnx"):
        sign_bundle(b, keypair("alice")[0])
    assert not (b / "signature.json").exists()


def test_signature_moved_to_another_bundle_fails(tmp_path: Path) -> None:
    a, other = make_dir(tmp_path, "a"), make_dir(tmp_path, "other")
    sign_bundle(a, keypair("alice")[0])
    data = json.loads((other / "manifest.json").read_text())
    data["version"] = "9.9.9"
    (other / "manifest.json").write_text(json.dumps(data))
    (other / "signature.json").write_bytes((a / "signature.json").read_bytes())
    with pytest.raises(BundleSignatureError, match="does not verify"):
        read_bundle(zip_dir(other, tmp_path / "other.aura"), _require("alice"))


def test_trust_policy_validation() -> None:
    with pytest.raises(ValidationError, match="at least one trusted public key"):
        TrustPolicy(mode="require")
    with pytest.raises(ValidationError, match="32 raw bytes"):
        TrustPolicy(trusted_keys=["not a key"])
    with pytest.raises(ValidationError):
        TrustPolicy(mode="sometimes")  # type: ignore[arg-type]
    raw = read_public_key_file(keypair("alice")[1])
    pem = keypair("alice")[1].read_text()
    assert TrustPolicy(trusted_keys=[pem]).trusted_keys == (raw,)
    assert TrustPolicy(trusted_keys=[base64.b64encode(raw).decode()]).trusted_keys == (raw,)


def test_missing_cryptography_names_the_extra(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    b = make_dir(tmp_path)
    sign_bundle(b, keypair("alice")[0])
    monkeypatch.setitem(sys.modules, "cryptography.exceptions", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"aura-sdk\[sign\]") as info:
        read_bundle(b)
    assert info.value.extra == "sign"
    with pytest.raises(MissingExtraError):
        generate_keypair(tmp_path / "k")
    # a policy that ignores signatures needs no cryptography
    assert read_bundle(b, TrustPolicy(mode="off")).labels[0] == "still"
