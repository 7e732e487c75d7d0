"""ONNX export of the IMU encoders: one file, fixed window, dynamic batch, parity below 1e-4."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from test_export_support import SPEC, TinyEncoder, val_windows

from aura_export import (
    DEFAULT_FP32_TOLERANCE,
    ExportError,
    ParityError,
    check_parity,
    check_tensorrt_ops,
    export_onnx,
    run_encoder,
    simplify_onnx,
    torch_embed,
)
from aura_sdk import ConfigError
from aura_training.models import build_encoder


@pytest.mark.parametrize("preset", ["imu-student", "imu-xs"])
def test_export_is_one_checked_file_with_parity_below_1e4(preset: str) -> None:
    torch.manual_seed(0)
    model = build_encoder(preset).eval()
    corpus = val_windows()
    result = export_onnx(model, SPEC, corpus=corpus)
    p = result.parity
    print(f"{preset}: max abs random {p.max_abs_random:.2e}, corpus {p.max_abs_corpus:.2e}, "
          f"batch-1 {p.max_abs_single:.2e}; {result.simplify}")
    assert p.tolerance == DEFAULT_FP32_TOLERANCE == 1e-4
    assert p.max_abs < 1e-4 and p.ok
    assert p.n_random == 16 and p.n_corpus == len(corpus)
    assert p.max_abs_corpus is not None and p.max_abs_corpus < 1e-4
    proto = onnx.load_from_string(result.model)
    onnx.checker.check_model(proto, full_check=True)
    # one self-contained file: every weight is inside it
    assert all(t.data_location == TensorProto.DEFAULT and not t.external_data
               for t in proto.graph.initializer)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert proto.graph.input[0].name == "imu" and dims[1:] == [250, 6]
    assert isinstance(dims[0], str)  # dynamic batch
    out = [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert proto.graph.output[0].name == "embedding" and out[1] == 384 == result.embedding_dim
    assert result.opset == 20 and result.window_samples == 250
    assert result.simplify.nodes_after <= result.simplify.nodes_before
    assert sum(result.op_counts.values()) == len(proto.graph.node)
    assert check_tensorrt_ops(result.model).ok  # TensorRT's parser takes every op
    # the exported graph really is the model: same outputs for 5 windows as one batch
    x = corpus.x[:5]
    np.testing.assert_allclose(run_encoder(result.model, x), torch_embed(model, x), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(run_encoder(result.model, x), axis=1), 1.0,
                               atol=1e-5)


def test_parity_gate_refuses_a_graph_that_is_not_the_model() -> None:
    model = TinyEncoder(seed=1)
    good = export_onnx(model, SPEC.window_samples, simplify=False)
    assert good.simplify.method == "none" and good.parity.ok
    other = TinyEncoder(seed=2)  # other weights, same graph
    report = check_parity(good.model, other, 250, corpus=val_windows().x[:8])
    assert not report.ok and report.max_abs > 1e-2
    with pytest.raises(ParityError) as info:
        export_onnx(model, SPEC, tolerance=1e-12)
    err = info.value
    assert err.precision == "fp32" and err.measure == "max_abs" and err.tolerance == 1e-12
    assert 0 < err.value < 1e-5  # the graph is fine; the tolerance is impossible
    assert "refused" in str(err)


class _TwoOutputs(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)  # (B, T, 4): not one embedding per window


def test_export_rejects_what_is_not_an_encoder() -> None:
    with pytest.raises(ConfigError, match=r"nn\.Module"):
        export_onnx(object(), SPEC)
    with pytest.raises(ExportError, match=r"output shape .* is not \[batch, D\]"):
        export_onnx(_TwoOutputs(), 32)


def test_simplify_folds_constants_and_keeps_the_function() -> None:
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    nodes = [
        helper.make_node("Add", ["a", "b"], ["ab"]),            # constant: folds
        helper.make_node("MatMul", ["x", "ab"], ["h"]),
        helper.make_node("Relu", ["h"], ["r1"]),
        helper.make_node("Relu", ["h"], ["r2"]),                # duplicate: CSE
        helper.make_node("Add", ["r1", "r2"], ["y"]),
        helper.make_node("Neg", ["x"], ["unused"]),             # dead
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(w, "a"), numpy_helper.from_array(np.ones_like(w), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    simple, report = simplify_onnx(model)
    assert report.nodes_before == 6 and report.nodes_after == 3  # MatMul, Relu, Add
    assert sorted(n.op_type for n in simple.graph.node) == ["Add", "MatMul", "Relu"]
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    want = 2 * np.maximum(x @ (w + 1), 0)
    import onnxruntime as ort

    sess = ort.InferenceSession(simple.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], want, rtol=1e-6)
