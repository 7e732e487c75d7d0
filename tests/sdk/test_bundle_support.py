"""Shared helpers for the bundle tests (no tests here): toy bundles, resealing, zipping, CLI.

Bundles are built once per process from the untrained toy encoder (aura_export) and copied
into each test's tmp_path, so every test starts from a known-good bundle and breaks one thing.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from aura_export import toy_encoder_onnx, write_example_bundle
from aura_sdk.bundle import generate_keypair
from aura_sdk.cli import main

WINDOW = 40
RATE = 20.0
DIM = 16
SEED = 3
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_ROOT = Path(tempfile.mkdtemp(prefix="aura-bundle-tests-"))
atexit.register(shutil.rmtree, _ROOT, True)


@cache
def toy_model(window: int = WINDOW, dim: int = DIM, precision: str = "fp32") -> bytes:
    """The toy encoder's ONNX bytes (cached: onnx.helper is the slow part)."""
    return toy_encoder_onnx(window, dim, SEED, precision=precision)  # type: ignore[arg-type]


@cache
def _template(projection: bool) -> Path:
    out = _ROOT / f"template-{int(projection)}"
    write_example_bundle(out, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=DIM,
                         seed=SEED, precisions=("fp32", "int8"), examples_per_label=4,
                         with_text_projection=projection)
    return out


@cache
def keypair(name: str) -> tuple[Path, Path]:
    """A cached Ed25519 key pair (private, public)."""
    return generate_keypair(_ROOT / name)


def make_dir(tmp_path: Path, name: str = "bundle", *, projection: bool = False) -> Path:
    """A fresh copy of the toy bundle as a directory under ``tmp_path``."""
    out = tmp_path / name
    shutil.copytree(_template(projection), out)
    return out


def zip_dir(src: Path, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Zip a bundle directory as-is (no checks), plus raw ``extra`` members with any name."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in src.rglob("*") if p.is_file()):
            zf.writestr(zipfile.ZipInfo(f.relative_to(src).as_posix(), ZIP_TIME),
                        f.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)
    return out


def make_zip(tmp_path: Path, name: str = "bundle.aura", **kw: Any) -> Path:
    """A fresh copy of the toy bundle as a ``.aura`` zip under ``tmp_path``."""
    src = make_dir(tmp_path, name + ".src", **kw)
    return zip_dir(src, tmp_path / name)


def zip_symlink(out: Path, src: Path, link_name: str, target: str) -> Path:
    """Zip a bundle directory plus a member stored as a Unix symlink."""
    zip_dir(src, out)
    with zipfile.ZipFile(out, "a") as zf:
        info = zipfile.ZipInfo(link_name, ZIP_TIME)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return out


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    return json.loads((bundle_dir / "manifest.json").read_text())


def write_manifest(bundle_dir: Path, data: dict[str, Any]) -> None:
    (bundle_dir / "manifest.json").write_text(json.dumps(data, indent=2))


def reseal(bundle_dir: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Recompute the files table from what is on disk (after an edit), like a forger would."""
    data = read_manifest(bundle_dir)
    if edit is not None:
        edit(data)
    for name in data["files"]:
        blob = (bundle_dir / name).read_bytes()
        data["files"][name] = {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    write_manifest(bundle_dir, data)


def flip_byte(path: Path, offset: int) -> None:
    blob = bytearray(path.read_bytes())
    blob[offset % len(blob)] ^= 0xFF
    path.write_bytes(bytes(blob))


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``aura ARGV`` in-process; return the exit code and stdout + stderr."""
    capsys.readouterr()
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def scratch(name: str) -> Path:
    """A fresh directory that outlives one test (for hypothesis, which dislikes tmp_path)."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ROOT))
