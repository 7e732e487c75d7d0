"""``aura train``: contrastive pretraining from a YAML config or a named preset.

Registered in the ``aura.commands`` entry-point group as ``train``; also runnable as
``python -m aura_training.cli_train ...``, which is how ``torchrun`` starts it::

    aura train --preset smoke
    aura train --config my_run.yaml --set optim.lr=5e-4 --set steps=2000
    torchrun --standalone --nproc_per_node 2 -m aura_training.cli_train --preset smoke
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        -m aura_training.cli_train --preset paper-gpu

A preset whose corpus directory does not exist synthesises the corpus first (rank 0, with
the preset's ``data.synth`` options), so ``aura train --preset cpu-teacher`` on a fresh
machine does everything. A run resumes from the newest checkpoint in its output directory
unless ``--no-resume`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError

__all__ = ["TRAIN_COMMAND", "TrainCommand", "main", "parse_overrides"]


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["optim.lr=5e-4", "steps=100"]`` -> ``{"optim": {"lr": 0.0005}, "steps": 100}``.

    Values are parsed as YAML scalars (numbers, booleans, null, lists, strings).

    Raises:
        ConfigError: an item without ``=``.
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE (dotted keys for nested options), got "
                              f"{item!r}")
        value = yaml.safe_load(raw) if raw else ""
        if isinstance(value, str):  # YAML 1.1 reads "5e-4" as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


class TrainCommand:
    """The ``aura train`` command object (``help``, ``configure``, ``run``)."""

    help = "train the encoders contrastively (a YAML config or a preset; torchrun for DDP)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``aura train``."""
        src = parser.add_mutually_exclusive_group(required=True)
        src.add_argument("--config", type=Path, metavar="FILE",
                         help="training config (YAML or JSON)")
        src.add_argument("--preset", metavar="NAME",
                         help="a named preset: smoke, cpu-teacher, cpu-imu2clip, "
                              "cpu-imu-text, cpu-student (distillation), paper-gpu")
        parser.add_argument("--data", type=Path, help="corpus directory (overrides data.dir)")
        parser.add_argument("--out", type=Path, help="output directory (overrides out_dir)")
        parser.add_argument("--steps", type=int, help="optimiser steps (overrides steps)")
        parser.add_argument("--seed", type=int, help="seed (overrides seed)")
        parser.add_argument("--workers", type=int,
                            help="DataLoader workers per rank (overrides data.num_workers)")
        parser.add_argument("--set", dest="overrides", action="append", default=[],
                            metavar="KEY=VALUE", help="any option, dotted (repeatable)")
        parser.add_argument("--no-resume", action="store_true",
                            help="start from scratch even if out_dir has checkpoints")
        parser.add_argument("--print-config", action="store_true",
                            help="print the resolved config as YAML and exit")
        parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")

    def run(self, args: argparse.Namespace) -> int:
        """Resolve the config and train; returns the exit code."""
        from .train import Trainer, load_config, preset_config

        over = parse_overrides(args.overrides)
        for flag, path in ((args.data, ("data", "dir")), (args.out, ("out_dir",)),
                           (args.steps, ("steps",)), (args.seed, ("seed",)),
                           (args.workers, ("data", "num_workers"))):
            if flag is not None:
                node = over
                for p in path[:-1]:
                    node = node.setdefault(p, {})
                node[path[-1]] = str(flag) if isinstance(flag, Path) else flag
        if args.steps is not None:
            over["epochs"] = None
        config = (preset_config(args.preset, over) if args.preset
                  else load_config(args.config, over))
        if args.print_config:
            import yaml

            print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), end="")
            return 0
        rank = int(os.environ.get("RANK", "0"))
        _configure_logging(quiet=args.quiet or rank != 0)
        with Trainer(config, resume=not args.no_resume,
                     progress=not args.quiet and rank == 0) as trainer:
            result = trainer.fit()
        if rank == 0:
            ev = "  ".join(f"{k} {v:.4f}" for k, v in sorted(result.eval.items()))
            print(f"trained {result.step} steps in {result.seconds:.1f} s "
                  f"({result.samples_per_s:.1f} samples/s); checkpoint {result.checkpoint}"
                  + (f"\n{ev}" if ev else ""))
        return 0


def _configure_logging(quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                               "%(message)s", "%H:%M:%S"))
        root.addHandler(handler)
    logging.getLogger("aura_training").setLevel(level)


TRAIN_COMMAND = TrainCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura train`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(TRAIN_COMMAND, "train", argv)


if __name__ == "__main__":
    sys.exit(main())
