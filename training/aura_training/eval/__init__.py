"""Evaluation: cross-modal retrieval, zero-shot classification, linear probe, fine-tune.

The metrics (:func:`retrieval_metrics`, :func:`cross_modal_retrieval`,
:func:`classification_metrics`, :func:`label_prototypes`, :func:`linear_probe`), the
confusion figure, the report and the comparison document are numpy / scipy / matplotlib
only: importing this package does not import torch. The runners (:func:`evaluate`,
:func:`evaluate_checkpoint`), the embedding helpers and :func:`finetune_transfer` need
torch and are loaded on first use.
"""

import importlib as _importlib
import typing as _typing

from ._classify import (
    ClassificationMetrics,
    classification_metrics,
    confusion_matrix,
    label_prototypes,
    zero_shot_predict,
    zero_shot_scores,
)
from ._compare import (
    PAPER_REFERENCE,
    BundleRef,
    ComparisonRun,
    ComparisonSection,
    ComparisonSpec,
    ReportRef,
    render_comparison,
    write_comparison,
)
from ._inputs import (
    DEFAULT_LOCATIONS,
    EvalWindow,
    WindowStats,
    clip_imu_windows,
    eval_windows,
)
from ._label_sets import LABEL_SET_EVAL_FORMAT, evaluate_label_sets, render_label_set_report
from ._plot import plot_confusion
from ._probe import LogisticRegression, ProbeResult, fit_logistic_regression, linear_probe
from ._report import EVAL_FORMAT, EVAL_VERSION, load_eval, render_report, write_report
from ._retrieval import (
    DEFAULT_KS,
    RetrievalMetrics,
    cross_modal_retrieval,
    retrieval_from_scores,
    retrieval_metrics,
)

if _typing.TYPE_CHECKING:
    from ._checkpoint import checkpoint_provenance, evaluate_checkpoint
    from ._embed import EmbeddedWindows, embed_labels, embed_windows
    from ._finetune import FinetuneConfig, FinetuneResult, finetune_transfer
    from ._runner import EvalConfig, evaluate

__all__ = [
    "DEFAULT_KS",
    "DEFAULT_LOCATIONS",
    "EVAL_FORMAT",
    "EVAL_VERSION",
    "LABEL_SET_EVAL_FORMAT",
    "PAPER_REFERENCE",
    "BundleRef",
    "ClassificationMetrics",
    "ComparisonRun",
    "ComparisonSection",
    "ComparisonSpec",
    "EmbeddedWindows",
    "EvalConfig",
    "EvalWindow",
    "FinetuneConfig",
    "FinetuneResult",
    "LogisticRegression",
    "ProbeResult",
    "ReportRef",
    "RetrievalMetrics",
    "WindowStats",
    "checkpoint_provenance",
    "classification_metrics",
    "clip_imu_windows",
    "confusion_matrix",
    "cross_modal_retrieval",
    "embed_labels",
    "embed_windows",
    "eval_windows",
    "evaluate",
    "evaluate_checkpoint",
    "evaluate_label_sets",
    "finetune_transfer",
    "fit_logistic_regression",
    "label_prototypes",
    "linear_probe",
    "load_eval",
    "plot_confusion",
    "render_comparison",
    "render_label_set_report",
    "render_report",
    "retrieval_from_scores",
    "retrieval_metrics",
    "write_comparison",
    "write_report",
    "zero_shot_predict",
    "zero_shot_scores",
]

# torch-backed names -> the private module that defines them (imported on first access)
_LAZY = {
    "EmbeddedWindows": "._embed", "embed_labels": "._embed", "embed_windows": "._embed",
    "FinetuneConfig": "._finetune", "FinetuneResult": "._finetune",
    "finetune_transfer": "._finetune",
    "EvalConfig": "._runner", "evaluate": "._runner",
    "checkpoint_provenance": "._checkpoint", "evaluate_checkpoint": "._checkpoint",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
