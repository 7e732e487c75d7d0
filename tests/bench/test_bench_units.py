"""aura_bench pieces without a full run: planning without torch, ratios, errors, timing."""

from pathlib import Path

import numpy as np
import pytest

import aura_bench._encoders as enc
from aura_bench._bench import BenchConfig, compute_ratios
from aura_bench._encoders import EncoderPlan, bundle_info, derive, plan_rows, run_worker
from aura_bench._stats import cdf_points, latency_summary, ratio
from aura_bench._streaming import latency_rows, resampler_lookahead_s
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
    assert ratios["bundle_vs_teacher_torch"]["status"] == "unavailable"
    assert "torch-teacher skipped" in ratios["bundle_vs_teacher_torch"]["reason"]
    assert ratios["e2e_vs_raw_encoder"]["status"] == "unavailable"


def _timed(row_id: str, p50_ms: dict[int, float], **extra) -> dict:
    """An encoder row as a worker returns it, with chosen batch medians (p99 = 2 x p50)."""
    return {"id": row_id, "status": "ok", **extra,
            "batches": [{"batch": b, "p50_ms": p, "p99_ms": 2 * p, "windows_per_s": b * 1e3 / p}
                        for b, p in p50_ms.items()]}


def test_ratios_and_fractions_of_peak_on_hand_made_numbers(toy) -> None:
    # batch 1 / batch 8 medians (ms): teacher 4 / 10, fp32 1 / 4, int8 0.5 / 2, so the best
    # throughputs (windows/s) are 800, 2000 and 4000, all at batch 8
    rows = [_timed("torch-teacher", {1: 4.0, 8: 10.0}, flops_per_window=2_000_000,
                   flops_source="count_flops", model={"random_weights": True},
                   flops_for={"bundle": {"flops_per_window": 1_000_000}}),
            _timed("ort-cpu-fp32", {1: 1.0, 8: 4.0}, precision="fp32"),
            _timed("ort-cpu-int8", {1: 0.5, 8: 2.0}, precision="int8")]
    derive(rows, bundle_info(toy), peak_gflops=10.0)
    teacher, fp32, int8 = rows
    assert teacher["best_throughput"] == {"batch": 8, "windows_per_s": pytest.approx(800.0)}
    assert teacher["achieved_gflops"] == pytest.approx(1.6)  # 2e6 FLOPs x 800 / s
    assert teacher["achieved_gflops_batch1"] == pytest.approx(0.5)  # 2e6 x 250 / s
    assert teacher["fraction_of_peak"] == pytest.approx(0.16)
    assert teacher["fraction_of_peak_batch1"] == pytest.approx(0.05)
    assert int8["flops_per_window"] == fp32["flops_per_window"] == 1_000_000
    assert "fp32-equivalent" in int8["flops_source"]
    assert (fp32["fraction_of_peak"], int8["fraction_of_peak"]) == pytest.approx((0.2, 0.4))
    r = compute_ratios(rows, {"latency": {"p50_ms": 2.0, "p99_ms": 5.0}}, "ort-cpu-int8",
                       "untrained")
    t = r["bundle_vs_teacher_torch"]
    assert t["denominator"] == "ort-cpu-int8"  # the row the SDK runs
    assert t["latency_speedup_p50"] == pytest.approx(8.0)  # 4 ms / 0.5 ms, batch 1
    assert t["throughput_ratio"] == pytest.approx(5.0)  # 4000 / 800 windows/s
    assert t["teacher_random_weights"] is True and t["bundle_role"] == "untrained"
    q = r["ort_int8_vs_fp32"]
    assert (q["latency_speedup_p50"], q["throughput_ratio"]) == pytest.approx((2.0, 2.0))
    e = r["e2e_vs_raw_encoder"]
    assert e["overhead_ratio_p50"] == pytest.approx(4.0)  # 2 ms end to end / 0.5 ms encoder
    assert e["overhead_ms_p50"] == pytest.approx(1.5)
    assert (e["raw_p99_ms"], e["e2e_p99_ms"]) == (1.0, 5.0)
    # a bundle run in fp32 (the SDK's choice on a CPU) is compared as it runs
    f = compute_ratios(rows, None, "ort-cpu-fp32", "untrained")["bundle_vs_teacher_torch"]
    assert f["denominator"] == "ort-cpu-fp32"
    assert f["latency_speedup_p50"] == pytest.approx(4.0)  # 4 ms / 1 ms
    assert f["throughput_ratio"] == pytest.approx(2.5)  # 2000 / 800 windows/s


def test_worker_torch_job_counts_flops_of_its_model_and_of_other_architectures() -> None:
    from aura_training.models import build_encoder

    xs = build_encoder("imu-xs").config.model_dump(mode="json")
    res = run_worker({"job": "torch", "source": {"kind": "preset", "preset": "imu-student"},
                      "batches": [1], "warmup": 1, "max_reps": 5, "budget_s": 0.01,
                      "threads": 1, "flops_for": [{"name": "xs", "config": xs, "window": 250}]})
    assert res["status"] == "ok", res.get("reason")
    # FLOPs per window by hand (tests/training/test_models_imu.py's formula, which count_flops
    # matches exactly): imu-student and imu-xs at 250 samples
    assert res["flops_per_window"] == 5_233_152
    assert res["flops_for"]["xs"]["flops_per_window"] == 29_129_728
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


def test_both_latencies_are_summarised_from_hand_made_events() -> None:
    # 100 events: processing 1 ... 100 ms, sensor to label 200 ms more; two events of a
    # stream without a real-time clock have no sensor time
    proc = [float(x) for x in range(1, 101)]
    sensor: list[float | None] = [200.0 + x for x in proc]
    rows = latency_rows([*proc, 3.0, 4.0], [*sensor, None, None])
    lat, sen = rows["latency"], rows["sensor_latency"]
    assert lat["runs"] == 102 and sen["runs"] == 100 and rows["sensor_latency_missing"] == 2
    # numpy's linear percentiles of 1 ... 100: p50 50.5, p90 90.1, p99 99.01
    assert (sen["p50_ms"], sen["p90_ms"], sen["p99_ms"]) == pytest.approx((250.5, 290.1, 299.01))
    assert (sen["min_ms"], sen["max_ms"], sen["mean_ms"]) == pytest.approx((201.0, 300.0, 250.5))
    assert (lat["min_ms"], lat["max_ms"]) == (1.0, 100.0)
    assert lat["p50_ms"] == pytest.approx(49.5)  # 1 ... 100 with 3 and 4 once more
    assert rows["sensor_cdf_ms"][0] == 201.0 and rows["sensor_cdf_ms"][-1] == 300.0
    assert rows["sensor_cdf_ms"][25] == pytest.approx(250.5)  # the 50 % point
    assert len(rows["cdf_ms"]) == len(rows["sensor_cdf_ms"]) == 51
    none = latency_rows([1.0, 2.0], [None, None])
    assert none["sensor_latency"] is None and none["sensor_cdf_ms"] == []
    assert none["sensor_latency_missing"] == 2 and none["latency"]["runs"] == 2
    empty = latency_rows([], [])
    assert empty["latency"] is None and empty["cdf_ms"] == []


def test_resampler_lookahead_is_ten_periods_of_the_lower_rate() -> None:
    assert resampler_lookahead_s(100.0, 50.0) == pytest.approx(0.2)
    assert resampler_lookahead_s(1000.0, 50.0) == pytest.approx(0.2)
    assert resampler_lookahead_s(25.0, 50.0) == pytest.approx(0.4)
    assert resampler_lookahead_s(10.0, 50.0) == pytest.approx(1.0)


def test_bundle_role_from_manifest_provenance() -> None:
    role = enc._bundle_role
    assert role({"distillation": {"teacher": "x"}}, "aura")[0] == "student"
    assert role({"checkpoint": {"train_config": {"model": {"imu": "imu-student"}}}},
                "aura")[0] == "student"
    # an encoder with a placement input names its preset in a mapping (the shipped default)
    placed = {"preset": "imu-student", "placements": ["wrist", "waist"]}
    assert role({"checkpoint": {"train_config": {"model": {"imu": placed}}}}, "aura")[0] == \
        "student"
    placed_xs = {**placed, "preset": "imu-xs"}
    assert role({"checkpoint": {"run": "r", "train_config": {"model": {"imu": placed_xs}}}},
                "aura")[0] == "teacher"
    teacher = role({"checkpoint": {"run": "cpu-teacher",
                                   "train_config": {"model": {"imu": "imu-xs"}}}}, "aura")
    assert teacher[0] == "teacher" and "cpu-teacher" in teacher[1]
    assert role({"trained": False}, "toy")[0] == "untrained"
    assert role({}, "aura")[0] == "unknown"


def test_device_interrupts_count_numbered_lines_per_core_only() -> None:
    from aura_bench._streaming import device_interrupts

    text = ("           CPU0       CPU1       \n"
            " 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n"
            " 36:          0     120802  PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n"
            " 39:       7792          3  PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0\n"
            "LOC:     610880     678103   Local timer interrupts\n"
            "TLB:      83185      26553   TLB shootdowns\n"
            "ERR:          0\n")
    assert device_interrupts(text) == {0: 7793, 1: 120805}
    assert device_interrupts("") == {}
