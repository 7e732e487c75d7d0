"""AURA export: ONNX / int8 / fp16 export, TensorRT op check, text prototypes, bundle writing.

    >>> result = export_bundle(model, input_spec, "model.aura", precisions=("fp32", "int8"))

One module per concern: ``_onnx_export`` (torch -> one parity-gated ONNX file),
``_quantize`` (int8 dynamic / static QDQ, fp16, agreement with fp32), ``_trt_check`` (a static
check against TensorRT's ONNX parser support matrix), ``_prototypes`` (prompt ensembles and
on-device text agreement), ``_windows`` (calibration and validation windows), ``_scoring``
(temperature and unknown rejection), ``_bundle`` (:func:`export_bundle`) and ``cli_export``
(``aura export``). The untrained format demonstrator lives in ``_toy``
(``python -m aura_export.example OUT.aura``).
"""

from ._bundle import ExportResult, Tolerances, export_bundle
from ._errors import ExportError, ParityError
from ._features import FEATURES_NAME, add_feature_output, with_feature_output
from ._label_sets import LABEL_SETS, catalogue_label_sets, with_label_sets
from ._metrics import ZeroShotMetrics, cosine_rows, zero_shot_metrics
from ._onnx_export import (
    DEFAULT_FP32_TOLERANCE,
    OnnxExport,
    ParityReport,
    SimplifyReport,
    check_parity,
    export_onnx,
    run_encoder,
    simplify_onnx,
    torch_embed,
)
from ._prototypes import (
    DEFAULT_LABELS,
    LabelPrompts,
    PrototypeAgreement,
    build_prototypes,
    default_vocabulary,
    device_agreement,
    label_templates,
    read_label_file,
    vocabulary_prompts,
)
from ._quantize import (
    BATCH_TOLERANCE,
    FP32_OPS_IN_FP16,
    INT8_METHODS,
    AgreementReport,
    Int8Choice,
    Int8Method,
    WindowReader,
    batch_dependence,
    choose_int8,
    compare_encoders,
    convert_fp16,
    quantize_int8,
)
from ._rescore import RescoreResult, rescore_bundle
from ._scoring import (
    DEFAULT_TEMPERATURE,
    DEFAULT_UNKNOWN_MARGIN,
    DEFAULT_UNKNOWN_THRESHOLD,
    ScoringChoice,
    SetChoice,
    choose_scoring,
    temperature_from,
)
from ._toy import (
    TOY_LABELS,
    TOY_PROMPTS,
    toy_embed,
    toy_encoder_onnx,
    toy_windows,
    write_example_bundle,
)
from ._trt_check import (
    TRT_MAX_OPSET,
    TRT_MIN_OPSET,
    TRT_OPS_SOURCE,
    TRT_SUPPORTED_OPS,
    TRT_UNSUPPORTED_OPS,
    TrtIssue,
    TrtOpReport,
    check_tensorrt_ops,
)
from ._windows import WindowSet, as_window_set, corpus_windows, synthetic_windows

__all__ = [
    "BATCH_TOLERANCE",
    "DEFAULT_FP32_TOLERANCE",
    "DEFAULT_LABELS",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_UNKNOWN_MARGIN",
    "DEFAULT_UNKNOWN_THRESHOLD",
    "FEATURES_NAME",
    "FP32_OPS_IN_FP16",
    "INT8_METHODS",
    "LABEL_SETS",
    "TOY_LABELS",
    "TOY_PROMPTS",
    "TRT_MAX_OPSET",
    "TRT_MIN_OPSET",
    "TRT_OPS_SOURCE",
    "TRT_SUPPORTED_OPS",
    "TRT_UNSUPPORTED_OPS",
    "AgreementReport",
    "ExportError",
    "ExportResult",
    "Int8Choice",
    "Int8Method",
    "LabelPrompts",
    "OnnxExport",
    "ParityError",
    "ParityReport",
    "PrototypeAgreement",
    "RescoreResult",
    "ScoringChoice",
    "SetChoice",
    "SimplifyReport",
    "Tolerances",
    "TrtIssue",
    "TrtOpReport",
    "WindowReader",
    "WindowSet",
    "ZeroShotMetrics",
    "add_feature_output",
    "as_window_set",
    "batch_dependence",
    "build_prototypes",
    "catalogue_label_sets",
    "check_parity",
    "check_tensorrt_ops",
    "choose_int8",
    "choose_scoring",
    "compare_encoders",
    "convert_fp16",
    "corpus_windows",
    "cosine_rows",
    "default_vocabulary",
    "device_agreement",
    "export_bundle",
    "export_onnx",
    "label_templates",
    "quantize_int8",
    "read_label_file",
    "rescore_bundle",
    "run_encoder",
    "simplify_onnx",
    "synthetic_windows",
    "temperature_from",
    "torch_embed",
    "toy_embed",
    "toy_encoder_onnx",
    "toy_windows",
    "vocabulary_prompts",
    "with_feature_output",
    "with_label_sets",
    "write_example_bundle",
    "zero_shot_metrics",
]
