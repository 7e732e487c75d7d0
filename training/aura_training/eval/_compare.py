"""The comparison document (``docs/results.md``): several evaluations side by side.

Every number of ours comes from an ``eval.json`` written by ``aura eval``; the document is
generated, never edited by hand. A :class:`ComparisonSpec` (YAML or JSON) names the
sections and the runs in each; the output has one table per section (metrics as rows, runs
as columns, and the difference when a section compares exactly two runs), the AURA-MFM
paper's reported numbers for reference, and the commands that regenerate everything.
Pure Python: no torch. A spec for ``docs/results.md`` (paths relative to the spec file)::

    title: AURA on the synthetic corpus
    setup_commands: ["aura data synth --minutes 240 --out data/synth-cpu"]
    sections:
      - title: Transformer vs IMU2CLIP encoder (same data, steps and batch)
        runs:
          - {name: Transformer, eval: ../runs/cpu-teacher/eval,
             train_command: aura train --preset cpu-teacher}
          - {name: IMU2CLIP, eval: ../runs/cpu-imu2clip/eval,
             train_command: aura train --preset cpu-imu2clip}
      - title: Four modalities vs IMU-text only
        runs:
          - {name: IMU+text+video+mocap, eval: ../runs/cpu-teacher/eval}
          - {name: IMU+text, eval: ../runs/cpu-imu-text/eval,
             train_command: aura train --preset cpu-imu-text}

and ``aura eval --compare docs/results.yaml --out docs/results.md`` writes the document.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aura_sdk import ConfigError

from ._report import fmt, load_eval

__all__ = [
    "PAPER_REFERENCE",
    "BundleRef",
    "ComparisonRun",
    "ComparisonSection",
    "ComparisonSpec",
    "load_spec",
    "render_comparison",
    "write_comparison",
]

#: Zero-shot classification on 8 Ego-Exo4D scenarios as reported by the AURA-MFM paper
#: (Matsuishi, Ukita, Okita, arXiv:2506.03174). Reference only: not measured here.
PAPER_REFERENCE: Mapping[str, Mapping[str, float]] = {
    "AURA-MFM (Transformer IMU encoder, IMU-text-video-mocap)": {"accuracy": 0.7320,
                                                                 "macro_f1": 0.6226},
    "IMU2CLIP (baseline encoder)": {"accuracy": 0.1961, "macro_f1": 0.0747},
}
PAPER_CITATION = ("Matsuishi, Ukita, Okita, AURA-MFM, arXiv:2506.03174 "
                  "(https://arxiv.org/abs/2506.03174)")


class ComparisonRun(BaseModel):
    """One column: an evaluation JSON and how its model was trained.

    Attributes:
        name: column heading.
        eval: path of the ``eval.json`` (or its folder), relative to the spec file.
        train_command: the command that trained the checkpoint (for "regenerate").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    eval: str = Field(min_length=1)
    train_command: str | None = None


class ComparisonSection(BaseModel):
    """One table of the document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    note: str = ""
    runs: tuple[ComparisonRun, ...] = Field(min_length=1)


class BundleRef(BaseModel):
    """An exported bundle whose manifest metrics the document shows.

    Attributes:
        name: column heading.
        path: the ``.aura`` file or bundle directory, relative to the spec file.
        export_command: the command that wrote it (for "regenerate").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    path: str = Field(min_length=1)
    export_command: str | None = None


class ReportRef(BaseModel):
    """A report another evaluation command generated (its ``report.md``), included whole.

    Attributes:
        title: the section heading it goes under.
        path: the ``report.md`` (or its folder), relative to the spec file.
        command: the command that writes it (for "regenerate").
        note: a paragraph above it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    path: str = Field(min_length=1)
    command: str | None = None
    note: str = ""


class AblationRow(BaseModel):
    """One variant of an ablation table: what changed and where its evaluations are.

    Attributes:
        name: the row's name.
        change: what differs from the row above (or from the baseline).
        commands: the commands that made its model and evaluations.
        real: the ``aura eval --real hapt`` output folder (or its ``eval.json``).
        label_sets: the ``aura eval --bundle B --data CORPUS --label-sets`` output folder.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    change: str = ""
    commands: tuple[str, ...] = ()
    real: str | None = None
    label_sets: str | None = None


class AblationTable(BaseModel):
    """Variants side by side on the real development set and the synthetic held-out split.

    Attributes:
        title: the section heading.
        note: a paragraph above the table.
        rows: the variants, in order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    note: str = ""
    rows: tuple[AblationRow, ...] = Field(min_length=1)


class ComparisonSpec(BaseModel):
    """What the comparison document shows.

    Attributes:
        title: document title.
        intro: a paragraph under the title.
        sections: the tables, in order.
        setup_commands: commands to run before the trainings (e.g. ``aura data synth``).
        bundles: exported bundles whose export checks (ONNX parity, int8 vs fp32, text
            prototypes, size) get a table of their own.
        reports: generated reports (real-data evaluation, label sets) included as sections.
        ablations: tables of variants read from their real-data and label-set evaluations.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = "AURA results"
    intro: str = ""
    sections: tuple[ComparisonSection, ...] = Field(min_length=1)
    setup_commands: tuple[str, ...] = ()
    bundles: tuple[BundleRef, ...] = ()
    reports: tuple[ReportRef, ...] = ()
    ablations: tuple[AblationTable, ...] = ()


_LINK = re.compile(r"\]\((?!https?://|/|#)([^)\s]+)\)")


def _report_section(ref: ReportRef, base: Path) -> list[str]:
    """A generated report under a heading of this document (its own headings demoted)."""
    path = base / ref.path
    if path.is_dir():
        path = path / "report.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"report {path} cannot be read ({exc}); run `{ref.command}` "
                          "first") from exc
    folder = Path(ref.path) if path.name != "report.md" or (base / ref.path).is_dir() \
        else Path(ref.path).parent
    body = []
    for line in text.splitlines():
        if line.startswith("#"):
            line = "##" + line  # "# Title" -> "### Title": nested under our section
        # the report's relative links (its figures) point into its own folder, which is
        # relative to the spec file, where the document lives
        line = _LINK.sub(lambda m: f"]({folder.as_posix()}/{m.group(1)})", line)
        body.append(line)
    out = [f"## {ref.title}", ""]
    if ref.note:
        out += [ref.note, ""]
    if ref.command:
        out += [f"Generated by `{ref.command}` (`{ref.path}`), included unchanged.", ""]
    return [*out, *body, ""]


def _eval_json(base: Path, ref: str, command: str) -> Mapping[str, Any]:
    path = base / ref
    if path.is_dir():
        path = path / "eval.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"evaluation {path} cannot be read ({exc}); run `{command}` "
                          "first") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"evaluation {path} is not a JSON object")
    return data


def _fmt(v: Any, std: Any = None) -> str:
    if not isinstance(v, (int, float)):
        return "-"
    return f"{v:.4f}" + (f" ± {std:.4f}" if isinstance(std, (int, float)) else "")


def _ablation_section(table: AblationTable, base: Path) -> list[str]:
    """One ablation table: HAPT zero-shot and 5-shot, synthetic closed-set accuracy."""
    out = [f"## {table.title}", ""]
    if table.note:
        out += [table.note, ""]
    out += ["| variant | change | HAPT zero-shot accuracy (6 free-text labels) | "
            "HAPT zero-shot macro-F1 | HAPT 5-shot accuracy (model, 5 draws) | "
            "synthetic `everyday` accuracy | synthetic `all` accuracy |",
            "|---|---|---|---|---|---|---|"]
    for row in table.rows:
        cmd = "; ".join(row.commands) or "(no command recorded)"
        cells = ["-"] * 5
        if row.real is not None:
            r = _eval_json(base, row.real, cmd)
            ft = _get(r, "zero_shot", "free_text") or {}
            five = _get(r, "k_shot", "5", "model", "accuracy") or {}
            cells[0:3] = [_fmt(ft.get("accuracy")), _fmt(ft.get("macro_f1")),
                          _fmt(five.get("mean"), five.get("std"))]
        if row.label_sets is not None:
            ls = _get(_eval_json(base, row.label_sets, cmd), "label_sets") or {}
            cells[3] = _fmt((ls.get("everyday") or {}).get("accuracy"))
            cells[4] = _fmt((ls.get("all") or {}).get("accuracy"))
        out.append(f"| {row.name} | {row.change} | " + " | ".join(cells) + " |")
    out += ["", "Commands:", ""]
    for row in table.rows:
        out.append(f"- {row.name}: " + ("; ".join(f"`{c}`" for c in row.commands) or "-"))
    return [*out, ""]


def load_spec(path: str | os.PathLike[str]) -> ComparisonSpec:
    """Read a comparison spec from YAML or JSON.

    Raises:
        ConfigError: the file is missing or invalid (the message lists the fields).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            import yaml

            raw = yaml.safe_load(text)
        return ComparisonSpec.model_validate(raw)
    except (OSError, ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid comparison spec {p}: {exc}") from exc


def _get(r: Mapping[str, Any], *path: str) -> Any:
    x: Any = r
    for key in path:
        if not isinstance(x, Mapping) or key not in x:
            return None
        x = x[key]
    return x


#: Rows of every section table: label -> path into the eval JSON.
_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("IMU encoder parameters", ("model", "encoders", "imu", "parameters")),
    ("IMU encoder MFLOPs per window", ("model", "encoders", "imu", "mflops")),
    ("training: optimiser steps", ("checkpoint", "step")),
    ("training: samples per second (CPU)", ("checkpoint", "train_samples_per_s")),
    ("training: seconds of optimiser steps", ("checkpoint", "train_seconds")),
    ("IMU → text MRR", ("retrieval", "imu->text", "mrr")),
    ("IMU → text R@1", ("retrieval", "imu->text", "r@1")),
    ("IMU → text R@10", ("retrieval", "imu->text", "r@10")),
    ("IMU → text R@50", ("retrieval", "imu->text", "r@50")),
    ("text → IMU MRR", ("retrieval", "text->imu", "mrr")),
    ("text → IMU R@1", ("retrieval", "text->imu", "r@1")),
    ("text → IMU R@10", ("retrieval", "text->imu", "r@10")),
    ("text → IMU R@50", ("retrieval", "text->imu", "r@50")),
    ("IMU → video MRR", ("retrieval", "imu->video", "mrr")),
    ("video → IMU MRR", ("retrieval", "video->imu", "mrr")),
    ("IMU → mocap MRR", ("retrieval", "imu->mocap", "mrr")),
    ("mocap → IMU MRR", ("retrieval", "mocap->imu", "mrr")),
    ("zero-shot, seen activities: accuracy", ("zero_shot", "seen", "accuracy")),
    ("zero-shot, seen activities: macro-F1", ("zero_shot", "seen", "macro_f1")),
    ("zero-shot, held-out activities: accuracy", ("zero_shot", "held_out", "accuracy")),
    ("zero-shot, held-out activities: macro-F1", ("zero_shot", "held_out", "macro_f1")),
    ("zero-shot, all activities: accuracy", ("zero_shot", "all", "accuracy")),
    ("zero-shot, all activities: macro-F1", ("zero_shot", "all", "macro_f1")),
    ("linear probe: accuracy", ("linear_probe", "accuracy")),
    ("linear probe: macro-F1", ("linear_probe", "macro_f1")),
    ("fine-tune: accuracy", ("finetune", "accuracy")),
    ("fine-tune: macro-F1", ("finetune", "macro_f1")),
)


_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("zero-shot on seen activities", ("zero_shot", "seen")),
    ("zero-shot on held-out activities", ("zero_shot", "held_out")),
    ("linear probe", ("linear_probe",)),
    ("fine-tune", ("finetune",)),
)


def _derived(r: Mapping[str, Any]) -> Mapping[str, Any]:
    """``r`` with the IMU encoder's FLOPs also in millions (``mflops``), when known."""
    flops = _get(r, "model", "encoders", "imu", "flops")
    if flops is None:
        return r
    out = dict(r)
    model = dict(out["model"])
    encs = dict(model["encoders"])
    encs["imu"] = {**encs["imu"], "mflops": float(flops) / 1e6}
    model["encoders"] = encs
    out["model"] = model
    return out


def _describe(r: Mapping[str, Any]) -> tuple[str, str]:
    encs = _get(r, "model", "encoders") or {}
    imu = encs.get("imu", {})
    model = f"{imu.get('class', '?')} ({imu.get('parameters', 0) / 1e6:.2f} M)"
    others = [m for m in encs if m != "imu"]
    if others:
        model += " + " + ", ".join(others)
    d = r.get("data", {})
    data = f"{d.get('split', '?')} split, {d.get('windows', '?')} windows"
    return model, data


def _section(section: ComparisonSection, results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.note:
        lines += [section.note, ""]
    names = [run.name for run in section.runs]
    delta = len(results) == 2
    header = ["", *names] + ([f"Δ ({names[1]} − {names[0]})"] if delta else [])
    results = [_derived(r) for r in results]
    described = [_describe(r) for r in results]
    rows = [["model", *[m for m, _ in described]] + ([""] if delta else []),
            ["evaluated on", *[d for _, d in described]] + ([""] if delta else [])]
    for label, path in _ROWS:
        values = [_get(r, *path) for r in results]
        if all(v is None for v in values):
            continue
        row = [label, *[fmt(v) for v in values]]
        if delta:
            a, b = values
            row.append(f"{b - a:+.4f}" if isinstance(a, float) and isinstance(b, float)
                       else "-")
        rows.append(row)
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    per_class = [_get(r, "zero_shot", "held_out", "per_class") or {} for r in results]
    acts = sorted({a for pc in per_class for a in pc})
    if acts:
        lines += ["Zero-shot F1 per activity held out of training:", "",
                  "| activity | " + " | ".join(names) + " |",
                  "|---|" + "|".join("---" for _ in names) + "|"]
        lines += [f"| {a} | " + " | ".join(fmt(pc[a]["f1"]) if a in pc else "-"
                                           for pc in per_class) + " |" for a in acts]
        lines.append("")
    shas = {_get(r, "data", "manifest_sha256") for r in results}
    splits = {_get(r, "data", "split") for r in results}
    if len(shas) > 1 or len(splits) > 1:
        lines += ["**Caution:** these runs were not evaluated on the same data (corpus "
                  "manifest or split differ), so the columns are not directly comparable.",
                  ""]
    skipped = [(run.name, label, _get(r, *path, "skipped"))
               for run, r in zip(section.runs, results, strict=True)
               for label, path in _PARTS]
    notes = [f"{name}: {label} skipped ({why})" for name, label, why in skipped if why]
    if notes:
        lines += ["Not computed: " + "; ".join(notes) + ".", ""]
    return lines


#: Rows of the bundle table: label -> manifest metric key.
_BUNDLE_ROWS: tuple[tuple[str, str], ...] = (
    ("ONNX fp32 vs torch: max abs error, corpus windows", "parity.fp32.max_abs_corpus"),
    ("ONNX fp32 vs torch: max abs error, random windows", "parity.fp32.max_abs_random"),
    ("zero-shot fp32 accuracy (export validation windows)", "zero_shot.fp32.accuracy"),
    ("zero-shot fp32 macro-F1", "zero_shot.fp32.macro_f1"),
    ("int8 accuracy", "agreement.int8.accuracy"),
    ("int8 macro-F1", "agreement.int8.macro_f1"),
    ("int8 − fp32 macro-F1", "agreement.int8.macro_f1_delta"),
    ("int8 vs fp32 embedding cosine, mean", "agreement.int8.cosine_mean"),
    ("int8 vs fp32 prediction agreement", "agreement.int8.prediction_agreement"),
    ("on-device text prototypes vs training tower: min cosine",
     "text.device_vs_tower.cosine_min"),
)


def _bundle_table(refs: Sequence[BundleRef], base: Path) -> list[str]:
    """The exported-bundle table, read from each manifest (no torch needed)."""
    from aura_sdk.bundle import read_bundle

    cols = []
    for ref in refs:
        p = Path(ref.path)
        p = p if p.is_absolute() else base / p
        try:
            b = read_bundle(p)
        except Exception as exc:  # a bundle error names the file: keep it in the message
            raise ConfigError(f"cannot read the bundle {p} of {ref.name!r}: {exc}") from exc
        m = b.manifest
        sizes = {k: len(b.encoder_bytes(k)) for k in m.encoder.files.as_dict()}
        cols.append((m, sizes, p, len(b.prototypes.labels)))
    header = ["", *[r.name for r in refs]]
    rows = [["bundle", *[f"`{m.name}` {m.version}" for m, _, _, _ in cols]],
            ["bundle file size (bytes)",
             *[str(p.stat().st_size) if p.is_file() else "-" for _, _, p, _ in cols]],
            ["encoders (bytes)", *[", ".join(f"{k} {v}" for k, v in s.items())
                                   for _, s, _, _ in cols]],
            ["labels", *[str(n) for _, _, _, n in cols]]]
    for label, key in _BUNDLE_ROWS:
        vals = [m.metrics.get(key) for m, _, _, _ in cols]
        if all(v is None for v in vals):
            continue
        rows.append([label, *[("-" if v is None else f"{v:.3g}" if abs(v) < 1e-3 and v != 0
                               else f"{v:.4f}") for v in vals]])
    lines = ["## Exported bundles", "",
             "Measured by `aura export` at export time and stored in each bundle's manifest "
             "(`aura bundle info` prints them): parity of the fp32 ONNX graph with torch, "
             "zero-shot scores of fp32 and int8 on the export's validation windows, and the "
             "agreement of the on-device text encoder with the training text tower.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    return lines


def render_comparison(spec: ComparisonSpec, results: Sequence[Sequence[Mapping[str, Any]]],
                      *, command: str | None = None,
                      eval_paths: Sequence[Sequence[str]] | None = None,
                      base_dir: str | os.PathLike[str] | None = None) -> str:
    """The comparison document as markdown.

    Args:
        spec: sections and runs.
        results: per section, per run, the loaded ``eval.json`` dicts.
        command: the command that generates this document.
        eval_paths: per section, per run, the JSON path shown in the runs table.
        base_dir: folder the spec's bundle paths are relative to (default: current).

    Returns:
        Markdown text.

    Raises:
        ConfigError: ``results`` does not match the spec's sections and runs.
    """
    if len(results) != len(spec.sections) or any(
            len(r) != len(s.runs) for r, s in zip(results, spec.sections, strict=False)):
        raise ConfigError("results must hold one eval dict per run of every section")
    lines = [f"# {spec.title}", "",
             "Generated from the evaluation JSONs listed under *Runs* (every number of ours "
             "is read from them; nothing here is typed by hand)"
             + (f" by `{command}`" if command else "") + f", "
             f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.", ""]
    if spec.intro:
        lines += [spec.intro, ""]
    for section, res in zip(spec.sections, results, strict=True):
        lines += _section(section, res)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if spec.bundles:
        lines += _bundle_table(spec.bundles, base)
    for table in spec.ablations:
        lines += _ablation_section(table, base)
    for ref in spec.reports:
        lines += _report_section(ref, base)

    lines += ["## Reference: the AURA-MFM paper", "",
              f"Zero-shot classification of 8 Ego-Exo4D scenarios as reported in {PAPER_CITATION}. "
              "Those models were trained and tested on real Ego-Exo4D recordings with frozen "
              "CLIP text and video towers; ours are trained on the data named above, so "
              "compare the *gap* between encoders, not the absolute numbers.", "",
              "| model (paper) | accuracy | macro-F1 |", "|---|---|---|"]
    lines += [f"| {name} | {v['accuracy']:.4f} | {v['macro_f1']:.4f} |"
              for name, v in PAPER_REFERENCE.items()]
    lines.append("")

    lines += ["## Runs", "", "| section | run | eval JSON | checkpoint | data | created |",
              "|---|---|---|---|---|---|"]
    for i, (section, res) in enumerate(zip(spec.sections, results, strict=True)):
        for j, (run, r) in enumerate(zip(section.runs, res, strict=True)):
            path = eval_paths[i][j] if eval_paths is not None else run.eval
            ck = _get(r, "checkpoint", "path")
            sha = _get(r, "checkpoint", "sha256")
            ck_text = (f"`{ck}`" if ck else "in-memory model") + (
                f" `{str(sha)[:12]}`" if sha else "")
            data = _get(r, "data", "path") or _get(r, "data", "source") or "?"
            msha = _get(r, "data", "manifest_sha256")
            data_text = f"`{data}`" + (f" `{str(msha)[:12]}`" if msha else "")
            lines.append(f"| {section.title} | {run.name} | `{path}` | {ck_text} | "
                         f"{data_text} | {r.get('created_utc', '?')} |")
    lines.append("")

    lines += ["## Regenerate", "", "```"]
    cmds: list[str] = list(spec.setup_commands)
    for section, res in zip(spec.sections, results, strict=True):
        for run, r in zip(section.runs, res, strict=True):
            for c in (run.train_command, r.get("command")):
                if c and c not in cmds:
                    cmds.append(c)
    cmds += [b.export_command for b in spec.bundles
             if b.export_command and b.export_command not in cmds]
    cmds += [r.command for r in spec.reports if r.command and r.command not in cmds]
    for table in spec.ablations:
        cmds += [c for row in table.rows for c in row.commands if c not in cmds]
    if command:
        cmds.append(command)
    lines += cmds or ["# the runs recorded no command"]
    lines += ["```", ""]
    return "\n".join(lines)


def write_comparison(spec: ComparisonSpec | str | os.PathLike[str],
                     out: str | os.PathLike[str], *, command: str | None = None,
                     base_dir: str | os.PathLike[str] | None = None) -> Path:
    """Load every run's ``eval.json`` and write the comparison document.

    Args:
        spec: a spec, or the path of a YAML / JSON spec file.
        out: the markdown file to write (e.g. ``docs/results.md``).
        command: the command that generates the document (shown under "Regenerate").
        base_dir: folder the runs' ``eval`` paths are relative to (default: the spec
            file's folder, else the current directory).

    Returns:
        The path written.

    Raises:
        ConfigError: an invalid spec, or a missing or malformed ``eval.json``.
    """
    if not isinstance(spec, ComparisonSpec):
        base = Path(spec).parent if base_dir is None else Path(base_dir)
        spec = load_spec(spec)
    else:
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    results, paths = [], []
    for section in spec.sections:
        res, ps = [], []
        for run in section.runs:
            p = Path(run.eval)
            p = p if p.is_absolute() else base / p
            res.append(load_eval(p))
            ps.append(run.eval)
        results.append(res)
        paths.append(ps)
    text = render_comparison(spec, results, command=command, eval_paths=paths, base_dir=base)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
