"""Inference backends: onnxruntime providers (TensorRT / CUDA / CPU) and native TensorRT."""

from ._providers import DeviceName, available_providers, select_providers
from ._tensorrt import TensorRTEngine, engine_cache_key, tensorrt_available

__all__ = [
    "DeviceName",
    "TensorRTEngine",
    "available_providers",
    "engine_cache_key",
    "select_providers",
    "tensorrt_available",
]
