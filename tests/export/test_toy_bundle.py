"""The untrained demonstration encoder and bundle (aura_export._toy) and its example script."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from aura_export import (
    TOY_LABELS,
    toy_embed,
    toy_encoder_onnx,
    toy_windows,
    write_example_bundle,
)
from aura_export.example import main as example_main
from aura_sdk import ConfigError, ModelInputSpec
from aura_sdk.bundle import TrustPolicy, read_bundle

SPEC = ModelInputSpec(sample_rate_hz=25.0, window_samples=50, hop_samples=25)


def _run(model: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"imu": x.astype(np.float32)})[0])


def test_encoder_graph_is_valid_opset17_with_dynamic_batch() -> None:
    model = onnx.load_from_string(toy_encoder_onnx(50, 12, seed=1))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 50, 6]
    out = _run(model.SerializeToString(), np.random.default_rng(0).standard_normal((5, 50, 6)))
    assert out.shape == (5, 12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_encoder_computes_the_documented_features() -> None:
    # rebuild the embedding in numpy from the same seed: mean, std, RMS of differences
    x = np.random.default_rng(3).standard_normal((2, 50, 6))
    rng = np.random.default_rng(7)
    proj = rng.standard_normal((18, 8)) / math.sqrt(18)
    bias = 0.1 * rng.standard_normal(8)
    feats = np.concatenate([x.mean(1), np.sqrt(x.var(1) + 1e-6),
                            np.sqrt((np.diff(x, axis=1) ** 2).mean(1) + 1e-6)], axis=1)
    h = feats @ proj + bias
    expected = h / np.sqrt((h**2).sum(1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(_run(toy_encoder_onnx(50, 8, seed=7), x), expected, atol=1e-5)


def test_seed_determinism_and_precisions() -> None:
    assert toy_encoder_onnx(50, 8, seed=1) == toy_encoder_onnx(50, 8, seed=1)
    assert toy_encoder_onnx(50, 8, seed=1) != toy_encoder_onnx(50, 8, seed=2)
    x = np.random.default_rng(4).standard_normal((6, 50, 6))
    ref = _run(toy_encoder_onnx(50, 8, seed=1), x)
    for precision in ("fp16", "int8"):
        low = _run(toy_encoder_onnx(50, 8, seed=1, precision=precision), x)  # type: ignore[arg-type]
        assert (low * ref).sum(1).min() > 0.995, precision
    int8 = onnx.load_from_string(toy_encoder_onnx(50, 8, precision="int8"))
    assert any(i.data_type == onnx.TensorProto.INT8 for i in int8.graph.initializer)
    with pytest.raises(ConfigError):
        toy_encoder_onnx(1, 8)


def test_toy_windows_are_seeded_and_distinct() -> None:
    a = toy_windows("walking", 3, 50, 25.0, seed=0)
    assert a.shape == (3, 50, 6) and a.dtype == np.float32
    np.testing.assert_array_equal(a, toy_windows("walking", 3, 50, 25.0, seed=0))
    still = toy_windows("still", 3, 50, 25.0)
    assert abs(float(still[..., 2].mean()) - 9.80665) < 0.05
    assert still.std(axis=1).max() < 0.1 < a.std(axis=1).max()
    with pytest.raises(ConfigError, match="unknown toy label"):
        toy_windows("flying", 1, 50, 25.0)


def test_example_bundle_recognises_its_own_generator(tmp_path: Path) -> None:
    out = tmp_path / "toy.aura"
    manifest = write_example_bundle(out, window_samples=50, sample_rate_hz=25.0,
                                    embedding_dim=16, seed=5, precisions=("fp32", "fp16"),
                                    examples_per_label=8)
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    assert bundle.manifest == manifest
    assert bundle.labels == TOY_LABELS
    assert bundle.precisions == ("fp32", "fp16")
    assert manifest.training["trained"] is False
    assert "not a trained model" in bundle.model_card
    # fresh windows (another seed) land on their own prototype
    for precision in bundle.precisions:
        model = bundle.encoder_bytes(precision)
        for i, label in enumerate(TOY_LABELS):
            emb = toy_embed(model, toy_windows(label, 6, 50, 25.0, seed=99), SPEC)
            scores = emb @ bundle.prototypes.embeddings.T
            assert (scores.argmax(axis=1) == i).all(), (precision, label, scores)
    assert manifest.metrics["toy_synthetic_accuracy"] == 1.0


def test_example_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.aura"
    assert example_main([str(out), "--window", "32", "--dim", "8", "--text-projection"]) == 0
    assert "untrained format demonstrator" in capsys.readouterr().out
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    assert bundle.manifest.input.window_samples == 32
    assert bundle.text_projection is not None and bundle.text_projection.shape == (384, 8)
    assert example_main([str(out)]) == 1  # exists, no --overwrite
    assert "already exists" in capsys.readouterr().err
