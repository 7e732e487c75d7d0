"""``aura demo``: a virtual wrist over a real serial link into LiveRecognizer.

The virtual wrist (an AURA-protocol device playing a scripted session) sits on one end of a
pseudo-terminal; ``LiveRecognizer`` opens the other end with pyserial, exactly as it would
open a USB device, starts it with the protocol's commands, and labels the stream live. At the
end: accuracy against the script and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from .._errors import ConfigError
from .._recording import Recording, read_recording
from ..live import LabelEvent, LiveRecognizer, StatusEvent
from ..sim import PtyLink, VirtualDevice, run_device
from ._live import add_model_args, make_recognizer
from ._view import EventPrinter

__all__ = ["COMMAND", "DEMO_SESSION_NAME", "run_demo"]

DEMO_SESSION_NAME = "demo_session.npz"


def _default_session() -> Path:
    path = Path(str(resources.files("aura_sdk").joinpath("models", DEMO_SESSION_NAME)))
    if not path.is_file():
        raise ConfigError(
            "this aura-sdk build ships no demo session yet (it comes with the default bundle, "
            "issue #6); pass --bundle MODEL.aura --recording SESSION.npz (a recording with "
            "labelled spans, e.g. written by the training side's session generator)")
    return path


async def run_demo(rec: LiveRecognizer, session: Recording, *, device: str = "aura",
                   speed: float = 1.0, duration_s: float | None = None,
                   printer: EventPrinter | None = None) -> dict[str, float]:
    """Play ``session`` as a virtual device over a pty into ``rec``; return the summary."""
    dev = VirtualDevice(device, session, packet_s=0.04)
    hits = total = 0
    latencies: list[float] = []
    with PtyLink() as link:
        rec.add_serial(link.port, device, name="wrist", placement="wrist")
        player = asyncio.create_task(run_device(dev, link, speed=speed, duration_s=duration_s))

        async def stop_when_played() -> None:
            await player
            await asyncio.sleep(0.5)  # let the last windows through
            await rec.aclose()

        stopper = asyncio.create_task(stop_when_played())
        try:
            async for ev in rec.events():
                truth = None
                if isinstance(ev, LabelEvent):
                    # the virtual wrist stamps its samples with the session's own times
                    if ev.t_start_device is not None and ev.t_end_device is not None:
                        truth = session.label_at((ev.t_start_device + ev.t_end_device) / 2)
                    latencies.append(ev.latency_ms)
                    if truth is not None:
                        total += 1
                        hits += ev.label == truth
                if printer is not None and isinstance(ev, LabelEvent | StatusEvent):
                    printer(ev, truth)
        finally:
            stopper.cancel()
            player.cancel()
            for t in (stopper, player):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return {
        "windows": float(len(latencies)),
        "scored": float(total),
        "accuracy": hits / total if total else float("nan"),
        "latency_ms_p50": float(np.percentile(lat, 50)),
        "latency_ms_p90": float(np.percentile(lat, 90)),
        "latency_ms_p99": float(np.percentile(lat, 99)),
    }


class _Demo:
    help = ("the main job: a virtual wrist over a real serial link into LiveRecognizer, live "
            "labels, then accuracy against the script and latency")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_model_args(parser)
        parser.add_argument("--recording", help="scripted session (.npz with spans)")
        parser.add_argument("--device", default="aura", help="profile the wrist speaks")
        parser.add_argument("--duration", type=float, default=None,
                            help="seconds of the session to play (default: all of it)")
        parser.add_argument("--speed", type=float, default=1.0,
                            help="play faster than real time (e.g. 4)")
        parser.add_argument("--json", action="store_true", help="JSON lines")

    def run(self, args: argparse.Namespace) -> int:
        # Without --labels / --label-set the recogniser scores the bundle's default label set
        # (everyday), which holds every activity of the shipped session.
        rec = make_recognizer(args)
        session = read_recording(args.recording or _default_session())
        if not session.spans:
            raise ConfigError(f"{args.recording}: the demo session needs labelled spans "
                              "(span_start, span_end, span_label) to score accuracy")
        printer = EventPrinter(as_json=args.json)
        if not args.json:
            print(f"model {rec.model!r}; session {session.duration_s:.0f} s, "
                  f"{len(session.spans)} activities; virtual wrist on a pty at "
                  f"{args.speed:g}x real time\n")
        summary = asyncio.run(run_demo(rec, session, device=args.device, speed=args.speed,
                                       duration_s=args.duration, printer=printer))
        h = rec.health().get("wrist", {})
        print(f"\naccuracy {summary['accuracy']:.3f} over {summary['scored']:.0f} windows "
              f"with a label in the script; latency p50 {summary['latency_ms_p50']:.1f} ms, "
              f"p90 {summary['latency_ms_p90']:.1f} ms, p99 {summary['latency_ms_p99']:.1f} ms"
              f"; frames {h.get('decoder_frames_ok', 0):g}, corrupt "
              f"{h.get('decoder_frames_corrupt', 0):g}, lost {h.get('decoder_frames_lost', 0):g}",
              file=sys.stdout if not args.json else sys.stderr)
        return 0


COMMAND = _Demo()
