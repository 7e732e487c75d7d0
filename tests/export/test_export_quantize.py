"""int8 (dynamic, static QDQ) and fp16 encoders: built, inspected and measured against fp32."""

from __future__ import annotations

import functools

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper
from test_export_support import SPEC, label_prototypes, train_windows, trained_student, val_windows

from aura_export import (
    BATCH_TOLERANCE,
    INT8_METHODS,
    AgreementReport,
    WindowReader,
    WindowSet,
    choose_int8,
    compare_encoders,
    convert_fp16,
    export_onnx,
    quantize_int8,
    zero_shot_metrics,
)
from aura_sdk import ConfigError
from aura_sdk.bundle import Prototypes


@functools.lru_cache(maxsize=1)
def _fp32() -> bytes:
    return export_onnx(trained_student(), SPEC, corpus=val_windows()).model


def test_window_reader_gives_equal_batches_and_rewinds() -> None:
    x = np.arange(10 * 8 * 6, dtype=np.float32).reshape(10, 8, 6)
    reader = WindowReader(x, batch_size=4, input_name="imu")
    batches = []
    while (feed := reader.get_next()) is not None:
        batches.append(feed["imu"])
    assert [b.shape for b in batches] == [(4, 8, 6)] * 3
    np.testing.assert_array_equal(batches[2][2:], x[:2])  # the last batch wraps around
    reader.rewind()
    first = reader.get_next()
    assert first is not None
    np.testing.assert_array_equal(first["imu"], x[:4])


def test_zero_shot_metrics_match_a_known_answer() -> None:
    protos = Prototypes(("a", "b", "c"), np.eye(3, dtype=np.float32))
    emb = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.2, 1], [1, 0.5, 0]], np.float32)
    labels = ["a", "a", "b", "b", "zzz"]  # the unknown label is left out
    m = zero_shot_metrics(emb, labels, protos)
    assert m.n == 4 and m.predictions.tolist() == [0, 0, 1, 2]  # truth [0, 0, 1, 1]
    assert m.accuracy == 0.75
    # F1 per class present in truth or predictions: a 1, b 2/3 (one of two found), c 0
    assert m.macro_f1 == pytest.approx((1 + 2 / 3 + 0) / 3)
    with pytest.raises(ConfigError, match="has a prototype"):
        zero_shot_metrics(emb[:1], ["zzz"], protos)


def _ops(model: bytes) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in onnx.load_from_string(model).graph.node:
        out[n.op_type] = out.get(n.op_type, 0) + 1
    return out


def test_int8_variants_are_built_measured_and_the_best_kept() -> None:
    fp32 = _fp32()
    protos = label_prototypes()
    choice = choose_int8(fp32, train_windows().subset(96, seed=0), val_windows(),
                         prototypes=protos)
    assert set(choice.reports) == set(INT8_METHODS)
    for method, r in choice.reports.items():
        print(f"int8 {method}: cosine mean {r.cosine_mean:.5f} min {r.cosine_min:.5f}; "
              f"accuracy {r.accuracy_fp32:.3f} -> {r.accuracy:.3f}, macro-F1 "
              f"{r.macro_f1_fp32:.3f} -> {r.macro_f1:.3f}")
        assert r.n_windows == len(val_windows())
        assert 0.99 < r.cosine_mean <= 1.0 + 1e-6 and r.cosine_min > 0.95
        assert r.cosine_min <= r.cosine_p01 <= r.cosine_mean
        assert r.accuracy_delta is not None and abs(r.accuracy_delta) <= 0.05
        assert r.macro_f1_delta is not None and abs(r.macro_f1_delta) <= 0.05
        assert r.prediction_agreement is not None and r.prediction_agreement >= 0.9
    # dynamic int8 takes activation scales over the whole input: a window's embedding moves
    # with its batch companions; the static QDQ graphs have fixed scales and do not
    assert choice.reports["dynamic"].batch_max_abs is not None
    assert choice.reports["dynamic"].batch_max_abs > 10 * BATCH_TOLERANCE
    assert not choice.reports["dynamic"].batch_independent
    for method in ("static", "static-no-attention"):
        assert choice.reports[method].batch_independent, choice.reports[method].batch_max_abs
    best = choice.reports[choice.method]
    assert choice.method != "dynamic" and best.batch_independent
    assert best.macro_f1_delta is not None and best.macro_f1_delta >= -0.01  # within 1 point
    eligible = [m for m, r in choice.reports.items()
                if (r.macro_f1_delta or 0) >= -0.01 and r.batch_independent]
    assert best.cosine_mean == max(choice.reports[m].cosine_mean for m in eligible)
    assert choice.rule.startswith("batch-independent variants only (static, "
                                  "static-no-attention); ")
    assert "within 1 macro-F1 points" in choice.rule
    assert best.as_metrics()["agreement.int8.batch_max_abs"] == best.batch_max_abs
    # the fp32 model is far above chance (1/10), so agreement numbers mean something
    assert best.accuracy_fp32 is not None and best.accuracy_fp32 > 0.2


def test_int8_graphs_are_what_each_method_promises() -> None:
    fp32 = _fp32()
    calib = val_windows().x[:32]
    dynamic = _ops(quantize_int8(fp32, "dynamic"))
    assert dynamic["MatMulInteger"] >= 12 and "ConvInteger" not in dynamic
    static_model = quantize_int8(fp32, "static", calib)
    static = _ops(static_model)
    no_attn = _ops(quantize_int8(fp32, "static-no-attention", calib))
    assert static["QuantizeLinear"] > no_attn["QuantizeLinear"] > 0
    assert static.get("Conv") == 1 and "ConvInteger" not in static  # the patch Conv stays fp32
    proto = onnx.load_from_string(static_model)
    inits = {t.name: t for t in proto.graph.initializer}
    int8_weights = [t for t in proto.graph.initializer if t.data_type == TensorProto.INT8
                    and len(t.dims) == 2]
    assert len(int8_weights) >= 12  # per-channel int8 weight matrices
    per_channel = [n for n in proto.graph.node if n.op_type == "DequantizeLinear"
                   and n.input[0] in {t.name for t in int8_weights}]
    assert per_channel and all(len(inits[n.input[1]].dims) == 1 and inits[n.input[1]].dims[0] > 1
                               for n in per_channel)
    zero_points = [numpy_helper.to_array(inits[n.input[2]]) for n in proto.graph.node
                   if n.op_type in ("QuantizeLinear", "DequantizeLinear") and len(n.input) > 2
                   and n.input[2] in inits]
    assert zero_points and all(z.dtype == np.int8 and not z.any() for z in zero_points)
    with pytest.raises(ConfigError, match="needs calibration windows"):
        quantize_int8(fp32, "static")
    with pytest.raises(ConfigError, match="unknown int8 method"):
        quantize_int8(fp32, "float4")  # type: ignore[arg-type]


def test_fp16_keeps_io_and_norms_in_fp32_and_agrees() -> None:
    fp32 = _fp32()
    half = convert_fp16(fp32)
    proto = onnx.load_from_string(half)
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert proto.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    big = [t for t in proto.graph.initializer if len(t.dims) == 2 and min(t.dims) > 6]
    assert big and all(t.data_type == TensorProto.FLOAT16 for t in big)
    typed = onnx.shape_inference.infer_shapes(proto)
    types = {v.name: v.type.tensor_type.elem_type for v in typed.graph.value_info}
    for node in typed.graph.node:
        if node.op_type in ("LayerNormalization", "Softmax", "ReduceL2"):
            assert types.get(node.output[0], TensorProto.FLOAT) == TensorProto.FLOAT, node.name
    assert len(half) < 0.7 * len(fp32)
    r = compare_encoders(fp32, half, val_windows(), precision="fp16", variant="fp16",
                         prototypes=label_prototypes())
    print(f"fp16: cosine mean {r.cosine_mean:.7f} min {r.cosine_min:.7f}, macro-F1 delta "
          f"{r.macro_f1_delta:+.4f}")
    assert isinstance(r, AgreementReport)
    assert r.cosine_min > 0.999 and r.prediction_agreement is not None
    assert r.prediction_agreement >= 0.97 and abs(r.macro_f1_delta or 0) <= 0.02
    metrics = r.as_metrics()
    assert metrics["agreement.fp16.cosine_min"] == r.cosine_min
    assert metrics["agreement.fp16.n_windows"] == len(val_windows())
    # windows labelled with words the vocabulary lacks: cosines, but no zero-shot scores
    others = WindowSet(val_windows().x, tuple("x" + w for w in val_windows().labels or ()))
    r2 = compare_encoders(fp32, half, others, precision="fp16", variant="fp16",
                          prototypes=label_prototypes())
    assert r2.cosine_min == pytest.approx(r.cosine_min) and r2.prediction_agreement is None
