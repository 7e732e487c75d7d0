"""Writing and signing bundles: hash every file, seal the manifest, move into place atomically.

The writer runs the reader's full check on the staged copy before it is moved into place, so
it never leaves behind a bundle that :func:`read_bundle` would refuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import JsonValue, ValidationError

from .._errors import BundleError, ConfigError
from .._spec import CHANNELS, ModelInputSpec
from ._container import DEFAULT_MAX_BYTES, is_zip_path, staged_output, write_members
from ._manifest import (
    MANIFEST_NAME,
    PRECISIONS,
    SIGNATURE_NAME,
    FileEntry,
    Manifest,
    Precision,
    ScoringSpec,
    TextEncoderRef,
    manifest_to_bytes,
)
from ._prototypes import Prototypes, encode_prototypes
from ._reader import Bundle, verify_bundle
from ._signing import TrustPolicy, key_id, parse_public_key, sign_manifest

__all__ = ["file_table", "sign_bundle", "write_bundle"]

PROTOTYPES_NAME = "prototypes.npz"
MODEL_CARD_NAME = "MODEL_CARD.md"


def file_table(files: Mapping[str, bytes]) -> dict[str, FileEntry]:
    """The manifest's ``files`` table for some file contents: name -> sha256 and size."""
    return {name: FileEntry(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            for name, data in files.items()}


def _sdk_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("aura-sdk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _first_defect(path: Path, trust: TrustPolicy, max_bytes: int) -> BundleError | None:
    report = verify_bundle(path, trust, max_bytes=max_bytes)
    return report.defects[0] if report.defects else None


def _public_key_of(signature_json: bytes) -> bytes:
    return parse_public_key(json.loads(signature_json)["public_key"])


def write_bundle(
    out_path: str | os.PathLike[str],
    *,
    name: str,
    version: str,
    input_spec: ModelInputSpec,
    encoders: Mapping[Precision, bytes],
    prototypes: Prototypes,
    scoring: ScoringSpec,
    model_card: str,
    input_name: str = "imu",
    output_name: str = "embedding",
    features: tuple[str, int] | None = None,
    placement_name: str | None = None,
    placements: Sequence[str] = (),
    text_encoder: TextEncoderRef | None = None,
    files: Mapping[str, bytes] | None = None,
    producer: Mapping[str, str] | None = None,
    training: Mapping[str, JsonValue] | None = None,
    metrics: Mapping[str, float] | None = None,
    label_sets: Mapping[str, Sequence[str]] | None = None,
    created: datetime | None = None,
    signing_key: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    verify: bool = True,
) -> Manifest:
    """Write a model bundle: a directory, or one zip file when ``out_path`` ends in ``.aura``.

    Encoders are stored as ``encoder_<precision>.onnx``, the prototypes as ``prototypes.npz``
    and the model card as ``MODEL_CARD.md``; ``files`` adds any other file (for example the
    text projection named by ``text_encoder.projection_file``). The manifest's ``files``
    table is computed from the bytes written.

    Args:
        out_path: target path; ``.aura`` / ``.zip`` makes a zip, anything else a directory.
        name: bundle name (letters, digits, ``.``, ``_``, ``-``).
        version: the bundle's version string.
        input_spec: what the encoder consumes (rate, window, gravity, normalisation).
        encoders: ONNX bytes per precision (``"fp32"`` required; ``"fp16"``, ``"int8"``).
        prototypes: labels, prompts and unit-norm prototype embeddings.
        scoring: temperature and unknown rejection parameters.
        model_card: the model card, Markdown text.
        input_name: the encoders' input tensor name.
        output_name: the encoders' embedding output name.
        features: ``(name, width)`` of the encoders' second output of pre-projection
            features (``encoder.features_name`` / ``features_dim``), if they have one.
        placement_name: the encoders' optional second input of placement ids, int64
            ``[batch]`` (``encoder.placement_name``).
        placements: the placement names that input knows (``encoder.placements``); given
            exactly when ``placement_name`` is.
        text_encoder: optional reference to the on-device text encoder.
        files: extra files by bundle-relative name.
        producer: software versions to record (``aura_sdk`` is added).
        training: training provenance (JSON values).
        metrics: evaluation metrics.
        label_sets: named subsets of the prototypes' labels (see ``Manifest.label_sets``);
            every label must be one of ``prototypes.labels``.
        created: creation time (default: now, UTC, whole seconds).
        signing_key: an Ed25519 PEM private key file; signs the bundle as it is written.
        overwrite: replace an existing bundle at ``out_path``.
        verify: run the full :func:`read_bundle` check on the staged copy before moving it
            into place (loads each encoder with onnxruntime).

    Returns:
        The manifest as written.

    Raises:
        ConfigError: invalid arguments (the message names the manifest field), or
            ``out_path`` exists and ``overwrite`` is false.
        BundleError: ``verify`` found a defect (e.g. encoder shapes disagree with the
            manifest); nothing is written.
        MissingExtraError: ``signing_key`` given but ``cryptography`` is not installed.
    """
    unknown = sorted(set(encoders) - set(PRECISIONS))
    if unknown or "fp32" not in encoders:
        raise ConfigError(f"encoders must map precisions {list(PRECISIONS)} to ONNX bytes with "
                          f"'fp32' present; got {sorted(encoders)}")
    members: dict[str, bytes] = {
        f"encoder_{p}.onnx": bytes(encoders[p]) for p in PRECISIONS if p in encoders
    }
    members[PROTOTYPES_NAME] = encode_prototypes(prototypes)
    members[MODEL_CARD_NAME] = model_card.encode("utf-8")
    for extra, data in (files or {}).items():
        if extra in members or extra in (MANIFEST_NAME, SIGNATURE_NAME):
            raise ConfigError(f"extra file {extra!r} collides with a file the writer makes")
        members[extra] = bytes(data)
    fields: dict[str, Any] = {
        "name": name,
        "version": version,
        "created": created or datetime.now(UTC).replace(microsecond=0),
        "input": input_spec,
        "encoder": {
            "files": {p: f"encoder_{p}.onnx" for p in encoders},
            "input_name": input_name,
            "output_name": output_name,
            "embedding_dim": prototypes.dim,
            "window_shape": (input_spec.window_samples, len(CHANNELS)),
            "features_name": None if features is None else features[0],
            "features_dim": None if features is None else int(features[1]),
            "placement_name": placement_name,
            "placements": tuple(placements),
        },
        "prototypes_file": PROTOTYPES_NAME,
        "scoring": scoring,
        "text_encoder": text_encoder,
        "producer": {"aura_sdk": _sdk_version(), **(producer or {})},
        "training": dict(training or {}),
        "metrics": dict(metrics or {}),
        "model_card": MODEL_CARD_NAME,
        "label_sets": {k: tuple(v) for k, v in (label_sets or {}).items()},
        "files": file_table(members),
    }
    try:
        manifest = Manifest.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise ConfigError(f"invalid bundle manifest: {problems}") from exc
    for set_name, set_labels in manifest.label_sets.items():
        strangers = [x for x in set_labels if x not in prototypes.labels]
        if strangers:
            raise ConfigError(f"label set {set_name!r} names {strangers}, which are not labels "
                              "of the prototypes; a label set may only name bundle labels")
    raw = manifest_to_bytes(manifest)
    members = {MANIFEST_NAME: raw, **members}
    trust = TrustPolicy(mode="off")
    if signing_key is not None:
        members[SIGNATURE_NAME] = sign_manifest(raw, signing_key)
        trust = TrustPolicy(mode="require",
                            trusted_keys=(_public_key_of(members[SIGNATURE_NAME]),))
    out = Path(out_path)
    with staged_output(out, overwrite=overwrite) as tmp:
        write_members(tmp, members, as_zip=is_zip_path(out))
        if verify:
            defect = _first_defect(tmp, trust, DEFAULT_MAX_BYTES)
            if defect is not None:
                raise defect
    return manifest


def _write_signature_file(directory: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{SIGNATURE_NAME}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, directory / SIGNATURE_NAME)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def sign_bundle(
    path: str | os.PathLike[str],
    private_key: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> str:
    """Sign a bundle's ``manifest.json`` with an Ed25519 key and store ``signature.json``.

    The bundle is fully checked first (a defective bundle is never signed). In place, a
    directory gets ``signature.json`` written atomically and a zip is rewritten atomically
    with it; an existing signature is replaced. With ``out``, a signed copy is written there
    instead (a zip or a directory, by ``out``'s suffix) and the original is left alone.

    Args:
        path: the bundle to sign.
        private_key: PEM PKCS#8 Ed25519 private key file (``aura bundle keygen``).
        out: write the signed bundle here instead of in place.
        overwrite: allow ``out`` to replace an existing path.
        max_bytes: cap on the bundle's total uncompressed size.

    Returns:
        The signing key's id.

    Raises:
        BundleError: the bundle has a defect (the first is raised; see ``aura bundle verify``).
        MissingExtraError: ``cryptography`` is not installed (``aura-sdk[sign]``).
        ConfigError: the key cannot be read, or ``out`` exists and ``overwrite`` is false.
    """
    report = verify_bundle(path, TrustPolicy(mode="off"), max_bytes=max_bytes)
    if report.defects or report.bundle is None:
        raise report.defects[0] if report.defects else ConfigError(f"cannot sign {path}")
    bundle: Bundle = report.bundle
    signature = sign_manifest(bundle.manifest_bytes, private_key)
    members = {MANIFEST_NAME: bundle.manifest_bytes, **bundle.files, SIGNATURE_NAME: signature}
    if out is None and bundle.kind == "directory":
        _write_signature_file(bundle.path, signature)
    else:
        target = bundle.path if out is None else Path(out)
        as_zip = bundle.kind == "zip" if out is None else is_zip_path(target)
        with staged_output(target, overwrite=overwrite or out is None, as_zip=as_zip) as tmp:
            write_members(tmp, members, as_zip=as_zip)
    return key_id(_public_key_of(signature))
