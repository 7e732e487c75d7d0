"""Closed-set accuracy of a bundle per label set (``aura eval --bundle --label-sets``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from plot_support import blue_share, read_confusion_png

from aura_export import run_encoder, toy_encoder_onnx
from aura_sdk import ConfigError, ModelInputSpec, load_bundle
from aura_sdk.bundle import Prototypes, ScoringSpec, write_bundle
from aura_training.cli_eval import main
from aura_training.corpus import CorpusReader
from aura_training.corpus._synth import SynthConfig, synthesize_corpus
from aura_training.eval import eval_windows, evaluate_label_sets

SPEC = ModelInputSpec(sample_rate_hz=20.0, window_samples=100, hop_samples=50, gravity="either")
DIM = 24


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sets") / "corpus"
    cfg = SynthConfig(minutes=4.0, seed=13, activity_weights={}, shard_seconds=60.0,
                      subjects=5, val_subjects=0.1,
                      test_subjects=0.45, session_s=(20.0, 30.0), segment_s=(10.0, 20.0),
                      video=False)
    synthesize_corpus(root, cfg, workers=1)
    return root


def _test_windows(corpus: Path) -> tuple[np.ndarray, list[str]]:
    ws = list(eval_windows(CorpusReader(corpus, "test", modalities=("imu",)), SPEC,
                           modalities=("imu",)))
    return np.stack([w.imu for w in ws]), [w.activity for w in ws]


@pytest.fixture(scope="module")
def bundle(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    x, acts = _test_windows(corpus)
    onnx = toy_encoder_onnx(SPEC.window_samples, DIM, 5)
    emb = run_encoder(onnx, x)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = [*sorted(set(acts)), "flying"]  # a label the split never shows
    rng = np.random.default_rng(0)
    rows = []
    for lab in labels:  # nearest-centroid prototypes, plus noise so the sets disagree
        c = emb[[a == lab for a in acts]].mean(axis=0) if lab in acts else rng.normal(size=DIM)
        c = c / np.linalg.norm(c) + rng.normal(scale=0.3, size=DIM)
        rows.append(c / np.linalg.norm(c))
    sets = {"everyday": (labels[0], labels[1]), "odd": (labels[-2], "flying"),
            "ghost": ("flying",)}
    out = tmp_path_factory.mktemp("bundle") / "sets.aura"
    write_bundle(out, name="sets", version="1", input_spec=SPEC, encoders={"fp32": onnx},
                 prototypes=Prototypes(tuple(labels), np.stack(rows).astype(np.float32)),
                 scoring=ScoringSpec(temperature=0.1), model_card="# sets", label_sets=sets)
    return out, {"x": x, "acts": acts, "emb": emb, "labels": labels, "sets": sets,
                 "protos": np.stack(rows)}


def test_each_set_scores_only_its_windows_among_its_labels(corpus: Path, bundle) -> None:
    path, ref = bundle
    model = load_bundle(path)
    result = evaluate_label_sets(model, corpus, split="test")
    assert list(result["label_sets"]) == ["everyday", "ghost", "odd", "all"]
    acts = np.array(ref["acts"])
    for name in ("everyday", "odd", "all"):
        labels = list(ref["sets"].get(name, ref["labels"]))
        rows = np.flatnonzero(np.isin(acts, labels))
        cols = [ref["labels"].index(x) for x in labels]
        pred = np.argmax(ref["emb"][rows] @ ref["protos"][cols].T, axis=1)
        truth = np.array([labels.index(a) for a in acts[rows]])
        r = result["label_sets"][name]
        assert r["n"] == rows.size > 0 and r["labels"] == labels
        assert r["accuracy"] == pytest.approx(float(np.mean(pred == truth)))
        assert 0.0 <= r["macro_f1"] <= 1.0
    assert "flying" in result["label_sets"]["odd"]["labels_without_windows"]
    assert result["label_sets"]["ghost"]["skipped"].startswith("no window")
    assert result["data"]["windows"] == len(ref["acts"])
    assert result["bundle"]["default_label_set"] == "everyday"
    with pytest.raises(ConfigError, match="not a label set"):
        evaluate_label_sets(model, corpus, label_sets=["gym"])


def test_bouts_pool_each_activity_stretch_of_a_clip_into_one_decision(
        corpus: Path, bundle, tmp_path: Path) -> None:
    path, ref = bundle
    model = load_bundle(path)
    ws = list(eval_windows(CorpusReader(corpus, "test", modalities=("imu",)), SPEC,
                           modalities=("imu",)))
    # the bouts by hand: successive windows of one clip and one activity
    bouts: list[list[int]] = []
    for i, w in enumerate(ws):
        if i and (w.clip_id, w.activity) == (ws[i - 1].clip_id, ws[i - 1].activity):
            bouts[-1].append(i)
        else:
            bouts.append([i])
    assert len(bouts) < len(ws)  # some bouts hold several windows
    result = evaluate_label_sets(model, corpus, split="test", bouts=True,
                                 label_sets=["all"], out_dir=tmp_path / "bouts")
    r = result["label_sets"]["all"]
    assert result["data"]["bouts"] == r["n"] == len(bouts)
    assert result["data"]["windows"] == len(ws) and result["settings"]["per"] == "bout"
    # each bout is decided from the renormalised mean of its windows' embeddings
    emb, protos = ref["emb"], ref["protos"]
    mean = np.stack([emb[b].mean(axis=0) for b in bouts])
    pred = np.argmax(mean @ protos.T, axis=1)
    truth = np.array([ref["labels"].index(ws[b[0]].activity) for b in bouts])
    assert r["accuracy"] == pytest.approx(float(np.mean(pred == truth)))
    # without bouts, the windows are scored one by one as before
    per_window = evaluate_label_sets(model, corpus, split="test", label_sets=["all"])
    assert per_window["label_sets"]["all"]["n"] == len(ws)
    assert per_window["settings"]["per"] == "window" and per_window["data"]["bouts"] is None
    report = (tmp_path / "bouts" / "report.md").read_text()
    assert f"each of the {len(bouts)} bouts" in report
    assert "| label set | labels | bouts |" in report


def test_aura_eval_bundle_label_sets(corpus: Path, bundle, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = bundle
    out = tmp_path / "eval"
    assert main(["--bundle", str(path), "--data", str(corpus), "--out", str(out),
                 "--label-sets", "everyday,odd", "--precision", "fp32"]) == 0
    printed = capsys.readouterr().out
    assert "everyday" in printed and "odd" in printed and "accuracy" in printed
    data = json.loads((out / "eval.json").read_text())
    assert list(data["label_sets"]) == ["everyday", "odd"]
    assert data["command"].startswith(f"aura eval --bundle {path}")
    assert "--label-sets everyday,odd --precision fp32" in data["command"]
    report = (out / "report.md").read_text()
    assert "| `everyday` | 2 |" in report and "| `odd` | 2 |" in report
    n, rgb = read_confusion_png(out / "confusion_odd.png")
    assert n == 2 and blue_share(rgb) > 0.2  # the two labels of `odd`, drawn
    # without --label-sets: the closed set of every label only
    assert main(["--bundle", str(path), "--data", str(corpus), "--out", str(tmp_path / "all")]
                ) == 0
    assert list(json.loads((tmp_path / "all" / "eval.json").read_text())["label_sets"]) == ["all"]
    assert main(["--bundle", str(path), "--data", str(corpus), "--out", str(out),
                 "--label-sets", "gym"]) == 1
    assert "not a label set" in capsys.readouterr().err
    # --bouts: recorded in the command; refused where there is no bundle to score
    assert main(["--bundle", str(path), "--data", str(corpus), "--out", str(tmp_path / "b"),
                 "--label-sets", "everyday", "--bouts"]) == 0
    assert "bouts" in capsys.readouterr().out
    assert json.loads((tmp_path / "b" / "eval.json").read_text())["command"].endswith(
        "--label-sets everyday --bouts")
    assert main(["--checkpoint", str(tmp_path), "--data", str(corpus), "--out", str(out),
                 "--bouts"]) == 1
    assert "--bouts scores a bundle's label sets" in capsys.readouterr().err


def test_the_bundle_evaluation_needs_no_torch(corpus: Path, bundle) -> None:
    path, _ = bundle
    code = ("import sys; from aura_sdk import load_bundle; "
            "from aura_training.eval import evaluate_label_sets; "
            f"evaluate_label_sets(load_bundle({str(path)!r}), {str(corpus)!r}); "
            "sys.exit(int('torch' in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


DEFAULT = Path(__file__).resolve().parents[2] / "sdk" / "aura_sdk" / "models" / "default.aura"


@pytest.mark.skipif(not DEFAULT.is_file(), reason="no embedded default bundle in this build")
def test_each_window_gets_the_label_classify_gives_it() -> None:
    """aura eval --bundle scores through the device's scorer: each window's prediction is
    classify's first label for that window's samples, and the unknown rate is recognize's.
    The clips are at the model's rate, where the preprocessing of a window alone and of the
    whole clip give the same samples (see tests/sdk/test_one_scoring_path.py)."""
    from aura_sdk import SensorSpec
    from aura_sdk.sim import synthetic_wrist
    from aura_training.corpus import ImuStream, Sample, TimelineEntry

    model = load_bundle(threads=1)
    rate = model.input_spec.sample_rate_hz
    win = model.input_spec.window_samples
    spec = SensorSpec(sample_rate_hz=rate, placement="wrist")
    # two enrolled labels: "all" then scores with the few-shot head and its feature rows
    other = synthetic_wrist(15.0, rate, seed=9)
    model.enroll("holding still", [other.imu[: int(4 * rate)]], spec, persist=False)
    model.enroll("swinging an arm", [other.imu[int(5.5 * rate): int(9.5 * rate)]], spec,
                 persist=False)
    truths = ["standing", "sitting", "walking", "holding still", "swinging an arm", "walking"]
    clips, raw = [], []
    for k, activity in enumerate(truths):
        # two windows per clip from 19.5 s of a wrist: the end of its swing and its turn,
        # where the head and the zero-shot cosine rank the enrolled two differently
        a = int(19.5 * rate)
        imu = synthetic_wrist(30.0, rate, seed=20 + k).imu[a: a + 2 * win]
        t = np.arange(len(imu)) / rate
        stream = ImuStream(t=t, data=imu.astype(np.float32),
                           spec=SensorSpec(sample_rate_hz=rate), location="left_wrist")
        clips.append(Sample(clip_id=f"c{k}", source="synth", split="test", subject=f"s{k}",
                            duration_s=len(imu) / rate, imu={"left_wrist": stream},
                            timeline=(TimelineEntry(0.0, len(imu) / rate, activity),)))
        raw += [(activity, stream.data[i * win: (i + 1) * win]) for i in range(2)]
    result = evaluate_label_sets(model, clips, label_sets=["everyday", "all"], split="test")
    assert result["data"]["windows"] == len(raw) == 12
    for name in ("everyday", "all"):
        labels = model.resolve_labels(name)
        confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
        unknown, right, outside = [], [], []
        for activity, x in raw:
            decision = model.recognize(x, spec, labels=name)
            if activity not in labels:
                outside.append(decision.unknown)
                continue
            first = next(iter(model.classify(x, spec, labels=name)))
            confusion[labels.index(activity), labels.index(first)] += 1
            unknown.append(decision.unknown)
            right.append(first == activity)
        r = result["label_sets"][name]
        assert r["n"] == len(unknown) == (8 if name == "everyday" else 12)
        np.testing.assert_array_equal(r["confusion"], confusion)
        assert r["unknown_rate"] == pytest.approx(float(np.mean(unknown)), abs=1e-12)
        lost, hit = np.array(unknown), np.array(right)
        assert r["correct_rejected"] == (pytest.approx(float(lost[hit].mean()), abs=1e-12)
                                         if hit.any() else None)
        assert r["accuracy_decided"] == pytest.approx(float(np.mean(hit & ~lost)), abs=1e-12)
        # the enrolled two are outside "everyday"; "all" has no outside windows
        assert r["outside_windows"] == len(outside) == (4 if name == "everyday" else 0)
        assert r["outside_rejected"] == (pytest.approx(float(np.mean(outside)), abs=1e-12)
                                         if outside else None)
    # both outcomes of the rejection occur, and the head's labels win windows of "all"
    rates = [r["unknown_rate"] for r in result["label_sets"].values()]
    assert min(rates) < 1.0 and max(rates) > 0.0, rates
    per_class = result["label_sets"]["all"]["per_class"]
    assert per_class["holding still"]["predicted"] + per_class["swinging an arm"]["predicted"] > 0


def test_eval_windows_tell_the_upright_only_to_placements_that_read_it(corpus: Path) -> None:
    """``upright="mount"`` turns each clip's stream by the corpus mounting's up and reads
    its placement with the upright suffix; ``"estimate"`` does the same where the clip's own
    walking finds an upright (near the mounting's), and counts the windows without one;
    a model that lists no such placement gets the plain windows whatever the mode."""
    from aura_sdk.preprocessing import UPRIGHT_AXES, UPRIGHT_SUFFIX, upright_rotation
    from aura_training.eval._inputs import clip_imu_windows, clip_upright

    def read() -> CorpusReader:
        return CorpusReader(corpus, "test", modalities=("imu",))

    plain = list(eval_windows(read(), SPEC, modalities=("imu",)))
    unread = list(eval_windows(read(), SPEC, modalities=("imu",), upright="mount",
                               upright_placements=("wrist",)))
    assert all(np.array_equal(a.imu, b.imu) and b.placement == "wrist"
               for a, b in zip(plain, unread, strict=True))
    known = ("wrist", "wrist" + UPRIGHT_SUFFIX)
    mounted = list(eval_windows(read(), SPEC, modalities=("imu",), upright="mount",
                                upright_placements=known))
    assert len(mounted) == len(plain)
    turned_any = False
    for sample in read():
        loc = "left_wrist"
        up = clip_upright(sample, loc, "mount")
        if up is None:
            assert sample.imu[loc].spec.gravity_removed
            continue
        mount = np.asarray(sample.params["imu"][loc]["mount_rot"])
        np.testing.assert_allclose(up, mount.T @ UPRIGHT_AXES["wrist"])
        want = clip_imu_windows(sample, SPEC, location=loc,
                                turn=upright_rotation(up, "wrist"))
        got = [w for w in mounted if w.clip_id == sample.clip_id]
        assert want is not None and got
        assert all(w.placement == "wrist" + UPRIGHT_SUFFIX for w in got)
        rows = {float(t): i for i, t in enumerate(want.t_start)}
        for w in got:
            np.testing.assert_allclose(w.imu, want.x[rows[w.start_s]], atol=1e-6)
        turned_any = True
    assert turned_any
    from aura_training.eval import WindowStats

    stats = WindowStats()
    est_ws = list(eval_windows(read(), SPEC, modalities=("imu",), upright="estimate",
                               upright_placements=known, stats=stats))
    # a wrist's upright is never guessed from its rhythm (chores and sports repeat too)
    assert not any(w.placement == "wrist" + UPRIGHT_SUFFIX for w in est_ws)
    assert stats.missing.get("upright", 0) == len(est_ws) > 0
    found = 0
    for sample in read():
        loc = next((k for k in sample.imu if k.endswith("_waist")), None)
        if loc is None:
            continue
        est, up = clip_upright(sample, loc, "estimate"), clip_upright(sample, loc, "mount")
        if est is not None and up is not None:  # a belt's walking gives its mounting's up
            assert float(est @ up) > np.cos(np.radians(20.0))
            found += 1
    assert found > 0
