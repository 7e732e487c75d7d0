"""``aura simulate``: a virtual device playing a recording (or a synthetic wrist) as a profile."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .._errors import ConfigError
from .._recording import Recording, read_recording
from ..sim import VirtualDevice
from ._options import parse_options

__all__ = ["COMMAND"]


class _Simulate:
    help = ("a virtual device: plays a recording (CSV/NPZ) or a synthetic wrist as a device "
            "profile over a pty serial port, TCP on loopback, BLE (bumble) or into a file, or "
            "writes it as a rosbag2")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--device", help="device profile to impersonate (not with "
                                             "--to-bag)")
        src = parser.add_mutually_exclusive_group()
        src.add_argument("--recording", type=Path, help="a .csv (aura decode) or .npz recording")
        src.add_argument("--synthetic", type=float, metavar="SECONDS", default=None,
                         help="a synthetic still / swinging / turning wrist (default 10 s)")
        parser.add_argument("--rate", type=float, default=None,
                            help="rate of the synthetic wrist (default: the profile's)")
        parser.add_argument("--option", action="append", metavar="KEY=VALUE",
                            help="encoder option of the profile (repeatable)")
        out = parser.add_mutually_exclusive_group(required=True)
        out.add_argument("--to", type=Path, metavar="FILE",
                         help="write the raw byte stream (BLE profiles: hex lines) to FILE")
        out.add_argument("--pty", action="store_true",
                         help="serve a pseudo-terminal serial port; prints its path")
        out.add_argument("--tcp", type=int, metavar="PORT",
                         help="serve on 127.0.0.1:PORT (0 picks one); prints the port")
        out.add_argument("--ble", metavar="NAME",
                         help="advertise as a BLE peripheral in bumble (needs the sim extra)")
        out.add_argument("--to-bag", type=Path, metavar="DIR",
                         help="write the session as a rosbag2 of sensor_msgs/msg/Imu (MCAP "
                              "storage; needs the ros extra); without --recording or "
                              "--synthetic, the demo session")
        parser.add_argument("--topic", default="/imu/data", help="with --to-bag: the topic")
        parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap",
                            help="with --to-bag: the rosbag2 storage (default mcap)")
        parser.add_argument("--hex", action="store_true", help="with --to: hex text")
        parser.add_argument("--link", type=Path, help="with --pty: also expose it at this path")
        parser.add_argument("--fast", action="store_true", help="no real-time pacing")
        parser.add_argument("--speed", type=float, default=1.0, help="real-time speed factor")
        parser.add_argument("--loop", action="store_true", help="repeat the recording")
        parser.add_argument("--duration", type=float, default=None,
                            help="stop after this many seconds of stream time")
        parser.add_argument("--hci-port", type=int, default=0,
                            help="with --ble: TCP port of the HCI bridge (default: any)")
        parser.add_argument("--packet-ms", type=float, default=40.0,
                            help="time covered by one write / notification (default 40 ms)")

    def run(self, args: argparse.Namespace) -> int:
        from aura_bridge.devices import get_profile

        from ..sim import (
            PtyLink,
            VirtualDevice,
            hex_lines,
            run_device,
            serve_tcp,
            stream_bytes,
            synthetic_wrist,
        )

        if args.to_bag is not None:
            return _to_bag(args)
        if args.device is None:
            raise ConfigError("--device is needed: the profile the virtual device speaks")
        try:
            profile = get_profile(args.device)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        rec: Recording
        if args.recording is not None:
            rec = read_recording(args.recording)
        else:
            rec = synthetic_wrist(args.synthetic or 10.0, args.rate or profile.sample_rate_hz)
        if args.loop and args.to is not None and args.duration is None:
            raise ConfigError("--loop into a file never ends: add --duration SECONDS")
        try:
            dev = VirtualDevice(args.device, rec, options=parse_options(args.option),
                                packet_s=args.packet_ms / 1000.0, loop=args.loop)
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(str(exc)) from exc

        def packets():  # type: ignore[no-untyped-def]
            for p in dev.packets():
                if args.duration is not None and p.due_s > args.duration:
                    return
                yield p

        if args.to is not None:
            args.to.parent.mkdir(parents=True, exist_ok=True)
            if profile.framing == "packet" or args.hex:
                text = (hex_lines(packets()) if profile.framing == "packet"
                        else stream_bytes(packets()).hex() + "\n")
                args.to.write_text(text)
            else:
                args.to.write_bytes(stream_bytes(packets()))
            print(f"wrote {args.to} ({args.device}, {len(rec)} samples)", file=sys.stderr)
            return 0
        realtime = not args.fast
        if args.pty:
            with PtyLink(args.link) as link:
                print(f"port: {link.port}", flush=True)
                session = asyncio.run(run_device(dev, link, realtime=realtime,
                                                 speed=args.speed, duration_s=args.duration))
                print(f"played; host commands {session.commands}; {link.dropped_packets} "
                      "packets dropped (no reader)", file=sys.stderr)
            return 0
        if args.tcp is not None:
            def ready(port: int) -> None:
                print(f"tcp: 127.0.0.1:{port}", flush=True)

            asyncio.run(serve_tcp(dev, port=args.tcp, realtime=realtime, speed=args.speed,
                                  duration_s=args.duration, ready=ready))
            return 0
        asyncio.run(_serve_ble(args, dev, realtime))
        return 0


def _to_bag(args: argparse.Namespace) -> int:
    """``--to-bag``: a recording, a synthetic wrist or the demo session as a rosbag2."""
    from ..ros import write_imu_bag
    from ..sim import synthetic_wrist
    from ._demo import _default_session

    if args.device is not None:
        raise ConfigError("--to-bag writes sensor_msgs/msg/Imu, not a device's bytes: drop "
                          "--device")
    rec: Recording
    if args.recording is not None:
        rec = read_recording(args.recording)
    elif args.synthetic is not None:
        rec = synthetic_wrist(args.synthetic, args.rate or 100.0)
    else:
        rec = read_recording(_default_session())
    if args.duration is not None:
        keep = rec.t - rec.t[0] <= args.duration
        rec = Recording(rec.t[keep], rec.acc[keep], rec.gyro[keep], rec.spans)
    n = write_imu_bag(args.to_bag, {args.topic: rec}, storage=args.storage)
    print(f"wrote {args.to_bag}: {n} sensor_msgs/msg/Imu messages on {args.topic} "
          f"({rec.duration_s:.1f} s, {args.storage})", file=sys.stderr)
    return 0


async def _serve_ble(args: argparse.Namespace, dev: VirtualDevice, realtime: bool) -> None:
    from ..ble import BumbleRadio
    from ..sim._ble import serve_ble

    async with BumbleRadio() as radio:
        # the virtual air lives in this process; another process reaches it as if through a
        # USB dongle, over HCI on loopback TCP
        spec = await radio.serve_hci(port=args.hci_port)

        def ready(peripheral: object) -> None:
            print(f"ble: {args.ble} advertising; connect with  aura live --ble {args.ble} "
                  f"--bumble {spec}", flush=True)

        await serve_ble(radio, dev, name=args.ble, realtime=realtime, speed=args.speed,
                        duration_s=args.duration, ready=ready)


COMMAND = _Simulate()
