"""Freeze the public surface of aura_training.eval; its metrics import without torch."""

from __future__ import annotations

import subprocess
import sys
import types

import aura_training.eval as ev

EXPECTED = {
    "DEFAULT_KS", "DEFAULT_LOCATIONS", "EVAL_FORMAT", "EVAL_VERSION", "PAPER_REFERENCE",
    "BundleRef", "ClassificationMetrics", "ComparisonRun", "ComparisonSection", "ComparisonSpec",
    "ReportRef",
    "EmbeddedWindows", "EvalConfig", "EvalWindow", "FinetuneConfig", "FinetuneResult",
    "LogisticRegression", "ProbeResult", "RetrievalMetrics", "WindowStats",
    "checkpoint_provenance", "classification_metrics", "clip_imu_windows", "confusion_matrix",
    "cross_modal_retrieval", "embed_labels", "embed_windows", "eval_windows", "evaluate",
    "evaluate_checkpoint", "finetune_transfer", "fit_logistic_regression", "label_prototypes",
    "linear_probe", "load_eval", "plot_confusion", "render_comparison", "render_report",
    "retrieval_from_scores", "retrieval_metrics", "write_comparison", "write_report",
    "zero_shot_predict", "zero_shot_scores",
    "LABEL_SET_EVAL_FORMAT", "evaluate_label_sets", "render_label_set_report",
}  # fmt: skip


def test_exported_members_are_exactly_all() -> None:
    public = {n for n in dir(ev) if not n.startswith("_")
              and not isinstance(getattr(ev, n), types.ModuleType)}
    assert public == set(ev.__all__) == EXPECTED


def test_metrics_report_and_comparison_import_without_torch() -> None:
    code = ("import sys, numpy as np, aura_training.eval as e; "
            "m = e.retrieval_metrics(np.eye(3), np.eye(3)); "
            "assert m.mrr == 1.0; e.render_comparison; e.linear_probe; "
            "sys.exit(int('torch' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
