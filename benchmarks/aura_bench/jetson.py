"""The Jetson runner: platform state, TensorRT engines, and power measured with tegrastats.

``aura bench --jetson`` (or ``python -m aura_bench.jetson --out DIR``) on a Jetson:

1. records what decides the numbers: the power mode (``nvpmodel -q``), whether clocks are
   pinned (``jetson_clocks --show``), the L4T release (``/etc/nv_tegra_release``), JetPack
   (``dpkg-query -W nvidia-jetpack``), TensorRT and onnxruntime versions and providers;
2. builds TensorRT engines from the bundle's fp32 ONNX, fp32 and fp16: with ``trtexec`` when
   it is installed (its own latency summary is kept), otherwise through the SDK's native
   engine (``aura_sdk.backends.TensorRTEngine``, which the encoder rows of ``aura bench``
   also measure);
3. measures power in a separate pass: ``tegrastats`` samples the rails while nothing runs
   (idle), then while the SDK encodes windows back to back; the difference over the window
   rate is the energy per window.

Everything that touches the machine goes through a command runner and a file-system root
that tests replace; without Jetson hardware the runner returns a skip with the reason.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ._tegrastats import parse_lines, summarize_power

__all__ = ["parse_jetson_clocks", "parse_l4t_release", "parse_nvpmodel", "parse_trtexec",
           "power_pass", "probe", "run_jetson", "trtexec_command"]

Runner = Callable[[Sequence[str], float], tuple[int, str]]
Which = Callable[[str], str | None]
Progress = Callable[[str], None]


def _run_cmd(cmd: Sequence[str], timeout_s: float) -> tuple[int, str]:
    """Run ``cmd``; (exit code, stdout + stderr). 127 when the program does not exist."""
    try:
        p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout_s,
                           check=False)
    except FileNotFoundError:
        return 127, f"{cmd[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{cmd[0]}: timed out after {timeout_s:g} s"
    except OSError as exc:
        return 126, f"{cmd[0]}: {exc}"
    return p.returncode, (p.stdout or "") + (p.stderr or "")


# -- parsers (pure) ---------------------------------------------------------------------------
_L4T = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)")


def parse_l4t_release(text: str) -> str | None:
    """``/etc/nv_tegra_release`` -> ``"R35.4.1"`` (``None`` if unrecognised)."""
    m = _L4T.search(text)
    return f"R{m.group(1)}.{m.group(2)}" if m else None


def parse_nvpmodel(text: str) -> dict[str, Any]:
    """``nvpmodel -q`` -> ``{"mode": "MAXN", "id": 0}`` (fields ``None`` if absent)."""
    mode = re.search(r"NV Power Mode:\s*(\S+)", text)
    ids = [ln.strip() for ln in text.splitlines() if ln.strip().isdigit()]
    return {"mode": mode.group(1) if mode else None, "id": int(ids[0]) if ids else None}


_FREQ = re.compile(r"MinFreq=(\d+)\s+MaxFreq=(\d+)\s+CurrentFreq=(\d+)")


def parse_jetson_clocks(text: str) -> dict[str, Any]:
    """``jetson_clocks --show`` -> per-unit min/max/current and whether clocks are pinned.

    Pinned means what ``jetson_clocks`` does: every listed CPU, the GPU and the EMC run with
    their minimum frequency raised to the maximum.
    """
    units: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        m = _FREQ.search(line)
        if not m:
            continue
        name = line.split(":")[0].strip() if line.lstrip().startswith("cpu") else \
            line.split()[0]
        units[name] = {"min": int(m.group(1)), "max": int(m.group(2)),
                       "current": int(m.group(3))}
    pinned = all(u["min"] == u["max"] for u in units.values()) if units else None
    return {"units": units, "clocks_pinned": pinned}


_LAT = re.compile(r"\b(min|max|mean|median|percentile\((\d+(?:\.\d+)?)%\))\s*=\s*"
                  r"([\d.]+)\s*ms")


def parse_trtexec(text: str) -> dict[str, Any]:
    """trtexec's performance summary -> latency (ms) and throughput (queries/s).

    trtexec prints ``Throughput: X qps`` and ``Latency: min = .. ms, max = .., mean = ..,
    median = .., percentile(90%) = .., percentile(99%) = .. ms`` (the end-to-end host
    latency); ``GPU Compute Time: ...`` is kept apart.
    """
    out: dict[str, Any] = {"latency_ms": {}, "gpu_compute_ms": {}, "throughput_qps": None}
    for line in text.splitlines():
        if "Throughput:" in line:
            m = re.search(r"Throughput:\s*([\d.]+)\s*qps", line)
            if m:
                out["throughput_qps"] = float(m.group(1))
        key = ("latency_ms" if re.search(r"\]\s*Latency:|^Latency:", line.strip())
               else "gpu_compute_ms" if "GPU Compute Time:" in line else None)
        if key is None:
            continue
        for name, pct, value in _LAT.findall(line):
            out[key][f"p{float(pct):g}" if pct else name] = float(value)
    return out


def trtexec_command(trtexec: str, onnx: Path, engine: Path, input_name: str,
                    window: tuple[int, int], precision: str, max_batch: int,
                    duration_s: int) -> list[str]:
    """The trtexec line that builds (and times, at batch 1) one engine of the encoder."""
    w, c = window
    shape = f"{input_name}:{{}}x{w}x{c}"
    cmd = [trtexec, f"--onnx={onnx}", f"--saveEngine={engine}",
           f"--minShapes={shape.format(1)}", f"--optShapes={shape.format(min(8, max_batch))}",
           f"--maxShapes={shape.format(max_batch)}", f"--shapes={shape.format(1)}",
           "--warmUp=500", f"--duration={duration_s}", "--useSpinWait"]
    if precision == "fp16":
        cmd.append("--fp16")
    return cmd


# -- the machine --------------------------------------------------------------------------------
def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def probe(root: Path = Path("/"), run: Runner = _run_cmd,
          which: Which = shutil.which) -> dict[str, Any]:
    """What this machine is: a Jetson or not (and why not), and its settings and versions."""
    release = root / "etc" / "nv_tegra_release"
    model_file = root / "proc" / "device-tree" / "model"
    model = model_file.read_text(errors="replace").strip("\x00\n ") if model_file.is_file() \
        else None
    tools = {t: which(t) for t in ("nvpmodel", "jetson_clocks", "tegrastats", "trtexec")}
    bundled = root / "usr" / "src" / "tensorrt" / "bin" / "trtexec"
    if tools["trtexec"] is None and bundled.is_file():
        tools["trtexec"] = str(bundled)
    out: dict[str, Any] = {"device_model": model, "tools": tools,
                           "onnxruntime": _version("onnxruntime") or _version("onnxruntime-gpu"),
                           "tensorrt": _version("tensorrt")}
    try:
        import onnxruntime as ort

        out["onnxruntime_providers"] = list(ort.get_available_providers())
    except ImportError:
        out["onnxruntime_providers"] = []
    is_jetson = release.is_file() or (model is not None and "jetson" in model.lower())
    out["is_jetson"] = is_jetson
    if not is_jetson:
        out["reason"] = (f"not a Jetson: {release} is absent and "
                         + (f"the device-tree model is {model!r}" if model else
                            f"{model_file} does not exist"))
        return out
    text = release.read_text(errors="replace") if release.is_file() else ""
    out["l4t"] = parse_l4t_release(text)
    out["nv_tegra_release"] = text.strip().splitlines()[0] if text.strip() else None
    rc, jp = run(["dpkg-query", "-W", "-f=${Version}", "nvidia-jetpack"], 20.0)
    out["jetpack"] = jp.strip() if rc == 0 and jp.strip() else None
    if out["tensorrt"] is None:
        rc, trt = run(["dpkg-query", "-W", "-f=${Version}", "tensorrt"], 20.0)
        out["tensorrt"] = trt.strip() if rc == 0 and trt.strip() else None
    rc, pm = run(["nvpmodel", "-q"], 20.0)
    out["nvpmodel"] = {**parse_nvpmodel(pm), "rc": rc} if rc != 127 else None
    rc, jc = run(["jetson_clocks", "--show"], 20.0)
    out["jetson_clocks"] = ({**parse_jetson_clocks(jc), "rc": rc,
                             "note": "jetson_clocks --show needs root; run under sudo"
                             if rc != 0 else None} if rc != 127 else None)
    return out


def power_pass(work: Callable[[float], int], seconds: float, tegrastats: str,
               interval_ms: int = 100) -> dict[str, Any]:
    """Run ``work(seconds)`` (returns windows done) while ``tegrastats`` samples the rails.

    ``work`` may be ``time.sleep``-like (returns 0): that is the idle pass.
    """
    lines: list[str] = []
    with subprocess.Popen([tegrastats, "--interval", str(interval_ms)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout is not None  # stdout=PIPE

        def read(stream: Any = proc.stdout) -> None:
            for line in stream:
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(2 * interval_ms / 1000)  # let tegrastats print its first line
        t0 = time.perf_counter()
        windows = work(seconds)
        elapsed = time.perf_counter() - t0
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    power = summarize_power(parse_lines(lines))
    return {"seconds": elapsed, "windows": windows,
            "windows_per_s": windows / elapsed if elapsed > 0 else None, **power}


def _encode_loop(bundle: Path, batch: int) -> Callable[[float], int]:
    import numpy as np

    from aura_sdk import load_bundle

    model = load_bundle(bundle)  # the SDK's choice on this device (TensorRT / CUDA / CPU)
    w, c = model.manifest.encoder.window_shape
    x = np.random.default_rng(0).standard_normal((batch, w, c)).astype(np.float32)
    model.embed_windows(x)  # build / warm up before the timed pass

    def work(seconds: float) -> int:
        end = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < end:
            model.embed_windows(x)
            n += batch
        return n

    return work


def _idle(seconds: float) -> int:
    time.sleep(seconds)
    return 0


def run_jetson(bundle: Path, out_dir: Path, *, quick: bool = False,
               progress: Progress | None = None, root: Path = Path("/"),
               run: Runner = _run_cmd, which: Which = shutil.which) -> dict[str, Any]:
    """The whole Jetson pass (see module doc); a skip with its reason elsewhere."""
    info = probe(root, run, which)
    if not info["is_jetson"]:
        return {"status": "skipped", "reason": info["reason"], "probe": info}
    say = progress or (lambda _msg: None)
    from aura_sdk.bundle import read_bundle

    b = read_bundle(bundle)
    m = b.manifest
    window = (int(m.encoder.window_shape[0]), int(m.encoder.window_shape[1]))
    engines_dir = out_dir / "engines"
    engines_dir.mkdir(parents=True, exist_ok=True)
    onnx = engines_dir / "encoder_fp32.onnx"
    onnx.write_bytes(b.encoder_bytes("fp32"))
    engines = []
    trtexec = info["tools"].get("trtexec")
    for prec in ("fp32", "fp16"):
        if trtexec:
            engine = engines_dir / f"encoder_{prec}.engine"
            cmd = trtexec_command(trtexec, onnx, engine, m.encoder.input_name, window, prec,
                                  64, 3 if quick else 10)
            say(f"jetson: trtexec {prec}")
            t0 = time.perf_counter()
            rc, log = run(cmd, 1800.0)
            engines.append({"precision": prec, "tool": "trtexec", "command": " ".join(cmd),
                            "rc": rc, "seconds": time.perf_counter() - t0,
                            "engine": str(engine) if rc == 0 else None,
                            **parse_trtexec(log),
                            "log_tail": log.strip().splitlines()[-3:] if rc else []})
        else:
            engines.append({"precision": prec, "tool": "aura_sdk.backends.TensorRTEngine",
                            "note": "trtexec not found: engines are built through the "
                                    "TensorRT Python API by the trt-native encoder rows"})
    result: dict[str, Any] = {"status": "ok", "probe": info, "engines": engines}
    tegra = info["tools"].get("tegrastats")
    if not tegra:
        result["power"] = {"status": "skipped", "reason": "tegrastats not on PATH"}
        return result
    seconds = 5.0 if quick else 20.0
    say("jetson: power, idle pass")
    idle = power_pass(_idle, seconds, tegra)
    passes = {"idle": idle}
    for batch in (1, 32):
        say(f"jetson: power, encoding at batch {batch}")
        busy = power_pass(_encode_loop(bundle, batch), seconds, tegra)
        if busy["total_mean_mw"] is not None and idle["total_mean_mw"] is not None \
                and busy["windows_per_s"]:
            busy["energy_mj_per_window_above_idle"] = (
                (busy["total_mean_mw"] - idle["total_mean_mw"]) / busy["windows_per_s"])
        passes[f"batch_{batch}"] = busy
    result["power"] = {"status": "ok", "interval_ms": 100, "passes": passes}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aura_bench.jetson --out DIR [--bundle PATH] [--quick]``."""
    from ._encoders import resolve_bundle

    p = argparse.ArgumentParser(prog="python -m aura_bench.jetson", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for jetson.json and engines")
    p.add_argument("--bundle", help="bundle (default: the embedded default)")
    p.add_argument("--quick", action="store_true", help="short trtexec and power passes")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    res = run_jetson(resolve_bundle(a.bundle), a.out, quick=a.quick,
                     progress=lambda s: print(s, file=sys.stderr))
    (a.out / "jetson.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"jetson: {res['status']}" + (f" ({res['reason']})" if res.get("reason") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
