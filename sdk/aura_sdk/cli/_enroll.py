"""``aura enroll``: few-shot labels from recordings or a live device; list, remove, export.

Enrolled labels are stored per model under ``$AURA_HOME/enrolled/`` (default ``~/.aura``) and
are scored by ``aura live``, ``LiveRecognizer`` and ``AuraModel.classify`` alike::

    aura enroll add "my exercise" --csv rep1.csv --csv rep2.csv
    aura enroll add --csv desk.csv --spans desk.labels.csv          # every labelled span
    aura enroll record "stirring" --serial /dev/ttyUSB0 --device witmotion --seconds 8 --examples 3
    aura enroll list
    aura enroll remove "stirring"
    aura enroll export my-labels.zip ; aura enroll import my-labels.zip
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError
from .._model import AuraModel, load_bundle
from .._recording import Recording, read_labels, read_recording
from .._spec import PLACEMENTS, SensorSpec
from ._options import parse_options

__all__ = ["COMMAND", "recording_examples"]

F64 = npt.NDArray[np.float64]


def _rows(rec: Recording, keep: npt.NDArray[np.bool_]) -> tuple[F64, F64]:
    """``(samples (n, 6), t (n,))`` of the selected rows; a device without a gyroscope gets
    zeros there (what live recognition feeds it too)."""
    acc, gyro = rec.acc[keep], rec.gyro[keep]
    if np.isnan(gyro).all():
        gyro = np.zeros_like(gyro)
    return np.concatenate([acc, gyro], axis=1), rec.t[keep]


def _rate(t: F64) -> float:
    d = np.diff(t)
    d = d[d > 0]
    if d.size == 0:
        raise ConfigError("the recording has fewer than two distinct timestamps; record longer")
    return float(1.0 / np.median(d))


def recording_examples(
    rec: Recording, *, start: float | None = None, end: float | None = None,
    spans_path: str | None = None, label: str | None = None,
) -> dict[str, list[tuple[F64, F64]]]:
    """Cut a recording into examples per label: the whole recording (or ``start``..``end``)
    as one example of ``label``, or every span of a ``start,end,label`` file.

    Raises:
        ConfigError: no label given, or a span holds no samples.
    """
    out: dict[str, list[tuple[F64, F64]]] = {}
    if spans_path is not None:
        for span in read_labels(spans_path):
            keep = (rec.t >= span.start_s) & (rec.t < span.end_s)
            if keep.sum() < 2:
                raise ConfigError(f"{spans_path}: span {span.start_s:g}-{span.end_s:g} s "
                                  f"({span.label!r}) holds no samples of the recording")
            out.setdefault(span.label, []).append(_rows(rec, keep))
        return out
    if label is None:
        raise ConfigError("name the label (aura enroll add LABEL --csv ...) or pass --spans")
    lo = -np.inf if start is None else start
    hi = np.inf if end is None else end
    keep = (rec.t >= lo) & (rec.t < hi)
    if keep.sum() < 2:
        raise ConfigError(f"no samples between {start} and {end} s")
    out[label] = [_rows(rec, keep)]
    return out


def _enroll(model: AuraModel, examples: dict[str, list[tuple[F64, F64]]], *,
            gravity_removed: bool, replace: bool, placement: str | None = None) -> None:
    for label, items in examples.items():
        spec = SensorSpec(sample_rate_hz=_rate(items[0][1]), accel_unit="m/s^2",
                          gyro_unit="rad/s", gravity_removed=gravity_removed,
                          placement=placement)
        model.enroll(label, [x for x, _ in items], spec, times=[t for _, t in items],
                     replace=replace)
        secs = sum(float(t[-1] - t[0]) for _, t in items)
        print(f"enrolled {label!r}: {len(items)} example(s), {secs:.1f} s", file=sys.stderr)


async def _capture(args: argparse.Namespace, seconds: float) -> tuple[F64, F64, bool]:
    """Read ``seconds`` of samples from the device named by ``args``."""
    from ..live import ChannelMerger, CountingClock
    from ..live._sources import DecodedSource, SerialLink, TcpLink, device_profile

    opts = parse_options(args.option)
    if args.serial:
        src = DecodedSource(SerialLink(args.serial, args.baud), args.device or "aura",
                            options=opts)
    elif args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        src = DecodedSource(TcpLink(host, int(port)), args.device or "aura", options=opts)
    else:
        from ..live._sources import BleLink

        dev = args.device or "aura-ble"
        src = DecodedSource(BleLink(args.ble, device_profile(dev)), dev, options=opts)
    merger = ChannelMerger()
    counting: CountingClock | None = None
    ts: list[F64] = []
    rows: list[F64] = []
    await src.open()
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            batches, arrival = await src.next_batch(min(0.5, max(0.01, end - time.monotonic())))
            for b in batches:
                if len(b) == 0:
                    continue
                if b.t is not None:
                    t = b.t
                else:
                    if counting is None:
                        rate = src.nominal_rate_hz
                        counting = CountingClock(rate, max(0.5, 10.0 / rate))
                    t = counting.stamp(len(b), arrival)
                tr, r = merger.feed(t, b.acc, b.gyro)
                if tr.size:
                    ts.append(tr)
                    rows.append(r)
    finally:
        await src.close()
    if not ts:
        raise ConfigError(f"no samples arrived from the device in {seconds:g} s; check the "
                          "link, the --device profile and that the device is streaming")
    return np.concatenate(rows), np.concatenate(ts), src.gravity_removed


class _Enroll:
    help = "few-shot labels: add from recordings or a live device, list, remove, export"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--bundle", help="model bundle (default: the embedded default)")
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser("add", help="enrol examples from aura decode CSV / NPZ recordings")
        add.add_argument("label", nargs="?", help="the label (omit with --spans)")
        add.add_argument("--csv", action="append", required=True, metavar="FILE",
                         help="a recording (t,ax..gz in SI units); repeat for more examples")
        add.add_argument("--start", type=float, help="first second of the example")
        add.add_argument("--end", type=float, help="end second of the example")
        add.add_argument("--spans", metavar="LABELS_CSV",
                         help="start,end,label rows: enrol every span under its label")
        add.add_argument("--gravity-removed", action="store_true",
                         help="the device sent linear acceleration (gravity removed)")
        add.add_argument("--replace", action="store_true", help="replace an enrolled label")
        rec = sub.add_parser("record", help="record examples from a live device and enrol them")
        for p in (add, rec):
            p.add_argument("--placement", choices=PLACEMENTS, default=None,
                           help="where the device was worn (default: not said)")
        rec.add_argument("label")
        src = rec.add_mutually_exclusive_group(required=True)
        src.add_argument("--serial", metavar="PORT")
        src.add_argument("--tcp", metavar="HOST:PORT")
        src.add_argument("--ble", metavar="NAME")
        rec.add_argument("--device", default=None, help="device profile (default aura)")
        rec.add_argument("--baud", type=int, default=115200)
        rec.add_argument("--option", action="append", metavar="KEY=VALUE")
        rec.add_argument("--seconds", type=float, default=10.0, help="length of each example")
        rec.add_argument("--examples", type=int, default=1, help="how many examples to record")
        rec.add_argument("--pause", type=float, default=3.0,
                         help="seconds to get ready before each example")
        rec.add_argument("--save", metavar="DIR", help="also write each example as CSV here")
        rec.add_argument("--replace", action="store_true")
        lst = sub.add_parser("list", help="list enrolled labels")
        lst.add_argument("--json", action="store_true")
        rm = sub.add_parser("remove", help="remove enrolled labels")
        rm.add_argument("labels", nargs="+")
        ex = sub.add_parser("export", help="write enrolled labels to one file")
        ex.add_argument("out")
        ex.add_argument("--labels", help="comma-separated labels (default: all)")
        im = sub.add_parser("import", help="add the labels of an export (same model)")
        im.add_argument("file")
        im.add_argument("--replace", action="store_true")

    def run(self, args: argparse.Namespace) -> int:
        model = load_bundle(args.bundle)
        if args.action == "add":
            self._add(model, args)
        elif args.action == "record":
            self._record(model, args)
        elif args.action == "list":
            self._list(model, args.json)
        elif args.action == "remove":
            for label in args.labels:
                model.forget(label)
                print(f"removed {label!r}", file=sys.stderr)
        elif args.action == "export":
            labels = None if args.labels is None else [
                x.strip() for x in args.labels.split(",") if x.strip()]
            path = model.export_enrollments(args.out, labels)
            print(f"wrote {path}", file=sys.stderr)
        else:
            names = model.import_enrollments(args.file, replace=args.replace)
            print(f"imported {len(names)} label(s): {', '.join(names)}", file=sys.stderr)
        return 0

    @staticmethod
    def _add(model: AuraModel, args: argparse.Namespace) -> None:
        if args.spans and (args.start is not None or args.end is not None):
            raise ConfigError("--spans takes labelled spans from the file; drop --start/--end")
        if args.spans and len(args.csv) != 1:
            raise ConfigError("--spans goes with exactly one --csv recording")
        merged: dict[str, list[tuple[F64, F64]]] = {}
        for path in args.csv:
            got = recording_examples(read_recording(path), start=args.start, end=args.end,
                                     spans_path=args.spans, label=args.label)
            for k, v in got.items():
                merged.setdefault(k, []).extend(v)
        _enroll(model, merged, gravity_removed=args.gravity_removed, replace=args.replace,
                placement=args.placement)

    @staticmethod
    def _record(model: AuraModel, args: argparse.Namespace) -> None:
        if args.examples < 1 or args.seconds <= 0:
            raise ConfigError("--examples must be >= 1 and --seconds > 0")
        items: list[tuple[F64, F64]] = []
        gravity_removed = False
        for i in range(args.examples):
            print(f"example {i + 1}/{args.examples} of {args.label!r}: start in "
                  f"{args.pause:g} s, then perform it for {args.seconds:g} s", file=sys.stderr)
            time.sleep(args.pause)
            x, t, gravity_removed = asyncio.run(_capture(args, args.seconds))
            items.append((x, t))
            if args.save:
                from .._recording import write_recording

                out = Path(args.save) / f"{args.label.replace('/', '_')}-{i + 1}.csv"
                out.parent.mkdir(parents=True, exist_ok=True)
                write_recording(out, Recording(t=t, acc=x[:, :3], gyro=x[:, 3:]))
                print(f"  saved {out}", file=sys.stderr)
        _enroll(model, {args.label: items}, gravity_removed=gravity_removed,
                replace=args.replace, placement=args.placement)

    @staticmethod
    def _list(model: AuraModel, as_json: bool) -> None:
        rows = model.enrollment_summary()
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            print(f"no enrolled labels for {model.manifest.name} {model.manifest.version} "
                  f"(store: {model.enrollment_dir})")
            return
        for r in rows:
            print(f"{r['label']}\t{r['examples']} example(s)\t{r['windows']} windows\t"
                  f"{r['created']}")
        print(f"store: {model.enrollment_dir}", file=sys.stderr)


COMMAND = _Enroll()
