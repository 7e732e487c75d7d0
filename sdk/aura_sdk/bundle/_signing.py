"""Bundle signatures: ed25519 over the exact bytes of ``manifest.json``, and the trust policy.

The manifest lists every other file's sha256, so one signature covers the whole bundle.
``signature.json`` holds the algorithm, the base64 public key, the base64 signature and a key
id (the first 16 hex digits of the public key's sha256). ``cryptography`` (the ``sign`` extra)
is imported only when a signature is made or checked; reading trusted public keys needs
nothing beyond the standard library.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .._errors import BundleSignatureError, ConfigError, MissingExtraError, UntrustedBundleError
from ._manifest import MANIFEST_NAME, SIGNATURE_NAME

__all__ = [
    "SignatureInfo",
    "SignatureStatus",
    "TrustPolicy",
    "check_signature",
    "generate_keypair",
    "key_id",
    "parse_public_key",
    "read_public_key_file",
    "sign_manifest",
]

# RFC 8410: an Ed25519 SubjectPublicKeyInfo is this fixed 12-byte DER prefix + the 32-byte key.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_PEM_PUBLIC = "PUBLIC KEY"
_MAX_KEY_FILE = 64 * 1024


def _crypto() -> tuple[ModuleType, ModuleType, type[Exception]]:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise MissingExtraError("sign", "checking or making bundle signatures",
                                "cryptography") from exc
    return ed25519, serialization, InvalidSignature


def key_id(public_key: bytes) -> str:
    """Short id of a raw 32-byte public key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _pem_body(text: str, label: str) -> bytes | None:
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text:
        return None
    body = text.split(begin, 1)[1].split(end, 1)[0]
    return base64.b64decode("".join(body.split()), validate=True)


def parse_public_key(data: bytes | bytearray | str) -> bytes:
    """Turn a public key given as raw 32 bytes, base64 text or PEM text into raw 32 bytes.

    Raises:
        ConfigError: the data is none of those, or not an Ed25519 key.
    """
    if isinstance(data, bytes | bytearray) and len(data) == 32:
        return bytes(data)
    try:
        text = data.decode("ascii") if isinstance(data, bytes | bytearray) else data
        der = _pem_body(text, _PEM_PUBLIC)
        raw = der if der is not None else base64.b64decode(text.strip(), validate=True)
    except (UnicodeDecodeError, binascii.Error, ValueError) as exc:
        raise ConfigError(
            "a public key must be 32 raw bytes, base64 text or a PEM 'PUBLIC KEY' block "
            f"({exc}); use the .pub file written by `aura bundle keygen`"
        ) from exc
    if len(raw) == len(_SPKI_PREFIX) + 32 and raw.startswith(_SPKI_PREFIX):
        raw = raw[len(_SPKI_PREFIX):]
    if len(raw) != 32:
        raise ConfigError(
            f"decoded public key is {len(raw)} bytes, not an Ed25519 key (32 bytes); use the "
            ".pub file written by `aura bundle keygen`"
        )
    return raw


def read_public_key_file(path: str | os.PathLike[str]) -> bytes:
    """Read a trusted public key file (raw 32 bytes, base64 or PEM) as raw 32 bytes.

    Raises:
        ConfigError: the file is missing, too large or holds no Ed25519 public key.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read public key file {p}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_KEY_FILE:
        raise ConfigError(f"{p} is too large to be a public key file")
    try:
        return parse_public_key(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from exc


class TrustPolicy(BaseModel):
    """Which bundle signatures a device accepts.

    Attributes:
        mode: ``"off"`` ignores signatures; ``"warn"`` (default) verifies a signature when one
            is present, refuses an invalid one, and only logs a warning for an unsigned bundle
            or an unknown key; ``"require"`` loads only bundles signed by a trusted key.
        trusted_keys: raw 32-byte Ed25519 public keys. Base64 or PEM strings and
            ``pathlib.Path`` key files are accepted on construction and converted.

    Raises:
        pydantic.ValidationError: a key cannot be parsed, or ``require`` has no trusted key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["off", "warn", "require"] = "warn"
    trusted_keys: tuple[bytes, ...] = ()

    @field_validator("trusted_keys", mode="before")
    @classmethod
    def _coerce_keys(cls, v: Any) -> tuple[bytes, ...]:
        if isinstance(v, bytes | str | Path):
            v = (v,)
        out = []
        for item in v:
            if isinstance(item, Path):
                out.append(read_public_key_file(item))
            elif isinstance(item, bytes | bytearray | str):
                out.append(parse_public_key(item))
            else:
                raise ValueError(f"a trusted key must be bytes, str or Path, not {type(item)}")
        return tuple(out)

    @model_validator(mode="after")
    def _require_has_keys(self) -> TrustPolicy:
        if self.mode == "require" and not self.trusted_keys:
            raise ValueError("mode='require' needs at least one trusted public key")
        return self

    @classmethod
    def from_key_files(
        cls, paths: Iterable[str | os.PathLike[str]], *, mode: Literal["warn", "require"] =
        "require"
    ) -> TrustPolicy:
        """A policy trusting the public keys in ``paths`` (raw, base64 or PEM files).

        Raises:
            ConfigError: a key file cannot be read or parsed.
        """
        return cls(mode=mode, trusted_keys=tuple(read_public_key_file(p) for p in paths))

    @property
    def trusted_key_ids(self) -> frozenset[str]:
        """Key ids of :attr:`trusted_keys`."""
        return frozenset(key_id(k) for k in self.trusted_keys)


class SignatureStatus(enum.StrEnum):
    """What a bundle's signature proved when it was loaded."""

    NOT_CHECKED = "not_checked"  # trust policy "off"
    UNSIGNED = "unsigned"  # no signature.json; loaded under "warn"
    TRUSTED = "trusted"  # valid signature by a trusted key
    UNTRUSTED = "untrusted"  # valid signature by a key not in the policy; loaded under "warn"


@dataclass(frozen=True)
class SignatureInfo:
    """A loaded bundle's signature status and the signing key's id (if signed and checked)."""

    status: SignatureStatus
    key_id: str | None = None

    def describe(self) -> str:
        """One human-readable line."""
        return {
            SignatureStatus.NOT_CHECKED: "not checked (trust policy off)",
            SignatureStatus.UNSIGNED: "unsigned",
            SignatureStatus.TRUSTED: f"signed by trusted key {self.key_id}",
            SignatureStatus.UNTRUSTED: f"signed by key {self.key_id}, which is not trusted",
        }[self.status]


class _SignatureFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: Literal["ed25519"]
    signed_file: Literal["manifest.json"] = "manifest.json"
    public_key: str
    signature: str
    key_id: str


def _load_private_key(path: str | os.PathLike[str]) -> Any:
    ed25519, serialization, _ = _crypto()
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read private key file {p}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{p} is not an unencrypted PEM private key ({exc}); make one with "
            "`aura bundle keygen PREFIX`"
        ) from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ConfigError(f"{p} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def sign_manifest(manifest_bytes: bytes, private_key_file: str | os.PathLike[str]) -> bytes:
    """Sign the exact ``manifest.json`` bytes; return the ``signature.json`` bytes.

    Raises:
        MissingExtraError: ``cryptography`` is not installed (``aura-sdk[sign]``).
        ConfigError: the key file is unreadable or not an Ed25519 PEM private key.
    """
    _, serialization, _ = _crypto()
    key = _load_private_key(private_key_file)
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    doc = _SignatureFile(
        algorithm="ed25519",
        public_key=base64.b64encode(public).decode(),
        signature=base64.b64encode(key.sign(manifest_bytes)).decode(),
        key_id=key_id(public),
    )
    return (json.dumps(doc.model_dump(), indent=2) + "\n").encode()


def check_signature(
    manifest_bytes: bytes,
    signature_bytes: bytes | None,
    policy: TrustPolicy,
    *,
    path: str | None = None,
) -> tuple[SignatureInfo, list[str]]:
    """Apply a trust policy to a bundle's manifest and (optional) ``signature.json``.

    Returns:
        The signature status and any warnings to show (unsigned or unknown key under "warn").

    Raises:
        BundleSignatureError: the signature file is malformed or does not verify.
        UntrustedBundleError: unsigned, or signed by an untrusted key, under "require".
        MissingExtraError: a signature must be checked and ``cryptography`` is missing.
    """
    where: dict[str, Any] = {"path": path, "file": SIGNATURE_NAME}
    if policy.mode == "off":
        return SignatureInfo(SignatureStatus.NOT_CHECKED), []
    if signature_bytes is None:
        if policy.mode == "require":
            raise UntrustedBundleError(
                "is missing: the bundle is unsigned but the trust policy requires a signature; "
                "sign it with `aura bundle sign PATH --key KEY` using a trusted key", **where)
        return SignatureInfo(SignatureStatus.UNSIGNED), [
            f"{path}: bundle is unsigned; its origin cannot be checked (sign it with "
            "`aura bundle sign`, or require signatures with TrustPolicy(mode='require'))"]
    fix = "re-sign the bundle with `aura bundle sign`, or obtain it again from its publisher"
    try:
        doc = _SignatureFile.model_validate_json(signature_bytes, strict=True)
        public = base64.b64decode(doc.public_key, validate=True)
        signature = base64.b64decode(doc.signature, validate=True)
    except (ValidationError, binascii.Error, ValueError) as exc:
        raise BundleSignatureError(f"is malformed ({exc}); {fix}", **where) from exc
    if len(public) != 32 or len(signature) != 64:
        raise BundleSignatureError(
            f"holds a {len(public)}-byte key and a {len(signature)}-byte signature; Ed25519 "
            f"uses 32 and 64; {fix}", **where)
    kid = key_id(public)
    if doc.key_id != kid:
        raise BundleSignatureError(
            f"key_id {doc.key_id!r} does not match its public key (id {kid}); {fix}", **where)
    ed25519, _, invalid_signature = _crypto()
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, manifest_bytes)
    except invalid_signature as exc:
        raise BundleSignatureError(
            f"does not verify against {MANIFEST_NAME} (key {kid}): the manifest was changed "
            f"after signing or the signature is corrupted; {fix}", **where) from exc
    if kid in policy.trusted_key_ids:
        return SignatureInfo(SignatureStatus.TRUSTED, kid), []
    if policy.mode == "require":
        raise UntrustedBundleError(
            f"is a valid signature by key {kid}, which is not among the trusted keys; if you "
            "trust its publisher, add its public key (--trust-key FILE, or "
            "TrustPolicy(trusted_keys=...))", **where)
    return SignatureInfo(SignatureStatus.UNTRUSTED, kid), [
        f"{path}: bundle is signed by key {kid}, which is not among the trusted keys; loading "
        "it anyway (trust policy 'warn')"]


def generate_keypair(out_prefix: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Make an Ed25519 key pair: ``PREFIX.key`` (PEM PKCS#8, mode 0600) and ``PREFIX.pub`` (PEM).

    Returns:
        The private and public key paths.

    Raises:
        MissingExtraError: ``cryptography`` is not installed (``aura-sdk[sign]``).
        ConfigError: either file already exists (keys are never overwritten).
    """
    ed25519, serialization, _ = _crypto()
    prefix = Path(out_prefix)
    private_path = prefix.with_name(prefix.name + ".key")
    public_path = prefix.with_name(prefix.name + ".pub")
    for p in (private_path, public_path):
        if p.exists():
            raise ConfigError(f"{p} already exists; keys are never overwritten, pick another "
                              "prefix")
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem)
        fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(public_pem)
    except OSError as exc:
        raise ConfigError(f"cannot write key files {prefix}.key/.pub: {exc}") from exc
    return private_path, public_path
