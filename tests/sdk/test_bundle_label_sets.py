"""Label sets in the manifest: the schema accepts and refuses, the reader checks the labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_bundle_support import cli, make_dir, read_manifest, reseal

from aura_sdk import BundleCompatibilityError, BundleFormatError
from aura_sdk.bundle import (
    TrustPolicy,
    manifest_to_bytes,
    parse_manifest,
    read_bundle,
    verify_bundle,
)

OFF = TrustPolicy(mode="off")
SETS = {"everyday": ["still", "walking"], "sport-2": ["running", "waving", "walking"]}


def _with_sets(bundle: Path, sets: object) -> None:
    def edit(data: dict[str, object]) -> None:
        data["label_sets"] = sets

    reseal(bundle, edit)


def test_a_manifest_without_label_sets_loads_and_keeps_its_bytes(tmp_path: Path) -> None:
    bundle = make_dir(tmp_path)
    raw = (bundle / "manifest.json").read_bytes()
    assert "label_sets" not in json.loads(raw)  # as written before the field existed
    m = parse_manifest(raw)
    assert m.label_sets == {}
    assert "label_sets" not in json.loads(manifest_to_bytes(m))


def test_label_sets_round_trip_through_the_manifest(tmp_path: Path) -> None:
    bundle = make_dir(tmp_path)
    _with_sets(bundle, SETS)
    loaded = read_bundle(bundle, OFF)
    assert loaded.manifest.label_sets == {k: tuple(v) for k, v in SETS.items()}
    again = parse_manifest(manifest_to_bytes(loaded.manifest))
    assert again == loaded.manifest
    assert json.loads(manifest_to_bytes(again))["label_sets"] == SETS


@pytest.mark.parametrize(("sets", "why"), [
    ({"all": ["still"]}, "implicit"),
    ({"Everyday": ["still"]}, "lower-case"),
    ({"1st": ["still"]}, "lower-case"),
    ({"a" * 33: ["still"]}, "lower-case"),
    ({"my set": ["still"]}, "lower-case"),
    ({"empty": []}, "1-4096 labels"),
    ({"twice": ["still", "walking", "still"]}, "repeats labels"),
    ({"blank": ["still", " "]}, "empty label"),
    ({"typed": "still"}, "label_sets"),
    ({"typed": [1, 2]}, "label_sets"),
])
def test_the_schema_refuses_bad_label_sets(tmp_path: Path, sets: object, why: str) -> None:
    bundle = make_dir(tmp_path)
    _with_sets(bundle, sets)
    raw = (bundle / "manifest.json").read_bytes()
    with pytest.raises(BundleFormatError, match="label_sets") as info:
        parse_manifest(raw)
    assert why in str(info.value)


def test_the_longest_name_and_every_allowed_character_pass(tmp_path: Path) -> None:
    bundle = make_dir(tmp_path)
    name = "a" + "b" * 27 + "0_-9"
    assert len(name) == 32
    _with_sets(bundle, {name: ["waving"]})
    assert list(read_bundle(bundle, OFF).manifest.label_sets) == [name]


def test_the_reader_refuses_a_set_naming_a_label_without_prototype(tmp_path: Path) -> None:
    bundle = make_dir(tmp_path)
    _with_sets(bundle, {"everyday": ["still", "flying"], "fine": ["walking"]})
    report = verify_bundle(bundle, OFF)
    assert not report.ok and len(report.defects) == 1
    defect = report.defects[0]
    assert isinstance(defect, BundleCompatibilityError)
    msg = str(defect)
    assert "'everyday'" in msg and "'flying'" in msg and "manifest.json" in msg
    assert "with_label_sets" in msg  # the fix
    with pytest.raises(BundleCompatibilityError, match="flying"):
        read_bundle(bundle, OFF)


def test_aura_bundle_info_shows_the_label_sets(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bundle = make_dir(tmp_path)
    _with_sets(bundle, SETS)
    rc, out = cli(capsys, "bundle", "info", str(bundle))
    assert rc == 0
    assert "label sets (default 'everyday'): everyday (2), sport-2 (3), all (4)" in out
    assert "    sport-2: running, waving, walking" in out
    rc, out = cli(capsys, "bundle", "info", str(bundle), "--json")
    info, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    assert info["label_sets"] == SETS and info["default_label_set"] == "everyday"
    plain = make_dir(tmp_path, "plain")
    rc, out = cli(capsys, "bundle", "info", str(plain), "--json")
    info, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    assert info["label_sets"] == {} and info["default_label_set"] == "all"
    assert read_manifest(plain).get("label_sets") is None
