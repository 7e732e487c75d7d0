"""The fixed ``aura`` subcommand names and where each one comes from.

Device-side commands live in ``aura_sdk.cli`` modules. Server-side commands (training,
export, benchmarks) are found through the ``aura.commands`` entry-point group, so importing
the device side never imports torch. A name with no provider yet says what it is waiting for.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol, runtime_checkable

from .._errors import AuraError, MissingExtraError, NotBuiltError

__all__ = ["ENTRY_POINT_GROUP", "SLOTS", "Command", "Slot", "resolve", "run_standalone"]

ENTRY_POINT_GROUP = "aura.commands"


@runtime_checkable
class Command(Protocol):
    """One ``aura`` subcommand: it adds its flags to a parser and runs on the parsed result."""

    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's arguments (and its own sub-subcommands) to ``parser``."""

    def run(self, args: argparse.Namespace) -> int:
        """Run with parsed arguments; return the process exit code."""


@dataclass(frozen=True)
class Slot:
    """A fixed subcommand name (DESIGN.md), its one-line help and who provides it."""

    name: str
    help: str
    capability: str
    module: str | None = None  # device-side implementation, imported lazily
    extra: str | None = None  # server-side: the extra whose packages it needs


SLOTS: dict[str, Slot] = {
    s.name: s
    for s in (
        Slot("demo", "virtual wrist -> serial -> LiveRecognizer: live labels, accuracy, latency",
             "the live demo (LiveRecognizer, issue #7)", module="aura_sdk.cli._demo"),
        Slot("live", "live recognition from a real device over serial or BLE",
             "live recognition (LiveRecognizer, issue #7)", module="aura_sdk.cli._live"),
        Slot("enroll", "few-shot labels from recordings or a live device; list, remove, export",
             "few-shot enrollment (issue #12)", module="aura_sdk.cli._enroll"),
        Slot("devices", "scan for BLE IMUs the SDK has profiles for",
             "BLE scanning (issue #7)", module="aura_sdk.cli._devices"),
        Slot("simulate", "a virtual device over pty serial, TCP or BLE",
             "virtual devices (firmware_bridge, issue #3)", module="aura_sdk.cli._simulate"),
        Slot("decode", "raw byte capture of a device -> CSV t,ax,ay,az,gx,gy,gz in SI units",
             "device decoders (firmware_bridge, issue #3)", module="aura_sdk.cli._decode"),
        Slot("data", "write the synthetic corpus (synth) / describe a corpus (info)",
             "the synthetic corpus (issue #4)", extra="train"),
        Slot("train", "four-modality contrastive pretraining",
             "pretraining (issue #5)", extra="train"),
        Slot("distill", "distil a small student IMU encoder",
             "distillation (issue #6)", extra="train"),
        Slot("eval", "retrieval and zero-shot evaluation report",
             "evaluation (issue #5)", extra="train"),
        Slot("export", "write a model bundle (ONNX, int8, prototypes)",
             "export (issue #6)", extra="export"),
        Slot("retrain", "synth -> train -> distil -> export in one go",
             "retraining (issue #6)", extra="export"),
        Slot("bundle", "verify, describe, sign model bundles", "model bundles (issue #2)",
             module="aura_sdk.cli._bundle"),
        Slot("bench", "latency, throughput, memory and scale report",
             "benchmarks (issue #8)", extra="bench"),
    )
}


def _entry_point(name: str) -> metadata.EntryPoint | None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep
    return None


def _check(obj: object, where: str) -> Command:
    if not isinstance(obj, Command):
        raise TypeError(f"{where} does not provide an aura command (configure/run/help)")
    return obj


def resolve(name: str) -> Command:
    """Return the command object for a fixed subcommand name.

    Raises:
        KeyError: ``name`` is not an ``aura`` subcommand.
        NotBuiltError: the subcommand exists in the design but has no provider yet.
        MissingExtraError: its provider needs an extra that is not installed.
    """
    slot = SLOTS[name]
    if slot.module is not None:
        module = importlib.import_module(slot.module)
        return _check(module.COMMAND, slot.module)
    ep = _entry_point(name)
    if ep is None:
        raise NotBuiltError(f"`aura {name}`", slot.capability)
    try:
        obj = ep.load()
    except ModuleNotFoundError as exc:
        raise MissingExtraError(slot.extra or "dev", f"`aura {name}`", exc.name or "") from exc
    return _check(obj, f"entry point {ep.value}")


def run_standalone(command: Command, name: str, argv: Sequence[str] | None = None, *,
                   broken_pipe_ok: bool = False) -> int:
    """Run ``command`` as its own program (``python -m <module> ...``); return the exit code.

    ``--help`` and usage errors return argparse's code; an :class:`AuraError` is printed as
    ``aura NAME: error: ...`` and returns 1; with ``broken_pipe_ok`` a closed stdout (output
    piped into ``head``) returns 0.
    """
    parser = argparse.ArgumentParser(prog=f"aura {name}", description=command.help)
    command.configure(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and usage errors
        return int(exc.code or 0)
    try:
        return command.run(args)
    except AuraError as exc:
        print(f"aura {name}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        if broken_pipe_ok:
            return 0
        raise
