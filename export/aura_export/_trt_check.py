"""A static check that TensorRT's ONNX parser can read a graph: ops, opset and restrictions.

TensorRT cannot be installed here, so this reads the graph instead of parsing it: every node
(inside subgraphs and model-local functions too) must be an op the parser supports, the
default-domain opset must lie in the supported range, and the documented restrictions that
can be checked without TensorRT are checked (inputs that must be initializers, zero points
that must be zero, quantised types, only the first output of LayerNormalization, 2D/3D
pooling without dilation).

The support matrix below is data transcribed from the onnx-tensorrt project's
``docs/operators.md`` at commit 96e781103cfc4adf4a6bb557e94bac8e693f6f4c ("ONNX-TensorRT 10.1
GA release", https://github.com/onnx/onnx-tensorrt/blob/96e78110/docs/operators.md), whose
header reads "TensorRT 10.0 supports operators in the inclusive range of opset 9 to opset 20".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = [
    "TRT_MAX_OPSET",
    "TRT_MIN_OPSET",
    "TRT_OPS_SOURCE",
    "TRT_SUPPORTED_OPS",
    "TRT_UNSUPPORTED_OPS",
    "TrtIssue",
    "TrtOpReport",
    "check_tensorrt_ops",
]

TRT_OPS_SOURCE = ("onnx/onnx-tensorrt docs/operators.md @ 96e781103cfc (ONNX-TensorRT 10.1 GA; "
                  "TensorRT 10.0 support matrix)")
TRT_MIN_OPSET = 9
TRT_MAX_OPSET = 20

# Operators marked "Y" in the support matrix.
TRT_SUPPORTED_OPS: frozenset[str] = frozenset((
    "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh",
    "AveragePool", "BatchNormalization", "Cast", "CastLike", "Ceil", "Celu", "Clip", "Concat",
    "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum", "DeformConv",
    "DepthToSpace", "DequantizeLinear", "Div", "Dropout", "Einsum", "Elu", "Equal", "Erf", "Exp",
    "Expand", "EyeLike", "Flatten", "Floor", "Gather", "GatherElements", "GatherND", "Gelu",
    "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Greater", "GreaterOrEqual",
    "GridSample", "GroupNormalization", "GRU", "HardSigmoid", "HardSwish", "Hardmax", "Identity",
    "If", "ImageScaler", "InstanceNormalization", "IsInf", "IsNaN", "LayerNormalization",
    "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "Loop", "LRN", "LSTM",
    "LpNormalization", "LpPool", "MatMul", "Max", "MaxPool", "Mean", "MeanVarianceNormalization",
    "Min", "Mish", "Mod", "Mul", "Neg", "NonMaxSuppression", "NonZero", "Not", "OneHot", "Or",
    "Pad", "ParametricSoftplus", "Pow", "PRelu", "QuantizeLinear", "RandomNormal",
    "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1",
    "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
    "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence",
    "RNN", "RoiAlign", "Round", "ScaledTanh", "Scan", "Scatter", "ScatterElements", "ScatterND",
    "Selu", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax",
    "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan",
    "Tanh", "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu", "Unsqueeze", "Upsample",
    "Where", "Xor",
))

# Operators marked "N" (listed so a report can say "documented as unsupported").
TRT_UNSUPPORTED_OPS: frozenset[str] = frozenset((
    "AffineGrid", "Bernoulli", "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor",
    "BlackmanWindow", "Col2Im", "CenterCropPad", "Compress", "ConcatFromSequence", "ConvInteger",
    "DFT", "Det", "DynamicQuantizeLinear", "HammingWindow", "HannWindow", "ImageDecoder",
    "MatMulInteger", "MaxRoiPool", "MaxUnpool", "MelWeightMatrix", "Multinomial",
    "NegativeLogLikelihoodLoss", "Optional", "OptionalGetElement", "OptionalHasElement",
    "QLinearConv", "QLinearMatMul", "RegexFullMatch", "STFT", "SequenceAt", "SequenceConstruct",
    "SequenceEmpty", "SequenceErase", "SequenceInsert", "SequenceLength", "SequenceMap",
    "SoftmaxCrossEntropyLoss", "SplitToSequence", "StringConcat", "StringNormalizer",
    "StringSplit", "TfIdfVectorizer", "Unique",
))

_REDUCE = ("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
           "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare")
# Restrictions column: "<input> must be an initializer" / "must be a constant tensor" (index of
# the input in the op's signature).
_MUST_BE_CONSTANT: dict[str, tuple[int, str]] = {
    "CumSum": (1, "axis"), "Slice": (3, "axes"), "Squeeze": (1, "axes"),
    "Unsqueeze": (1, "axes"), "Pad": (3, "axes"), "Dropout": (2, "training_mode"),
    **{op: (1, "axes") for op in _REDUCE},
}
# "x_zero_point / y_zero_point must be zero"; quantised types INT8, FP8, INT4 only.
_ZERO_POINT: dict[str, tuple[int, str]] = {"QuantizeLinear": (2, "y_zero_point"),
                                           "DequantizeLinear": (2, "x_zero_point")}
# "2D or 3D pooling only" (AveragePool, MaxPool), "dilations must be empty or all ones".
_POOLING = frozenset({"AveragePool", "MaxPool", "LpPool"})
_QUANT_TYPES = frozenset({onnx.TensorProto.INT8, onnx.TensorProto.INT4,
                          onnx.TensorProto.FLOAT8E4M3FN})


@dataclass(frozen=True)
class TrtIssue:
    """One reason TensorRT's parser would refuse the graph.

    Attributes:
        op: the op type (``"(model)"`` for a model-level issue such as the opset).
        node: the node's name (or ``""``).
        reason: what is wrong, from the support matrix.
    """

    op: str
    node: str
    reason: str


@dataclass(frozen=True)
class TrtOpReport:
    """The result of :func:`check_tensorrt_ops`.

    Attributes:
        opset: the graph's default-domain opset.
        op_counts: op type -> count over the whole graph (subgraphs and functions included).
        issues: every problem found, in graph order.
        source: where the support matrix comes from.
    """

    opset: int
    op_counts: dict[str, int]
    issues: tuple[TrtIssue, ...] = ()
    source: str = TRT_OPS_SOURCE

    @property
    def ok(self) -> bool:
        """No issue: TensorRT's parser should accept the graph."""
        return not self.issues

    @property
    def unsupported_ops(self) -> tuple[str, ...]:
        """Sorted op types with at least one issue."""
        return tuple(sorted({i.op for i in self.issues if i.op != "(model)"}))


def _constants(graph: onnx.GraphProto, outer: dict[str, onnx.TensorProto]
               ) -> dict[str, onnx.TensorProto]:
    consts = dict(outer)
    consts.update({t.name: t for t in graph.initializer})
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = attr.t
    return consts


def _walk(graph: onnx.GraphProto, outer: dict[str, onnx.TensorProto]
          ) -> Iterator[tuple[onnx.NodeProto, dict[str, onnx.TensorProto], set[str]]]:
    """Every node with the constants and consumed tensor names visible to it."""
    consts = _constants(graph, outer)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    for node in graph.node:
        yield node, consts, used
        for attr in node.attribute:
            subs = list(attr.graphs) + ([attr.g] if attr.HasField("g") else [])
            for sub in subs:
                yield from _walk(sub, consts)


def _restrictions(node: onnx.NodeProto, consts: dict[str, onnx.TensorProto],
                  used: set[str]) -> Iterator[str]:
    op = node.op_type
    if op in _MUST_BE_CONSTANT:
        idx, what = _MUST_BE_CONSTANT[op]
        if len(node.input) > idx and node.input[idx] and node.input[idx] not in consts:
            yield f"input {what!r} must be an initializer or constant"
    if op in _ZERO_POINT:
        idx, what = _ZERO_POINT[op]
        zp = node.input[idx] if len(node.input) > idx else ""
        if zp:
            if zp not in consts:
                yield f"{what!r} must be a constant zero"
            else:
                t = consts[zp]
                if t.data_type not in _QUANT_TYPES:
                    name = onnx.TensorProto.DataType.Name(t.data_type)
                    yield f"quantised type {name} is unsupported (INT8, FP8 or INT4 only)"
                elif np.any(numpy_helper.to_array(t) != 0):
                    yield f"{what!r} must be zero (symmetric quantisation)"
    if op == "LayerNormalization" and any(o and o in used for o in node.output[1:]):
        yield "only the first output 'Y' is supported"
    if op in _POOLING:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if op != "LpPool" and len(attrs.get("kernel_shape", ())) not in (2, 3):
            yield f"{len(attrs.get('kernel_shape', ()))}D pooling: 2D or 3D pooling only"
        if any(d != 1 for d in attrs.get("dilations", ())):
            yield "'dilations' must be empty or all ones"
        if op == "MaxPool" and len(node.output) > 1 and node.output[1] in used:
            yield "the 'Indices' output is unsupported"


def check_tensorrt_ops(model: onnx.ModelProto | bytes) -> TrtOpReport:
    """Check a graph against TensorRT's ONNX parser support matrix (no TensorRT needed).

    Args:
        model: an ONNX model or its bytes.

    Returns:
        The :class:`TrtOpReport`; ``report.unsupported_ops`` lists the op types at fault.
    """
    proto = onnx.load_from_string(model) if isinstance(model, bytes | bytearray) else model
    opset = next((int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    issues: list[TrtIssue] = []
    if not TRT_MIN_OPSET <= opset <= TRT_MAX_OPSET:
        issues.append(TrtIssue("(model)", "", f"opset {opset} is outside TensorRT's supported "
                               f"range {TRT_MIN_OPSET}-{TRT_MAX_OPSET}; re-export with "
                               f"opset_version={TRT_MAX_OPSET}"))
    functions = {(f.domain, f.name): f for f in proto.functions}
    counts: Counter[str] = Counter()

    def visit(graph: onnx.GraphProto, outer: dict[str, onnx.TensorProto]) -> None:
        for node, consts, used in _walk(graph, outer):
            fn = functions.get((node.domain, node.op_type))
            if fn is not None:  # a model-local function: check what it is made of
                body = onnx.GraphProto(node=fn.node)
                visit(body, consts)
                continue
            counts[node.op_type] += 1
            name = node.name
            if node.domain not in ("", "ai.onnx"):
                issues.append(TrtIssue(node.op_type, name, f"custom domain {node.domain!r}: "
                                       "TensorRT needs a plugin for it"))
            elif node.op_type in TRT_UNSUPPORTED_OPS:
                issues.append(TrtIssue(node.op_type, name, "documented as unsupported"))
            elif node.op_type not in TRT_SUPPORTED_OPS:
                issues.append(TrtIssue(node.op_type, name, "not in the support matrix"))
            else:
                issues.extend(TrtIssue(node.op_type, name, why)
                              for why in _restrictions(node, consts, used))

    visit(proto.graph, {})
    return TrtOpReport(opset, dict(sorted(counts.items())), tuple(issues))
