"""Encoder latency, throughput, memory and FLOPs per backend and precision.

:func:`plan_rows` lists every backend x precision the report covers; what cannot run here
(no torch, no CUDA provider, no TensorRT, a precision the bundle does not ship) becomes a
skipped row whose reason says exactly why. :func:`run_rows` measures the rest, each in a
fresh worker process (:mod:`aura_bench._worker`), and :func:`derive` adds what comes from
several rows: FLOPs per window, achieved GFLOP/s and the fraction of the measured peak.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aura_sdk import BundleNotFoundError

from ._stats import get, ratio
from ._worker import RESULT_PREFIX

__all__ = ["BundleInfo", "EncoderPlan", "bundle_info", "derive", "plan_rows", "resolve_bundle",
           "run_rows", "run_worker"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TRT = "TensorrtExecutionProvider"


def resolve_bundle(path: str | os.PathLike[str] | None) -> Path:
    """The bundle to measure: ``path``, or the default bundle embedded in ``aura_sdk``.

    Raises:
        BundleNotFoundError: ``path`` does not exist, or no default bundle is embedded.
    """
    if path is None:
        from importlib import resources

        from aura_sdk._model import DEFAULT_BUNDLE_NAME

        p = Path(str(resources.files("aura_sdk").joinpath("models", DEFAULT_BUNDLE_NAME)))
        if not p.is_file():
            raise BundleNotFoundError(
                "this aura-sdk build embeds no default bundle; pass --bundle MODEL.aura "
                "(aura export writes one)", path=p)
        return p
    p = Path(path).expanduser()
    if not p.exists():
        raise BundleNotFoundError(
            "no such bundle: pass --bundle with an existing .aura file or bundle directory "
            "(aura export --out MODEL.aura writes one), or leave --bundle out to measure the "
            "embedded default bundle", path=p)
    return p


@dataclass(frozen=True)
class BundleInfo:
    """What the report needs to know about the bundle (read once in the parent, no torch)."""

    path: Path
    name: str
    version: str
    precisions: tuple[str, ...]
    encoder_bytes: Mapping[str, int]
    bundle_bytes: int
    window: tuple[int, int]
    embedding_dim: int
    role: str
    role_evidence: str
    architecture: Mapping[str, Any] | None
    parameters: int | None
    manifest_flops: int | None
    trt_unsupported: Mapping[str, tuple[str, ...]]
    signature: str

    def label(self) -> str:
        """``aura-default v0.1.0 (teacher)``."""
        return f"{self.name} v{self.version} ({self.role})"


def _bundle_role(training: Mapping[str, Any], name: str) -> tuple[str, str]:
    """Student, teacher or unknown, and the manifest fields that say so."""
    keys = [k for k in training if "distil" in k.lower() or "student" in k.lower()]
    if keys:
        return "student", f"manifest training record has {keys}"
    imu = get(dict(training), "checkpoint", "train_config", "model", "imu")
    # a preset name, or a mapping with one (an encoder with a placement input)
    preset = imu.get("preset") if isinstance(imu, Mapping) else imu
    if isinstance(preset, str) and "student" in preset:
        return "student", f"training.checkpoint.train_config.model.imu preset {preset!r}"
    if "student" in name.lower() or "distil" in name.lower():
        return "student", f"bundle name {name!r}"
    if training.get("trained") is False:
        return "untrained", "training.trained is false"
    if "checkpoint" in training:
        run = get(dict(training), "checkpoint", "run")
        return "teacher", (f"exported from pretraining run {run!r} "
                           f"(model.imu = {imu!r}); no distillation record")
    return "unknown", "the manifest records no training provenance"


def _bundle_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bundle_info(path: Path) -> BundleInfo:
    """Read and validate the bundle; describe it.

    Raises:
        BundleError: the bundle is refused (the message names the file and the fix).
    """
    from aura_sdk.bundle import read_bundle

    b = read_bundle(path)
    m = b.manifest
    files = m.encoder.files.as_dict()
    training = dict(m.training)
    role, evidence = _bundle_role(training, m.name)
    enc_raw = training.get("encoder")
    enc: dict[str, Any] = enc_raw if isinstance(enc_raw, dict) else {}
    arch = enc.get("config") if isinstance(enc.get("config"), dict) else None
    params = enc.get("parameters")
    flops = m.metrics.get("flops_per_window") or enc.get("flops_per_window")
    trt = get(training, "export", "tensorrt") or {}
    unsupported = {p: tuple(v.get("unsupported_ops", ())) for p, v in trt.items()
                   if isinstance(v, dict)}
    w, c = m.encoder.window_shape
    return BundleInfo(
        path=path, name=m.name, version=m.version, precisions=tuple(files),
        encoder_bytes={p: len(b.encoder_bytes(p)) for p in files},
        bundle_bytes=_bundle_size(path), window=(int(w), int(c)),
        embedding_dim=m.encoder.embedding_dim, role=role, role_evidence=evidence,
        architecture=arch, parameters=int(params) if isinstance(params, int) else None,
        manifest_flops=int(flops) if isinstance(flops, int | float) else None,
        trt_unsupported=unsupported, signature=b.signature.status.value)


@dataclass(frozen=True)
class EncoderPlan:
    """Knobs of the encoder stage."""

    batches: tuple[int, ...]
    warmup: int
    max_reps: int
    budget_s: float
    threads: int | None
    gemm_sizes: tuple[int, ...]
    gemm_budget_s: float
    teacher: str | None
    student: str | None
    cache_dir: Path
    worker_timeout_s: float = 600.0


def _missing(module: str) -> str | None:
    """Why ``module`` cannot be imported here, or ``None`` when it can."""
    try:
        if importlib.util.find_spec(module) is None:
            return f"No module named {module!r}"
    except (ImportError, ValueError) as exc:
        return str(exc)
    return None


def _ort_providers() -> tuple[str, list[str]]:
    import onnxruntime as ort

    return ort.__version__, list(ort.get_available_providers())


def _skip(row: dict[str, Any], reason: str) -> dict[str, Any]:
    return {**row, "status": "skipped", "reason": reason}


def plan_rows(info: BundleInfo, plan: EncoderPlan) -> list[dict[str, Any]]:
    """Every backend x precision row: a worker job, or a skip with its exact reason."""
    common = {"batches": list(plan.batches), "warmup": plan.warmup, "max_reps": plan.max_reps,
              "budget_s": plan.budget_s, "threads": plan.threads}
    rows: list[dict[str, Any]] = []
    bundle_model = f"bundle {info.label()}"

    no_torch = _missing("torch") or _missing("aura_training")
    torch_reason = (f"torch not installed ({no_torch}): torch rows need pip install "
                    "'aura-sdk[train]' (the device base install has no torch)")
    teacher_src: dict[str, Any] = (
        {"kind": "checkpoint", "path": plan.teacher, "origin": "--teacher"}
        if plan.teacher else {"kind": "auto"})
    flops_for = []
    if info.architecture is not None:
        flops_for.append({"name": "bundle", "config": dict(info.architecture),
                          "window": info.window[0], "channels": info.window[1]})
    teacher = {"id": "torch-teacher", "model": "teacher", "role": "teacher",
               "backend": "torch eager (CPU)", "precision": "fp32"}
    if no_torch:
        rows.append(_skip(teacher, torch_reason))
    else:
        rows.append({**teacher, "job": {
            "job": "torch", "source": teacher_src, "flops_for": flops_for,
            "gemm": {"sizes": list(plan.gemm_sizes), "budget_s": plan.gemm_budget_s},
            **common}})
    student = {"id": "torch-student", "model": "student", "role": "student",
               "backend": "torch eager (CPU)", "precision": "fp32"}
    if not plan.student:
        rows.append(_skip(student, "no --student checkpoint given (aura distill writes one)"))
    elif no_torch:
        rows.append(_skip(student, torch_reason))
    else:
        rows.append({**student, "job": {
            "job": "torch", "source": {"kind": "checkpoint", "path": plan.student,
                                       "origin": "--student"}, **common}})

    shipped = ", ".join(info.precisions)
    version, providers = _ort_providers()
    for prec in ("fp32", "int8", "fp16"):
        row = {"id": f"ort-cpu-{prec}", "model": bundle_model, "role": info.role,
               "backend": "onnxruntime CPU", "precision": prec}
        if prec not in info.precisions:
            rows.append(_skip(row, f"the bundle ships no {prec} encoder (it ships {shipped}); "
                                   f"aura export --precision fp32,int8,fp16 adds one"))
        else:
            rows.append({**row, "job": {"job": "ort", "bundle": str(info.path),
                                        "precision": prec, "providers": [CPU], **common}})

    gpu_precisions = ("fp32", "fp16")
    for provider, tag, name in ((CUDA, "cuda", "onnxruntime CUDA"),
                                (TRT, "trt", "onnxruntime TensorRT")):
        for prec in gpu_precisions:
            row = {"id": f"ort-{tag}-{prec}", "model": bundle_model, "role": info.role,
                   "backend": name, "precision": prec}
            if provider not in providers:
                rows.append(_skip(row, f"onnxruntime {version} has no {provider} on this "
                                       f"machine (it offers {', '.join(providers)}); "
                                       "install onnxruntime-gpu (Jetson: NVIDIA's wheel)"))
                continue
            if tag == "cuda" and prec not in info.precisions:
                rows.append(_skip(row, f"the bundle ships no {prec} encoder (it ships "
                                       f"{shipped})"))
                continue
            from aura_sdk.backends import select_providers

            # TensorRT builds fp16 kernels from the fp32 graph itself (trt_fp16_enable)
            onnx_prec = prec if tag == "cuda" else "fp32"
            provs = select_providers("cuda" if tag == "cuda" else "tensorrt",
                                     cache_dir=plan.cache_dir, fp16=prec == "fp16")
            rows.append({**row, "job": {"job": "ort", "bundle": str(info.path),
                                        "precision": onnx_prec, "providers": provs,
                                        **common}})

    why_trt = _missing("tensorrt") or _missing("pycuda")
    for prec in gpu_precisions:
        row = {"id": f"trt-native-{prec}", "model": bundle_model, "role": info.role,
               "backend": "TensorRT engine (native)", "precision": prec}
        if why_trt:
            rows.append(_skip(row, f"tensorrt not importable ({why_trt}); TensorRT's Python "
                                   "API comes with JetPack or NVIDIA's pip index "
                                   "(pip install 'aura-sdk[tensorrt]')"))
        else:
            rows.append({**row, "job": {"job": "trt", "bundle": str(info.path),
                                        "precision": prec, "cache_dir": str(plan.cache_dir),
                                        **common}})
    if "int8" in info.precisions:
        ops = info.trt_unsupported.get("int8", ())
        detail = f" ({', '.join(ops)})" if ops else ""
        rows.append(_skip({"id": "gpu-int8", "model": bundle_model, "role": info.role,
                           "backend": "GPU (CUDA / TensorRT)", "precision": "int8"},
                          "the bundle's int8 encoder is CPU dynamic quantisation" + detail
                          + ", which TensorRT does not parse; GPU rows run fp32 / fp16"))
    return rows


def run_worker(job: Mapping[str, Any], timeout_s: float = 600.0) -> dict[str, Any]:
    """Run one job in a fresh ``python -m aura_bench._worker``; its result dict."""
    env = dict(os.environ)
    threads = job.get("threads")
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    try:
        proc = subprocess.run([sys.executable, "-m", "aura_bench._worker"],
                              input=json.dumps(dict(job)), capture_output=True, text=True,
                              timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "reason": f"worker timed out after {timeout_s:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"status": "failed",
            "reason": f"worker exited {proc.returncode} without a result: {' | '.join(tail)}"}


def run_rows(rows: Sequence[dict[str, Any]], timeout_s: float = 600.0,
             progress: Progress | None = None) -> list[dict[str, Any]]:
    """Measure every planned row, one worker process at a time (never two at once)."""
    out = []
    for row in rows:
        job = row.get("job")
        if job is None:
            out.append(dict(row))
            continue
        if progress:
            progress(f"encoder {row['id']}: measuring")
        res = run_worker(job, timeout_s)
        merged = {k: v for k, v in row.items() if k != "job"}
        merged.update(res)
        merged["threads_requested"] = job.get("threads")
        if progress:
            b1 = merged.get("batches", [{}])[0] if merged.get("batches") else {}
            progress(f"encoder {row['id']}: {merged['status']}"
                     + (f", batch {b1.get('batch')} p50 {b1.get('p50_ms', 0):.3f} ms"
                        if b1 else f" ({merged.get('reason', '')})"))
        out.append(merged)
    return out


def derive(rows: list[dict[str, Any]], info: BundleInfo, peak_gflops: float | None) -> None:
    """Add FLOPs, best throughput, achieved GFLOP/s and the fraction of peak to each row."""
    teacher = next((r for r in rows if r["id"] == "torch-teacher"), {})
    bundle_flops = get(teacher, "flops_for", "bundle", "flops_per_window")
    if bundle_flops is not None:
        b_flops, b_src = int(bundle_flops), ("aura_training.models.count_flops on the "
                                             "bundle manifest's encoder architecture")
    elif info.manifest_flops is not None:
        b_flops, b_src = info.manifest_flops, "the bundle manifest"
    else:
        b_flops, b_src = None, (
            "unknown: torch is not available to count them and the bundle records none"
            if teacher.get("status") != "ok" else
            "unknown: the bundle manifest records no encoder architecture to count")
    for r in rows:
        if r.get("status") != "ok":
            continue
        if r["id"].startswith("torch-"):
            flops = r.get("flops_per_window")
            src = r.get("flops_source")
        else:
            flops, src = b_flops, b_src
            if flops is not None and r.get("precision") == "int8":
                src = f"{src} (fp32-equivalent operations)"
        r["flops_per_window"] = flops
        r["flops_source"] = src
        best = max(r["batches"], key=lambda x: x["windows_per_s"])
        r["best_throughput"] = {"batch": best["batch"], "windows_per_s": best["windows_per_s"]}
        gpu = not (r["id"].startswith("torch-") or r["id"].startswith("ort-cpu"))
        achieved = None if flops is None else flops * best["windows_per_s"] / 1e9
        r["achieved_gflops"] = achieved
        b1 = next((b for b in r["batches"] if b["batch"] == 1), None)
        r["achieved_gflops_batch1"] = (None if flops is None or b1 is None
                                       else flops * b1["windows_per_s"] / 1e9)
        if gpu:
            r["fraction_of_peak"] = None
            r["fraction_of_peak_batch1"] = None
            r["fraction_of_peak_note"] = "GPU row: the peak probe measures the CPU"
        else:
            r["fraction_of_peak"] = ratio(achieved, peak_gflops)
            r["fraction_of_peak_batch1"] = ratio(r["achieved_gflops_batch1"], peak_gflops)
        rss = r.get("rss_mb") or {}
        if rss.get("peak") is not None and rss.get("after_imports") is not None:
            r["rss_growth_mb"] = round(rss["peak"] - rss["after_imports"], 2)
