"""aura_bench pieces without a full run: planning without torch, ratios, errors, timing."""

from pathlib import Path

import numpy as np
import pytest

import aura_bench._encoders as enc
from aura_bench._bench import BenchConfig, compute_ratios
from aura_bench._encoders import EncoderPlan, bundle_info, derive, plan_rows, run_worker
from aura_bench._stats import cdf_points, latency_summary, ratio
from aura_bench._timing import time_budget
from aura_bench.cli import main
from aura_export import write_example_bundle
from aura_sdk import ConfigError


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("units") / "toy.aura"
    write_example_bundle(path, window_samples=100)
    return path


def _plan(tmp: Path) -> EncoderPlan:
    return EncoderPlan(batches=(1,), warmup=1, max_reps=5, budget_s=0.01, threads=None,
                       gemm_sizes=(64,), gemm_budget_s=0.01, teacher=None, student=None,
                       cache_dir=tmp / "engines")


def test_without_torch_the_torch_rows_are_skipped_and_ort_rows_planned(toy, tmp_path,
                                                                       monkeypatch) -> None:
    real = enc._missing
    monkeypatch.setattr(enc, "_missing",
                        lambda m: "No module named 'torch'" if m == "torch" else real(m))
    rows = plan_rows(bundle_info(toy), _plan(tmp_path))
    by = {r["id"]: r for r in rows}
    assert by["torch-teacher"]["status"] == "skipped"
    assert "torch not installed" in by["torch-teacher"]["reason"]
    assert "aura-sdk[train]" in by["torch-teacher"]["reason"]
    assert by["ort-cpu-int8"]["job"]["job"] == "ort"
    assert by["ort-cpu-fp16"]["reason"].startswith("the bundle ships no fp16 encoder")
    # with no torch row, FLOPs of the bundle rows are unknown and say why
    done = [{**by["ort-cpu-int8"], "status": "ok",
             "batches": [{"batch": 1, "p50_ms": 1.0, "windows_per_s": 1000.0}]},
            by["torch-teacher"]]
    derive(done, bundle_info(toy), 50.0)
    assert done[0]["flops_per_window"] is None
    assert "torch is not available" in done[0]["flops_source"]
    ratios = compute_ratios(done, None, "ort-cpu-int8", "untrained")
    assert ratios["bundle_int8_vs_teacher_torch"]["status"] == "unavailable"
    assert "torch-teacher skipped" in ratios["bundle_int8_vs_teacher_torch"]["reason"]
    assert ratios["e2e_vs_raw_encoder"]["status"] == "unavailable"


def test_worker_torch_job_counts_flops_of_its_model_and_of_other_architectures() -> None:
    import torch

    from aura_training.models import build_encoder, count_flops

    xs = build_encoder("imu-xs").config.model_dump(mode="json")
    res = run_worker({"job": "torch", "source": {"kind": "preset", "preset": "imu-student"},
                      "batches": [1], "warmup": 1, "max_reps": 5, "budget_s": 0.01,
                      "threads": 1, "flops_for": [{"name": "xs", "config": xs, "window": 250}]})
    assert res["status"] == "ok", res.get("reason")
    student = build_encoder("imu-student").eval()
    w = student.config.window_samples
    assert res["flops_per_window"] == count_flops(student, torch.zeros(1, w, 6))
    assert res["flops_for"]["xs"]["flops_per_window"] == count_flops(
        build_encoder("imu-xs").eval(), torch.zeros(1, 250, 6))
    assert res["threads"].endswith("1 threads")


def test_auto_teacher_falls_back_to_random_imu_xs_and_says_why(monkeypatch) -> None:
    import aura_training.train as train
    from aura_bench._worker import _torch_model

    def absent():
        raise ConfigError("no teacher checkpoint shipped (test)")

    monkeypatch.setattr(train, "default_teacher_path", absent, raising=False)
    model, window, channels, desc = _torch_model({"kind": "auto"})
    assert desc["random_weights"] is True and desc["architecture"] == "imu-xs"
    assert "no teacher checkpoint shipped (test)" in desc["source"]
    assert (window, channels) == (250, 6) and type(model).__name__ == "ImuTransformer"
    monkeypatch.delattr(train, "default_teacher_path")  # an aura_training without the helper
    assert _torch_model({"kind": "auto"})[3]["random_weights"] is True


def test_worker_reports_unknown_jobs_and_bad_precisions(toy) -> None:
    assert run_worker({"job": "nope"})["status"] == "failed"
    bad = run_worker({"job": "ort", "bundle": str(toy), "precision": "fp16", "batches": [1]})
    assert bad["status"] == "failed" and "fp16" in bad["reason"]


def test_missing_bundle_and_checkpoint_name_the_path_and_the_fix(tmp_path, capsys) -> None:
    missing = tmp_path / "nowhere.aura"
    assert main(["--out", str(tmp_path / "o"), "--bundle", str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "--bundle" in err and "aura export" in err
    assert main(["--out", str(tmp_path / "o"), "--teacher", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "--teacher" in err and str(tmp_path / "run") in err
    assert main(["--out", str(tmp_path), "--batch-sizes", "0,1"]) == 2  # argparse usage error


def test_config_rejects_nonsense(tmp_path) -> None:
    with pytest.raises(ConfigError):
        BenchConfig(out_dir=tmp_path, batches=())
    with pytest.raises(ConfigError):
        BenchConfig(out_dir=tmp_path, threads=0)
    q = BenchConfig.preset(tmp_path, quick=True, threads=2, batches=None)
    assert q.quick and q.threads == 2 and q.batches == (1, 8, 32) and not q.extras
    assert BenchConfig.preset(tmp_path).streams == (1, 4, 16, 64)


def test_time_budget_bounds_and_stats() -> None:
    calls = []
    secs = time_budget(lambda: calls.append(1), warmup=2, max_reps=7, budget_s=10.0)
    assert secs.size == 7 and len(calls) == 9
    secs = time_budget(lambda: None, warmup=0, max_reps=1000, budget_s=0.0, min_reps=3)
    assert secs.size == 3
    with pytest.raises(ValueError):
        time_budget(lambda: None, 0, 2, 1.0, min_reps=3)
    s = latency_summary(np.array([0.001, 0.002, 0.003, 0.010]))
    assert s["runs"] == 4 and s["min_ms"] == pytest.approx(1.0) and s["max_ms"] == 10.0
    assert s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"]
    c = cdf_points([5.0, 1.0, 3.0])
    assert c[0] == 1.0 and c[-1] == 5.0 and c == sorted(c) and len(c) == 51
    assert ratio(1.0, 0.0) is None and ratio(None, 1.0) is None and ratio(3.0, 2.0) == 1.5


def test_bundle_role_from_manifest_provenance() -> None:
    role = enc._bundle_role
    assert role({"distillation": {"teacher": "x"}}, "aura")[0] == "student"
    assert role({"checkpoint": {"train_config": {"model": {"imu": "imu-student"}}}},
                "aura")[0] == "student"
    teacher = role({"checkpoint": {"run": "cpu-teacher",
                                   "train_config": {"model": {"imu": "imu-xs"}}}}, "aura")
    assert teacher[0] == "teacher" and "cpu-teacher" in teacher[1]
    assert role({"trained": False}, "toy")[0] == "untrained"
    assert role({}, "aura")[0] == "unknown"
