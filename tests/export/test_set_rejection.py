"""Unknown rejection fitted per label set, and refitted on an existing bundle (--rescore)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_export_support import ACTIVITIES, SPEC, TinyEncoder, trained_student, val_windows

from aura_export import WindowSet, choose_scoring, export_bundle, rescore_bundle, with_label_sets
from aura_sdk import ConfigError, load_bundle
from aura_sdk.bundle import (
    Prototypes,
    ScoringSpec,
    SetRejection,
    TrustPolicy,
    manifest_to_bytes,
    parse_manifest,
    read_bundle,
)
from aura_sdk.cli import main as aura_main


def _validation(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Windows labelled 'a' spread from prototype a toward c (past halfway many lose to c among
    all three labels, but win among the set {a, b}); clear 'b' and 'c' windows."""
    theta = np.deg2rad(np.linspace(5, 80, 60))
    a = np.column_stack([np.cos(theta), rng.uniform(0, 0.05, 60), np.sin(theta)])
    b = np.column_stack([rng.uniform(0, 0.1, 30), np.linspace(0.7, 1.0, 30),
                         rng.uniform(0, 0.1, 30)])
    c = np.column_stack([rng.uniform(0, 0.1, 30), rng.uniform(0, 0.1, 30),
                         np.linspace(0.7, 1.0, 30)])
    return np.vstack([a, b, c]), ["a"] * 60 + ["b"] * 30 + ["c"] * 30


def test_a_label_set_gets_bounds_fitted_among_its_own_labels() -> None:
    protos = Prototypes(("a", "b", "c"), np.eye(3, dtype=np.float32))
    emb, labels = _validation(np.random.default_rng(0))
    choice = choose_scoring(0.1, emb, labels, protos, keep=0.9,
                            label_sets={"ab": ("a", "b"), "solo": ("c",), "few": ("a", "zz")})
    # only 'ab' qualifies: 'solo' has one label, 'few' one label with a prototype
    assert set(choice.sets) == {"ab"} and set(choice.spec.label_sets) == {"ab"}
    ab = choice.sets["ab"]
    assert ab.n_windows == 90  # the 'a' and 'b' windows; 'c' ones are not the set's
    # among {a, b} the 'a' windows far toward c are correct with low similarity
    assert ab.rejection.unknown_threshold < choice.spec.unknown_threshold - 0.1
    assert ab.kept_correct >= 0.9
    # the all-label bounds applied to the set's decisions would reject far more than 10 %
    from aura_sdk.live import Scorer

    rows = [i for i, x in enumerate(labels) if x in ("a", "b")]
    truth = np.array([("a", "b").index(labels[i]) for i in rows])
    for bounds, lo, hi in [((choice.spec.unknown_threshold, choice.spec.unknown_margin), 0, 0.8),
                           ((ab.rejection.unknown_threshold, ab.rejection.unknown_margin), 0.9,
                            1.0)]:
        s = Scorer(("a", "b"), protos.embeddings[:2], 0.1, *bounds)
        d = s.decide_all(*s.score(emb[rows]))
        kept = float(np.mean(~d.unknown[d.best == truth]))
        assert lo <= kept <= hi, (bounds, kept)
    metrics = choice.as_metrics()
    assert metrics["scoring.ab.validation_kept_correct"] == pytest.approx(ab.kept_correct)
    # no set fitted without enough correct windows: the all-label bounds stay in charge
    few = choose_scoring(0.1, emb[:70], labels[:70], protos, label_sets={"ab": ("a", "b")})
    assert "ab" in few.sets
    none = choose_scoring(0.1, emb[60:65], labels[60:65], protos, label_sets={"ab": ("a", "b")})
    assert none.sets == {} and none.source.startswith("defaults")


def test_the_manifest_keeps_set_bounds_only_for_declared_sets(tmp_path: Path) -> None:
    spec = ScoringSpec(temperature=0.1, unknown_threshold=0.3, unknown_margin=0.01,
                       label_sets={"ab": SetRejection(unknown_threshold=0.2,
                                                      unknown_margin=0.02)})
    assert spec.rejection("ab") == (0.2, 0.02)
    assert spec.rejection("cd") == (0.3, 0.01) and spec.rejection(None) == (0.3, 0.01)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        SetRejection(unknown_threshold=float("nan"), unknown_margin=0.0)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        SetRejection(unknown_threshold=0.1, unknown_margin=-0.1)
    out = tmp_path / "b.aura"
    export_bundle(TinyEncoder(), SPEC, out, labels=list(ACTIVITIES[:4]), precisions=("fp32",),
                  calibration=val_windows().x[:8], aliases=False,
                  label_sets={"moving": ACTIVITIES[1:4]})
    m = read_bundle(out, TrustPolicy(mode="off")).manifest
    assert m.scoring.label_sets == {}  # no validation windows: nothing fitted
    raw = json.loads(manifest_to_bytes(m))
    assert "label_sets" not in raw["scoring"]  # old readers and fingerprints unchanged
    raw["scoring"]["label_sets"] = {"moving": {"unknown_threshold": 0.1, "unknown_margin": 0}}
    assert parse_manifest(json.dumps(raw).encode()).scoring.rejection("moving") == (0.1, 0.0)
    raw["scoring"]["label_sets"] = {"nope": {"unknown_threshold": 0.1, "unknown_margin": 0}}
    with pytest.raises(Exception, match="not declared label sets"):
        parse_manifest(json.dumps(raw).encode())


def test_rescore_fits_every_set_and_the_device_uses_them(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    src = tmp_path / "src.aura"
    sets = {"everyday": ACTIVITIES[:5], "sport": ACTIVITIES[5:]}
    export_bundle(trained_student(), SPEC, src, labels=list(ACTIVITIES), precisions=("fp32",),
                  calibration=val_windows().x[:8], aliases=False, label_sets=sets,
                  version="1.0.0")
    before = read_bundle(src, TrustPolicy(mode="off"))
    assert before.manifest.scoring.unknown_threshold == 0.0  # exported without validation
    out = tmp_path / "rescored.aura"
    result = rescore_bundle(src, out, val_windows(), keep=0.9, version="1.0.1")
    m = result.manifest
    assert m.version == "1.0.1" and m.created == before.manifest.created
    assert m.encoder == before.manifest.encoder and m.label_sets == before.manifest.label_sets
    after = read_bundle(out, TrustPolicy(mode="off"))
    for name in (*m.encoder.files.as_dict().values(), m.prototypes_file):
        assert after.files[name] == before.files[name], name
    assert m.scoring.temperature == before.manifest.scoring.temperature
    assert m.scoring.unknown_threshold > 0  # fitted now
    assert m.scoring.label_sets and set(m.scoring.label_sets) <= set(sets)
    assert m.scoring.label_sets == {
        k: c.rejection for k, c in result.scoring.sets.items()}
    assert m.training["rescore"]["from_version"] == "1.0.0"  # type: ignore[index]
    assert m.metrics["scoring.unknown_threshold"] == m.scoring.unknown_threshold
    assert "--rescore" in after.model_card
    model = load_bundle(out)
    for name, r in m.scoring.label_sets.items():
        s = model.scorer(name)
        assert (s.unknown_threshold, s.unknown_margin) == (r.unknown_threshold,
                                                           r.unknown_margin)
    default = model.scorer(None)  # the default set is "everyday"
    want = m.scoring.rejection("everyday")
    assert (default.unknown_threshold, default.unknown_margin) == want
    words = model.scorer(["walking", "running"])  # free lists use the all-label bounds
    assert words.unknown_threshold == m.scoring.unknown_threshold
    assert model.scorer("everyday", unknown_threshold=0.5).unknown_threshold == 0.5
    # a set whose labels change loses its fitted bounds; one left alone keeps them
    kept = with_label_sets(out, tmp_path / "relabelled.aura",
                           {"everyday": ACTIVITIES[:4], "sport": ACTIVITIES[5:]})
    assert "everyday" not in kept.scoring.label_sets
    assert kept.scoring.label_sets.get("sport") == m.scoring.label_sets.get("sport")
    # the CLI: refuses without validation windows, prints the fitted sets
    capsys.readouterr()
    assert aura_main(["export", "--rescore", str(src), "--out", str(tmp_path / "x.aura")]) != 0
    assert "--rescore needs --validation" in capsys.readouterr().err
    assert not (tmp_path / "x.aura").exists()
    bad = WindowSet(val_windows().x[:, :100], val_windows().labels, "short")
    with pytest.raises(ConfigError, match="preprocess them"):
        rescore_bundle(src, tmp_path / "y.aura", bad)
    nothing = WindowSet(val_windows().x[:3], ("flying",) * 3, "strangers")
    with pytest.raises(ConfigError, match="left as it was"):
        rescore_bundle(src, tmp_path / "z.aura", nothing)
    assert not (tmp_path / "y.aura").exists() and not (tmp_path / "z.aura").exists()
