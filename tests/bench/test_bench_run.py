"""``aura bench`` end to end on a toy bundle, tiny budgets: the report's structure and values.

Nothing here asserts a speed: timings are whatever this machine gives. What is checked could
be wrong: keys, ordering of percentiles, skip reasons, FLOPs, ratios against the JSON's own
medians, the markdown rows and the PNG files.
"""

import json
from pathlib import Path

import pytest

from aura_bench._streaming import device_interrupts, usable_cpus
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


def test_one_thread_pins_the_recogniser_to_the_quietest_core(run) -> None:
    res, _, _ = run
    pin, cpus = res["streaming"]["pinning"], usable_cpus()
    if len(cpus) < 2:
        assert pin is None
        return
    probe = {int(c): v for c, v in pin["probe"].items()}
    assert sorted(probe) == cpus
    assert pin["cpu"] == min(probe, key=lambda c: (probe[c]["device_interrupts"],
                                                    probe[c]["lost_ms_per_s"], c))
    irqs = device_interrupts()  # counted since boot: they only grow
    assert all(irqs[c] >= probe[c]["device_interrupts"] for c in cpus)
    for s in (res["streaming"]["e2e"], *res["streaming"]["scale"]):
        assert s["pinned_cpu"] == pin["cpu"]
    # the pinning ends with the run: this process may use every core again
    assert usable_cpus() == cpus


def test_idle_calls_are_timed_both_ways(run) -> None:
    res, _, doc = run
    idle = res["streaming"]["idle_calls"]
    assert idle["gap_s"] == 0.05 and idle["runs"] == 40
    for name in ("encoder", "one_node"):
        for mode in ("idle", "back_to_back"):
            got = idle[f"{name}_{mode}_ms"]
            assert 0 < got["p50"] <= got["p90"], (name, mode)
    # the finding quotes the run's own medians
    text = doc.read_text()
    assert f"takes {idle['encoder_idle_ms']['p50']:.3g} ms at p50" in text


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
        # sensor to label: every event has one (TCP wrists); a 100 Hz wrist into the toy's
        # 50 Hz model waits 0.2 s of look-ahead before the bytes that complete a window. The
        # last window of a stream is completed by the end of its data without it, but the
        # median is another window's
        sen = s["sensor_latency"]
        assert sen["runs"] == s["events"] and s["sensor_latency_missing"] == 0
        assert sen["p50_ms"] <= sen["p90_ms"] <= sen["p99_ms"] <= sen["max_ms"]
        assert s["resampler_lookahead_s"] == pytest.approx(0.2)
        assert 199.0 <= sen["p50_ms"] < 1000.0 and sen["p50_ms"] > lat["p50_ms"]
        assert len(s["sensor_cdf_ms"]) == 51 and s["sensor_cdf_ms"] == sorted(s["sensor_cdf_ms"])
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


def test_teacher_is_labelled_by_origin_and_its_flops_are_imu_xs(run) -> None:
    from aura_training.models import build_encoder

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
    c = m["config"]
    assert (c["dim"], c["depth"], c["mlp_dim"], c["patch_size"], c["embed_dim"]) == (
        128, 4, 256, 10, 384)
    assert t["window"][0] == 250
    # imu-xs by hand (tests/training/test_models_imu.py's formula, which count_flops matches)
    assert t["flops_per_window"] == 29_129_728
    assert t["parameters"] == sum(p.numel() for p in build_encoder(c).parameters())
    # the toy bundle records no architecture: its FLOPs are unknown, never made up
    fp32 = next(r for r in res["encoders"] if r["id"] == "ort-cpu-fp32")
    assert fp32["flops_per_window"] is None and fp32["flops_source"].startswith("unknown")
    assert fp32["fraction_of_peak"] is None


def test_the_peak_is_the_best_probe(run) -> None:
    # the arithmetic of achieved GFLOP/s and fractions of peak is checked on hand-made
    # numbers in test_bench_units; here, that the run feeds it the best probe
    res, _, _ = run
    peak = res["peak"]
    probes = [peak[k]["gemm"]["best_gflops"] for k in ("numpy", "torch")
              if peak[k]["status"] == "ok"]
    assert peak["best_gflops"] == max(probes) > 0
    t = next(r for r in res["encoders"] if r["id"] == "torch-teacher")
    assert t["fraction_of_peak"] > 0 and t["achieved_gflops"] > 0


def test_ratios_compare_the_rows_they_name(run) -> None:
    # the ratios' arithmetic is checked on hand-made numbers in test_bench_units; here, that
    # the run's ratios are built from the right rows at batch 1
    res, _, _ = run
    by = {r["id"]: r for r in res["encoders"]}

    def p50(row_id: str) -> float:
        return next(b["p50_ms"] for b in by[row_id]["batches"] if b["batch"] == 1)

    r = res["ratios"]["bundle_vs_teacher_torch"]
    assert (r["numerator"], r["denominator"]) == ("torch-teacher", "ort-cpu-fp32")
    assert (r["teacher_p50_ms"], r["bundle_p50_ms"]) == (p50("torch-teacher"),
                                                         p50("ort-cpu-fp32"))
    assert r["teacher_random_weights"] is by["torch-teacher"]["model"]["random_weights"]
    e = res["ratios"]["e2e_vs_raw_encoder"]
    assert e["raw_row"] == res["streaming"]["reference_row"] == "ort-cpu-fp32"
    assert e["raw_p50_ms"] == p50("ort-cpu-fp32")
    assert e["e2e_p50_ms"] == res["streaming"]["e2e"]["latency"]["p50_ms"]


def test_markdown_lists_every_row_and_the_doc_links_existing_plots(run) -> None:
    res, out, doc = run
    md = (out / "bench.md").read_text()
    for row in ROWS:
        assert f"| {row} |" in md, row
    assert "## Headline ratios" in md and "Skipped: not a Jetson" in md
    e2e = res["streaming"]["e2e"]
    sen, lat = e2e["sensor_latency"], e2e["latency"]
    cells = (f"{lat['p50_ms']:.3g} / {lat['p90_ms']:.3g} / {lat['p99_ms']:.3g} / "
             f"{lat['max_ms']:.3g} | {sen['p50_ms']:.3g} / {sen['p90_ms']:.3g} / "
             f"{sen['p99_ms']:.3g} / {sen['max_ms']:.3g} |")
    assert f"| {e2e['events']} | {cells}" in md  # the one-stream row: both latencies
    assert "resampler's look-ahead (200 ms here)" in md
    assert "Runs played faster than real time (8x)" in md
    text = doc.read_text()
    assert "aura bench --out docs/bench --doc docs/benchmarks.md" in text
    assert "## Jetson" in text and "tegrastats --interval 100" in text
    links = [line[line.index("](") + 2:-1] for line in text.splitlines()
             if line.startswith("![")]
    assert len(links) == 2
    for link in links:
        assert (doc.parent / link).resolve().is_file(), link


def _pixels_of(img, colour: str) -> int:
    """How many pixels of a decoded RGBA image have this matplotlib colour (within 2/255)."""
    import numpy as np
    from matplotlib.colors import to_rgb

    return int((np.abs(img[..., :3] - np.array(to_rgb(colour))).max(axis=-1) < 2 / 255).sum())


def test_plots_decode_to_the_figure_size_with_their_curves_drawn(run) -> None:
    import matplotlib.image as mpimg

    res, out, _ = run
    assert res["plots"]["status"] == "ok"
    ok = [r for r in res["encoders"] if r["status"] == "ok"]
    # 8 x 5 and 9 x 4 inches at 110 dpi
    for name, shape in (("latency_cdf.png", (550, 880, 4)), ("scale.png", (440, 990, 4))):
        img = mpimg.imread(out / name)
        assert img.shape == shape, name
    # One curve per measured encoder in matplotlib's colour cycle. A legend entry alone is
    # 52 pixels of its colour; curves that measured alike may hide each other, but together
    # they climb the plot's height (about 380 pixels) at least once.
    cdf = mpimg.imread(out / "latency_cdf.png")
    counts = [_pixels_of(cdf, f"C{i}") for i in range(len(ok))]
    assert min(counts) >= 40 and sum(counts) - 52 * len(ok) > 400, counts
    assert _pixels_of(cdf, f"C{len(ok)}") == 0  # no curve for a row that did not run
    scale = mpimg.imread(out / "scale.png")
    assert _pixels_of(scale, "C0") > 300 and _pixels_of(scale, "C1") > 150  # p50 (+CPU), p99
