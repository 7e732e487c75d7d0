"""``aura bench`` end to end on a toy bundle, tiny budgets: the report's structure and values.

Nothing here asserts a speed: timings are whatever this machine gives. What is checked could
be wrong: keys, ordering of percentiles, skip reasons, FLOPs, ratios against the JSON's own
medians, the markdown rows and the PNG files.
"""

import json
import struct
import zlib
from pathlib import Path

import pytest

from aura_bench.cli import main
from aura_export import write_example_bundle

ROWS = ("torch-teacher", "torch-student", "ort-cpu-fp32", "ort-cpu-int8", "ort-cpu-fp16",
        "ort-cuda-fp32", "ort-cuda-fp16", "ort-trt-fp32", "ort-trt-fp16", "trt-native-fp32",
        "trt-native-fp16", "gpu-int8")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    bundle = tmp / "toy.aura"
    write_example_bundle(bundle, window_samples=100, precisions=("fp32", "int8", "fp16"))
    out = tmp / "report"
    doc = tmp / "docs" / "benchmarks.md"
    rc = main(["--quick", "--out", str(out), "--bundle", str(bundle), "--threads", "1",
               "--batch-sizes", "1,2", "--streams", "1,2", "--budget", "0.05",
               "--seconds", "6", "--doc", str(doc)])
    assert rc == 0
    res = json.loads((out / "bench.json").read_text())
    return res, out, doc


def test_json_has_environment_config_and_every_row(run) -> None:
    res, _, _ = run
    env = res["environment"]
    for key in ("timestamp_utc", "cpu_model", "logical_cpus", "ram_gb", "os", "python",
                "packages", "git", "load_average_at_start", "quick", "command"):
        assert key in env, key
    assert env["quick"] is True
    for pkg in ("numpy", "onnxruntime", "torch"):
        assert pkg in env["packages"]
    assert "--quick" in env["command"] and "--threads 1" in env["command"]
    assert [r["id"] for r in res["encoders"]] == list(ROWS)
    for r in res["encoders"]:
        assert r["status"] in ("ok", "skipped", "failed")
        assert r["status"] == "ok" or r["reason"]
    assert res["bundle"]["role"] == "untrained"
    assert res["config"]["threads"] == 1


def test_percentiles_ordered_and_runs_counted(run) -> None:
    res, _, _ = run
    ok = [r for r in res["encoders"] if r["status"] == "ok"]
    assert {"torch-teacher", "ort-cpu-fp32", "ort-cpu-int8"} <= {r["id"] for r in ok}
    for r in ok:
        assert [b["batch"] for b in r["batches"]] == [1, 2]
        for b in r["batches"]:
            assert 0 < b["min_ms"] <= b["p50_ms"] <= b["p90_ms"] <= b["p99_ms"] <= b["max_ms"]
            assert b["runs"] >= 5
            assert b["windows_per_s"] == pytest.approx(b["batch"] / (b["p50_ms"] / 1e3))
        assert r["cdf_ms"] == sorted(r["cdf_ms"])
        rss = r["rss_mb"]
        assert rss["peak"] >= rss["after_imports"] > 0
        assert r["best_throughput"]["windows_per_s"] == max(
            b["windows_per_s"] for b in r["batches"])
    for s in (res["streaming"]["e2e"], *res["streaming"]["scale"]):
        lat = s["latency"]
        assert s["events"] >= 1 and lat["runs"] == s["events"]
        assert lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]
        assert s["errors"] == [] and not s["timed_out"]
    scale = res["streaming"]["scale"]
    assert [s["streams"] for s in scale] == [1, 2]
    # toy model: 2 s windows, 1 s hop, 6 s of data -> 5 windows per stream
    assert all(s["windows_expected_per_stream"] == 5 for s in scale)
    assert scale[1]["events"] == 2 * scale[1]["events_per_stream_min"]


def test_absent_backends_are_skipped_with_the_exact_reason(run) -> None:
    res, _, _ = run
    by = {r["id"]: r for r in res["encoders"]}
    import onnxruntime as ort

    have = ort.get_available_providers()
    if "CUDAExecutionProvider" not in have:
        assert by["ort-cuda-fp32"]["status"] == "skipped"
        assert "has no CUDAExecutionProvider on this machine" in by["ort-cuda-fp32"]["reason"]
    if "TensorrtExecutionProvider" not in have:
        assert "has no TensorrtExecutionProvider" in by["ort-trt-fp16"]["reason"]
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        assert by["trt-native-fp16"]["status"] == "skipped"
        assert by["trt-native-fp16"]["reason"].startswith("tensorrt not importable")
    assert by["torch-student"]["reason"].startswith("no --student checkpoint")
    assert res["jetson"]["status"] == "skipped" and res["jetson"]["reason"]


def test_teacher_is_labelled_by_origin_and_its_flops_are_count_flops(run) -> None:
    import torch

    from aura_training.models import build_encoder, count_flops

    res, out, _ = run
    t = next(r for r in res["encoders"] if r["id"] == "torch-teacher")
    m = t["model"]
    md = (out / "bench.md").read_text()
    if m["random_weights"]:  # no shipped teacher in this install
        assert m["architecture"] == "imu-xs"
        assert "random weights: latency only" in md
    else:  # the teacher shipped with aura_training (default_teacher_path)
        assert m["source"] == "default_teacher_path()" and Path(m["path"]).exists()
        assert "random weights" not in md
    model = build_encoder(m["config"]).eval()
    w = t["window"][0]
    assert t["flops_per_window"] == count_flops(model, torch.zeros(1, w, 6))
    assert t["parameters"] == sum(p.numel() for p in model.parameters())
    # the toy bundle records no architecture: its FLOPs are unknown, never made up
    fp32 = next(r for r in res["encoders"] if r["id"] == "ort-cpu-fp32")
    assert fp32["flops_per_window"] is None and fp32["flops_source"].startswith("unknown")
    assert fp32["fraction_of_peak"] is None


def test_fraction_of_peak_is_achieved_over_the_best_probe(run) -> None:
    res, _, _ = run
    peak = res["peak"]
    probes = [peak[k]["gemm"]["best_gflops"] for k in ("numpy", "torch")
              if peak[k]["status"] == "ok"]
    assert peak["best_gflops"] == max(probes)
    t = next(r for r in res["encoders"] if r["id"] == "torch-teacher")
    achieved = t["flops_per_window"] * t["best_throughput"]["windows_per_s"] / 1e9
    assert t["achieved_gflops"] == pytest.approx(achieved)
    assert t["fraction_of_peak"] == pytest.approx(achieved / peak["best_gflops"])


def test_ratios_are_ratios_of_the_medians_in_the_json(run) -> None:
    res, _, _ = run
    by = {r["id"]: r for r in res["encoders"]}

    def p50(row_id: str) -> float:
        return next(b["p50_ms"] for b in by[row_id]["batches"] if b["batch"] == 1)

    r = res["ratios"]["bundle_int8_vs_teacher_torch"]
    assert r["latency_speedup_p50"] == pytest.approx(p50("torch-teacher") / p50("ort-cpu-int8"))
    assert r["throughput_ratio"] == pytest.approx(
        by["ort-cpu-int8"]["best_throughput"]["windows_per_s"]
        / by["torch-teacher"]["best_throughput"]["windows_per_s"])
    assert r["teacher_random_weights"] is by["torch-teacher"]["model"]["random_weights"]
    e = res["ratios"]["e2e_vs_raw_encoder"]
    assert e["raw_row"] == res["streaming"]["reference_row"] == "ort-cpu-int8"
    e2e = res["streaming"]["e2e"]["latency"]["p50_ms"]
    assert e["overhead_ratio_p50"] == pytest.approx(e2e / p50("ort-cpu-int8"))
    assert e["overhead_ms_p50"] == pytest.approx(e2e - p50("ort-cpu-int8"))


def test_markdown_lists_every_row_and_the_doc_links_existing_plots(run) -> None:
    res, out, doc = run
    md = (out / "bench.md").read_text()
    for row in ROWS:
        assert f"| {row} |" in md, row
    assert "## Headline ratios" in md and "Skipped: not a Jetson" in md
    text = doc.read_text()
    assert "aura bench --out docs/bench --doc docs/benchmarks.md" in text
    assert "## Jetson" in text and "tegrastats --interval 100" in text
    links = [line[line.index("](") + 2:-1] for line in text.splitlines()
             if line.startswith("![")]
    assert len(links) == 2
    for link in links:
        assert (doc.parent / link).resolve().is_file(), link


def test_plots_are_valid_png_files(run) -> None:
    res, out, _ = run
    assert res["plots"]["status"] == "ok"
    for name in ("latency_cdf.png", "scale.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        length, kind = struct.unpack(">I4s", data[8:16])
        assert kind == b"IHDR" and length == 13
        width, height = struct.unpack(">II", data[16:24])
        assert width > 300 and height > 200
        crc = struct.unpack(">I", data[29:33])[0]
        assert crc == zlib.crc32(data[12:29])
        assert data[-8:-4] == b"IEND"
