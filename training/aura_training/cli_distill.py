"""``aura distill``: train the small student IMU encoder against a trained teacher.

Registered in the ``aura.commands`` entry-point group as ``distill``; also runnable as
``python -m aura_training.cli_distill ...`` (and under ``torchrun`` like ``aura train``)::

    aura distill --teacher runs/cpu-teacher --out runs/cpu-student
    aura distill --teacher RUN --out OUT --student imu-student --steps 2000 --weight 2
    aura distill --teacher RUN --out OUT --data CORPUS --set optim.lr=1e-3

It starts from the ``cpu-student`` preset (``imu-student``: under a fifth of the ``imu-xs``
teacher's FLOPs per window; IMU-text contrastive loss plus cosine matching of the teacher's
embeddings), on the teacher's own corpus unless ``--data`` says otherwise. The student
takes the teacher's input spec (rate, window, gravity, normalisation). Afterwards both
models are evaluated on the corpus's held-out test split (retrieval and zero-shot, as
``aura eval --no-probe --no-finetune``) and ``OUT/distill.md`` / ``OUT/distill.json``
compare them: parameters, FLOPs, IMU-to-text MRR, zero-shot accuracy and macro-F1.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["DISTILL_COMMAND", "DistillCommand", "compare_student", "main"]

#: The metrics ``distill.json`` reports for teacher and student (label -> path in eval.json).
_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("imu_text_mrr", ("retrieval", "imu->text", "mrr")),
    ("zero_shot_seen_accuracy", ("zero_shot", "seen", "accuracy")),
    ("zero_shot_seen_macro_f1", ("zero_shot", "seen", "macro_f1")),
    ("zero_shot_held_out_accuracy", ("zero_shot", "held_out", "accuracy")),
    ("zero_shot_held_out_macro_f1", ("zero_shot", "held_out", "macro_f1")),
    ("zero_shot_all_accuracy", ("zero_shot", "all", "accuracy")),
    ("zero_shot_all_macro_f1", ("zero_shot", "all", "macro_f1")),
)


def compare_student(teacher: dict[str, Any], student: dict[str, Any]) -> dict[str, Any]:
    """Student vs teacher from their two ``eval.json`` dicts.

    Returns:
        ``{"teacher": {...}, "student": {...}, "delta": {...}, "flops_ratio",
        "parameter_ratio", "headline", "macro_f1_gap_points", "within_3_points"}``; the
        macro-F1 gap is the teacher's zero-shot macro-F1 minus the student's, in points
        (0-100), over every test activity (``headline`` says which set was used when that
        one was not measured); gap and verdict are ``None`` when neither was measured.
    """
    from .eval._compare import _get  # path lookup into an eval.json dict, None if absent

    out: dict[str, Any] = {"teacher": {}, "student": {}, "delta": {}}
    for name, r in (("teacher", teacher), ("student", student)):
        imu = _get(r, "model", "encoders", "imu") or {}
        out[name] = {"parameters": imu.get("parameters"), "flops": imu.get("flops"),
                     "checkpoint": _get(r, "checkpoint", "path")}
        out[name].update({k: _get(r, *p) for k, p in _METRICS})
    for k, _ in _METRICS:
        a, b = out["teacher"][k], out["student"][k]
        out["delta"][k] = b - a if isinstance(a, float) and isinstance(b, float) else None
    t, s = out["teacher"], out["student"]
    out["flops_ratio"] = s["flops"] / t["flops"] if t["flops"] and s["flops"] else None
    out["parameter_ratio"] = (s["parameters"] / t["parameters"]
                              if t["parameters"] and s["parameters"] else None)
    headline = next((k for k in ("zero_shot_all_macro_f1", "zero_shot_seen_macro_f1")
                      if out["delta"][k] is not None), None)
    gap = out["delta"][headline] if headline is not None else None
    out["headline"] = headline
    out["macro_f1_gap_points"] = -100.0 * gap if gap is not None else None
    out["within_3_points"] = -100.0 * gap <= 3.0 if gap is not None else None
    return out


def _verdict(c: dict[str, Any]) -> str:
    """One sentence on the student's macro-F1 gap and FLOPs."""
    flops = (f" at {c['flops_ratio']:.3f} of its FLOPs per window"
             if c["flops_ratio"] is not None else "")
    if c["macro_f1_gap_points"] is None:
        return ("Zero-shot macro-F1 was not measured (the evaluated split has no labelled "
                f"test windows){flops}.")
    which = "every test activity" if c["headline"] == "zero_shot_all_macro_f1" else (
        "the activities seen in training")
    gap = float(c["macro_f1_gap_points"])  # teacher minus student
    where = f"{gap:.2f} points below" if gap >= 0 else f"{-gap:.2f} points above"
    return (f"Zero-shot macro-F1 over {which}: the student is {where} the teacher "
            f"({'within' if c['within_3_points'] else 'NOT within'} the 3-point budget)"
            f"{flops}.")


class DistillCommand:
    """The ``aura distill`` command object (``help``, ``configure``, ``run``)."""

    help = "distil a small student IMU encoder from a trained teacher, and compare them"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``aura distill``."""
        parser.add_argument("--teacher", type=Path, required=True, metavar="RUN",
                            help="the teacher's run directory or checkpoint (aura train)")
        parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                            help="the student's run directory")
        parser.add_argument("--data", type=Path, metavar="CORPUS",
                            help="corpus (default: the teacher's own corpus)")
        parser.add_argument("--preset", default="cpu-student",
                            help="training preset the run starts from (default cpu-student)")
        parser.add_argument("--student", metavar="ENCODER",
                            help="student IMU encoder preset (default: the preset's, "
                                 "imu-student)")
        parser.add_argument("--steps", type=int, help="optimiser steps (default: the preset's)")
        parser.add_argument("--weight", type=float,
                            help="weight of the teacher-matching term (default: the preset's)")
        parser.add_argument("--workers", type=int, help="DataLoader workers per rank")
        parser.add_argument("--set", dest="overrides", action="append", default=[],
                            metavar="KEY=VALUE", help="any training option, dotted (repeatable)")
        parser.add_argument("--no-resume", action="store_true",
                            help="start from scratch even if --out has checkpoints")
        parser.add_argument("--no-eval", action="store_true",
                            help="skip the teacher/student evaluation and comparison")
        parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")

    def run(self, args: argparse.Namespace) -> int:
        """Distil, then evaluate and compare; returns the exit code."""
        from .cli_train import _configure_logging, parse_overrides
        from .train import Trainer, preset_config, read_checkpoint

        teacher = read_checkpoint(args.teacher)  # fails early, naming the path
        over = parse_overrides(args.overrides)
        over.setdefault("distill", {})["teacher"] = str(args.teacher)
        over["out_dir"] = str(args.out)
        data = args.data if args.data is not None else teacher.config.data.dir
        over.setdefault("data", {})["dir"] = str(data)
        if args.student is not None:
            over.setdefault("model", {})["imu"] = args.student
        if args.steps is not None:
            over["steps"], over["epochs"] = args.steps, None
        if args.weight is not None:
            over["distill"]["weight"] = args.weight
        if args.workers is not None:
            over["data"]["num_workers"] = args.workers
        config = preset_config(args.preset, over)
        rank = int(os.environ.get("RANK", "0"))
        if rank == 0:
            _seed_text_cache(Path(args.teacher), config.text_cache_path)
        _configure_logging(quiet=args.quiet or rank != 0)
        with Trainer(config, resume=not args.no_resume,
                     progress=not args.quiet and rank == 0) as trainer:
            result = trainer.fit()
        if rank != 0:
            return 0
        print(f"distilled {result.step} steps in {result.seconds:.1f} s "
              f"({result.samples_per_s:.1f} samples/s); checkpoint {result.checkpoint}")
        if args.no_eval:
            return 0
        report = evaluate_pair(args.teacher, args.out, Path(data))
        c = report["comparison"]
        t, s = c["teacher"], c["student"]
        print(f"teacher {t['parameters']:,} parameters, {t['flops'] / 1e6:.2f} MFLOPs; student "
              f"{s['parameters']:,}, {s['flops'] / 1e6:.2f} MFLOPs")
        print(_verdict(c))
        print(f"wrote {report['markdown']} and {report['json']}")
        return 0


def _seed_text_cache(teacher: Path, cache: Path) -> None:
    """Start the student's text cache from the teacher's (same corpus, same frozen tower):
    the texts both runs share are not embedded again. Texts are keyed by content, so a
    cache from another corpus is merely incomplete, never wrong."""
    import shutil

    source = teacher / "text_embeddings.npz"
    if cache.exists() or not source.is_file():
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, cache)


def evaluate_pair(teacher: Path, student: Path, data: Path) -> dict[str, Any]:
    """Evaluate teacher and student on ``data``'s test split; write the comparison.

    Writes ``<student>/eval/student`` and ``<student>/eval/teacher`` (``aura eval``'s
    reports), ``<student>/distill.md`` and ``<student>/distill.json``.

    Returns:
        ``{"comparison": compare_student(...), "markdown": path, "json": path}``.
    """
    from .eval import ComparisonRun, ComparisonSection, ComparisonSpec, EvalConfig, write_comparison
    from .eval._checkpoint import evaluate_checkpoint

    cfg = EvalConfig(linear_probe=False, finetune=False)
    results: dict[str, dict[str, Any]] = {}
    for name, ckpt in (("teacher", teacher), ("student", student)):
        out = student / "eval" / name
        command = shlex.join(["aura", "eval", "--checkpoint", str(ckpt), "--data", str(data),
                              "--out", str(out), "--no-probe", "--no-finetune"])
        results[name] = evaluate_checkpoint(ckpt, data, cfg, out_dir=out, command=command)
    comparison = compare_student(results["teacher"], results["student"])
    md = student / "distill.md"
    spec = ComparisonSpec(
        title="Distilled student vs teacher",
        intro=_verdict(comparison),
        sections=(ComparisonSection(title="Student vs teacher (held-out test split)", runs=(
            ComparisonRun(name="teacher", eval=str(student / "eval" / "teacher")),
            ComparisonRun(name="student", eval=str(student / "eval" / "student")))),))
    write_comparison(spec, md, command=shlex.join(
        ["aura", "distill", "--teacher", str(teacher), "--out", str(student), "--data",
         str(data)]), base_dir=Path.cwd())
    js = student / "distill.json"
    js.write_text(json.dumps(comparison, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return {"comparison": comparison, "markdown": md, "json": js}


DISTILL_COMMAND = DistillCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura distill`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(DISTILL_COMMAND, "distill", argv)


if __name__ == "__main__":
    sys.exit(main())
