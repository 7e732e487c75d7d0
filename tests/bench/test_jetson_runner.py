"""The Jetson runner: clean skip without the hardware, and its parsers on known outputs."""

from pathlib import Path

from aura_bench.jetson import (
    parse_jetson_clocks,
    parse_l4t_release,
    parse_nvpmodel,
    parse_trtexec,
    probe,
    run_jetson,
    trtexec_command,
)

RELEASE = ("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, "
           "DATE: Tue Aug  1 19:57:35 UTC 2023\n")
_CPU = ("Online=1 Governor=schedutil MinFreq=2201600 MaxFreq=2201600 CurrentFreq=2201600 "
        "IdleStates: WFI=0 c7=0")
CLOCKS = "\n".join([
    "SOC family:tegra234  Machine:Jetson AGX Orin", "Online CPUs: 0-11",
    f"cpu0: {_CPU}", f"cpu1: {_CPU}",
    "GPU MinFreq=1300500000 MaxFreq=1300500000 CurrentFreq=1300500000",
    "EMC MinFreq=204000000 MaxFreq=3199000000 CurrentFreq=3199000000 FreqOverride=1",
    "NV Power Mode: MAXN", ""])
_T = "[11/25/2026-10:00:00] [I] "
TRTEXEC = "\n".join([
    _T + "=== Performance summary ===",
    _T + "Throughput: 2431.7 qps",
    _T + "Latency: min = 0.39 ms, max = 1.2 ms, mean = 0.41 ms, median = 0.405 ms, "
         "percentile(90%) = 0.42 ms, percentile(95%) = 0.43 ms, percentile(99%) = 0.51 ms",
    _T + "H2D Latency: min = 0.01 ms, max = 0.05 ms, mean = 0.012 ms, median = 0.012 ms, "
         "percentile(99%) = 0.02 ms",
    _T + "GPU Compute Time: min = 0.35 ms, max = 1.1 ms, mean = 0.37 ms, median = 0.36 ms, "
         "percentile(99%) = 0.45 ms", ""])


def test_skips_cleanly_without_jetson_hardware(tmp_path: Path) -> None:
    res = run_jetson(tmp_path / "no-bundle-needed.aura", tmp_path, root=tmp_path,
                     which=lambda _name: None)
    assert res["status"] == "skipped"
    assert "not a Jetson" in res["reason"] and "nv_tegra_release" in res["reason"]
    assert res["probe"]["tools"] == {"nvpmodel": None, "jetson_clocks": None,
                                     "tegrastats": None, "trtexec": None}
    assert not (tmp_path / "engines").exists()  # nothing built, nothing written


def test_this_machine_is_not_a_jetson_and_says_why() -> None:
    info = probe()
    if info["is_jetson"]:  # pragma: no cover - only on real hardware
        return
    assert info["reason"].startswith("not a Jetson")


def test_probe_reads_a_jetson_file_system_and_tools(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "nv_tegra_release").write_text(RELEASE)
    (tmp_path / "proc" / "device-tree").mkdir(parents=True)
    (tmp_path / "proc" / "device-tree" / "model").write_bytes(
        b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    calls = []

    def run(cmd, timeout):
        calls.append(list(cmd))
        answers = {"dpkg-query": (0, "5.1.2-b104"), "nvpmodel": (0, "NV Power Mode: MAXN\n0\n"),
                   "jetson_clocks": (0, CLOCKS)}
        if cmd[0] == "dpkg-query" and cmd[-1] == "tensorrt":
            return 0, "8.5.2.2-1+cuda11.4"
        return answers[cmd[0]]

    info = probe(tmp_path, run, which=lambda name: f"/usr/bin/{name}")
    assert info["is_jetson"] is True
    assert info["device_model"] == "NVIDIA Jetson AGX Orin Developer Kit"
    assert info["l4t"] == "R35.4.1"
    assert info["jetpack"] == "5.1.2-b104"
    assert info["nvpmodel"]["mode"] == "MAXN" and info["nvpmodel"]["id"] == 0
    # EMC min < max: not everything is pinned
    assert info["jetson_clocks"]["clocks_pinned"] is False
    assert info["jetson_clocks"]["units"]["GPU"]["current"] == 1300500000
    assert ["nvpmodel", "-q"] in calls and ["jetson_clocks", "--show"] in calls


def test_parsers_on_known_outputs() -> None:
    assert parse_l4t_release(RELEASE) == "R35.4.1"
    assert parse_l4t_release("garbage") is None
    assert parse_nvpmodel("NV Power Mode: 15W\n2\n") == {"mode": "15W", "id": 2}
    assert parse_nvpmodel("") == {"mode": None, "id": None}
    pinned = parse_jetson_clocks(CLOCKS.replace("MinFreq=204000000", "MinFreq=3199000000"))
    assert pinned["clocks_pinned"] is True
    assert set(pinned["units"]) == {"cpu0", "cpu1", "GPU", "EMC"}
    assert parse_jetson_clocks("")["clocks_pinned"] is None
    t = parse_trtexec(TRTEXEC)
    assert t["throughput_qps"] == 2431.7
    assert t["latency_ms"] == {"min": 0.39, "max": 1.2, "mean": 0.41, "median": 0.405,
                               "p90": 0.42, "p95": 0.43, "p99": 0.51}
    assert t["gpu_compute_ms"]["median"] == 0.36 and t["gpu_compute_ms"]["p99"] == 0.45


def test_trtexec_command_fixes_the_window_and_varies_the_batch() -> None:
    cmd = trtexec_command("/usr/src/tensorrt/bin/trtexec", Path("m.onnx"), Path("m.engine"),
                          "imu", (250, 6), "fp16", 64, 10)
    assert "--minShapes=imu:1x250x6" in cmd and "--optShapes=imu:8x250x6" in cmd
    assert "--maxShapes=imu:64x250x6" in cmd and "--shapes=imu:1x250x6" in cmd
    assert "--fp16" in cmd and "--saveEngine=m.engine" in cmd
    assert "--fp16" not in trtexec_command("t", Path("m.onnx"), Path("e"), "imu", (250, 6),
                                           "fp32", 64, 10)
