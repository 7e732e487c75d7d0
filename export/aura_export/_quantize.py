"""Lower precisions of an exported encoder: int8 (dynamic and static QDQ) and fp16, measured.

int8 goes through onnxruntime.quantization. Three variants are built and measured against the
fp32 graph, and the best one is kept (:func:`choose_int8`):

* ``dynamic``: int8 weights, activations quantised at run time (``quantize_dynamic``);
* ``static``: QDQ with symmetric int8 activations calibrated on real windows
  (:class:`WindowReader`) and per-channel symmetric int8 weights, biases left in float: the
  form TensorRT's parser accepts;
* ``static-no-attention``: the same, with the activation x activation MatMuls of attention
  (``Q K^T`` and ``softmax V``) left in fp32, where static quantisation hurts transformers most.

Only MatMul and Gemm are quantised by default. The patch-embedding Conv sees the raw window,
whose channels span very different ranges (m/s^2 vs rad/s); measured on a briefly trained
imu-student, quantising it (one activation scale for all six channels) dropped the mean cosine
to fp32 from 0.999 to 0.96 (static) and 0.72 (dynamic), so it stays in fp32.

fp16 uses onnxruntime's float16 converter with float32 inputs and outputs (the SDK feeds
float32) and keeps LayerNorm, Softmax and the final L2 normalisation in fp32.

An encoder with a placement input (int64 ids, see :mod:`._onnx_export`) is calibrated and
measured with each window's own placement id, and its placement table (a ``Gather``, not a
MatMul or Gemm) stays in float: a placement vector is added to every token before the first
quantised MatMul, so its range is part of the calibrated activations. Its agreement with fp32
is also measured per placement (:attr:`AgreementReport.cosine_by_placement`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnx
from onnxruntime.quantization import CalibrationDataReader

from aura_sdk import ConfigError
from aura_sdk.bundle import Prototypes

from ._errors import ExportError
from ._metrics import cosine_rows, zero_shot_metrics
from ._onnx_export import run_encoder
from ._windows import WindowSet, as_window_set

F32 = npt.NDArray[np.float32]

__all__ = [
    "BATCH_TOLERANCE",
    "FP32_OPS_IN_FP16",
    "INT8_METHODS",
    "NOT_SAID",
    "AgreementReport",
    "Int8Choice",
    "Int8Method",
    "WindowReader",
    "batch_dependence",
    "choose_int8",
    "compare_encoders",
    "convert_fp16",
    "quantize_int8",
]

Int8Method = Literal["dynamic", "static", "static-no-attention"]
INT8_METHODS: tuple[Int8Method, ...] = ("dynamic", "static", "static-no-attention")
#: Ops kept in float32 inside an fp16 graph (range and accumulation sensitive).
FP32_OPS_IN_FP16: tuple[str, ...] = (
    "LayerNormalization", "Softmax", "ReduceL2", "ReduceMean", "ReduceSumSquare", "Div", "Clip",
    "Sqrt", "Pow",
)
_QUANT_OPS: tuple[str, ...] = ("MatMul", "Gemm")
#: The key of placement id 0 ("not said") in :attr:`AgreementReport.cosine_by_placement`.
NOT_SAID = "not_said"
#: Windows run under every placement id for the per-placement agreement.
_PLACEMENT_PROBE = 128
#: windows run one at a time for the batch-independence measure (each also run in one batch
#: with the others)
_BATCH_PROBE = 16
#: largest change of an embedding that its batch companions may cause (fp32 kernels differ
#: by a few 1e-7 between batch sizes; dynamic int8, whose activation scales span the whole
#: input tensor, by about 1e-3)
BATCH_TOLERANCE = 1e-5


class WindowReader(CalibrationDataReader):
    """Feeds preprocessed windows to onnxruntime's calibrators in equal-sized batches.

    The histogram calibrators (percentile, entropy) stack every batch of a tensor, so all
    batches have the same size: the last one is completed by wrapping around to the start.

    Args:
        windows: ``(N, W, 6)`` windows or a :class:`WindowSet`.
        batch_size: windows per batch.
        input_name: the encoder's input name.
        placements: the encoder's placement names; each window's id comes from its
            :class:`WindowSet` placement (:meth:`WindowSet.placement_ids`).
        placement_name: the encoder's placement input, fed with those ids; ``None`` for an
            encoder without one.
    """

    def __init__(self, windows: WindowSet | npt.ArrayLike, batch_size: int = 16,
                 input_name: str = "imu", *, placements: Sequence[str] = (),
                 placement_name: str | None = None) -> None:
        ws = as_window_set(windows)
        x = ws.x
        self.batch_size = max(1, min(batch_size, x.shape[0]))
        n = -(-x.shape[0] // self.batch_size) * self.batch_size
        order = np.arange(n) % x.shape[0]
        self._x = np.take(x, order, axis=0)
        self._ids = ws.placement_ids(placements)[order]
        self.input_name = input_name
        self.placement_name = placement_name
        self._i = 0

    def get_next(self) -> dict[str, npt.NDArray[Any]] | None:
        """The next batch as an input feed, or ``None`` at the end."""
        if self._i >= self._x.shape[0]:
            return None
        rows = slice(self._i, self._i + self.batch_size)
        self._i += self.batch_size
        feed: dict[str, npt.NDArray[Any]] = {self.input_name: self._x[rows]}
        if self.placement_name is not None:
            feed[self.placement_name] = self._ids[rows]
        return feed

    def rewind(self) -> None:
        """Start again from the first batch."""
        self._i = 0


def _attention_matmuls(proto: onnx.ModelProto) -> list[str]:
    """Names of MatMuls with no constant operand (activation x activation: attention)."""
    consts = {t.name for t in proto.graph.initializer}
    consts |= {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
    return [n.name for n in proto.graph.node
            if n.op_type == "MatMul" and not any(i in consts for i in n.input)]


def quantize_int8(
    fp32: bytes,
    method: Int8Method,
    calibration: WindowSet | npt.ArrayLike | None = None,
    *,
    placements: Sequence[str] = (),
    per_channel: bool = True,
    op_types: Sequence[str] = _QUANT_OPS,
    calibrate_method: Literal["minmax", "percentile", "entropy"] = "minmax",
) -> bytes:
    """Quantise an fp32 encoder to int8 with onnxruntime.

    Args:
        fp32: the fp32 ONNX bytes.
        method: ``"dynamic"``, ``"static"`` or ``"static-no-attention"`` (module docstring).
        calibration: preprocessed windows for the static methods.
        placements: the encoder's placement names, for an encoder with a placement input:
            calibration windows are fed their own placement ids.
        per_channel: per-output-channel weight scales (static methods; dynamic uses one scale
            per tensor, which measured better there).
        op_types: op types to quantise.
        calibrate_method: how activation ranges are chosen (static methods).

    Returns:
        The int8 ONNX bytes (checked with the full ONNX checker).

    Raises:
        ConfigError: a static method without calibration windows, or an unknown method.
        ExportError: onnxruntime's quantiser failed.
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in INT8_METHODS:
        raise ConfigError(f"unknown int8 method {method!r}; use one of {list(INT8_METHODS)}")
    reader = None
    if method != "dynamic":
        if calibration is None:
            raise ConfigError(f"int8 method {method!r} needs calibration windows")
        reader = WindowReader(calibration, placements=placements)
    proto = onnx.load_from_string(fp32)
    ids = [i.name for i in proto.graph.input
           if i.type.tensor_type.elem_type == onnx.TensorProto.INT64]
    input_name = next(i.name for i in proto.graph.input if i.name not in ids)
    with tempfile.TemporaryDirectory(prefix="aura-quant-") as tmp:
        src, pre, out = (Path(tmp) / n for n in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        src.write_bytes(fp32)
        try:
            # shapes only (no graph rewrite): the quantiser wants them and says so otherwise
            quant_pre_process(str(src), str(pre), skip_optimization=True,
                              skip_onnx_shape=False, skip_symbolic_shape=True)
            if reader is None:
                quantize_dynamic(str(pre), str(out), weight_type=QuantType.QInt8,
                                 op_types_to_quantize=list(op_types), per_channel=False)
            else:
                exclude = _attention_matmuls(proto) if method == "static-no-attention" else []
                calib = {"minmax": CalibrationMethod.MinMax,
                         "percentile": CalibrationMethod.Percentile,
                         "entropy": CalibrationMethod.Entropy}[calibrate_method]
                reader.input_name = input_name
                reader.placement_name = ids[0] if ids else None
                quantize_static(
                    str(pre), str(out), reader,
                    quant_format=QuantFormat.QDQ, op_types_to_quantize=list(op_types),
                    per_channel=per_channel, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, nodes_to_exclude=exclude,
                    calibrate_method=calib,
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                                   "QuantizeBias": False})
            model = onnx.load(str(out))
        except (ConfigError, ExportError):
            raise
        except Exception as exc:  # the quantiser raises many types; all mean "no model"
            raise ExportError(f"onnxruntime could not quantise the encoder ({method}): "
                              f"{exc}") from exc
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"the int8 ({method}) graph fails the ONNX checker: {exc}") from exc
    return model.SerializeToString()


def convert_fp16(fp32: bytes, keep_fp32: Sequence[str] = FP32_OPS_IN_FP16) -> bytes:
    """Convert an fp32 encoder to fp16 weights and compute, with float32 inputs and outputs.

    Args:
        fp32: the fp32 ONNX bytes.
        keep_fp32: op types that stay in float32 (besides onnxruntime's default block list).

    Raises:
        ExportError: the converted graph fails the ONNX checker.
    """
    import onnx_ir as ir
    from onnx_ir.passes.common import TopologicalSortPass
    from onnxruntime.transformers.float16 import (
        DEFAULT_OP_BLOCK_LIST,
        convert_float_to_float16,
    )

    proto = convert_float_to_float16(
        onnx.load_from_string(fp32), keep_io_types=True,
        op_block_list=sorted({*DEFAULT_OP_BLOCK_LIST, *keep_fp32}))
    # The converter leaves stale float32 value_info behind and appends its input casts at
    # the end of the node list; drop the former (shapes are re-inferred) and re-sort.
    del proto.graph.value_info[:]
    model = ir.serde.deserialize_model(proto)
    TopologicalSortPass()(model)
    out = ir.serde.serialize_model(model)
    try:
        onnx.checker.check_model(out, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"the fp16 graph fails the ONNX checker: {exc}") from exc
    return out.SerializeToString()


@dataclass(frozen=True)
class AgreementReport:
    """How a lower-precision encoder agrees with the fp32 one on the same windows.

    Attributes:
        precision: ``"int8"`` or ``"fp16"``.
        variant: how it was made (an int8 method, or ``"fp16"``).
        n_windows: windows compared.
        cosine_mean, cosine_min, cosine_p01: cosine of each window's two embeddings (mean,
            minimum, 1st percentile).
        accuracy_fp32, accuracy, macro_f1_fp32, macro_f1: zero-shot scores of both encoders
            on labelled windows against the prototypes (``None`` without them).
        prediction_agreement: fraction of windows both encoders assign the same label.
        cosine_by_placement: for an encoder with a placement input, the mean cosine when
            each of the first 128 windows is run as every placement (key :data:`NOT_SAID`
            for id 0, then the placement names); ``None`` otherwise.
        batch_max_abs: the largest change of a candidate embedding between running a window
            alone and in one batch with other windows (the first 16 windows, each alone and
            together with up to 64 others). A live recogniser batches windows of many
            streams, so a variant above :data:`BATCH_TOLERANCE` lets one wearer's data change
            another's answer.
    """

    precision: str
    variant: str
    n_windows: int
    cosine_mean: float
    cosine_min: float
    cosine_p01: float
    accuracy_fp32: float | None = None
    accuracy: float | None = None
    macro_f1_fp32: float | None = None
    macro_f1: float | None = None
    prediction_agreement: float | None = None
    cosine_by_placement: dict[str, float] | None = None
    batch_max_abs: float | None = None

    @property
    def batch_independent(self) -> bool:
        """Whether a window's embedding does not depend on its batch companions (measured;
        unmeasured counts as independent)."""
        return self.batch_max_abs is None or self.batch_max_abs <= BATCH_TOLERANCE

    @property
    def worst_placement(self) -> tuple[str, float] | None:
        """``(placement, mean cosine)`` of the placement the two encoders agree on least."""
        if not self.cosine_by_placement:
            return None
        return min(self.cosine_by_placement.items(), key=lambda kv: kv[1])

    @property
    def accuracy_delta(self) -> float | None:
        """``accuracy - accuracy_fp32`` (negative: the lower precision is worse)."""
        return None if self.accuracy is None or self.accuracy_fp32 is None else (
            self.accuracy - self.accuracy_fp32)

    @property
    def macro_f1_delta(self) -> float | None:
        """``macro_f1 - macro_f1_fp32``."""
        return None if self.macro_f1 is None or self.macro_f1_fp32 is None else (
            self.macro_f1 - self.macro_f1_fp32)

    def as_metrics(self, prefix: str | None = None) -> dict[str, float]:
        """Flat metrics for a bundle manifest (only the measured ones)."""
        p = prefix or f"agreement.{self.precision}"
        out = {f"{p}.cosine_mean": self.cosine_mean, f"{p}.cosine_min": self.cosine_min,
               f"{p}.cosine_p01": self.cosine_p01, f"{p}.n_windows": float(self.n_windows)}
        for key in ("accuracy_fp32", "accuracy", "macro_f1_fp32", "macro_f1",
                    "prediction_agreement", "accuracy_delta", "macro_f1_delta",
                    "batch_max_abs"):
            value = getattr(self, key)
            if value is not None:
                out[f"{p}.{key}"] = float(value)
        for name, cos in (self.cosine_by_placement or {}).items():
            out[f"{p}.placement.{name}.cosine_mean"] = cos
        return out


def _by_placement(fp32: bytes, candidate: bytes, x: F32,
                  placements: Sequence[str]) -> dict[str, float]:
    """Mean cosine of the two encoders per placement id, every window run as each."""
    probe = x[:_PLACEMENT_PROBE]
    n = probe.shape[0]
    ids = np.repeat(np.arange(len(placements) + 1, dtype=np.int64), n)
    rows = np.tile(probe, (len(placements) + 1, 1, 1))
    cos = cosine_rows(run_encoder(fp32, rows, placement=ids),
                      run_encoder(candidate, rows, placement=ids))
    return {name: float(cos[k * n : (k + 1) * n].mean())
            for k, name in enumerate((NOT_SAID, *placements))}


def batch_dependence(model: bytes, x: F32, ids: npt.NDArray[np.int64]) -> float:
    """Largest change of an embedding between a window run alone and in one batch with up to
    64 other windows (the first 16 windows are probed)."""
    n = min(_BATCH_PROBE, x.shape[0])
    if n == 0:
        return 0.0
    alone = np.concatenate([run_encoder(model, x[i : i + 1], batch=1, placement=ids[i : i + 1])
                            for i in range(n)])
    m = min(x.shape[0], n + 64)
    together = run_encoder(model, x[:m], batch=m, placement=ids[:m])[:n]
    return float(np.abs(alone - together).max())


def compare_encoders(
    fp32: bytes | npt.ArrayLike, candidate: bytes, windows: WindowSet | npt.ArrayLike, *,
    precision: str, variant: str, prototypes: Prototypes | None = None,
    placements: Sequence[str] = (),
) -> AgreementReport:
    """Measure a lower-precision encoder against fp32 on the same windows.

    Args:
        fp32: the fp32 ONNX bytes, or its embeddings of ``windows`` (computed once, with
            the same placement ids).
        candidate: the lower-precision ONNX bytes.
        windows: preprocessed windows; labelled ones also give accuracy and macro-F1.
        precision: names the candidate's precision.
        variant: names how it was made.
        prototypes: label prototypes for the zero-shot scores.
        placements: the encoder's placement names, for an encoder with a placement input:
            windows are fed their own placement ids, and, when ``fp32`` is the ONNX bytes,
            the agreement per placement is measured too (``cosine_by_placement``).
    """
    ws = as_window_set(windows)
    ids = ws.placement_ids(placements)
    ref = (run_encoder(fp32, ws.x, placement=ids) if isinstance(fp32, bytes)
           else np.asarray(fp32, np.float32))
    got = run_encoder(candidate, ws.x, placement=ids)
    cos = cosine_rows(ref, got)
    extra: dict[str, Any] = {}
    # windows whose labels have no prototype (a vocabulary of other words) get no scores
    if (prototypes is not None and ws.labels is not None
            and any(x in prototypes.labels for x in ws.labels)):
        a = zero_shot_metrics(ref, ws.labels, prototypes)
        b = zero_shot_metrics(got, ws.labels, prototypes)
        extra = {"accuracy_fp32": a.accuracy, "accuracy": b.accuracy,
                 "macro_f1_fp32": a.macro_f1, "macro_f1": b.macro_f1,
                 "prediction_agreement": float(np.mean(a.predictions == b.predictions))}
    if placements and isinstance(fp32, bytes):
        extra["cosine_by_placement"] = _by_placement(fp32, candidate, ws.x, placements)
    extra["batch_max_abs"] = batch_dependence(candidate, np.asarray(ws.x, np.float32), ids)
    return AgreementReport(precision, variant, len(ws), float(cos.mean()), float(cos.min()),
                           float(np.percentile(cos, 1)), **extra)


@dataclass(frozen=True)
class Int8Choice:
    """The int8 variant kept and the measurements that chose it.

    Attributes:
        method: the chosen method.
        model: its ONNX bytes.
        reports: every variant's :class:`AgreementReport`, by method.
        rule: how the choice was made.
    """

    method: Int8Method
    model: bytes
    reports: dict[str, AgreementReport]
    rule: str


def choose_int8(
    fp32: bytes, calibration: WindowSet | npt.ArrayLike,
    evaluation: WindowSet | npt.ArrayLike | None = None, *,
    prototypes: Prototypes | None = None, methods: Sequence[Int8Method] = INT8_METHODS,
    max_f1_drop: float = 0.01, placements: Sequence[str] = (),
) -> Int8Choice:
    """Build every int8 variant, measure each against fp32, keep the best.

    Batch independence first: a variant whose embedding of a window changes with the other
    windows of its inference call (dynamic quantisation takes activation scales over the
    whole input) is only kept when every variant does (:data:`BATCH_TOLERANCE`). Then
    fidelity, with quality as the gate: with labelled evaluation windows and prototypes,
    the variants whose zero-shot macro-F1 is at most ``max_f1_drop`` below fp32's are
    eligible and the one closest to fp32 (highest mean cosine) wins; if none is eligible the
    highest macro-F1 wins. Without labels the highest mean cosine wins. (Picking the highest
    macro-F1 outright would reward noise: a variant can beat fp32 by chance on few windows.)

    Args:
        fp32: the fp32 ONNX bytes.
        calibration: windows for the static calibrators.
        evaluation: windows to measure on (default: the calibration windows).
        prototypes: label prototypes for the zero-shot scores.
        methods: the variants to try.
        max_f1_drop: the macro-F1 loss (a fraction, 0.01 = 1 point) a variant may have.
        placements: the encoder's placement names, for an encoder with a placement input
            (calibration and evaluation windows are fed their own ids; each report has the
            agreement per placement).

    Raises:
        ConfigError: no method given.
        ExportError: a variant could not be built.
    """
    if not methods:
        raise ConfigError("choose_int8 needs at least one int8 method")
    ws = as_window_set(evaluation if evaluation is not None else calibration)
    # the per-placement agreement runs the fp32 graph itself; otherwise embed once
    ref: bytes | F32 = fp32 if placements else run_encoder(fp32, ws.x)
    models: dict[str, bytes] = {}
    reports: dict[str, AgreementReport] = {}
    for method in methods:
        models[method] = quantize_int8(fp32, method, calibration, placements=placements)
        reports[method] = compare_encoders(ref, models[method], ws, precision="int8",
                                           variant=method, prototypes=prototypes,
                                           placements=placements)
    # a variant whose embeddings depend on their batch companions would let one stream's
    # data change another's answer in a live recogniser: never kept while another is at hand
    independent = [m for m in methods if reports[m].batch_independent]
    candidates = independent or list(methods)
    if not independent:
        gate = "every variant depends on its batch companions; "
    elif len(independent) < len(methods):
        gate = f"batch-independent variants only ({', '.join(independent)}); "
    else:
        gate = ""
    drops = {m: reports[m].macro_f1_delta for m in candidates}
    if any(d is None for d in drops.values()):
        best = max(candidates, key=lambda m: reports[m].cosine_mean)
        rule = "highest mean cosine to fp32 (no labelled windows)"
    else:
        eligible = [m for m in candidates if (drops[m] or 0.0) >= -max_f1_drop]
        if eligible:
            best = max(eligible, key=lambda m: reports[m].cosine_mean)
            rule = (f"highest mean cosine to fp32 among variants within {100 * max_f1_drop:g} "
                    "macro-F1 points of fp32")
        else:
            best = max(candidates, key=lambda m: (reports[m].macro_f1 or 0.0,
                                                  reports[m].cosine_mean))
            rule = (f"no variant within {100 * max_f1_drop:g} macro-F1 points of fp32: "
                    "highest macro-F1")
    rule = gate + rule
    return Int8Choice(best, models[best], reports, rule)
