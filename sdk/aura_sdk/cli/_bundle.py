"""``aura bundle``: verify, describe, sign model bundles, and make signing keys."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from typing import Any, Literal

from .._model import DEFAULT_LABEL_SET
from ..bundle import (
    LABEL_SET_ALL,
    Bundle,
    TrustPolicy,
    generate_keypair,
    key_id,
    read_bundle,
    read_public_key_file,
    sign_bundle,
    verify_bundle,
)
from ._main import EXIT_FAILED, EXIT_OK, EXIT_USAGE

__all__ = ["COMMAND"]


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 1024**2 else \
        f"{n / 1024**2:.1f} MiB"


def _policy(args: argparse.Namespace) -> TrustPolicy:
    mode: Literal["warn", "require"] = (
        "require" if getattr(args, "require_signature", False) else "warn")
    return TrustPolicy.from_key_files(args.trust_key or (), mode=mode)


def _default_set(bundle: Bundle) -> str:
    return DEFAULT_LABEL_SET if DEFAULT_LABEL_SET in bundle.manifest.label_sets \
        else LABEL_SET_ALL


def _summary(bundle: Bundle) -> list[str]:
    m = bundle.manifest
    spec = m.input
    encoders = ", ".join(
        f"{p} {_size(len(bundle.encoder_bytes(p)))}" for p in bundle.precisions)
    labels = ", ".join(bundle.labels[:12]) + (" ..." if len(bundle.labels) > 12 else "")
    lines = [
        f"  {m.name} {m.version} (schema {m.schema_version}, {bundle.kind}, created "
        f"{m.created.isoformat()})",
        f"  input: {spec.sample_rate_hz:g} Hz, window {spec.window_samples} samples "
        f"({spec.window_s:.2f} s), hop {spec.hop_samples}, gravity {spec.gravity}, "
        f"pad {spec.pad_mode}",
        f"  encoder: {encoders}; embedding_dim {m.encoder.embedding_dim}",
        f"  labels ({len(bundle.labels)}): {labels}",
        f"  label sets (default {_default_set(bundle)!r}): " + ", ".join(
            [f"{k} ({len(v)})" for k, v in m.label_sets.items()]
            + [f"{LABEL_SET_ALL} ({len(bundle.labels)})"]),
        *(f"    {k}: {', '.join(v)}" for k, v in m.label_sets.items()),
        f"  scoring: temperature {m.scoring.temperature:g}, unknown below "
        f"{m.scoring.unknown_threshold:g} or margin {m.scoring.unknown_margin:g}",
        *(f"    {k}: unknown below {r.unknown_threshold:g} or margin {r.unknown_margin:g}"
          for k, r in m.scoring.label_sets.items()),
    ]
    if m.text_encoder is not None:
        t = m.text_encoder
        lines.append(f"  text encoder: {t.model} ({t.provider_package or 'no package named'}), "
                     f"dim {t.dim}" + (f", projection {t.projection_file}"
                                       if t.projection_file else ""))
    if m.metrics:
        lines.append("  metrics: " + ", ".join(f"{k} {v:.4g}" for k, v in
                                              sorted(m.metrics.items())))
    lines.append(f"  signature: {bundle.signature.describe()}")
    return lines


def _info_json(bundle: Bundle) -> dict[str, Any]:
    m = bundle.manifest
    return {
        "path": str(bundle.path),
        "kind": bundle.kind,
        "name": m.name,
        "version": m.version,
        "schema_version": m.schema_version,
        "created": m.created.isoformat(),
        "input": m.input.model_dump(mode="json"),
        "encoder": {
            "embedding_dim": m.encoder.embedding_dim,
            "input_name": m.encoder.input_name,
            "output_name": m.encoder.output_name,
            "precisions": {p: {"file": f, "size": m.files[f].size}
                           for p, f in m.encoder.files.as_dict().items()},
        },
        "labels": list(bundle.labels),
        "label_sets": {k: list(v) for k, v in m.label_sets.items()},
        "default_label_set": _default_set(bundle),
        "prompts": {label: list(bundle.prototypes.prompts_for(label)) for label in bundle.labels},
        "scoring": m.scoring.model_dump(mode="json"),
        "text_encoder": None if m.text_encoder is None else m.text_encoder.model_dump(),
        "signature": {"status": bundle.signature.status.value,
                      "key_id": bundle.signature.key_id},
        "metrics": m.metrics,
        "producer": m.producer,
        "training": m.training,
    }


def _verify(args: argparse.Namespace) -> int:
    if args.require_signature and not args.trust_key:
        print("aura bundle verify: --require-signature needs at least one --trust-key FILE",
              file=sys.stderr)
        return EXIT_USAGE
    report = verify_bundle(args.path, _policy(args))
    if report.ok and report.bundle is not None:
        print(f"OK: {report.path}")
        print("\n".join(_summary(report.bundle)))
        for warning in report.warnings:
            print(f"warning: {warning}")
        return EXIT_OK
    print(f"FAILED: {report.path}: {len(report.defects)} defect(s)", file=sys.stderr)
    for defect in report.defects:
        print(f"  - {type(defect).__name__}: {defect}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_FAILED


def _info(args: argparse.Namespace) -> int:
    bundle = read_bundle(args.path, _policy(args))
    if args.json:
        print(json.dumps(_info_json(bundle), indent=2, sort_keys=True))
    else:
        print(f"{bundle.path}")
        print("\n".join(_summary(bundle)))
    return EXIT_OK


def _sign(args: argparse.Namespace) -> int:
    kid = sign_bundle(args.path, args.key, out=args.out, overwrite=args.overwrite)
    print(f"signed {args.out or args.path} with key {kid}")
    return EXIT_OK


def _keygen(args: argparse.Namespace) -> int:
    private_path, public_path = generate_keypair(args.out_prefix)
    public = read_public_key_file(public_path)
    print(f"private key: {private_path} (keep it secret; mode 0600)")
    print(f"public key:  {public_path}")
    print(f"key id:      {key_id(public)}")
    print(f"public key (base64): {base64.b64encode(public).decode()}")
    return EXIT_OK


class _BundleCommand:
    help = "verify, describe, sign model bundles"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        subs = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify = subs.add_parser("verify", help="check a bundle; exit non-zero on any defect")
        verify.add_argument("path", help="bundle directory or .aura file")
        verify.add_argument("--trust-key", action="append", metavar="FILE",
                            help="trusted Ed25519 public key (raw, base64 or PEM); repeatable")
        verify.add_argument("--require-signature", action="store_true",
                            help="refuse unsigned bundles and keys not given by --trust-key")
        verify.set_defaults(handler=_verify)
        info = subs.add_parser("info", help="describe a bundle")
        info.add_argument("path", help="bundle directory or .aura file")
        info.add_argument("--json", action="store_true", help="machine-readable output")
        info.add_argument("--trust-key", action="append", metavar="FILE",
                          help="trusted Ed25519 public key, to report the signature as trusted")
        info.set_defaults(handler=_info)
        sign = subs.add_parser("sign", help="sign a bundle's manifest with an Ed25519 key")
        sign.add_argument("path", help="bundle directory or .aura file")
        sign.add_argument("--key", required=True, metavar="PRIVATE_KEY",
                          help="PEM private key from `aura bundle keygen`")
        sign.add_argument("--out", metavar="OUT",
                          help="write the signed bundle here instead of in place")
        sign.add_argument("--overwrite", action="store_true", help="let --out replace a path")
        sign.set_defaults(handler=_sign)
        keygen = subs.add_parser("keygen", help="make an Ed25519 key pair PREFIX.key/.pub")
        keygen.add_argument("out_prefix", metavar="OUT_PREFIX")
        keygen.set_defaults(handler=_keygen)

    def run(self, args: argparse.Namespace) -> int:
        return int(args.handler(args))


COMMAND = _BundleCommand()
