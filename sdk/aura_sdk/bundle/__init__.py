"""Model bundles: the one artefact that crosses from the server to the device.

A bundle is a directory or a single ``.aura`` zip holding ``manifest.json`` (versioned schema,
every file's sha256), the IMU encoder as ONNX per precision, ``prototypes.npz``, a model card,
optionally a text projection and ``signature.json`` (Ed25519 over the manifest bytes).

    >>> bundle = read_bundle("walk.aura", trust=TrustPolicy(mode="require",
    ...                                                     trusted_keys=[Path("me.pub")]))
    >>> session = bundle.create_session("int8")

:func:`read_bundle` validates everything before it returns and raises a
:class:`~aura_sdk.BundleError` subclass naming the file and the fix; :func:`verify_bundle`
collects every defect instead. Nothing is ever unpickled or executed on load.
"""

from ._container import DEFAULT_MAX_BYTES
from ._manifest import (
    LABEL_SET_ALL,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    SIGNATURE_NAME,
    EncoderFiles,
    EncoderSpec,
    FileEntry,
    Manifest,
    Precision,
    ScoringSpec,
    SetRejection,
    TextEncoderRef,
    manifest_to_bytes,
    parse_manifest,
)
from ._prototypes import Prototypes, decode_prototypes, encode_prototypes
from ._reader import Bundle, VerifyReport, read_bundle, verify_bundle
from ._signing import (
    SignatureInfo,
    SignatureStatus,
    TrustPolicy,
    generate_keypair,
    key_id,
    read_public_key_file,
)
from ._writer import file_table, sign_bundle, write_bundle

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LABEL_SET_ALL",
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "SIGNATURE_NAME",
    "Bundle",
    "EncoderFiles",
    "EncoderSpec",
    "FileEntry",
    "Manifest",
    "Precision",
    "Prototypes",
    "ScoringSpec",
    "SetRejection",
    "SignatureInfo",
    "SignatureStatus",
    "TextEncoderRef",
    "TrustPolicy",
    "VerifyReport",
    "decode_prototypes",
    "encode_prototypes",
    "file_table",
    "generate_keypair",
    "key_id",
    "manifest_to_bytes",
    "parse_manifest",
    "read_bundle",
    "read_public_key_file",
    "sign_bundle",
    "verify_bundle",
    "write_bundle",
]
