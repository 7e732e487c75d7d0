"""Choosing onnxruntime execution providers: TensorRT, CUDA or CPU, automatically or by name.

``auto`` takes the fastest provider this onnxruntime build offers: TensorRT (engines cached on
disk beside the bundle, keyed by the provider's own hash of model, TensorRT version and GPU,
so the costly build happens once per device), then CUDA, then CPU; CPU always stays last as the
fallback for any operator the others do not take. Under fp16, TensorRT keeps LayerNorm in
fp32 (``trt_layer_norm_fp32_fallback``): fp16 LayerNorm overflows on long windows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from .._errors import ConfigError

__all__ = ["DeviceName", "available_providers", "select_providers"]

DeviceName = Literal["auto", "cpu", "cuda", "tensorrt"]

_TRT = "TensorrtExecutionProvider"
_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"

_WHERE = {
    _TRT: "onnxruntime-gpu built with TensorRT (pip install onnxruntime-gpu; on Jetson, the "
          "onnxruntime wheel from NVIDIA's Jetson Zoo) and TensorRT's libraries",
    _CUDA: "onnxruntime-gpu (pip install onnxruntime-gpu) with a matching CUDA runtime",
}


def available_providers() -> list[str]:
    """The execution providers this onnxruntime build offers."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _trt_options(cache_dir: Path | None, fp16: bool, device_id: int) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "device_id": device_id,
        "trt_fp16_enable": fp16,
        "trt_layer_norm_fp32_fallback": True,
        "trt_max_workspace_size": 1 << 30,
    }
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)
        opts.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(cache_dir),
                    trt_timing_cache_enable=True, trt_timing_cache_path=str(cache_dir))
    return opts


def select_providers(
    device: DeviceName = "auto", *, cache_dir: str | os.PathLike[str] | None = None,
    fp16: bool = False, device_id: int = 0, available: Sequence[str] | None = None,
) -> list[str | tuple[str, dict[str, Any]]]:
    """Execution providers for ``device``, most preferred first, CPU last.

    Args:
        device: ``"auto"`` (best available), ``"tensorrt"``, ``"cuda"`` or ``"cpu"``.
        cache_dir: where TensorRT keeps built engines and its timing cache.
        fp16: let TensorRT build fp16 engines (LayerNorm stays fp32).
        device_id: the GPU to use.
        available: the providers to choose from (default: this onnxruntime build's).

    Raises:
        ConfigError: a named device whose provider this onnxruntime build lacks (the message
            says what to install).
    """
    have = list(available) if available is not None else available_providers()
    cache = Path(cache_dir) if cache_dir is not None else None
    wanted = {"auto": [_TRT, _CUDA, _CPU], "tensorrt": [_TRT, _CUDA, _CPU],
              "cuda": [_CUDA, _CPU], "cpu": [_CPU]}.get(device)
    if wanted is None:
        raise ConfigError(f"unknown device {device!r}; use auto, tensorrt, cuda or cpu")
    if device in ("tensorrt", "cuda"):
        first = wanted[0]
        if first not in have:
            raise ConfigError(f"device={device!r} needs onnxruntime's {first}, which this "
                              f"build lacks (it offers {have}); install {_WHERE[first]}, or "
                              "use device='auto' to fall back")
    out: list[str | tuple[str, dict[str, Any]]] = []
    for p in wanted:
        if p not in have:
            continue
        if p == _TRT:
            out.append((p, _trt_options(cache, fp16, device_id)))
        elif p == _CUDA:
            out.append((p, {"device_id": device_id}))
        else:
            out.append(p)
    return out
