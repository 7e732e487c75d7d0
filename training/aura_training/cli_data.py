"""``aura data``: write the synthetic corpus (``synth``) and describe a corpus (``info``).

Registered in the ``aura.commands`` entry-point group as ``data``; also runnable as
``python -m aura_training.cli_data ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from aura_sdk import ConfigError

__all__ = ["DATA_COMMAND", "DataCommand", "format_info", "main"]

#: Where ``aura data session`` can wear its virtual device (as ``aura_training.synth``;
#: spelled out so the parser does not import the generator).
_LOCATIONS = ("left_wrist", "right_wrist", "left_waist", "right_waist", "left_pocket",
              "right_pocket", "left_upper_arm", "right_upper_arm")


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _shares(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in _split_list(text):
        kind, sep, value = item.partition("=")
        try:
            out[kind.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise argparse.ArgumentTypeError(
                f"{item!r} is not KIND=SHARE (e.g. wrist=0.15,waist=0.1)")
    return out


class DataCommand:
    """The ``aura data`` command object (``help``, ``configure``, ``run``)."""

    help = "write the synthetic corpus (synth) / describe a corpus (info)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the ``synth`` and ``info`` sub-subcommands."""
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        s = sub.add_parser("synth", help="generate the four-modality synthetic corpus",
                           description="Generate IMU, mocap, exo video and text clips from "
                           "procedural motion, sharded on disk with a manifest. The output "
                           "depends only on --seed (not on --workers).")
        s.add_argument("--minutes", type=float, required=True, help="minutes of clips to write")
        s.add_argument("--out", type=Path, required=True, help="output corpus directory")
        s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        s.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
        s.add_argument("--overwrite", action="store_true", help="replace a corpus at --out")
        s.add_argument("--shard-minutes", type=float, default=3.0,
                       help="clip minutes per shard (default 3)")
        s.add_argument("--holdout", type=_split_list, default=None, metavar="A,B,...",
                       help="activities kept for the zero-shot test split only")
        s.add_argument("--no-video", action="store_true", help="skip the exo video")
        s.add_argument("--random-mount", type=_shares, default=None, metavar="KIND=P,...",
                       help="share of uniformly random device mountings per placement, e.g. "
                            "'wrist=0.15,waist=0.1' (default wrist 0.5, others 0.25)")
        s.add_argument("--quiet", action="store_true", help="no progress bar")
        r = sub.add_parser("session", help="a generated session as a replayable recording",
                           description="Generate a continuous session (motion + virtual watch) "
                           "and write it as a recording with ground-truth spans, for `aura "
                           "simulate --recording`, `aura demo --recording` and replay.")
        r.add_argument("--plan", required=True, metavar="ACT:SECONDS,...",
                       help="e.g. 'standing:20,walking:30,brushing teeth:25'")
        r.add_argument("--out", type=Path, required=True, help="output .npz (or .csv)")
        r.add_argument("--seed", type=int, default=0)
        r.add_argument("--rate", type=float, default=50.0, help="watch output rate, Hz")
        r.add_argument("--location", choices=_LOCATIONS, default="left_wrist",
                       help="where the virtual device is worn (default left_wrist)")
        r.add_argument("--gravity-removed", action="store_true",
                       help="linear acceleration (as Android / Core Motion report it)")
        i = sub.add_parser("info", help="describe a corpus on disk")
        i.add_argument("dir", type=Path, help="corpus directory")
        i.add_argument("--json", action="store_true", help="machine-readable summary")

    def run(self, args: argparse.Namespace) -> int:
        """Run ``synth`` or ``info``; returns the exit code."""
        if args.action == "synth":
            return _synth(args)
        if args.action == "session":
            return _session(args)
        return _info(args)


def _session(args: argparse.Namespace) -> int:
    from aura_sdk.recording import write_recording

    from .synth import activity_names
    from .synth._replay import session_recording

    plan: list[tuple[str, float]] = []
    for item in args.plan.split(","):
        name, _, secs = item.rpartition(":")
        name = name.strip()
        try:
            seconds = float(secs)
        except ValueError:
            seconds = -1.0
        if not name or seconds <= 0:
            raise ConfigError(f"--plan item {item!r} is not ACTIVITY:SECONDS")
        if name not in activity_names():
            raise ConfigError(f"unknown activity {name!r}; known: {', '.join(activity_names())}")
        plan.append((name, seconds))
    rec = session_recording(plan, seed=args.seed, rate_hz=args.rate, location=args.location,
                            gravity_removed=args.gravity_removed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_recording(args.out, rec)
    print(f"wrote {args.out}: {rec.duration_s:.1f} s at {rec.nominal_rate_hz():.1f} Hz, "
          + ", ".join(f"{s.label} {s.end_s - s.start_s:.0f} s" for s in rec.spans))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .corpus._synth import SynthConfig, synthesize_corpus

    extra: dict[str, Any] = {}
    if args.holdout is not None:
        extra["held_out_activities"] = args.holdout
    if args.random_mount is not None:
        extra["random_mount"] = args.random_mount
    try:
        cfg = SynthConfig(minutes=args.minutes, seed=args.seed, video=not args.no_video,
                          shard_seconds=args.shard_minutes * 60.0, **extra)
    except ValidationError as exc:
        raise ConfigError(f"bad synth options: {exc}") from exc
    total = cfg.minutes * 60.0
    if args.quiet:
        manifest = synthesize_corpus(args.out, cfg, workers=args.workers,
                                     overwrite=args.overwrite)
    else:
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn("[bold]synth"), BarColumn(),
                   TextColumn("{task.completed:.0f}/{task.total:.0f} s of clips"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("synth", total=total)
            manifest = synthesize_corpus(
                args.out, cfg, workers=args.workers, overwrite=args.overwrite,
                progress=lambda seconds: bar.advance(task, seconds))
    print(f"wrote {len(manifest.clips)} clips, {manifest.duration_s / 3600:.3f} h, "
          f"{manifest.bytes / 1e6:.1f} MB in {len(manifest.shards)} shards to {args.out}")
    return 0


def format_info(root: Path, out: TextIO) -> None:
    """Print a human-readable description of the corpus at ``root``.

    Raises:
        CorpusNotFoundError: no corpus there.
        CorpusError: an invalid manifest.
    """
    from .corpus import load_manifest, member_sizes

    m = load_manifest(root)
    hours = m.duration_s / 3600.0
    gen = m.generator
    print(f"corpus      {root}", file=out)
    print(f"source      {m.source}  ({gen.get('name', '?')} {gen.get('version', '?')}, "
          f"seed {gen.get('seed', '?')})", file=out)
    print(f"clips       {len(m.clips)} in {len(m.shards)} shards", file=out)
    print(f"duration    {hours:.3f} h", file=out)
    mb = m.bytes / 1e6
    per_hour = f", {mb / hours:.1f} MB/h" if hours > 0 else ""
    print(f"size        {mb:.1f} MB{per_hour}", file=out)
    print(f"modalities  {', '.join(m.modalities)}", file=out)
    by_member: dict[str, int] = {}
    for shard in m.shards:
        for k, v in member_sizes(root / shard.path).items():
            by_member[k] = by_member.get(k, 0) + v
    parts = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in sorted(by_member.items(),
                                                            key=lambda kv: -kv[1]))
    print(f"bytes by    {parts} (MB, compressed)", file=out)
    if m.features:
        print(f"features    {', '.join(m.features)}", file=out)
    if m.locations:
        locs = ", ".join(f"{k} {v}" for k, v in m.locations.items())
        print(f"imu streams {locs} (clips)", file=out)
    print("splits", file=out)
    order = {"train": 0, "val": 1, "test": 2}
    for name, s in sorted(m.splits.items(), key=lambda kv: (order.get(kv[0], 9), kv[0])):
        print(f"  {name:<6} {s.clips:>6} clips {s.duration_s / 3600:>8.3f} h "
              f"{s.bytes / 1e6:>9.1f} MB {len(s.subjects):>5} subjects "
              f"{len(s.activities):>4} activities", file=out)
    if m.held_out_activities:
        print(f"held out    {', '.join(m.held_out_activities)} (test only: zero-shot)",
              file=out)
    acts = m.activities
    print(f"activities  {len(acts)}", file=out)
    for name, seconds in sorted(acts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28} {seconds / 60:>8.1f} min", file=out)


def _info(args: argparse.Namespace) -> int:
    if args.json:
        from .corpus import load_manifest

        m = load_manifest(args.dir)
        summary = {
            "clips": len(m.clips), "shards": len(m.shards), "hours": m.duration_s / 3600.0,
            "bytes": m.bytes, "modalities": m.modalities, "source": m.source,
            "generator": m.generator, "held_out_activities": m.held_out_activities,
            "features": m.features, "locations": m.locations,
            "splits": {k: v.model_dump() for k, v in m.splits.items()},
            "activities": m.activities,
        }
        print(json.dumps(summary, indent=1, sort_keys=True))
        return 0
    format_info(args.dir, sys.stdout)
    return 0


DATA_COMMAND = DataCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura data`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    # broken_pipe_ok: `aura data info DIR | head`
    return run_standalone(DATA_COMMAND, "data", argv, broken_pipe_ok=True)


if __name__ == "__main__":
    sys.exit(main())
