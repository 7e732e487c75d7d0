"""Write the untrained demonstration bundle: ``python -m aura_export.example OUT.aura``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from aura_sdk._errors import AuraError

from ._toy import write_example_bundle

__all__ = ["main"]


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
    print(f"wrote {args.out}: {manifest.name} v{manifest.version}, "
          f"{len(manifest.files)} files, labels from the toy generator, "
          f"synthetic accuracy {manifest.metrics['toy_synthetic_accuracy']:.3f} "
          "(untrained format demonstrator)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
