"""``aura eval`` end to end: a checkpoint written by the trainer -> report; the comparison."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from test_eval_runner import corpus  # noqa: F401  (module fixture: the tiny synthetic corpus)

from aura_training.cli_eval import EVAL_COMMAND, main

torch = pytest.importorskip("torch")

from aura_training.train import Trainer, find_checkpoint, load_config  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("train")
    cfg = load_config({
        "name": "eval-cli", "seed": 3,
        "data": {"dir": str(corpus), "val_split": None, "shuffle_buffer": 16},
        "input": {"norm_clips": 4, "sample_rate_hz": 20.0},
        "model": {"imu": {"preset": "imu-xs", "sample_rate_hz": 20.0, "dim": 32, "depth": 1,
                          "heads": 2, "mlp_dim": 64},
                  "text": "text-minilm"},
        "loss": {"pairs": {"text": 1.0}},
        "optim": {"lr": 1e-3, "warmup_steps": 1},
        "batch_size": 8, "steps": 2, "threads": 1, "checkpoint_every": 2, "log_every": 1,
        "out_dir": str(out),
    })
    with Trainer(cfg, resume=False) as tr:
        tr.fit()
    return out


def test_aura_eval_writes_the_report_of_a_checkpoint(run_dir: Path, corpus: Path,  # noqa: F811
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval"
    argv = ["--checkpoint", str(run_dir), "--data", str(corpus), "--out", str(out),
            "--hop", "2.5", "--finetune-epochs", "1", "--device", "cpu"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    r = json.loads((out / "eval.json").read_text())
    step_dir = find_checkpoint(run_dir)
    assert step_dir is not None and r["checkpoint"]["step"] == 2
    digest = hashlib.sha256((step_dir / "model.safetensors").read_bytes()).hexdigest()
    assert r["checkpoint"]["sha256"] == digest and r["checkpoint"]["run"] == "eval-cli"
    assert r["checkpoint"]["loss_pairs"] == {"text": 1.0}
    assert r["input_spec"]["sample_rate_hz"] == 20.0
    assert set(r["retrieval"]) == {"imu->text", "text->imu"}
    assert r["finetune"]["config"]["epochs"] == 1 and len(r["finetune"]["epoch_loss"]) == 1
    assert r["command"] == (f"aura eval --checkpoint {run_dir} --data {corpus} --out {out} "
                            "--hop 2.5 --finetune-epochs 1 --device cpu")
    mrr = r["retrieval"]["imu->text"]["mrr"]
    assert f"imu->text    MRR {mrr:.4f}" in printed and "wrote" in printed
    report = (out / "report.md").read_text()
    assert r["command"] in report and digest[:16] in report and "eval-cli" in report

    # the comparison document from two evaluations of the same checkpoint
    out2 = tmp_path / "eval2"
    assert main([*argv[:5], str(out2), "--hop", "2.5", "--no-finetune", "--no-probe"]) == 0
    doc = tmp_path / "cmp.md"
    assert main(["--run", f"full={out}", "--run", f"quick={out2 / 'eval.json'}",
                 "--out", str(doc)]) == 0
    text = doc.read_text()
    assert f"| IMU → text MRR | {mrr:.4f} | {mrr:.4f} | +0.0000 |" in text
    assert r["command"] in text and f"--run full={out}" in text


def test_eval_windows_are_the_training_pipeline_windows(corpus: Path) -> None:  # noqa: F811
    from aura_training.corpus import CorpusReader
    from aura_training.eval import clip_imu_windows
    from aura_training.train import DEFAULT_INPUT_SPEC, stream_windows

    spec = DEFAULT_INPUT_SPEC.model_copy(update={"norm_mean": (0.1, -0.2, 9.0, 0.0, 0.01, 0.0),
                                                 "norm_std": (3.0, 3.0, 4.0, 1.0, 1.5, 1.0)})
    n = 0
    for sample in CorpusReader(corpus, "test", modalities=["imu"]):
        for loc, stream in sample.imu.items():
            ours = clip_imu_windows(sample, spec, location=loc, hop_samples=50)
            theirs = stream_windows(stream, spec, hop_samples=50, pad_min_fraction=0.0)
            assert ours is not None
            assert np.array_equal(ours.x, theirs.x) and np.array_equal(ours.t_start,
                                                                        theirs.t_start)
            n += len(ours)
    assert n > 20


def test_usage_errors_exit_non_zero(corpus: Path, tmp_path: Path,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "x")]) == 1
    assert "needs --checkpoint and --data" in capsys.readouterr().err
    assert main(["--checkpoint", str(tmp_path), "--data", str(corpus),
                 "--out", str(tmp_path / "x")]) == 1
    assert "no complete training checkpoint" in capsys.readouterr().err
    assert main(["--run", "a=b.json", "--data", str(corpus), "--out", str(tmp_path)]) == 1
    assert main(["--run", "nojson", "--out", str(tmp_path)]) == 2  # argparse usage error
    assert EVAL_COMMAND.help.startswith("evaluation report")
