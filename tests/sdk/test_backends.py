"""Backend selection (onnxruntime providers) and the native TensorRT engine."""

import numpy as np
import pytest

from aura_export import toy_windows, write_example_bundle
from aura_sdk import ConfigError, MissingExtraError, load_bundle
from aura_sdk.backends import (
    available_providers,
    engine_cache_key,
    select_providers,
    tensorrt_available,
)

TRT, CUDA, CPU = "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"


def test_auto_on_this_machine_is_what_onnxruntime_offers() -> None:
    have = available_providers()
    got = select_providers("auto")
    names = [p if isinstance(p, str) else p[0] for p in got]
    assert names[-1] == CPU and set(names) <= set(have)


def test_auto_prefers_tensorrt_then_cuda_with_cached_engines(tmp_path) -> None:
    # the provider list of a Jetson / GPU onnxruntime build (the one boundary faked here)
    got = select_providers("auto", cache_dir=tmp_path / "eng", fp16=True,
                           available=[TRT, CUDA, CPU])
    assert [p if isinstance(p, str) else p[0] for p in got] == [TRT, CUDA, CPU]
    trt_opts = got[0][1]
    assert trt_opts["trt_engine_cache_enable"] and trt_opts["trt_fp16_enable"]
    assert trt_opts["trt_layer_norm_fp32_fallback"] is True
    assert trt_opts["trt_engine_cache_path"] == str(tmp_path / "eng")
    assert (tmp_path / "eng").is_dir()


def test_named_devices_that_are_absent_say_what_to_install() -> None:
    with pytest.raises(ConfigError, match="onnxruntime-gpu"):
        select_providers("cuda", available=[CPU])
    with pytest.raises(ConfigError, match="TensorRT"):
        select_providers("tensorrt", available=[CUDA, CPU])
    with pytest.raises(ConfigError, match="unknown device"):
        select_providers("tpu")  # type: ignore[arg-type]
    assert select_providers("cpu", available=[TRT, CUDA, CPU]) == [CPU]


def test_engine_cache_key_separates_what_makes_engines_incompatible() -> None:
    base = engine_cache_key(b"onnx", "10.3.0", "Orin", (8, 7), "fp16", 64)
    assert base != engine_cache_key(b"onnx", "10.4.0", "Orin", (8, 7), "fp16", 64)
    assert base != engine_cache_key(b"onnx", "10.3.0", "RTX 4090", (8, 9), "fp16", 64)
    assert base != engine_cache_key(b"onnx", "10.3.0", "Orin", (8, 7), "fp32", 64)
    assert base != engine_cache_key(b"other", "10.3.0", "Orin", (8, 7), "fp16", 64)
    assert base.endswith(".engine") and "/" not in base


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("be") / "toy.aura"
    write_example_bundle(path, window_samples=100, sample_rate_hz=50.0, embedding_dim=32)
    return str(path)


def test_model_on_cpu_reports_its_backend(toy) -> None:
    m = load_bundle(toy, device="cpu", precision="fp32")
    assert m.backend == "onnxruntime" and m.providers == [CPU]
    with pytest.raises(ConfigError, match="unknown backend"):
        load_bundle(toy, backend="openvino")  # type: ignore[arg-type]


@pytest.mark.skipif(tensorrt_available(), reason="TensorRT is installed: see the GPU test")
def test_native_tensorrt_without_tensorrt_names_the_extra(toy) -> None:
    with pytest.raises(MissingExtraError, match=r"aura-sdk\[tensorrt\]"):
        load_bundle(toy, backend="tensorrt")


@pytest.mark.hardware
@pytest.mark.skipif(not tensorrt_available(),
                    reason="TensorRT + pycuda are not installed here (NVIDIA's index only; "
                           "needs a CUDA GPU): run with the tensorrt extra on a GPU or Jetson")
def test_native_tensorrt_engine_matches_onnxruntime(toy) -> None:
    x = toy_windows("walking", 5, 100, 50.0)
    ref = load_bundle(toy, device="cpu", precision="fp32")
    trt = load_bundle(toy, backend="tensorrt", precision="fp32")
    a = ref.embed_windows(x)
    b = trt.embed_windows(x)
    assert np.abs(a - b).max() < 1e-3
    again = load_bundle(toy, backend="tensorrt", precision="fp32")  # from the engine cache
    assert np.abs(again.embed_windows(x) - b).max() < 1e-6
