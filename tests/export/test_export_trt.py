"""The static TensorRT ONNX-parser check: real exported graphs and deliberately bad ones."""

from __future__ import annotations

import functools

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from test_export_support import SPEC, val_windows

from aura_export import (
    TRT_MAX_OPSET,
    TRT_SUPPORTED_OPS,
    TRT_UNSUPPORTED_OPS,
    check_tensorrt_ops,
    convert_fp16,
    export_onnx,
    quantize_int8,
)
from aura_training.models import build_encoder


@functools.lru_cache(maxsize=1)
def _student_fp32() -> bytes:
    torch.manual_seed(3)
    return export_onnx(build_encoder("imu-student").eval(), SPEC).model


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto] | None = None,
           opset: int = 17, outputs: tuple[str, ...] = ("y",),
           domains: tuple[tuple[str, int], ...] = ()) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        inits or [])
    ops = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in domains)]
    return helper.make_model(graph, opset_imports=ops)


def test_support_matrix_is_the_documented_one() -> None:
    # onnx-tensorrt docs/operators.md @ 96e78110 lists 150 "Y" and 46 "N" rows
    assert len(TRT_SUPPORTED_OPS) == 150 and len(TRT_UNSUPPORTED_OPS) == 46
    assert not TRT_SUPPORTED_OPS & TRT_UNSUPPORTED_OPS
    assert {"LayerNormalization", "Gelu", "Conv", "MatMul", "Softmax"} <= TRT_SUPPORTED_OPS
    assert {"MatMulInteger", "DynamicQuantizeLinear", "ConvInteger"} <= TRT_UNSUPPORTED_OPS
    assert TRT_MAX_OPSET == 20


def test_exported_encoders_pass_and_dynamic_int8_does_not() -> None:
    fp32 = _student_fp32()
    report = check_tensorrt_ops(fp32)
    print(f"imu-student fp32 ops: {report.op_counts}")
    assert report.ok and report.unsupported_ops == () and report.opset == 20
    assert report.op_counts["LayerNormalization"] == 8 and report.op_counts["Conv"] == 1
    assert set(report.op_counts) <= TRT_SUPPORTED_OPS
    assert check_tensorrt_ops(convert_fp16(fp32)).ok
    # symmetric static QDQ with float biases is what TensorRT's parser takes
    static = check_tensorrt_ops(quantize_int8(fp32, "static", val_windows().x[:16]))
    assert static.ok, static.issues[:3]
    assert static.op_counts["QuantizeLinear"] > 0 and static.op_counts["DequantizeLinear"] > 0
    dynamic = check_tensorrt_ops(quantize_int8(fp32, "dynamic"))
    assert dynamic.unsupported_ops == ("DynamicQuantizeLinear", "MatMulInteger")
    assert all(i.reason == "documented as unsupported" for i in dynamic.issues)


def test_unsupported_ops_custom_domains_and_opset_are_reported() -> None:
    nodes = [helper.make_node("Unique", ["x"], ["u"]),
             helper.make_node("FusedGemm", ["x", "x"], ["f"], domain="com.microsoft"),
             helper.make_node("Relu", ["x"], ["y"])]
    report = check_tensorrt_ops(_model(nodes, opset=21, outputs=("y", "u", "f"),
                                       domains=(("com.microsoft", 1),)))
    assert not report.ok
    assert report.unsupported_ops == ("FusedGemm", "Unique")
    reasons = {i.op: i.reason for i in report.issues}
    assert "outside TensorRT's supported range 9-20" in reasons["(model)"]
    assert reasons["Unique"] == "documented as unsupported"
    assert "custom domain 'com.microsoft'" in reasons["FusedGemm"]
    made_up = check_tensorrt_ops(_model([helper.make_node("Frobnicate", ["x"], ["y"])]))
    assert made_up.unsupported_ops == ("Frobnicate",)
    assert made_up.issues[0].reason == "not in the support matrix"


def test_restrictions_constants_zero_points_and_layernorm_outputs() -> None:
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    starts = numpy_helper.from_array(np.array([0], np.int64), "s")
    ends = numpy_helper.from_array(np.array([2], np.int64), "e")
    # Slice with constant axes is fine; with axes computed at run time it is not
    ok = check_tensorrt_ops(_model([helper.make_node("Slice", ["x", "s", "e", "axes"], ["y"])],
                                   [axes, starts, ends]))
    assert ok.ok
    dyn_axes = [helper.make_node("Shape", ["x"], ["shp"]),
                helper.make_node("Slice", ["shp", "s", "e"], ["ax"]),
                helper.make_node("Slice", ["x", "s", "e", "ax"], ["y"])]
    bad = check_tensorrt_ops(_model(dyn_axes, [starts, ends]))
    assert [(i.op, i.reason) for i in bad.issues] == [
        ("Slice", "input 'axes' must be an initializer or constant")]
    # a non-zero (asymmetric) zero point and a uint8 one
    scale = numpy_helper.from_array(np.array(0.1, np.float32), "sc")
    zp_int8 = numpy_helper.from_array(np.array(3, np.int8), "zp")
    zp_u8 = numpy_helper.from_array(np.array(0, np.uint8), "zpu")
    qdq = [helper.make_node("QuantizeLinear", ["x", "sc", "zp"], ["q"]),
           helper.make_node("DequantizeLinear", ["q", "sc", "zp"], ["y"])]
    reasons = [i.reason for i in check_tensorrt_ops(_model(qdq, [scale, zp_int8])).issues]
    assert reasons == ["'y_zero_point' must be zero (symmetric quantisation)",
                       "'x_zero_point' must be zero (symmetric quantisation)"]
    qdq_u8 = [helper.make_node("QuantizeLinear", ["x", "sc", "zpu"], ["q"]),
              helper.make_node("DequantizeLinear", ["q", "sc", "zpu"], ["y"])]
    u8 = check_tensorrt_ops(_model(qdq_u8, [scale, zp_u8]))
    assert len(u8.issues) == 2 and "UINT8 is unsupported" in u8.issues[0].reason
    # LayerNormalization: only Y may be used
    g = numpy_helper.from_array(np.ones(4, np.float32), "g")
    ln = [helper.make_node("LayerNormalization", ["x", "g"], ["y", "mean"])]
    report = check_tensorrt_ops(_model(ln, [g], outputs=("y", "mean")))
    assert report.unsupported_ops == ("LayerNormalization",)
    assert check_tensorrt_ops(_model(ln, [g])).ok  # the mean exists but is never used


def test_pooling_restrictions() -> None:
    pool1d = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2])
    report = check_tensorrt_ops(_model([pool1d]))
    assert [(i.op, i.reason) for i in report.issues] == [
        ("MaxPool", "1D pooling: 2D or 3D pooling only")]
    dilated = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2],
                               dilations=[2, 1])
    assert [i.reason for i in check_tensorrt_ops(_model([dilated])).issues] == [
        "'dilations' must be empty or all ones"]
    indices = helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2])
    assert check_tensorrt_ops(_model([indices])).ok  # Indices produced but never used
    used = check_tensorrt_ops(_model([indices], outputs=("y", "idx")))
    assert [i.reason for i in used.issues] == ["the 'Indices' output is unsupported"]


def test_ops_inside_subgraphs_are_checked() -> None:
    then_g = helper.make_graph([helper.make_node("Unique", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Relu", ["x"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    cond = numpy_helper.from_array(np.array(True), "c")
    node = helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)
    report = check_tensorrt_ops(_model([node], [cond]))
    assert report.op_counts == {"If": 1, "Relu": 1, "Unique": 1}
    assert report.unsupported_ops == ("Unique",)
