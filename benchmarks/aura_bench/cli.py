"""``aura bench``: latency, throughput, memory and scale report (JSON, markdown, PNG plots).

Registered in the ``aura.commands`` entry-point group as ``bench``; also runnable as
``python -m aura_bench.cli ...``::

    aura bench --out DIR [--quick] [--bundle PATH] [--teacher PATH] [--student PATH]
               [--jetson] [--threads N] [--doc docs/benchmarks.md]

writes ``DIR/bench.json``, ``DIR/bench.md``, ``DIR/latency_cdf.png`` and ``DIR/scale.png``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aura_sdk import ConfigError

from ._bench import BenchConfig, run_bench
from ._doc import write_doc
from ._plots import write_plots
from ._report import markdown

__all__ = ["BENCH_COMMAND", "BenchCommand", "main"]


def _int_list(text: str) -> tuple[int, ...]:
    try:
        items = tuple(dict.fromkeys(int(x) for x in text.split(",") if x.strip()))
    except ValueError:
        items = ()
    if not items or min(items) < 1:
        raise argparse.ArgumentTypeError(f"expected a comma list of positive integers, got "
                                         f"{text!r}")
    return items


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _command_line(args: argparse.Namespace) -> str:
    """The canonical command that reproduces this run."""
    parts = ["aura", "bench", "--out", str(args.out)]
    if args.quick:
        parts.append("--quick")
    for flag, value in (("--bundle", args.bundle), ("--teacher", args.teacher),
                        ("--student", args.student), ("--threads", args.threads),
                        ("--doc", args.doc), ("--budget", args.budget),
                        ("--seconds", args.seconds)):
        if value is not None:
            parts += [flag, str(value)]
    for flag, items in (("--batch-sizes", args.batch_sizes), ("--streams", args.streams)):
        if items is not None:
            parts += [flag, ",".join(str(i) for i in items)]
    if args.jetson:
        parts.append("--jetson")
    if args.no_extras:
        parts.append("--no-extras")
    return " ".join(shlex.quote(p) for p in parts)


def _existing(path: str | None, flag: str, what: str) -> str | None:
    if path is not None and not Path(path).expanduser().exists():
        raise ConfigError(f"{flag} {path}: no such file or directory; pass {what}, or leave "
                          f"{flag} out")
    return path


class BenchCommand:
    """The ``aura bench`` command object (``help``, ``configure``, ``run``)."""

    help = "latency, throughput, memory and scale report (JSON, markdown, PNG plots)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the ``aura bench`` flags."""
        parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                            help="report folder: bench.json, bench.md, *.png")
        parser.add_argument("--quick", action="store_true",
                            help="short run (under a minute on an idle 2-core machine)")
        parser.add_argument("--bundle", metavar="PATH",
                            help="model bundle (.aura or directory; default: the embedded "
                                 "default bundle)")
        parser.add_argument("--teacher", metavar="PATH",
                            help="teacher training run or checkpoint for the torch eager row "
                                 "(default: the shipped teacher, else imu-xs with random "
                                 "weights, latency only)")
        parser.add_argument("--student", metavar="PATH",
                            help="distilled student checkpoint for its torch eager row")
        parser.add_argument("--jetson", action="store_true",
                            help="also record the Jetson platform, build TensorRT engines and "
                                 "measure power with tegrastats (skips elsewhere)")
        parser.add_argument("--threads", type=int, metavar="N",
                            help="intra-op threads for every backend (default: each "
                                 "library's own)")
        parser.add_argument("--batch-sizes", type=_int_list, metavar="LIST",
                            help="encoder batch sizes (default 1,8,32,128; quick 1,8,32)")
        parser.add_argument("--streams", type=_int_list, metavar="LIST",
                            help="scale test stream counts (default 1,4,16,64; quick 1,4)")
        parser.add_argument("--budget", type=_positive, metavar="SECONDS",
                            help="timed seconds per batch size (default 3; quick 0.5)")
        parser.add_argument("--seconds", type=_positive, metavar="SECONDS",
                            help="seconds of data each streaming run plays (default: 120 "
                                 "end to end, 40 per scale point; quick 30 and 24)")
        parser.add_argument("--device-rate", type=_positive, metavar="HZ",
                            help="the virtual wrists' sample rate (default 100)")
        parser.add_argument("--no-extras", action="store_true",
                            help="leave out the decoder and preprocessing benchmarks")
        parser.add_argument("--doc", type=Path, metavar="FILE",
                            help="also write the generated docs page (docs/benchmarks.md)")

    def run(self, args: argparse.Namespace) -> int:
        """Run the benchmark and write the report; return the exit code.

        Raises:
            AuraError: a missing bundle / checkpoint or bad options (message says the fix).
        """
        if args.threads is not None and args.threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {args.threads}")
        cfg = BenchConfig.preset(
            args.out, quick=args.quick, bundle=args.bundle,
            teacher=_existing(args.teacher, "--teacher", "a training run directory or "
                                                         "checkpoint (aura train --out DIR)"),
            student=_existing(args.student, "--student", "a distilled checkpoint"),
            jetson=args.jetson or None, threads=args.threads, batches=args.batch_sizes,
            streams=args.streams, budget_s=args.budget, e2e_seconds=args.seconds,
            scale_seconds=args.seconds, device_rate_hz=args.device_rate,
            extras=False if args.no_extras else None,
            command=_command_line(args))
        args.out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        res = run_bench(cfg, progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True))
        res["plots"] = write_plots(res, args.out)
        (args.out / "bench.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
        (args.out / "bench.md").write_text(markdown(res), encoding="utf-8")
        if args.doc is not None:
            write_doc(res, args.doc, args.out)
        r = res["ratios"]
        t = r["bundle_vs_teacher_torch"]
        e = r["e2e_vs_raw_encoder"]
        print(f"wrote {args.out}/bench.json, bench.md"
              + (", latency_cdf.png, scale.png" if res["plots"].get("status") == "ok" else "")
              + (f" and {args.doc}" if args.doc else "")
              + f" in {time.perf_counter() - t0:.0f} s")
        if "latency_speedup_p50" in t:
            print(f"  bundle ({t['denominator']}) vs teacher torch eager: "
                  f"{t['latency_speedup_p50']:.2f}x faster at batch 1 (p50), "
                  f"{t['throughput_ratio']:.2f}x the throughput")
        if "overhead_ratio_p50" in e:
            print(f"  end to end {e['e2e_p50_ms']:.2f} ms p50 = {e['overhead_ratio_p50']:.2f}x "
                  f"the raw encoder ({e['raw_row']}, {e['raw_p50_ms']:.2f} ms)")
        one = res["streaming"]["e2e"]
        proc, sensor = one.get("latency"), one.get("sensor_latency")
        if proc and sensor:
            print(f"  one stream: processing p50 {proc['p50_ms']:.2f} / p99 "
                  f"{proc['p99_ms']:.2f} ms; sensor to label p50 {sensor['p50_ms']:.1f} / p99 "
                  f"{sensor['p99_ms']:.1f} ms (resampler look-ahead "
                  f"{1e3 * one['resampler_lookahead_s']:.0f} ms)")
        return 0


BENCH_COMMAND = BenchCommand()


def main(argv: Sequence[str] | None = None) -> int:
    """``aura bench`` as a standalone program; returns the exit code."""
    from aura_sdk.cli import run_standalone

    return run_standalone(BENCH_COMMAND, "bench", argv)


if __name__ == "__main__":
    sys.exit(main())
