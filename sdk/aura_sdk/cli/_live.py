"""``aura live``: live recognition from a real device, with a live terminal view."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ConfigError
from .._model import AuraModel, Labels, load_bundle
from .._spec import PLACEMENTS
from ..live import LabelEvent, LiveRecognizer
from ..live._events import Event
from ._options import parse_options
from ._view import EventPrinter

if TYPE_CHECKING:
    from ..ros import FoxgloveView

__all__ = ["COMMAND"]


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", help="model bundle (default: the embedded default)")
    parser.add_argument("--labels", help="a label set's name (e.g. everyday, sports, all), or "
                        "comma-separated labels (bundle labels, enrolled ones, or free text "
                        "through the text encoder); default: the bundle's default set "
                        "(everyday where it has one) plus enrolled labels")
    parser.add_argument("--label-set", metavar="NAME",
                        help="score this label set of the bundle (`aura bundle info` lists "
                             "them); instead of --labels")
    parser.add_argument("--enrolled", action="store_true",
                        help="score exactly the labels enrolled for this bundle (`aura enroll`), "
                             "decided among by the on-device few-shot head")
    parser.add_argument("--smoothing", choices=("hmm", "average", "none"), default="hmm")
    parser.add_argument("--hop", type=float, default=None, help="seconds between windows")
    parser.add_argument("--accelerator", choices=("auto", "cpu", "cuda", "tensorrt"),
                        default="auto", help="inference device (default: best available)")
    parser.add_argument("--unknown-threshold", type=float, default=None,
                        help="override the bundle's similarity floor for 'unknown'")
    parser.add_argument("--unknown-margin", type=float, default=None,
                        help="override the bundle's best-vs-second margin for 'unknown'")


def make_recognizer(args: argparse.Namespace, include_status: bool = False) -> LiveRecognizer:
    """A recogniser from the shared model arguments."""
    model = load_bundle(args.bundle, device=args.accelerator)
    labels = labels_argument(model, args.labels, getattr(args, "label_set", None))
    if getattr(args, "enrolled", False):
        if labels is not None:
            raise ConfigError("give --enrolled, --labels or --label-set, not several")
        if not model.enrolled_labels:
            raise ConfigError("no labels are enrolled for this bundle; enroll some first: "
                              "aura enroll add LABEL --csv FILE (or aura enroll record ...)")
        labels = list(model.enrolled_labels)
    rec = LiveRecognizer(model, labels=labels, smoothing=args.smoothing, hop_s=args.hop,
                         include_status=include_status,
                         unknown_threshold=args.unknown_threshold,
                         unknown_margin=args.unknown_margin)
    what = ("the enrolled labels" if getattr(args, "enrolled", False)
            else f"label set {labels!r}" if isinstance(labels, str) else "the given labels"
            if labels is not None else f"default label set {model.default_label_set!r}")
    print(f"scoring {len(rec.scorer.labels)} labels ({what})", file=sys.stderr)
    return rec


def labels_argument(model: AuraModel, labels: str | None, label_set: str | None) -> Labels:
    """``--labels`` / ``--label-set`` as a ``labels`` argument: ``None`` (the default set), a
    set name (``--label-set NAME``, or ``--labels NAME`` without commas naming a set), or the
    comma-separated words of ``--labels``.

    Raises:
        ConfigError: both options, or ``--labels`` without a label.
    """
    if label_set is not None:
        if labels:
            raise ConfigError("give --labels or --label-set, not both")
        return label_set
    if not labels:
        return None
    text = labels.strip()
    if "," not in text and text in model.label_sets:
        return text
    words = [x.strip() for x in text.split(",") if x.strip()]
    if not words:
        raise ConfigError(f"--labels {labels!r} names no label; pass a label set's name "
                          f"({', '.join(model.label_sets)}) or comma-separated labels")
    return words


class _Live:
    help = "live recognition from a device over serial, TCP or BLE, or from a robot log"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        src = parser.add_mutually_exclusive_group(required=True)
        src.add_argument("--serial", metavar="PORT", help="serial port or pyserial URL")
        src.add_argument("--ble", metavar="NAME", help="BLE device name or address")
        src.add_argument("--tcp", metavar="HOST:PORT", help="a device streaming over TCP")
        src.add_argument("--replay", metavar="FILE", help="a recording (.csv / .npz)")
        src.add_argument("--bag", metavar="PATH",
                         help="a robot log: rosbag2 directory (sqlite3 or MCAP), ROS 1 .bag or "
                              ".mcap; each sensor_msgs/msg/Imu topic is a stream (needs the "
                              "ros extra)")
        parser.add_argument("--device", default=None,
                            help="device profile (default aura, or aura-ble with --ble)")
        parser.add_argument("--baud", type=int, default=115200)
        parser.add_argument("--bumble", metavar="HCI_SPEC",
                            help="with --ble: use bumble on this HCI transport instead of the "
                                 "system's Bluetooth (e.g. usb:0, or the tcp-client:... that "
                                 "`aura simulate --ble` prints)")
        parser.add_argument("--option", action="append", metavar="KEY=VALUE",
                            help="decoder option of the profile (repeatable)")
        add_model_args(parser)
        parser.add_argument("--fast", action="store_true",
                            help="with --replay: as fast as possible, not in real time")
        parser.add_argument("--topic", action="append", metavar="TOPIC",
                            help="with --bag: an IMU topic (repeatable; default: all of them)")
        parser.add_argument("--realtime", action="store_true",
                            help="with --bag: play at the stamps' pace (default: as fast as "
                                 "possible)")
        parser.add_argument("--write-labels", metavar="OUT.mcap", type=Path,
                            help="with --bag: write the log unchanged plus one "
                                 "aura_msgs/msg/ActivityLabel per window")
        parser.add_argument("--labels-topic", default="/aura/activity",
                            help="with --write-labels: the labels' topic")
        parser.add_argument("--foxglove", nargs="?", type=int, const=8765, default=None,
                            metavar="PORT",
                            help="serve every stream's IMU, label and health on a Foxglove "
                                 "WebSocket (default port 8765; needs the ros extra)")
        parser.add_argument("--duration", type=float, default=None, help="stop after seconds")
        parser.add_argument("--json", action="store_true", help="JSON lines instead of text")
        parser.add_argument("--status", action="store_true", help="show link status events")
        parser.add_argument("--placement", choices=PLACEMENTS, default=None,
                            help="where the device is worn (models with a placement input "
                                 "read it; default: not said)")
        parser.add_argument("--upright", type=_upright, default=None, metavar="auto|X,Y,Z",
                            help="with --placement: the wearer's upright in the device's axes "
                                 "(what it reads standing upright), or 'auto' to find it "
                                 "from the wearer's walking; models trained on frames "
                                 "turned to it read them so (default: not used)")

    def run(self, args: argparse.Namespace) -> int:
        if not args.bag and (args.topic or args.write_labels or args.realtime):
            raise ConfigError("--topic, --realtime and --write-labels go with --bag")
        rec = make_recognizer(args, include_status=args.status)
        opts = parse_options(args.option)
        view = _foxglove(rec, args.foxglove) if args.foxglove is not None else None
        try:
            return self._run(rec, args, opts)
        finally:
            if view is not None:
                view.close()

    def _run(self, rec: LiveRecognizer, args: argparse.Namespace,
             opts: dict[str, object]) -> int:
        if args.bag:
            return _live_bag(rec, args)
        if args.bumble and not args.ble:
            raise ConfigError("--bumble goes with --ble")
        if args.ble and args.bumble:
            asyncio.run(_live_bumble(rec, args, opts))
            _print_health(rec)
            return 0
        if args.serial:
            rec.add_serial(args.serial, args.device or "aura", baudrate=args.baud, options=opts,
                           placement=args.placement, upright=args.upright)
        elif args.ble:
            rec.add_ble(args.ble, args.device or "aura-ble", options=opts,
                        placement=args.placement, upright=args.upright)
        elif args.tcp:
            host, _, port = args.tcp.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
            rec.add_tcp(host, int(port), args.device or "aura", options=opts,
                        placement=args.placement, upright=args.upright)
        else:
            rec.add_replay(args.replay, realtime=not args.fast, placement=args.placement,
                           upright=args.upright)
        printer = EventPrinter(as_json=args.json)
        asyncio.run(_consume(rec, printer, args.duration))
        _print_health(rec)
        return 0


def _upright(text: str) -> str | tuple[float, float, float]:
    if text == "auto":
        return text
    try:
        x, y, z = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--upright takes 'auto' or three numbers X,Y,Z, got {text!r}") from None
    return (x, y, z)


def _foxglove(rec: LiveRecognizer, port: int) -> FoxgloveView:
    """A Foxglove view fed by ``rec``: every sample, every label and its stream's health."""
    from ..ros import FoxgloveView

    view = FoxgloveView(port=port)
    rec.on_samples(view.samples)

    def on_event(ev: Event) -> None:
        if (isinstance(ev, LabelEvent) and ev.t_start_device is not None
                and ev.t_end_device is not None):
            view.label(ev.stream, ev.t_end_device, ev.label, ev.confidence, ev.top_k,
                       ev.unknown, ev.t_start_device)
            view.health(ev.stream, ev.t_end_device, rec.health().get(ev.stream, {}))

    rec.on_event(on_event)
    print(f"foxglove: ws://127.0.0.1:{view.port} (open it in Foxglove: Open connection, "
          "Foxglove WebSocket)", file=sys.stderr)
    return view


def _live_bag(rec: LiveRecognizer, args: argparse.Namespace) -> int:
    """``aura live --bag``: label a robot log, printing labels and writing them if asked."""
    from .._errors import BagError
    from ..ros import label_bag

    printer = EventPrinter(as_json=args.json)
    if args.placement is not None or args.upright is not None:
        raise ConfigError("--placement and --upright are not read with --bag: a robot's IMU "
                          "has no wearer")
    res = label_bag(args.bag, args.write_labels, recognizer=rec, topics=args.topic,
                    realtime=args.realtime, labels_topic=args.labels_topic,
                    on_event=printer, raise_failure=False)
    _print_health(rec)
    print(f"{res.labels} labels from {len(res.streams)} IMU topic(s) "
          f"({', '.join(res.streams)}), {res.messages} messages read"
          + (f"; wrote {res.out}: {res.copied} input messages and {res.labels} labels on "
             f"{args.labels_topic}" if res.out is not None else ""), file=sys.stderr)
    if res.failure is not None:
        raise BagError(f"{res.failure.reason}; the labels up to the fault are above"
                       + (f" and in {res.out}" if res.out is not None else ""),
                       path=args.bag, messages=res.failure.messages) from res.failure
    return 0


def _print_health(rec: LiveRecognizer) -> None:
    for name, h in rec.health().items():
        print(f"{name}: " + ", ".join(f"{k}={v:g}" for k, v in sorted(h.items()) if v),
              file=sys.stderr)


async def _live_bumble(rec: LiveRecognizer, args: argparse.Namespace,
                       opts: dict[str, object]) -> None:
    from ..ble import BumbleBleakClient, BumbleBleakScanner, BumbleRadio

    async with BumbleRadio(args.bumble) as radio:
        rec.add_ble(args.ble, args.device or "aura-ble", options=opts,
                    client_backend=BumbleBleakClient, scanner_backend=BumbleBleakScanner,
                    backend_kwargs={"radio": radio}, placement=args.placement,
                    upright=args.upright)
        await _consume(rec, EventPrinter(as_json=args.json), args.duration)


async def _consume(rec: LiveRecognizer, printer: EventPrinter, duration: float | None) -> None:
    end = None if duration is None else time.monotonic() + duration

    async def stopper() -> None:
        if end is not None:
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            await rec.aclose()

    task = asyncio.create_task(stopper())
    try:
        async for ev in rec.events():
            printer(ev)
    finally:
        task.cancel()


COMMAND = _Live()
