"""The report of ``aura eval --real hapt``: ``eval.json``, ``report.md``, confusion PNGs.

Everything is read from the result dict of :func:`aura_training.eval._real.run_hapt_eval`
(class names included), so a report can be rewritten from a saved ``eval.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._plot import plot_confusion

__all__ = ["FIGURES", "render_hapt_report", "write_hapt_report"]

#: The zero-shot figures; the k-shot ones are named after k (``confusion_k5_model.png``).
FIGURES = {
    "zero_shot_free_text": "confusion_zero_shot_free_text.png",
    "zero_shot_bundle_labels": "confusion_zero_shot_bundle_labels.png",
}


def _k_figures(result: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    k_shot = result["k_shot"]
    key = str(result["config"]["target_shots"])
    if key not in k_shot:
        key = max(k_shot, key=int)
    return key, {f"k{key}_model": f"confusion_k{key}_model.png",
                 f"k{key}_logistic_regression": f"confusion_k{key}_logistic_regression.png"}


def write_hapt_report(result: Mapping[str, Any],
                      out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``eval.json``, ``report.md`` and four confusion PNGs; returns them by name.

    Raises:
        MissingExtraError: matplotlib is not installed (the ``train`` extra).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    zero, classes = result["zero_shot"], list(result["classes"])
    n = len(classes)
    rows = [*classes, "(not a HAPT class)"]
    for key, title in (("free_text", "zero-shot, the six HAPT names"),
                       ("bundle_labels", f"zero-shot, all {len(zero['bundle_labels']['labels'])}"
                                         " bundle labels (mapped)")):
        conf = np.zeros((n + 1, n + 1), dtype=np.int64)
        conf[:n] = np.asarray(zero[key]["confusion"], dtype=np.int64)  # no true "other" row
        labels = rows if key == "bundle_labels" else classes
        written[f"zero_shot_{key}"] = plot_confusion(conf[:len(labels), :len(labels)], labels,
                                                     out / FIGURES[f"zero_shot_{key}"],
                                                     title=f"HAPT {title}")
    k, figs = _k_figures(result)
    for name, fname in figs.items():
        method = "model" if name.endswith("model") else "logistic_regression"
        conf = np.asarray(result["k_shot"][k][method]["confusion_summed"], dtype=np.int64)
        written[name] = plot_confusion(
            conf[:, :n], classes, out / fname,
            title=f"HAPT {k}-shot, {method.replace('_', ' ')} (summed over "
                  f"{len(result['k_shot'][k]['draws'])} draws)")
    written["report"] = out / "report.md"
    written["report"].write_text(render_hapt_report(result), encoding="utf-8")
    written["eval"] = out / "eval.json"
    written["eval"].write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return written


def _ms(s: Mapping[str, Any]) -> str:
    return f"{s['mean']:.4f} ± {s['std']:.4f}"


def _placement_note(result: Mapping[str, Any]) -> str:
    spec, up = result.get("spec", {}), result.get("upright")
    note = f", placement `{spec['placement']}`" if spec.get("placement") else ""
    if up:
        note += (f"; the wearer's upright told to the model, found without labels from the "
                 f"walking of each recording session ({up['estimated']} of {up['sessions']} "
                 f"sessions; the other {up['from_subject']} took their subject's other "
                 "sessions' upright) and the samples turned to it")
    return note


def render_hapt_report(result: Mapping[str, Any]) -> str:
    """The markdown report of a :func:`run_hapt_eval` result."""
    m, d, seg, cfg = result["model"], result["dataset"], result["segments"], result["config"]
    zero, k_shot, tgt = result["zero_shot"], result["k_shot"], result["target"]
    classes = list(result["classes"])
    lines = [
        f"# UCI HAPT: {m['name']} v{m['version']}", "",
        f"`{result['command']}`" if result.get("command") else "", "",
        f"Model manifest sha256 `{m['fingerprint']}` ({m['precision']}, {m['backend']}, "
        f"{m['labels']} labels; few-shot features `{m.get('few_shot_features', '?')}`). "
        f"Data `{d['file']}`, sha256 `{d['sha256']}`"
        + ("" if d["verified"] else " (**not** the published file)") + ". "
        f"Wall time {result['wall_time_s']:.1f} s. Evaluated through the device-side API "
        "(`classify`, `enroll`, `forget`) with SensorSpec 50 Hz, g, rad/s, gravity included"
        + _placement_note(result) + ".",
        "",
        f"{seg['n']} segments (runs of one basic activity of at least {cfg['min_samples']} "
        f"samples, {seg['length_samples']['min']}..{seg['length_samples']['max']} samples): "
        + ", ".join(f"{k} {v}" for k, v in seg["per_class"].items()) + ".", "",
        "## Zero-shot (all segments)", "",
        "| candidates | labels | accuracy | macro-F1 |", "| --- | ---: | ---: | ---: |",
    ]
    named = [("the six HAPT names (free text)", zero["free_text"]),
             ("all bundle labels, mapped", zero["bundle_labels"])]
    named += [(f"label set `{k}`, mapped", v) for k, v in zero["label_sets"].items()]
    for title, r in named:
        if "accuracy" in r:
            lines.append(f"| {title} | {len(r['labels'])} | {r['accuracy']:.4f} | "
                         f"{r['macro_f1']:.4f} |")
        else:
            why = r.get("skipped") or f"same as {r.get('same_as')}"
            lines.append(f"| {title} | {len(r['labels'])} | {why} | |")
    lines += ["", "Mapping of bundle labels: " + ", ".join(
        f"{k} -> {classes[v]}" for k, v in zero["mapping"].items())
        + "; any other label is wrong.", "",
        "| class | F1 free text | F1 bundle labels |", "| --- | ---: | ---: |"]
    lines += [f"| {c} | {zero['free_text']['per_class'][c]['f1']:.4f} | "
              f"{zero['bundle_labels']['per_class'][c]['f1']:.4f} |" for c in classes]
    e, t = cfg["enroll_subjects"], cfg["test_subjects"]
    first = next(iter(k_shot.values()))
    lines += [
        "", f"## k-shot enrollment (enrol from subjects {e[0]}-{e[1]}, test on {t[0]}-{t[1]}: "
        f"{first['n_test']} segments; {cfg['draws']} draws, mean ± std)", "",
        "| k | model accuracy | nearest centroid | logistic regression | model macro-F1 | "
        "NC macro-F1 | LR macro-F1 |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k, r in k_shot.items():
        lines.append(f"| {k} | {_ms(r['model']['accuracy'])} | "
                     f"{_ms(r['nearest_centroid']['accuracy'])} | "
                     f"{_ms(r['logistic_regression']['accuracy'])} | "
                     f"{_ms(r['model']['macro_f1'])} | {_ms(r['nearest_centroid']['macro_f1'])} "
                     f"| {_ms(r['logistic_regression']['macro_f1'])} |")
    if tgt["evaluated"]:
        lines += ["", f"Target at k = {tgt['k']} (mean accuracy): model {tgt['model']:.4f} vs "
                  f"best baseline {tgt['best_baseline']:.4f} (margin {tgt['margin']:+.4f}; "
                  f"needs {tgt['required_margin']:+.2f}: "
                  f"{'yes' if tgt['beats_baselines_by_margin'] else 'no'}); reaches "
                  f"{tgt['required_accuracy']:.2f}: {'yes' if tgt['reaches_accuracy'] else 'no'}."]
    lines += ["", "Baselines: 18 statistics per segment (per channel mean, std, mean |first "
              "difference|); nearest centroid on features standardised by the enrolled "
              "examples; logistic regression (L2, C = 1) on the same features.", "",
              "### Per draw", "", "| k | draw | model acc | model F1 | NC acc | NC F1 | LR acc | "
              "LR F1 |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k, r in k_shot.items():
        for row in r["draws"]:
            lines.append(f"| {k} | {row['draw']} | " + " | ".join(
                f"{row[x][y]:.4f}" for x in ("model", "nearest_centroid", "logistic_regression")
                for y in ("accuracy", "macro_f1")) + " |")
    _, figs = _k_figures(result)
    lines += ["", "## Confusion matrices", ""]
    lines += [f"![{n}]({f})" for n, f in (*FIGURES.items(), *figs.items())]
    return "\n".join(lines) + "\n"
