"""One test per defect kind: both read_bundle and `aura bundle verify` refuse it, with the
defect's own error class and a message naming the file at fault."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from test_bundle_support import (
    DIM,
    WINDOW,
    ZIP_TIME,
    cli,
    flip_byte,
    keypair,
    make_dir,
    read_manifest,
    reseal,
    toy_model,
    write_manifest,
    zip_dir,
    zip_symlink,
)

from aura_sdk import (
    BundleCompatibilityError,
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleNotFoundError,
    BundleSignatureError,
    BundleVersionError,
    UntrustedBundleError,
)
from aura_sdk.bundle import Prototypes, TrustPolicy, encode_prototypes, read_bundle, sign_bundle


@dataclass
class Broken:
    """A defective bundle directory and the trust settings to check it under."""

    path: Path
    trusted: list[Path] = field(default_factory=list)
    require: bool = False

    def policy(self) -> TrustPolicy:
        if not self.trusted and not self.require:
            return TrustPolicy()
        return TrustPolicy.from_key_files(self.trusted,
                                          mode="require" if self.require else "warn")

    def cli_args(self) -> list[str]:
        args = [a for p in self.trusted for a in ("--trust-key", str(p))]
        return args + (["--require-signature"] if self.require else [])


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def missing_file(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "encoder_int8.onnx").unlink()
    return Broken(b)


def hash_mismatch(tmp: Path) -> Broken:
    b = make_dir(tmp)
    flip_byte(b / "prototypes.npz", 200)  # same size, different bytes
    return Broken(b)


def size_mismatch(tmp: Path) -> Broken:
    b = make_dir(tmp)
    with open(b / "MODEL_CARD.md", "a") as fh:
        fh.write("\nThis model is excellent.\n")
    return Broken(b)


def unknown_schema_version(tmp: Path) -> Broken:
    b = make_dir(tmp)
    data = read_manifest(b)
    data["schema_version"] = 2
    write_manifest(b, data)
    return Broken(b)


def malformed_manifest_json(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "manifest.json").write_text('{"schema_version": 1, "name": "x",')
    return Broken(b)


def schema_violation(tmp: Path) -> Broken:
    b = make_dir(tmp)
    data = read_manifest(b)
    data["scoring"]["temperature"] = -0.5
    write_manifest(b, data)
    return Broken(b)


def onnx_window_mismatch(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "encoder_fp32.onnx").write_bytes(toy_model(window=WINDOW + 8))
    reseal(b)
    return Broken(b)


def onnx_output_dim_mismatch(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "encoder_int8.onnx").write_bytes(toy_model(dim=DIM + 4, precision="int8"))
    reseal(b)
    return Broken(b)


def prototype_dim_mismatch(tmp: Path) -> Broken:
    b = make_dir(tmp)
    labels = ("still", "walking", "running", "waving")
    (b / "prototypes.npz").write_bytes(encode_prototypes(Prototypes(labels,
                                                                    _unit(4, DIM + 1, 0))))
    reseal(b)
    return Broken(b)


def bad_signature(tmp: Path) -> Broken:
    b = make_dir(tmp)
    sign_bundle(b, keypair("alice")[0])
    doc = json.loads((b / "signature.json").read_text())
    sig = bytearray(base64.b64decode(doc["signature"]))
    sig[5] ^= 0x01
    doc["signature"] = base64.b64encode(bytes(sig)).decode()
    (b / "signature.json").write_text(json.dumps(doc))
    return Broken(b)  # default policy "warn": an invalid signature is refused anyway


def tampered_manifest_under_signature(tmp: Path) -> Broken:
    b = make_dir(tmp)
    sign_bundle(b, keypair("alice")[0])
    reseal(b, lambda m: m["scoring"].update(unknown_threshold=-1.0))
    return Broken(b, trusted=[keypair("alice")[1]], require=True)


def tampered_file_under_valid_signature(tmp: Path) -> Broken:
    b = make_dir(tmp)
    sign_bundle(b, keypair("alice")[0])
    flip_byte(b / "encoder_fp32.onnx", 100)
    return Broken(b, trusted=[keypair("alice")[1]], require=True)


def untrusted_key_under_require(tmp: Path) -> Broken:
    b = make_dir(tmp)
    sign_bundle(b, keypair("mallory")[0])
    return Broken(b, trusted=[keypair("alice")[1]], require=True)


def unsigned_under_require(tmp: Path) -> Broken:
    return Broken(make_dir(tmp), trusted=[keypair("alice")[1]], require=True)


def prototypes_not_unit_norm(tmp: Path) -> Broken:
    b = make_dir(tmp)
    with np.load(b / "prototypes.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["embeddings"] = arrays["embeddings"] * np.float32(1.5)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (b / "prototypes.npz").write_bytes(buf.getvalue())
    reseal(b)
    return Broken(b)


def prototypes_nan(tmp: Path) -> Broken:
    b = make_dir(tmp)
    with np.load(b / "prototypes.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["embeddings"][1, 3] = np.nan
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (b / "prototypes.npz").write_bytes(buf.getvalue())
    reseal(b)
    return Broken(b)


def prototypes_label_count(tmp: Path) -> Broken:
    b = make_dir(tmp)
    with np.load(b / "prototypes.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["labels"] = arrays["labels"][:3]
    arrays["prompt_label"] = np.minimum(arrays["prompt_label"], 2)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (b / "prototypes.npz").write_bytes(buf.getvalue())
    reseal(b)
    return Broken(b)


def prototypes_pickled(tmp: Path) -> Broken:
    b = make_dir(tmp)
    with np.load(b / "prototypes.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["labels"] = np.array(list(arrays["labels"]), dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # an object array is stored as a pickle
    (b / "prototypes.npz").write_bytes(buf.getvalue())
    reseal(b)
    return Broken(b)


def encoder_not_onnx(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "encoder_int8.onnx").write_bytes(b"this is not a protobuf" * 10)
    reseal(b)
    return Broken(b)


def text_projection_shape(tmp: Path) -> Broken:
    b = make_dir(tmp, projection=True)
    buf = io.BytesIO()
    np.save(buf, np.zeros((384, DIM + 2), np.float32))
    (b / "text_projection.npy").write_bytes(buf.getvalue())
    reseal(b)
    return Broken(b)


def file_table_traversal(tmp: Path) -> Broken:
    b = make_dir(tmp)
    reseal(b)
    data = read_manifest(b)
    data["files"]["../outside.txt"] = {"sha256": "0" * 64, "size": 1}
    write_manifest(b, data)
    return Broken(b)


def symlink_in_directory(tmp: Path) -> Broken:
    b = make_dir(tmp)
    os.symlink("/etc/passwd", b / "passwd")
    return Broken(b)


def not_a_bundle_dir(tmp: Path) -> Broken:
    b = make_dir(tmp)
    (b / "manifest.json").unlink()
    return Broken(b)


# (builder, error class, file the message must name, container kinds)
CASES: dict[str, tuple[Callable[[Path], Broken], type[BundleError], str, tuple[str, ...]]] = {
    "missing_file": (missing_file, BundleIntegrityError, "encoder_int8.onnx", ("dir", "zip")),
    "hash_mismatch": (hash_mismatch, BundleIntegrityError, "prototypes.npz", ("dir", "zip")),
    "size_mismatch": (size_mismatch, BundleIntegrityError, "MODEL_CARD.md", ("dir", "zip")),
    "unknown_schema_version": (unknown_schema_version, BundleVersionError, "manifest.json",
                               ("dir", "zip")),
    "malformed_manifest_json": (malformed_manifest_json, BundleFormatError, "manifest.json",
                                ("dir", "zip")),
    "schema_violation": (schema_violation, BundleFormatError, "scoring.temperature",
                         ("dir", "zip")),
    "onnx_window_mismatch": (onnx_window_mismatch, BundleCompatibilityError,
                             "encoder_fp32.onnx", ("dir", "zip")),
    "onnx_output_dim_mismatch": (onnx_output_dim_mismatch, BundleCompatibilityError,
                                 "encoder_int8.onnx", ("dir", "zip")),
    "prototype_dim_mismatch": (prototype_dim_mismatch, BundleCompatibilityError,
                               "prototypes.npz", ("dir", "zip")),
    "bad_signature": (bad_signature, BundleSignatureError, "signature.json", ("dir", "zip")),
    "tampered_manifest_under_signature": (tampered_manifest_under_signature,
                                          BundleSignatureError, "signature.json", ("dir",)),
    "tampered_file_under_valid_signature": (tampered_file_under_valid_signature,
                                            BundleIntegrityError, "encoder_fp32.onnx",
                                            ("dir", "zip")),
    "untrusted_key_under_require": (untrusted_key_under_require, UntrustedBundleError,
                                    "signature.json", ("dir", "zip")),
    "unsigned_under_require": (unsigned_under_require, UntrustedBundleError, "signature.json",
                               ("dir", "zip")),
    "prototypes_not_unit_norm": (prototypes_not_unit_norm, BundleFormatError, "prototypes.npz",
                                 ("dir",)),
    "prototypes_nan": (prototypes_nan, BundleFormatError, "prototypes.npz", ("dir",)),
    "prototypes_label_count": (prototypes_label_count, BundleFormatError, "prototypes.npz",
                               ("dir",)),
    "prototypes_pickled": (prototypes_pickled, BundleFormatError, "prototypes.npz", ("dir",)),
    "encoder_not_onnx": (encoder_not_onnx, BundleFormatError, "encoder_int8.onnx", ("dir",)),
    "text_projection_shape": (text_projection_shape, BundleCompatibilityError,
                              "text_projection.npy", ("dir",)),
    "file_table_traversal": (file_table_traversal, BundleFormatError, "../outside.txt",
                             ("dir",)),
    "symlink_in_directory": (symlink_in_directory, BundleFormatError, "passwd", ("dir",)),
    "not_a_bundle_dir": (not_a_bundle_dir, BundleNotFoundError, "manifest.json", ("dir",)),
}
PARAMS = [pytest.param(name, kind, id=f"{name}-{kind}")
          for name, (_, _, _, kinds) in CASES.items() for kind in kinds]


def _assert_refused(path: Path, broken: Broken, cls: type[BundleError], names: str,
                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BundleError) as info:
        read_bundle(path, broken.policy())
    assert type(info.value) is cls, f"expected {cls.__name__}, got {info.value!r}"
    assert names in str(info.value)
    assert str(path) in str(info.value)
    rc, out = cli(capsys, "bundle", "verify", str(path), *broken.cli_args())
    assert rc == 1
    assert "FAILED" in out
    assert f"{cls.__name__}: " in out
    assert names in out


@pytest.mark.parametrize(("name", "kind"), PARAMS)
def test_defect_is_refused_by_loader_and_cli(name: str, kind: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    build, cls, names, _ = CASES[name]
    broken = build(tmp_path)
    path = broken.path if kind == "dir" else zip_dir(broken.path, tmp_path / "b.aura")
    _assert_refused(path, broken, cls, names, capsys)


def _zip_case(tmp_path: Path, extra: dict[str, bytes]) -> Path:
    return zip_dir(make_dir(tmp_path), tmp_path / "evil.aura", extra)


@pytest.mark.parametrize(("member", "cls"), [
    ("../evil.txt", BundleFormatError),  # path traversal
    ("/etc/evil.txt", BundleFormatError),  # absolute name
    ("sub/../../evil.txt", BundleFormatError),
    ("C:/evil.txt", BundleFormatError),
    ("notes.txt", BundleIntegrityError),  # a well-formed but unlisted member
])
def test_zip_member_names_are_policed(member: str, cls: type[BundleError], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _zip_case(tmp_path, {member: b"payload"})
    _assert_refused(path, Broken(path), cls, member, capsys)


def test_zip_duplicate_member_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = make_dir(tmp_path)
    out = zip_dir(src, tmp_path / "dupe.aura")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(out, "a") as zf:
        zf.writestr(zipfile.ZipInfo("encoder_fp32.onnx", ZIP_TIME), b"shadow")
    _assert_refused(out, Broken(out), BundleFormatError, "encoder_fp32.onnx", capsys)


def test_zip_symlink_member_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = zip_symlink(tmp_path / "link.aura", make_dir(tmp_path), "link", "/etc/passwd")
    _assert_refused(out, Broken(out), BundleFormatError, "link", capsys)


def test_zip_bomb_cap(tmp_path: Path) -> None:
    out = _zip_case(tmp_path, {})
    size = sum(i.file_size for i in zipfile.ZipFile(out).infolist())
    with pytest.raises(BundleFormatError, match="byte limit") as info:
        read_bundle(out, max_bytes=size - 1)
    assert "zip bomb" in str(info.value)
    assert read_bundle(out, max_bytes=size).manifest.name == "aura-toy"


def test_missing_path_and_non_zip_file(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.aura"
    _assert_refused(missing, Broken(missing), BundleNotFoundError, "nope.aura", capsys)
    junk = tmp_path / "junk.aura"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(BundleNotFoundError, match="not a zip"):
        read_bundle(junk)


def test_flipped_byte_copy_fails_verify(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    good = zip_dir(make_dir(tmp_path), tmp_path / "good.aura")
    rc, out = cli(capsys, "bundle", "verify", str(good))
    assert rc == 0 and out.startswith("OK")
    blob = good.read_bytes()
    # flip one byte in the middle of every member's data region, one copy at a time
    with zipfile.ZipFile(good) as zf:
        offsets = [i.header_offset + 30 + len(i.filename) + i.compress_size // 2
                   for i in zf.infolist()]
    for k, offset in enumerate(offsets):
        bad = tmp_path / f"flip{k}.aura"
        bad.write_bytes(blob[:offset] + bytes([blob[offset] ^ 0x10]) + blob[offset + 1:])
        rc, out = cli(capsys, "bundle", "verify", str(bad))
        assert rc == 1, out
        assert "FAILED" in out


def test_verify_lists_every_defect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = make_dir(tmp_path)
    (b / "encoder_int8.onnx").unlink()
    flip_byte(b / "prototypes.npz", 100)
    with open(b / "MODEL_CARD.md", "a") as fh:
        fh.write("more")
    rc, out = cli(capsys, "bundle", "verify", str(b))
    assert rc == 1
    assert "3 defect(s)" in out
    for name in ("encoder_int8.onnx", "prototypes.npz", "MODEL_CARD.md"):
        assert name in out
    with pytest.raises(BundleIntegrityError) as info:
        read_bundle(b)
    assert any("2 more defect(s)" in note for note in info.value.__notes__)


def test_unlisted_file_in_directory_is_only_a_warning(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    b = make_dir(tmp_path)
    (b / ".DS_Store").write_bytes(b"finder")
    bundle = read_bundle(b)
    assert bundle.labels == ("still", "walking", "running", "waving")
    assert ".DS_Store" not in bundle.files
    assert any(".DS_Store" in r.getMessage() for r in caplog.records)


def test_copy_of_good_bundle_still_loads(tmp_path: Path) -> None:
    # guards the cases above: the template itself is sound, so each failure is the defect's
    src = make_dir(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    assert read_bundle(copy).manifest.encoder.embedding_dim == DIM
