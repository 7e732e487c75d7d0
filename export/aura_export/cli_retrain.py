"""``aura retrain``: rebuild the model end to end, or adapt it to your own device and labels.

Registered in the ``aura.commands`` entry-point group as ``retrain``; also runnable as
``python -m aura_export.cli_retrain ...``::

    # synth -> pretrain the teacher -> distil the student -> export (about an hour, 2 CPUs)
    aura retrain --preset default --work runs/retrain --out model.aura

    # fine-tune the shipped teacher on your labelled recordings, then export
    aura decode capture.bin --device witmotion -o walk.csv
    aura retrain --recording walk.csv --labels walk.labels.csv \\
                 --recording desk.csv --labels desk.labels.csv --out my-model.aura

A labels file is a CSV of ``start,end,label`` rows, seconds on the recording's clock.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from aura_sdk import ConfigError

__all__ = ["RETRAIN_COMMAND", "RetrainCommand", "main"]


class RetrainCommand:
    """The ``aura retrain`` command object (``help``, ``configure``, ``run``)."""

    help = "synth -> train -> distil -> export in one go, or fine-tune on your own recordings"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``aura retrain``."""
        from ._retrain import RETRAIN_PRESETS

        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--preset", choices=sorted(RETRAIN_PRESETS),
                          help="rebuild from scratch: default (the shipped model) or smoke")
        mode.add_argument("--recording", dest="recordings", type=Path, action="append",
                          default=[], metavar="CSV",
                          help="a recording (aura decode CSV, or NPZ) to fine-tune on; "
                               "repeat, each followed by its --labels")
        parser.add_argument("--labels", dest="labels", type=Path, action="append", default=[],
                            metavar="CSV", help="start,end,label spans of the preceding "
                            "--recording (an NPZ with its own timeline needs none)")
        parser.add_argument("--out", type=Path, required=True, metavar="MODEL.aura",
                            help="the bundle to write")
        parser.add_argument("--work", type=Path, default=Path("runs/retrain"), metavar="DIR",
                            help="working directory; rerunning resumes (default runs/retrain)")
        parser.add_argument("--data", type=Path, metavar="CORPUS",
                            help="--preset: an existing corpus instead of synthesising one")
        parser.add_argument("--version", default="0.1.0", help="bundle version (default 0.1.0)")
        parser.add_argument("--seed", type=int, metavar="N",
                            help="--preset: training seed of the teacher and the student "
                                 "(default: the preset's, 0; the corpus keeps its own), to "
                                 "see how far another seed moves the figures")
        ft = parser.add_argument_group("fine-tuning on recordings")
        ft.add_argument("--base", type=Path, metavar="RUN",
                        help="checkpoint to start from (default: the shipped teacher)")
        ft.add_argument("--steps", type=int, default=300, help="optimiser steps (default 300)")
        ft.add_argument("--lr", type=float, default=3e-4, help="learning rate (default 3e-4)")
        ft.add_argument("--batch-size", type=int, default=32, help="windows per step (32)")
        ft.add_argument("--keep-weight", type=float, default=1.0,
                        help="pull toward the base model's embeddings, so it keeps what it "
                             "knew (default 1.0; larger keeps more)")
        ft.add_argument("--gravity-removed", action="store_true",
                        help="the recordings hold linear acceleration (gravity removed)")
        ft.add_argument("--location", default="left_wrist",
                        help="where the device was worn (default left_wrist)")
        ft.add_argument("--own-labels-only", action="store_true",
                        help="the bundle knows only your labels (default: the 57 built-in "
                             "activities plus yours)")
        ft.add_argument("--no-augment", action="store_true",
                        help="no random mounting rotation / mirror / noise while fine-tuning")
        ft.add_argument("--name", default="aura-custom", help="bundle name (default aura-custom)")
        parser.add_argument("--progress", action="store_true",
                            help="training progress bars (stage lines are always printed)")

    def run(self, args: argparse.Namespace) -> int:
        """Run the chosen pipeline; returns the exit code."""
        from ._retrain import finetune_recordings, retrain_from_scratch

        if args.preset is not None:
            if args.labels:
                raise ConfigError("--labels goes with --recording, not --preset")
            retrain_from_scratch(args.preset, args.work, args.out, data=args.data,
                                 version=args.version, seed=args.seed,
                                 quiet=not args.progress)
            return 0
        if args.seed is not None:
            raise ConfigError("--seed goes with --preset (a rebuild from scratch); fine-tuning "
                              "on recordings starts from --base's weights")
        labels: list[Path | None] = list(args.labels)
        if len(labels) > len(args.recordings):
            raise ConfigError(f"{len(labels)} --labels for {len(args.recordings)} --recording; "
                              "give one labels file per recording")
        while len(labels) < len(args.recordings):
            rec = args.recordings[len(labels)]
            if rec.suffix.lower() != ".npz":
                raise ConfigError(f"{rec} has no --labels: CSV recordings need a labels file "
                                  "(start,end,label spans)")
            labels.append(None)
        finetune_recordings(
            list(zip(args.recordings, labels, strict=True)), args.work, args.out,
            base=args.base, steps=args.steps, lr=args.lr, batch_size=args.batch_size,
            keep_weight=args.keep_weight, gravity_removed=args.gravity_removed,
            location=args.location, own_labels_only=args.own_labels_only,
            augment=not args.no_augment, name=args.name, version=args.version,
            quiet=not args.progress)
        return 0


RETRAIN_COMMAND = RetrainCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura retrain`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(RETRAIN_COMMAND, "retrain", argv)


if __name__ == "__main__":
    sys.exit(main())
