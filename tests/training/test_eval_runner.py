"""The evaluation runner end to end on a tiny synthetic corpus, its report and the comparison."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plot_support import blue_share, read_confusion_png

from aura_sdk import ConfigError, ModelInputSpec
from aura_training.corpus import CorpusReader, load_manifest
from aura_training.corpus._synth import SynthConfig, synthesize_corpus
from aura_training.eval import (
    PAPER_REFERENCE,
    ComparisonRun,
    ComparisonSection,
    ComparisonSpec,
    classification_metrics,
    load_eval,
    write_comparison,
)

torch = pytest.importorskip("torch")

from aura_training.eval import EvalConfig, FinetuneConfig, evaluate  # noqa: E402
from aura_training.models import MultiModalEncoder  # noqa: E402

SPEC = ModelInputSpec(sample_rate_hz=20.0, window_samples=100, hop_samples=50)
IMU = {"kind": "imu_transformer", "sample_rate_hz": 20.0, "window_s": 5.0, "patch_size": 10,
       "dim": 32, "depth": 1, "heads": 2, "mlp_dim": 64, "embed_dim": 384}
VIDEO = {"preset": "video-cnn", "frame_size": 32, "widths": [8, 8], "groups": 4}
MOCAP = {"preset": "mocap-cnn", "widths": [16, 16], "groups": 4}
QUICK = FinetuneConfig(epochs=2, batch_size=16)
HOP = 2.5  # half-window hop: more windows from a tiny corpus


def _model(seed: int, modalities: dict[str, Any]) -> MultiModalEncoder:
    torch.manual_seed(seed)
    return MultiModalEncoder.from_configs(modalities)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # seed 13: the test split holds 2 activities seen in train and 4 that train never has
    root = tmp_path_factory.mktemp("eval") / "corpus"
    cfg = SynthConfig(minutes=5.0, seed=13, activity_weights={}, shard_seconds=60.0,
                      subjects=5, val_subjects=0.1,
                      test_subjects=0.45, session_s=(20.0, 30.0), segment_s=(10.0, 20.0),
                      video_size=32)
    synthesize_corpus(root, cfg, workers=1)
    return root


@pytest.fixture(scope="module")
def runs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    four = _model(0, {"imu": IMU, "text": "text-minilm", "video": VIDEO, "mocap": MOCAP})
    evaluate(four, SPEC, corpus, EvalConfig(hop_s=HOP, finetune_config=QUICK), out_dir=out / "four",
             checkpoint={"path": "runs/four/checkpoints", "sha256": "ab" * 32, "step": 7},
             command=f"aura eval --checkpoint runs/four --data {corpus} --out {out / 'four'}")
    text_only = _model(1, {"imu": IMU, "text": "text-minilm"})
    evaluate(text_only, SPEC, corpus, EvalConfig(hop_s=HOP, finetune=False), out_dir=out / "text",
             command=f"aura eval --checkpoint runs/text --data {corpus} --out {out / 'text'} "
             "--no-finetune")
    return {"four": out / "four", "text": out / "text"}


def test_report_has_every_section_and_its_figures(runs: dict[str, Path]) -> None:
    report = (runs["four"] / "report.md").read_text()
    for heading in ("# AURA evaluation: test split", "## Provenance", "## Cross-modal retrieval",
                    "## Zero-shot classification", "### Activities seen in training",
                    "### Activities held out of training (true zero-shot)",
                    "### All activities of the split", "## Linear probe",
                    "## Fine-tune transfer", "## Timing"):
        assert heading in report
    assert "Skipped" not in report
    assert "aura eval --checkpoint runs/four" in report and "abababababababab" in report
    for png in ("confusion_seen.png", "confusion_held_out.png", "confusion_all.png",
                "confusion_probe.png", "confusion_finetune.png"):
        assert f"]({png})" in report
        n, rgb = read_confusion_png(runs["four"] / png)
        assert n >= 2 and blue_share(rgb) > 0.2, png  # the matrix is drawn, not just the axes
    r = json.loads((runs["four"] / "eval.json").read_text())
    mrr = r["retrieval"]["imu->mocap"]["mrr"]
    assert f"| imu → mocap | {mrr:.4f} |" in report
    assert f"| {r['zero_shot']['held_out']['accuracy']:.4f} |" in report


def test_numbers_are_consistent(runs: dict[str, Path], corpus: Path) -> None:
    r = load_eval(runs["four"])
    mods = ("imu", "text", "video", "mocap")
    assert set(r["retrieval"]) == {f"{a}->{b}" for a in mods for b in mods if a != b}
    n = r["data"]["windows"]
    assert n == sum(r["data"]["activities"].values()) > 10
    for v in r["retrieval"].values():
        assert v["queries"] == v["targets"] == n
        assert 0 < v["mrr"] <= 1 and v["r@1"] <= v["r@10"] <= v["r@50"] <= 1
        assert 1 <= v["mean_rank"] <= n
    zs = r["zero_shot"]
    assert zs["seen"]["n"] + zs["held_out"]["n"] == zs["all"]["n"] == n
    train = set(load_manifest(corpus).splits["train"].activities)
    assert set(zs["seen"]["labels"]) <= train and len(zs["seen"]["labels"]) >= 2
    assert not set(zs["held_out"]["labels"]) & train and len(zs["held_out"]["labels"]) >= 2
    for group in zs.values():  # the stored numbers follow from the stored confusion matrix
        c = np.array(group["confusion"])
        y_true = np.repeat(np.arange(len(c)), c.sum(axis=1))
        y_pred = np.concatenate([np.repeat(np.arange(len(c)), row) for row in c])
        m = classification_metrics(y_true, y_pred, group["labels"])
        assert m.accuracy == pytest.approx(group["accuracy"])
        assert m.macro_f1 == pytest.approx(group["macro_f1"])
    probe, ft = r["linear_probe"], r["finetune"]
    assert probe["labels"] == ft["labels"] == sorted(probe["labels"])
    # the probe scores the test windows of activities its training windows have (those of the
    # evaluated wrist stream: a clip's other activities may lack a wrist window)
    assert set(probe["labels"]) <= train and 0 < probe["n"] <= zs["seen"]["n"]
    test_acts = r["data"]["activities"]
    assert probe["n"] == sum(test_acts.get(a, 0) for a in probe["labels"])
    assert probe["n_train"] == ft["n_train"] == probe["train_windows"] > 10
    assert len(ft["epoch_loss"]) == 2
    assert r["settings"]["prompt_split"] == "test"
    assert r["data"]["manifest_sha256"] and r["checkpoint"]["step"] == 7


def test_imu_text_model_gets_imu_text_retrieval_only(runs: dict[str, Path]) -> None:
    r = load_eval(runs["text"])
    assert set(r["retrieval"]) == {"imu->text", "text->imu"}
    assert r["finetune"] == {"skipped": "disabled (--no-finetune)"}
    assert "accuracy" in r["linear_probe"]
    assert "Skipped: disabled (--no-finetune)." in (runs["text"] / "report.md").read_text()


def test_same_model_same_numbers(corpus: Path) -> None:
    model = _model(1, {"imu": IMU, "text": "text-minilm"})
    cfg = EvalConfig(finetune=False, linear_probe=False)
    a = evaluate(model, SPEC, corpus, cfg)
    b = evaluate(model, SPEC, corpus, cfg)
    assert a["retrieval"] == b["retrieval"] and a["zero_shot"] == b["zero_shot"]
    assert a["linear_probe"] == {"skipped": "disabled (--no-probe)"}


def test_loader_samples_without_a_train_split(corpus: Path) -> None:
    samples = [dataclasses.replace(s, split="eval")
               for s in CorpusReader(corpus, "test", modalities=["imu", "text"])]
    model = _model(1, {"imu": IMU, "text": "text-minilm"})
    r = evaluate(model, SPEC, samples, EvalConfig(split="eval"))
    assert r["data"]["kind"] == "samples" and r["data"]["source"] == "synth"
    assert "accuracy" in r["zero_shot"]["all"]
    assert "no 'train' split" in r["zero_shot"]["seen"]["skipped"]
    assert "no 'train' split" in r["linear_probe"]["skipped"]
    assert r["settings"]["prompt_split"] == "train"  # not the test split: training templates
    seen = tuple(r["zero_shot"]["all"]["labels"][:2])
    r2 = evaluate(model, SPEC, samples, EvalConfig(split="eval", seen_activities=seen,
                                                   linear_probe=False, finetune=False))
    assert r2["zero_shot"]["seen"]["labels"] == list(seen)
    with pytest.raises(ConfigError, match="no usable window"):
        evaluate(model, SPEC, samples, EvalConfig(split="nothing"))


def test_pamap2_loader_samples(tmp_path: Path) -> None:
    from test_loaders_pamap2 import write_dat

    from aura_training.loaders import load_pamap2

    write_dat(tmp_path / "subject105.dat")
    test = load_pamap2(tmp_path / "subject105.dat", split="test")  # bouts of 3, 4, 1.5 s
    train = [dataclasses.replace(s, split="train", clip_id=f"tr-{s.clip_id}") for s in test]
    spec = ModelInputSpec(sample_rate_hz=20.0, window_samples=20, hop_samples=10)
    model = _model(2, {"imu": {**IMU, "window_s": 1.0, "patch_size": 5}, "text": "text-minilm"})
    r = evaluate(model, spec, [*train, *test], EvalConfig(finetune_config=QUICK))
    # whole 1 s windows of the dominant wrist at 100 Hz (the 50 ms dropout while lying is
    # within the gap tolerance, so it is resampled over, not split)
    assert r["data"]["activities"] == {"lying": 3, "rope jumping": 1, "walking": 4}
    assert r["zero_shot"]["seen"]["labels"] == ["lying", "rope jumping", "walking"]
    assert r["zero_shot"]["held_out"] == {"skipped": "no held out activity in the split"}
    assert r["linear_probe"]["n_train"] == r["linear_probe"]["n"] == 8
    assert r["data"]["source"] == "pamap2"


def test_comparison_document_from_two_evaluations(runs: dict[str, Path],
                                                   tmp_path: Path) -> None:
    spec = ComparisonSpec(
        title="Results", intro="Tiny models on a tiny corpus.",
        setup_commands=("aura data synth --minutes 4 --seed 2 --out corpus",),
        sections=(ComparisonSection(title="Four modalities vs IMU-text only", runs=(
            ComparisonRun(name="4-mod", eval=str(runs["four"] / "eval.json"),
                          train_command="aura train --config four.yaml"),
            ComparisonRun(name="imu-text", eval=str(runs["text"]))),),))
    out = write_comparison(spec, tmp_path / "docs" / "results.md",
                           command="aura eval --compare spec.yaml --out docs/results.md")
    doc = out.read_text()
    a, b = load_eval(runs["four"]), load_eval(runs["text"])
    ma, mb = a["retrieval"]["imu->text"]["mrr"], b["retrieval"]["imu->text"]["mrr"]
    assert f"| IMU → text MRR | {ma:.4f} | {mb:.4f} | {mb - ma:+.4f} |" in doc
    fa, fb = a["zero_shot"]["held_out"]["macro_f1"], b["zero_shot"]["held_out"]["macro_f1"]
    assert f"| zero-shot, held-out activities: macro-F1 | {fa:.4f} | {fb:.4f} |" in doc
    assert f"| fine-tune: accuracy | {a['finetune']['accuracy']:.4f} | - | - |" in doc
    assert "imu-text: fine-tune skipped (disabled (--no-finetune))" in doc
    assert "IMU → video MRR" in doc  # shown where any run has it
    for act, pc in a["zero_shot"]["held_out"]["per_class"].items():
        f1b = b["zero_shot"]["held_out"]["per_class"][act]["f1"]
        assert f"| {act} | {pc['f1']:.4f} | {f1b:.4f} |" in doc
    for ref in PAPER_REFERENCE.values():
        assert f"{ref['accuracy']:.4f} | {ref['macro_f1']:.4f}" in doc
    assert "arXiv:2506.03174" in doc and "0.7320 | 0.6226" in doc and "0.1961 | 0.0747" in doc
    regen = doc.split("## Regenerate")[1]
    for cmd in ("aura data synth --minutes 4", "aura train --config four.yaml", a["command"],
                b["command"], "aura eval --compare spec.yaml"):
        assert cmd in regen
    mflops = a["model"]["encoders"]["imu"]["flops"] / 1e6
    assert f"| IMU encoder MFLOPs per window | {mflops:.4f} |" in doc
    with pytest.raises(ConfigError, match="cannot read"):
        write_comparison(spec.model_copy(update={"sections": (ComparisonSection(
            title="x", runs=(ComparisonRun(name="ghost", eval=str(tmp_path / "none.json")),)),)}),
            tmp_path / "x.md")


def test_comparison_document_shows_the_bundles_export_checks(runs: dict[str, Path],
                                                             tmp_path: Path) -> None:
    from aura_sdk import load_bundle
    from aura_sdk.bundle import read_bundle
    from aura_training.eval import BundleRef

    default = Path(load_bundle().bundle.path)
    spec = ComparisonSpec(
        sections=(ComparisonSection(title="one", runs=(
            ComparisonRun(name="4-mod", eval=str(runs["four"])),)),),
        bundles=(BundleRef(name="default", path=str(default),
                           export_command="aura export --checkpoint RUN --out default.aura"),))
    doc = write_comparison(spec, tmp_path / "r.md").read_text()
    m = read_bundle(default).manifest.metrics
    assert "## Exported bundles" in doc
    assert f"| int8 macro-F1 | {m['agreement.int8.macro_f1']:.4f} |" in doc
    assert f"| labels | {len(read_bundle(default).prototypes.labels)} |" in doc
    assert "aura export --checkpoint RUN --out default.aura" in doc.split("## Regenerate")[1]
    with pytest.raises(ConfigError, match="ghost"):
        write_comparison(spec.model_copy(update={"bundles": (
            BundleRef(name="ghost", path=str(tmp_path / "none.aura")),)}), tmp_path / "x.md")


def test_comparison_document_includes_generated_reports(runs: dict[str, Path],
                                                        tmp_path: Path) -> None:
    from aura_training.eval._compare import ReportRef

    rep = tmp_path / "eval-hapt"
    rep.mkdir()
    (rep / "report.md").write_text("# HAPT\n\n| k | acc |\n|---|---|\n| 5 | 0.9539 |\n"
                                   "![m](conf.png) [web](https://x.org/a)\n")
    spec = ComparisonSpec(
        sections=(ComparisonSection(title="one", runs=(
            ComparisonRun(name="4-mod", eval=str(runs["four"])),)),),
        reports=(ReportRef(title="Real recordings: UCI HAPT", path=str(rep),
                           command="aura eval --real hapt --out eval-hapt", note="Dev set."),))
    doc = write_comparison(spec, tmp_path / "r.md").read_text()
    section = doc.split("## Real recordings: UCI HAPT")[1].split("## Reference")[0]
    assert "Dev set." in section and "### HAPT" in section and "| 5 | 0.9539 |" in section
    assert f"![m]({rep.as_posix()}/conf.png) [web](https://x.org/a)" in section
    assert "aura eval --real hapt --out eval-hapt" in doc.split("## Regenerate")[1]
    with pytest.raises(ConfigError, match="aura eval --real hapt"):
        write_comparison(spec.model_copy(update={"reports": (ReportRef(
            title="x", path=str(tmp_path / "none"), command="aura eval --real hapt"),)}),
            tmp_path / "x.md")


def test_comparison_document_tabulates_ablations_from_their_evaluations(
        runs: dict[str, Path], tmp_path: Path) -> None:
    import json

    from aura_training.eval._compare import AblationRow, AblationTable

    real = tmp_path / "real-a"
    real.mkdir()
    (real / "eval.json").write_text(json.dumps({
        "zero_shot": {"free_text": {"accuracy": 0.4321, "macro_f1": 0.3456}},
        "k_shot": {"5": {"model": {"accuracy": {"mean": 0.9612, "std": 0.0101}}}}}))
    sets = tmp_path / "sets-a"
    sets.mkdir()
    (sets / "eval.json").write_text(json.dumps({"label_sets": {
        "everyday": {"accuracy": 0.8765}, "all": {"accuracy": 0.5432}}}))
    spec = ComparisonSpec(
        sections=(ComparisonSection(title="one", runs=(
            ComparisonRun(name="4-mod", eval=str(runs["four"])),)),),
        ablations=(AblationTable(title="What each change does", note="Short runs.", rows=(
            AblationRow(name="a", change="rotate 30°", real=str(real), label_sets=str(sets),
                        commands=("aura train A", "aura eval --real hapt --out real-a")),
            AblationRow(name="b", change="HAPT only", real=str(real / "eval.json")),
        )),))
    doc = write_comparison(spec, tmp_path / "r.md").read_text()
    section = doc.split("## What each change does")[1].split("## Reference")[0]
    assert "Short runs." in section
    assert "| a | rotate 30° | 0.4321 | 0.3456 | 0.9612 ± 0.0101 | 0.8765 | 0.5432 |" in section
    assert "| b | HAPT only | 0.4321 | 0.3456 | 0.9612 ± 0.0101 | - | - |" in section
    assert "- a: `aura train A`; `aura eval --real hapt --out real-a`" in section
    assert "aura train A" in doc.split("## Regenerate")[1]
    with pytest.raises(ConfigError, match="aura train A"):
        write_comparison(spec.model_copy(update={"ablations": (AblationTable(
            title="x", rows=(AblationRow(name="c", real=str(tmp_path / "none"),
                                         commands=("aura train A",)),)),)}), tmp_path / "x.md")
