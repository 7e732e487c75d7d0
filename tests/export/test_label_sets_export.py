"""Label sets on the server side: the catalogue, the exporter writes them, with_label_sets."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from test_export_support import SPEC, TinyEncoder, val_windows

from aura_export import (
    DEFAULT_LABELS,
    LABEL_SETS,
    catalogue_label_sets,
    export_bundle,
    with_label_sets,
    write_example_bundle,
)
from aura_sdk import ConfigError, UntrustedBundleError, load_bundle
from aura_sdk.bundle import TrustPolicy, generate_keypair, read_bundle, sign_bundle
from aura_sdk.cli import main as aura_main


def test_the_catalogue_sets_name_only_catalogue_labels() -> None:
    assert {"everyday", "locomotion", "exercise", "sports", "household"} <= set(LABEL_SETS)
    for name, labels in LABEL_SETS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name) and name != "all"
        assert labels and len(set(labels)) == len(labels), name
        assert set(labels) <= set(DEFAULT_LABELS), (name, set(labels) - set(DEFAULT_LABELS))
    everyday = LABEL_SETS["everyday"]
    assert 10 <= len(everyday) <= 14
    assert {"standing", "sitting", "lying down", "walking", "running", "walking upstairs",
            "walking downstairs", "cycling", "eating"} <= set(everyday)


def test_catalogue_sets_keep_only_sets_the_vocabulary_covers() -> None:
    assert catalogue_label_sets(DEFAULT_LABELS) == dict(LABEL_SETS)
    music = LABEL_SETS["music"]
    assert catalogue_label_sets([*music, "flying"]) == {"music": music}
    assert catalogue_label_sets(["walking"]) == {}


def _export(out: Path, **kw: object):  # type: ignore[no-untyped-def]
    labels = [*LABEL_SETS["music"], "walking"]
    return export_bundle(TinyEncoder(), SPEC, out, labels=labels, precisions=("fp32",),
                         calibration=val_windows().x[:8], aliases=False, **kw)  # type: ignore[arg-type]


def test_the_exporter_writes_the_sets_its_vocabulary_covers(tmp_path: Path) -> None:
    result = _export(tmp_path / "music.aura")
    assert result.manifest.label_sets == {"music": LABEL_SETS["music"]}
    model = load_bundle(tmp_path / "music.aura", precision="fp32")
    assert model.default_label_set == "all"  # no "everyday" in this vocabulary
    assert model.resolve_labels("music") == list(LABEL_SETS["music"])
    own = _export(tmp_path / "own.aura", label_sets={"everyday": ("walking", "sitting")})
    assert own.manifest.label_sets == {"everyday": ("walking", "sitting")}
    assert load_bundle(tmp_path / "own.aura").resolve_labels(None) == ["walking", "sitting"]
    assert _export(tmp_path / "none.aura", label_sets={}).manifest.label_sets == {}
    with pytest.raises(ConfigError, match=r"'gym'.*'rowing'"):
        _export(tmp_path / "bad.aura", label_sets={"gym": ("walking", "rowing")})
    assert not (tmp_path / "bad.aura").exists()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_with_label_sets_copies_everything_but_the_sets(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    src = tmp_path / "toy.aura"
    write_example_bundle(src, window_samples=100, sample_rate_hz=50.0, embedding_dim=32,
                         with_text_projection=True)
    sets = {"everyday": ("still", "walking"), "sport": ("running", "waving")}
    copy = tmp_path / "copy.aura"
    manifest = with_label_sets(src, copy, sets)
    before = read_bundle(src, TrustPolicy(mode="off"))
    after = read_bundle(copy, TrustPolicy(mode="off"))
    assert manifest == after.manifest and after.manifest.label_sets == sets
    for field in ("name", "version", "created", "input", "encoder", "scoring", "text_encoder",
                  "producer", "training", "metrics", "files"):
        assert getattr(after.manifest, field) == getattr(before.manifest, field), field
    assert {k: _sha(v) for k, v in after.files.items()} == \
        {k: _sha(v) for k, v in before.files.items()}
    capsys.readouterr()
    assert aura_main(["bundle", "verify", str(copy)]) == 0
    assert "everyday (2), sport (2), all (4)" in capsys.readouterr().out
    # replaced, not merged; and written in place
    with_label_sets(copy, copy, {"calm": ("still",)}, overwrite=True)
    assert read_bundle(copy, TrustPolicy(mode="off")).manifest.label_sets == {"calm": ("still",)}
    with pytest.raises(ConfigError, match="already exists"):
        with_label_sets(src, copy, sets)
    with pytest.raises(ConfigError, match=r"'sport'.*'jumping'"):
        with_label_sets(src, tmp_path / "bad.aura", {"sport": ("running", "jumping")})
    with pytest.raises(ConfigError, match="invalid bundle manifest"):
        with_label_sets(src, tmp_path / "bad.aura", {"all": ("running",)})
    assert not (tmp_path / "bad.aura").exists()
    # the toy's labels cover no catalogue set: None writes none
    assert with_label_sets(src, tmp_path / "none.aura").label_sets == {}


def test_with_label_sets_drops_or_renews_the_signature(tmp_path: Path) -> None:
    key, pub = generate_keypair(tmp_path / "signer")
    src = tmp_path / "toy.aura"
    write_example_bundle(src, window_samples=100, sample_rate_hz=50.0, embedding_dim=32)
    sign_bundle(src, key)
    require = TrustPolicy(mode="require", trusted_keys=(pub,))
    unsigned = tmp_path / "unsigned.aura"
    with_label_sets(src, unsigned, {"everyday": ("still",)}, trust=require)
    with pytest.raises(UntrustedBundleError):
        read_bundle(unsigned, require)
    signed = tmp_path / "signed.aura"
    with_label_sets(src, signed, {"everyday": ("still",)}, signing_key=key)
    assert read_bundle(signed, require).manifest.label_sets == {"everyday": ("still",)}
