"""``aura decode``: a raw device capture -> CSV ``t,ax,ay,az,gx,gy,gz`` in SI units."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._decode import decode_capture
from .._errors import ConfigError
from .._recording import format_csv, write_recording
from ._options import parse_options

__all__ = ["COMMAND"]


class _Decode:
    help = ("decode a raw byte capture of a device into CSV t,ax,ay,az,gx,gy,gz (s, m/s^2, "
            "rad/s; empty where the device sends no such channel)")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("capture", type=Path,
                            help="raw bytes (serial/TCP) or hex lines, one per notification (BLE)")
        parser.add_argument("--device", required=True, help="device profile (e.g. aura, "
                            "witmotion, polar-verity, metawear, thingy52, text)")
        parser.add_argument("--hex", action="store_true",
                            help="a stream capture given as hex text instead of raw bytes")
        parser.add_argument("--rate", type=float, default=None,
                            help="sample rate for numbering samples when the wire format has "
                                 "no timestamps (default: the profile's nominal rate)")
        parser.add_argument("--option", action="append", metavar="KEY=VALUE",
                            help="decoder option, e.g. acc_range_g=16 (repeatable)")
        parser.add_argument("-o", "--out", type=Path, help="write here (.csv or .npz) "
                            "instead of standard output")

    def run(self, args: argparse.Namespace) -> int:
        if not args.capture.is_file():
            raise ConfigError(f"{args.capture}: no such capture file")
        try:
            result = decode_capture(args.device, args.capture.read_bytes(), hex_text=args.hex,
                                    rate_hz=args.rate, options=parse_options(args.option))
        except ValueError as exc:  # unknown device / option: the message lists valid ones
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(str(exc)) from exc
        if args.out:
            write_recording(args.out, result.recording)
        else:
            sys.stdout.write(format_csv(result.recording))
        s = result.stats
        print(f"decoded {len(result.recording)} samples from {s.frames_ok} frames; "
              f"{s.frames_corrupt} corrupt frames, {s.bytes_dropped} bytes skipped, "
              f"{s.frames_lost} lost, {result.bad_lines} bad hex lines", file=sys.stderr)
        return 0


COMMAND = _Decode()
