"""Loading a bundle: every check up front, then an immutable in-memory :class:`Bundle`.

Order of checks: container safety -> signature over the raw manifest bytes (authenticity
before content) -> manifest schema -> every file's size and sha256 -> prototypes, text
projection and model card -> each encoder through onnxruntime. The bytes that were hashed are
the bytes the :class:`Bundle` keeps, so a file swapped on disk after loading changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import (
    BundleCompatibilityError,
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleSignatureError,
    ConfigError,
)
from ._container import DEFAULT_MAX_BYTES, Source, open_source
from ._manifest import MANIFEST_NAME, SIGNATURE_NAME, Manifest, Precision, parse_manifest
from ._onnx import ProviderSpec, check_encoder, make_session
from ._prototypes import Prototypes, decode_prototypes, load_npy
from ._signing import SignatureInfo, TrustPolicy, check_signature

__all__ = ["Bundle", "VerifyReport", "read_bundle", "verify_bundle"]

logger = logging.getLogger(__name__)

_RESEAL = "copy the bundle again from its source, or re-export it"


class Bundle:
    """A validated model bundle, held in memory. Made by :func:`read_bundle`.

    Attributes:
        manifest: the parsed ``manifest.json``.
        path: where the bundle was read from.
        kind: ``"directory"`` or ``"zip"``.
        prototypes: decoded labels, prompts and prototype embeddings.
        signature: what the signature check proved.
        manifest_bytes: the exact ``manifest.json`` bytes (what a signature covers).
    """

    def __init__(
        self,
        *,
        manifest: Manifest,
        path: Path,
        kind: str,
        prototypes: Prototypes,
        signature: SignatureInfo,
        manifest_bytes: bytes,
        files: Mapping[str, bytes],
        text_projection: npt.NDArray[np.float32] | None,
    ) -> None:
        self.manifest = manifest
        self.path = path
        self.kind = kind
        self.prototypes = prototypes
        self.signature = signature
        self.manifest_bytes = manifest_bytes
        self._files = MappingProxyType(dict(files))
        self._text_projection = text_projection

    def __repr__(self) -> str:
        return (f"Bundle({self.manifest.name!r} v{self.manifest.version}, {self.path}, "
                f"{len(self.labels)} labels, {self.signature.status.value})")

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels that have a prototype."""
        return self.prototypes.labels

    @property
    def precisions(self) -> tuple[Precision, ...]:
        """The encoder precisions this bundle ships (always starts with ``"fp32"``)."""
        return tuple(self.manifest.encoder.files.as_dict())

    @property
    def files(self) -> Mapping[str, bytes]:
        """Every verified file's bytes, by bundle-relative name (read-only)."""
        return self._files

    def encoder_bytes(self, precision: Precision = "fp32") -> bytes:
        """The raw ONNX bytes of one encoder precision.

        Raises:
            ConfigError: the bundle has no encoder of that precision.
        """
        files = self.manifest.encoder.files.as_dict()
        if precision not in files:
            raise ConfigError(
                f"bundle {self.manifest.name!r} has no {precision!r} encoder; it ships "
                f"{list(files)}"
            )
        return self._files[files[precision]]

    @property
    def model_card(self) -> str:
        """The model card text (Markdown)."""
        return self._files[self.manifest.model_card].decode("utf-8")

    @property
    def text_projection(self) -> npt.NDArray[np.float32] | None:
        """The ``(text_dim, embedding_dim)`` text-to-IMU projection, if the bundle has one."""
        return self._text_projection

    def create_session(
        self,
        precision: Precision = "fp32",
        providers: Sequence[ProviderSpec] = ("CPUExecutionProvider",),
        options: Any = None,
    ) -> Any:
        """Create an ``onnxruntime.InferenceSession`` for one encoder precision.

        Args:
            precision: ``"fp32"``, ``"fp16"`` or ``"int8"``; see :attr:`precisions`.
            providers: onnxruntime execution providers in priority order.
            options: an ``onnxruntime.SessionOptions``, or ``None`` for defaults.

        Raises:
            ConfigError: the bundle has no encoder of that precision.
            BackendError: a provider is unavailable or onnxruntime refused the model.
        """
        name = self.manifest.encoder.files.as_dict().get(precision, precision)
        return make_session(self.encoder_bytes(precision), providers, options,
                            what=f"{self.path} [{name}]")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_bundle`: every defect and warning found.

    Attributes:
        path: the bundle checked.
        defects: every refusal, in check order; empty when the bundle is sound.
        warnings: things worth telling a user that do not refuse the bundle.
        bundle: the loaded bundle when there are no defects, else ``None``.
        signature_warnings: the subset of ``warnings`` that the signature check raised
            (unsigned, or signed by a key the policy does not know).
    """

    path: Path
    defects: tuple[BundleError, ...]
    warnings: tuple[str, ...]
    bundle: Bundle | None
    signature_warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the bundle passed every check."""
        return not self.defects


class _Inspection:
    """One pass over a bundle that records defects instead of stopping at the first."""

    def __init__(self, source: Source, trust: TrustPolicy) -> None:
        self.source = source
        self.trust = trust
        self.where = str(source.path)
        self.defects: list[BundleError] = []
        self.warnings: list[str] = []
        self.signature_warnings: list[str] = []

    def read(self, name: str) -> bytes | None:
        try:
            return self.source.read(name)
        except BundleError as exc:
            self.defects.append(exc)
            return None

    def run(self) -> Bundle | None:
        src = self.source
        if src.problems:
            self.defects.extend(src.problems)
            return None
        raw = self.read(MANIFEST_NAME)
        if raw is None:
            return None
        sig_raw = self.read(SIGNATURE_NAME) if SIGNATURE_NAME in src.names() else None
        signature = None
        if SIGNATURE_NAME not in src.names() or sig_raw is not None:
            try:
                signature, warnings = check_signature(raw, sig_raw, self.trust, path=self.where)
                self.warnings.extend(warnings)
                self.signature_warnings.extend(warnings)
            except BundleSignatureError as exc:
                self.defects.append(exc)
        try:
            manifest = parse_manifest(raw, path=self.where)
        except BundleError as exc:
            self.defects.append(exc)
            return None
        contents = self.read_listed(manifest)
        prototypes = self.check_prototypes(manifest, contents)
        if prototypes is not None:
            self.check_label_sets(manifest, prototypes)
        projection = self.check_text(manifest, contents)
        self.check_model_card(manifest, contents)
        if signature is None:
            self.warnings.append(f"{self.where}: encoder checks skipped because the signature "
                                 "was refused (models of unknown origin are not parsed)")
        else:
            self.check_encoders(manifest, contents)
        if self.defects or prototypes is None or signature is None:
            return None
        return Bundle(manifest=manifest, path=src.path, kind=src.kind, prototypes=prototypes,
                      signature=signature, manifest_bytes=raw, files=contents,
                      text_projection=projection)

    def read_listed(self, manifest: Manifest) -> dict[str, bytes]:
        src, where = self.source, self.where
        present = set(src.names())
        contents: dict[str, bytes] = {}
        for name, entry in manifest.files.items():
            if name not in present:
                self.defects.append(BundleIntegrityError(
                    f"is listed in {MANIFEST_NAME} but missing from the bundle; {_RESEAL}",
                    path=where, file=name))
                continue
            stored = src.size(name)
            data = self.read(name) if stored == entry.size else None
            if stored != entry.size or (data is not None and len(data) != entry.size):
                actual = stored if data is None else len(data)
                self.defects.append(BundleIntegrityError(
                    f"is {actual} bytes but {MANIFEST_NAME} says {entry.size}: the file was "
                    f"truncated or modified; {_RESEAL}", path=where, file=name))
                continue
            if data is None:
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry.sha256:
                self.defects.append(BundleIntegrityError(
                    f"has sha256 {digest[:16]}... but {MANIFEST_NAME} says "
                    f"{entry.sha256[:16]}...: the file was modified or corrupted; {_RESEAL}",
                    path=where, file=name))
                continue
            contents[name] = data
        unlisted = sorted(present - set(manifest.files) - {MANIFEST_NAME, SIGNATURE_NAME})
        for name in unlisted:
            if src.kind == "zip":
                self.defects.append(BundleIntegrityError(
                    f"is in the archive but not listed in {MANIFEST_NAME}; a sealed .aura "
                    "holds only listed files: rebuild it with write_bundle", path=where,
                    file=name))
            else:
                self.warnings.append(f"{where} [{name}]: not listed in {MANIFEST_NAME}; ignored")
        return contents

    def check_prototypes(self, manifest: Manifest, contents: Mapping[str, bytes]
                         ) -> Prototypes | None:
        name = manifest.prototypes_file
        if name not in contents:
            return None
        try:
            prototypes = decode_prototypes(contents[name], file=name, path=self.where,
                                           max_bytes=self.source.max_bytes)
        except BundleError as exc:
            self.defects.append(exc)
            return None
        dim = manifest.encoder.embedding_dim
        if prototypes.dim != dim:
            self.defects.append(BundleCompatibilityError(
                f"holds {prototypes.dim}-dimensional prototypes, but the encoder's "
                f"embedding_dim is {dim}; recompute the prototypes with this encoder's "
                "embedding space and re-export", path=self.where, file=name))
            return None
        return prototypes

    def check_label_sets(self, manifest: Manifest, prototypes: Prototypes) -> None:
        known = set(prototypes.labels)
        for name, labels in manifest.label_sets.items():
            unknown = [x for x in labels if x not in known]
            if unknown:
                others = f" (and {len(unknown) - 1} more: {unknown[1:6]})" if len(unknown) > 1 \
                    else ""
                self.defects.append(BundleCompatibilityError(
                    f"label set {name!r} names {unknown[0]!r}{others}, which has no prototype "
                    f"in {manifest.prototypes_file}; a label set may only name the bundle's own "
                    "labels: drop it from the set, or add its prototype, and write the bundle "
                    "again (aura_export.with_label_sets, or re-export)",
                    path=self.where, file=MANIFEST_NAME))

    def check_text(self, manifest: Manifest, contents: Mapping[str, bytes]
                   ) -> npt.NDArray[np.float32] | None:
        text = manifest.text_encoder
        dim = manifest.encoder.embedding_dim
        if text is None:
            return None
        if text.projection_file is None:
            if text.dim != dim:
                self.defects.append(BundleCompatibilityError(
                    f"text_encoder.dim is {text.dim} but embedding_dim is {dim}, and there is "
                    "no text_encoder.projection_file to map one onto the other; add the "
                    "projection or fix the dimensions", path=self.where, file=MANIFEST_NAME))
            return None
        name = text.projection_file
        if name not in contents:
            return None
        try:
            matrix = load_npy(contents[name])
        except ValueError as exc:
            self.defects.append(BundleFormatError(
                f"is not a readable .npy array ({exc}); re-export it", path=self.where,
                file=name))
            return None
        if (matrix.dtype != np.float32 or matrix.shape != (text.dim, dim)
                or not np.isfinite(matrix).all()):
            self.defects.append(BundleCompatibilityError(
                f"must be a finite float32 ({text.dim}, {dim}) matrix (text_encoder.dim x "
                f"embedding_dim), got {matrix.dtype} {matrix.shape}; re-export it",
                path=self.where, file=name))
            return None
        matrix.flags.writeable = False
        return matrix

    def check_model_card(self, manifest: Manifest, contents: Mapping[str, bytes]) -> None:
        name = manifest.model_card
        if name in contents:
            try:
                contents[name].decode("utf-8")
            except UnicodeDecodeError as exc:
                self.defects.append(BundleFormatError(
                    f"is not UTF-8 text ({exc}); save the model card as UTF-8 Markdown",
                    path=self.where, file=name))

    def check_encoders(self, manifest: Manifest, contents: Mapping[str, bytes]) -> None:
        enc = manifest.encoder
        for name in dict.fromkeys(enc.files.as_dict().values()):
            if name in contents:
                self.defects.extend(check_encoder(
                    contents[name], file=name, path=self.where,
                    window_samples=manifest.input.window_samples,
                    embedding_dim=enc.embedding_dim,
                    input_name=enc.input_name, output_name=enc.output_name,
                    features_name=enc.features_name, features_dim=enc.features_dim,
                    placement_name=enc.placement_name, n_placements=len(enc.placements)))


def verify_bundle(
    path: str | os.PathLike[str],
    trust: TrustPolicy | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifyReport:
    """Check a bundle and report every defect found, without raising for bundle defects.

    Args:
        path: a bundle directory or ``.aura`` zip.
        trust: the signature policy; default ``TrustPolicy()`` (mode ``"warn"``).
        max_bytes: cap on the bundle's total uncompressed size.

    Raises:
        MissingExtraError: a signature must be checked and ``cryptography`` is missing.
    """
    trust = TrustPolicy() if trust is None else trust
    p = Path(path)
    try:
        source = open_source(p, max_bytes)
    except BundleError as exc:
        return VerifyReport(p, (exc,), (), None)
    with source:
        inspection = _Inspection(source, trust)
        bundle = inspection.run()
    return VerifyReport(p, tuple(inspection.defects), tuple(inspection.warnings), bundle,
                        tuple(inspection.signature_warnings))


_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(path: Path, message: str) -> None:
    """Log ``message`` at WARNING the first time this process sees it for ``path``."""
    try:
        key = (str(path.resolve()), message)
    except OSError:
        key = (str(path), message)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning("%s", message)


def read_bundle(
    path: str | os.PathLike[str],
    trust: TrustPolicy | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    embedded: bool = False,
) -> Bundle:
    """Load and fully validate a model bundle (directory or ``.aura`` zip).

    Nothing is executed or unpickled; each encoder is opened once with onnxruntime (CPU) to
    check its shapes. Warnings (unsigned bundle, unknown signing key under ``"warn"``) are
    logged at WARNING once per bundle path and message per process.

    Args:
        path: a bundle directory or ``.aura`` zip.
        trust: the signature policy; default ``TrustPolicy()`` (mode ``"warn"``).
        max_bytes: cap on the bundle's total uncompressed size.
        embedded: the bundle ships inside the installed ``aura_sdk`` package (the embedded
            default), so its install is its provenance: the signature check's warnings are
            logged at DEBUG instead. The trust policy itself applies unchanged (``"require"``
            still refuses an unsigned embedded bundle).

    Raises:
        BundleNotFoundError: the path is missing or is not a bundle.
        BundleFormatError: malformed container, manifest (the field is named) or data file.
        BundleVersionError: unknown manifest schema version.
        BundleIntegrityError: a file is missing, unlisted (zip), or its size or sha256 differs.
        BundleCompatibilityError: encoder shapes, manifest and prototypes disagree.
        BundleSignatureError: the signature is malformed or does not verify.
        UntrustedBundleError: unsigned or untrusted under ``mode="require"``.
        MissingExtraError: a signature must be checked and ``cryptography`` is missing.
    """
    report = verify_bundle(path, trust, max_bytes=max_bytes)
    for warning in report.warnings:
        if embedded and warning in report.signature_warnings:
            logger.debug("%s (embedded in the installed aura_sdk package)", warning)
        else:
            _warn_once(report.path, warning)
    if report.defects:
        first = report.defects[0]
        if len(report.defects) > 1:
            first.add_note(f"{len(report.defects) - 1} more defect(s); `aura bundle verify "
                           f"{report.path}` lists them all")
        raise first
    if report.bundle is None:  # unreachable: no defect means a bundle was built
        raise BundleFormatError("could not be loaded", path=report.path)
    return report.bundle
