"""``aura export``: write a model bundle from a training checkpoint (or an untrained preset).

Registered in the ``aura.commands`` entry-point group as ``export``; also runnable as
``python -m aura_export.cli_export ...``::

    aura export --checkpoint runs/pretrain --out model.aura [--labels labels.txt]
                [--precision fp32,int8,fp16] [--sign key.pem]
    aura export --preset imu-student --out untrained.aura   # pipeline test, UNTRAINED
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError, ModelInputSpec

from ._scoring import ScoringChoice

__all__ = ["EXPORT_COMMAND", "ExportCommand", "main"]

_PRECISIONS = ("fp32", "int8", "fp16")


def _precision_list(text: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    bad = [x for x in items if x not in _PRECISIONS]
    if not items or bad:
        raise argparse.ArgumentTypeError(f"precisions are a comma list of {', '.join(_PRECISIONS)}"
                                         f"; got {text!r}")
    return items


def _from_checkpoint(path: Path) -> tuple[Any, ModelInputSpec, float, Any, dict[str, Any]]:
    """IMU encoder, input spec, temperature, text projection and provenance of a checkpoint."""
    import torch

    from aura_training.eval import checkpoint_provenance
    from aura_training.train import load_checkpoint

    model, _, spec = load_checkpoint(path)
    encoders = getattr(model, "encoders", {"imu": model})
    if "imu" not in encoders:
        raise ConfigError(f"checkpoint {path} holds no IMU encoder")
    projection = None
    proj = getattr(dict(encoders.items()).get("text"), "proj", None)
    if isinstance(proj, torch.nn.Linear):
        if proj.bias is not None and bool(torch.any(proj.bias != 0)):
            raise ConfigError("the checkpoint's text projection has a bias, which a bundle's "
                              "text_projection (a matrix) cannot hold; train with a bias-free "
                              "projection or without one (text-minilm)")
        projection = proj.weight.detach().cpu().numpy().T  # (384, D)
    provenance = checkpoint_provenance(path)  # path, step, sha256, run, temperature, config
    return encoders["imu"], spec, float(provenance["temperature"]), projection, {
        "checkpoint": provenance}


def _from_preset(name: str, seed: int) -> tuple[Any, ModelInputSpec, dict[str, Any]]:
    import torch

    from aura_training.models import build_encoder

    torch.manual_seed(seed)
    model = build_encoder(name)
    cfg = model.config
    window = getattr(cfg, "window_samples", None)
    rate = getattr(cfg, "sample_rate_hz", None)
    if window is None or rate is None:
        raise ConfigError(f"preset {name!r} is not an IMU encoder")
    spec = ModelInputSpec(sample_rate_hz=rate, window_samples=window,
                          hop_samples=max(1, window // 2), gravity="either")
    return model.eval(), spec, {"preset": name, "init_seed": seed,
                                "note": "randomly initialised, never trained"}


class ExportCommand:
    """The ``aura export`` command object (``help``, ``configure``, ``run``)."""

    help = "write a model bundle (ONNX fp32/int8/fp16, text prototypes, model card)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the ``aura export`` flags."""
        src = parser.add_mutually_exclusive_group(required=True)
        src.add_argument("--checkpoint", type=Path, metavar="PATH",
                         help="a training run directory or checkpoint (aura train)")
        src.add_argument("--preset", metavar="NAME",
                         help="export a randomly initialised encoder preset (e.g. imu-student): "
                              "UNTRAINED, for testing the pipeline only")
        src.add_argument("--rescore", type=Path, metavar="BUNDLE",
                         help="copy a bundle with its unknown rejection fitted again on "
                              "--validation (all labels and each label set); nothing else "
                              "changes")
        parser.add_argument("--out", type=Path, required=True, metavar="MODEL.aura",
                            help="the bundle to write (.aura zip, or a directory)")
        parser.add_argument("--labels", type=Path, metavar="FILE",
                            help="label file: one label per line, or CSV label,prompt "
                                 "(default: the built-in vocabulary of 57 activities)")
        parser.add_argument("--precision", type=_precision_list, default=("fp32", "int8"),
                            metavar="LIST", help="encoders to ship (default fp32,int8)")
        parser.add_argument("--sign", metavar="PRIVATE_KEY",
                            help="sign the bundle with this Ed25519 PEM key")
        parser.add_argument("--calibration", type=Path, metavar="CORPUS",
                            help="corpus for int8 calibration and parity windows "
                                 "(default: synthetic windows of every activity)")
        parser.add_argument("--calibration-split", default="train", metavar="SPLIT",
                            help="corpus split for calibration (default train)")
        parser.add_argument("--validation", type=Path, metavar="CORPUS",
                            help="corpus whose val split fits unknown rejection and scores "
                                 "(default: no rejection)")
        parser.add_argument("--max-windows", type=int, default=512, metavar="N",
                            help="calibration windows to use at most (default 512)")
        parser.add_argument("--validation-windows", type=int, default=4096, metavar="N",
                            help="validation windows to use at most (default 4096: every "
                                 "label set needs enough of its own)")
        parser.add_argument("--keep", type=float, default=0.95, metavar="F",
                            help="fraction of correct validation windows unknown rejection "
                                 "must keep (default 0.95)")
        parser.add_argument("--name", default="aura", help="bundle name (default aura)")
        parser.add_argument("--version", default=None,
                            help="bundle version (default 0.1.0; with --rescore the source's)")
        parser.add_argument("--temperature", type=float, default=None,
                            help="softmax temperature (default: the checkpoint's, else 0.1)")
        parser.add_argument("--aliases", action=argparse.BooleanOptionalAction, default=False,
                            help="also fill the prompt templates with each label's lexicon "
                                 "aliases (default: the label's phrase only, the prototypes "
                                 "training aligns windows to)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--overwrite", action="store_true", help="replace --out")

    def run(self, args: argparse.Namespace) -> int:
        """Export; print a summary; return the exit code (errors propagate as AuraError)."""
        from ._bundle import export_bundle
        from ._windows import corpus_windows

        if args.rescore is not None:
            return self._rescore(args)
        projection = None
        temperature = args.temperature
        if args.checkpoint is not None:
            model, spec, trained_t, projection, provenance = _from_checkpoint(args.checkpoint)
            temperature = trained_t if temperature is None else temperature
            trained = True
        else:
            model, spec, provenance = _from_preset(args.preset, args.seed)
            trained = False
        calibration = None if args.calibration is None else corpus_windows(
            args.calibration, spec, split=args.calibration_split, max_windows=args.max_windows,
            seed=args.seed)
        validation = None if args.validation is None else corpus_windows(
            args.validation, spec, split="val", max_windows=args.validation_windows,
            seed=args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        result = export_bundle(
            model, spec, args.out, labels=args.labels, precisions=args.precision,
            calibration=calibration, validation=validation, provenance=provenance,
            sign_key=args.sign, name=args.name, version=args.version or "0.1.0",
            temperature=temperature, keep=args.keep,
            text_projection=projection, trained=trained, aliases=args.aliases,
            overwrite=args.overwrite, seed=args.seed)
        m = result.manifest
        print(f"wrote {result.path}: {m.name} v{m.version}, {', '.join(m.encoder.files.as_dict())}"
              f", {len(result.prototypes.labels)} labels"
              + ("" if trained else "  [UNTRAINED: pipeline test only]"))
        print(f"  fp32 parity vs torch: max abs {result.onnx.parity.max_abs:.2e} "
              f"(tolerance {result.onnx.parity.tolerance:g})")
        if m.encoder.placement_name is not None:
            print(f"  placement input {m.encoder.placement_name!r}: 0 not said, "
                  + ", ".join(f"{1 + i} {p}" for i, p in enumerate(m.encoder.placements)))
        if result.int8 is not None:
            rep = result.int8.reports[result.int8.method]
            print(f"  int8 ({result.int8.method}): cosine to fp32 mean {rep.cosine_mean:.5f}, "
                  f"min {rep.cosine_min:.5f}")
        if result.fp16 is not None:
            print(f"  fp16: cosine to fp32 mean {result.fp16.cosine_mean:.6f}")
        if result.text_agreement is not None:
            print(f"  on-device text prototypes vs tower: min cosine "
                  f"{result.text_agreement.min:.5f}")
        trt = ", ".join(f"{p} {'ok' if r.ok else 'unsupported ' + '/'.join(r.unsupported_ops)}"
                        for p, r in result.trt.items())
        print(f"  TensorRT ONNX parser check: {trt}")
        _print_rejection(result.scoring)
        return 0

    def _rescore(self, args: argparse.Namespace) -> int:
        from aura_sdk.bundle import TrustPolicy, read_bundle

        from ._rescore import rescore_bundle
        from ._windows import corpus_windows

        if args.validation is None:
            raise ConfigError("--rescore needs --validation CORPUS: the labelled windows the "
                              "rejection is fitted on")
        ignored = [flag for flag, on in (("--labels", args.labels is not None),
                                         ("--calibration", args.calibration is not None),
                                         ("--temperature", args.temperature is not None))
                   if on]
        if ignored:
            raise ConfigError(f"--rescore changes only unknown rejection; drop {ignored}")
        spec = read_bundle(args.rescore, TrustPolicy(mode="off")).manifest.input
        validation = corpus_windows(args.validation, spec, split="val",
                                    max_windows=args.validation_windows, seed=args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        result = rescore_bundle(args.rescore, args.out, validation, keep=args.keep,
                                version=args.version, signing_key=args.sign,
                                overwrite=args.overwrite)
        m = result.manifest
        print(f"wrote {args.out}: {m.name} v{m.version}, unknown rejection fitted on "
              f"{result.scoring.n_windows} windows of {validation.source}")
        before = result.previous
        if "scoring.unknown_threshold" in before:
            print(f"  before: threshold {before['scoring.unknown_threshold']:.4f}, margin "
                  f"{before.get('scoring.unknown_margin', 0.0):.4f}")
        _print_rejection(result.scoring)
        return 0


def _print_rejection(choice: ScoringChoice) -> None:
    if choice.kept_correct is None:
        print(f"  unknown rejection: none ({choice.source})")
        return
    print(f"  unknown rejection (all labels): threshold {choice.spec.unknown_threshold:.4f}, "
          f"margin {choice.spec.unknown_margin:.4f}; keeps {choice.kept_correct:.3f} of the "
          f"correct validation windows")
    for name, c in choice.sets.items():
        print(f"  {name}: threshold {c.rejection.unknown_threshold:.4f}, margin "
              f"{c.rejection.unknown_margin:.4f}; keeps {c.kept_correct:.3f} of its "
              f"{c.n_windows} windows' correct answers")


EXPORT_COMMAND = ExportCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura export`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(EXPORT_COMMAND, "export", argv)


if __name__ == "__main__":
    sys.exit(main())
