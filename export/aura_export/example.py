"""Write the untrained demonstration bundle: ``python -m aura_export.example OUT.aura``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aura_sdk import AuraError
from aura_sdk.recording import LabelSpan, Recording, write_recording

from ._toy import TOY_LABELS, toy_windows, write_example_bundle

__all__ = ["main", "toy_session"]


def toy_session(rate_hz: float = 50.0, window: int = 100, seconds_each: float = 8.0,
                seed: int = 0) -> Recording:
    """A scripted session of the toy activities, one after another, with labelled spans."""
    parts, spans, t0 = [], [], 0.0
    per = int(seconds_each * rate_hz)
    for i, label in enumerate(TOY_LABELS):
        x = toy_windows(label, -(-per // window), window, rate_hz, seed=seed + 100 + i)
        parts.append(np.asarray(x.reshape(-1, 6)[:per], dtype=np.float64))
        spans.append(LabelSpan(t0, t0 + seconds_each, label))
        t0 += seconds_each
    xs = np.concatenate(parts)
    t = np.arange(xs.shape[0]) / rate_hz
    return Recording(t=t, acc=xs[:, :3].copy(), gyro=xs[:, 3:].copy(), spans=tuple(spans))


def main(argv: Sequence[str] | None = None) -> int:
    """Write a toy bundle and print a one-line summary; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m aura_export.example",
        description="Write the untrained AURA format-demonstration bundle "
                    "(a directory, or a .aura zip by suffix).")
    parser.add_argument("out", help="output path, e.g. toy.aura")
    parser.add_argument("--window", type=int, default=100, help="window samples (default 100)")
    parser.add_argument("--rate", type=float, default=50.0, help="sample rate Hz (default 50)")
    parser.add_argument("--dim", type=int, default=32, help="embedding dimension (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--text-projection", action="store_true",
                        help="add a (random) MiniLM text projection to exercise the format")
    parser.add_argument("--sign", metavar="PRIVATE_KEY", help="sign with this Ed25519 PEM key")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    parser.add_argument("--session", metavar="NPZ",
                        help="also write a scripted session of the toy activities (with "
                             "labelled spans) for `aura demo --recording`")
    args = parser.parse_args(argv)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    try:
        manifest = write_example_bundle(
            args.out, window_samples=args.window, sample_rate_hz=args.rate,
            embedding_dim=args.dim, seed=args.seed, with_text_projection=args.text_projection,
            signing_key=args.sign, overwrite=args.overwrite)
    except AuraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.session:
        rec = toy_session(args.rate, args.window, seed=args.seed)
        write_recording(args.session, rec)
        print(f"wrote {args.session}: {rec.duration_s:.0f} s, "
              f"{', '.join(s.label for s in rec.spans)}")
    print(f"wrote {args.out}: {manifest.name} v{manifest.version}, "
          f"{len(manifest.files)} files, labels from the toy generator, "
          f"synthetic accuracy {manifest.metrics['toy_synthetic_accuracy']:.3f} "
          "(untrained format demonstrator)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
