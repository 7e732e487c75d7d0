"""Label prototypes and their ``prototypes.npz`` codec (no pickle, ever).

The archive holds four arrays: ``labels`` (unicode, ``(L,)``), ``prompts`` (unicode, ``(P,)``),
``prompt_label`` (integer, ``(P,)``: the label index of each prompt) and ``embeddings``
(float32, ``(L, D)``, unit-norm rows). A label may have no prompt (a few-shot enrolment).
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from .._errors import BundleFormatError, ConfigError

__all__ = ["Prototypes", "decode_prototypes", "encode_prototypes", "load_npy"]

#: Allowed deviation of a prototype's L2 norm from 1 (float32 rounding is ~1e-7).
NORM_TOLERANCE = 1e-3
_KEYS = ("labels", "prompts", "prompt_label", "embeddings")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same prototypes give the same bytes


def _frozen(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Prototypes:
    """One unit-norm prototype embedding per label, and the prompts that produced them.

    Attributes:
        labels: label names, unique and non-empty.
        embeddings: float32 ``(len(labels), D)``, each row of L2 norm 1.
        prompts: the text prompts used (may be empty).
        prompt_label: int64 ``(len(prompts),)``, index into ``labels`` for each prompt.

    Raises:
        ConfigError: on construction, when any of the above does not hold.
    """

    labels: tuple[str, ...]
    embeddings: npt.NDArray[np.float32]
    prompts: tuple[str, ...] = ()
    prompt_label: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        if not labels:
            raise ConfigError("prototypes need at least one label")
        if not all(isinstance(x, str) and x for x in labels):
            raise ConfigError("every label must be a non-empty string")
        if len(set(labels)) != len(labels):
            dupes = sorted({x for x in labels if labels.count(x) > 1})
            raise ConfigError(f"labels must be unique; repeated: {dupes}")
        emb = np.asarray(self.embeddings)
        if emb.dtype != np.float32 or emb.ndim != 2:
            raise ConfigError(
                f"embeddings must be a float32 (labels, dim) array, got {emb.dtype} {emb.shape}"
            )
        if emb.shape[0] != len(labels) or emb.shape[1] < 1:
            raise ConfigError(
                f"embeddings have {emb.shape[0]} rows of dim {emb.shape[1]} for "
                f"{len(labels)} labels; there must be one row per label"
            )
        if not np.isfinite(emb).all():
            raise ConfigError("embeddings contain NaN or infinite values")
        norms = np.linalg.norm(emb.astype(np.float64), axis=1)
        worst = int(np.argmax(np.abs(norms - 1.0)))
        if abs(norms[worst] - 1.0) > NORM_TOLERANCE:
            raise ConfigError(
                f"prototype of {labels[worst]!r} has L2 norm {norms[worst]:.6f}; every "
                f"prototype must be unit-norm (within {NORM_TOLERANCE:g})"
            )
        prompts = tuple(self.prompts)
        if not all(isinstance(x, str) and x for x in prompts):
            raise ConfigError("every prompt must be a non-empty string")
        idx = np.asarray(self.prompt_label)
        if idx.ndim != 1 or idx.shape[0] != len(prompts) or (idx.size and idx.dtype.kind not in
                                                              "iu"):
            raise ConfigError(
                f"prompt_label must be an integer array with one entry per prompt "
                f"({len(prompts)}), got {idx.dtype} {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= len(labels)):
            raise ConfigError(f"prompt_label values must lie in 0..{len(labels) - 1}")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "embeddings", _frozen(emb))
        object.__setattr__(self, "prompt_label", _frozen(idx.astype(np.int64)))

    @property
    def dim(self) -> int:
        """Embedding dimension ``D``."""
        return int(self.embeddings.shape[1])

    def prompts_for(self, label: str) -> tuple[str, ...]:
        """The prompts recorded for one label (empty for an enrolled label).

        Raises:
            ConfigError: ``label`` is not one of :attr:`labels`.
        """
        if label not in self.labels:
            raise ConfigError(f"unknown label {label!r}; known: {list(self.labels)}")
        i = self.labels.index(label)
        return tuple(p for p, j in zip(self.prompts, self.prompt_label, strict=True) if j == i)

    @classmethod
    def from_prompt_embeddings(
        cls,
        labels: Sequence[str],
        prompts: Sequence[str],
        prompt_label: Sequence[int] | npt.NDArray[np.integer[Any]],
        prompt_embeddings: npt.ArrayLike,
    ) -> Prototypes:
        """Build prototypes as the renormalised mean of each label's normalised prompt embeddings.

        Args:
            labels: label names.
            prompts: prompt texts, ``P`` of them.
            prompt_label: label index of each prompt; every label needs at least one prompt.
            prompt_embeddings: ``(P, D)`` text embeddings of ``prompts``.

        Raises:
            ConfigError: shapes disagree, a label has no prompt, or an embedding is zero.
        """
        emb = np.asarray(prompt_embeddings, dtype=np.float64)
        idx = np.asarray(prompt_label, dtype=np.int64)
        if emb.ndim != 2 or emb.shape[0] != len(prompts) or idx.shape != (len(prompts),):
            raise ConfigError(
                f"need one embedding row and one label index per prompt: {len(prompts)} "
                f"prompts, embeddings {emb.shape}, indices {idx.shape}"
            )
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        if not np.isfinite(emb).all() or (norms == 0).any():
            raise ConfigError("prompt embeddings must be finite and non-zero")
        emb = emb / norms
        rows = []
        for i, label in enumerate(labels):
            members = emb[idx == i]
            if members.shape[0] == 0:
                raise ConfigError(f"label {label!r} has no prompt")
            mean = members.mean(axis=0)
            n = float(np.linalg.norm(mean))
            if not math.isfinite(n) or n < 1e-8:
                raise ConfigError(f"the prompts of {label!r} cancel out (mean embedding ~ 0)")
            rows.append(mean / n)
        return cls(tuple(labels), np.stack(rows).astype(np.float32), tuple(prompts), idx)


def encode_prototypes(prototypes: Prototypes) -> bytes:
    """Serialise prototypes to ``prototypes.npz`` bytes (deterministic, no pickle)."""
    arrays = {
        "labels": np.array(prototypes.labels, dtype=np.str_),
        "prompts": np.array(prototypes.prompts, dtype=np.str_).reshape(len(prototypes.prompts)),
        "prompt_label": np.asarray(prototypes.prompt_label, dtype=np.int64),
        "embeddings": np.asarray(prototypes.embeddings, dtype=np.float32),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in _KEYS:
            member = io.BytesIO()
            np.lib.format.write_array(member, arrays[key], version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


_NPZ_ERRORS = (
    ValueError, OSError, EOFError, KeyError, IndexError, TypeError, OverflowError,
    MemoryError, NotImplementedError, RuntimeError, zipfile.BadZipFile, zipfile.LargeZipFile,
    zlib.error, struct.error,
)


def _npy_header(fp: Any, available: int, what: str) -> None:
    """Check one .npy header: known version, no object dtype, data no larger than stored.

    Raises:
        ValueError: with a message naming ``what``.
    """
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"{what} uses .npy format {version}; expected 1.0 or 2.0")
    if dtype.hasobject:
        raise ValueError(f"{what} has an object dtype (pickled data is refused)")
    if math.prod(shape) * dtype.itemsize > available:
        raise ValueError(f"{what} declares more array data than it stores")


def load_npy(data: bytes) -> npt.NDArray[Any]:
    """Parse one ``.npy`` file's bytes with ``np.load(allow_pickle=False)``.

    The header is checked first, so a forged shape cannot make numpy allocate memory for data
    that is not there.

    Raises:
        ValueError: not a plain .npy array (object dtypes and npz archives are refused).
    """
    if not data.startswith(b"\x93NUMPY"):
        raise ValueError("not a .npy array (bad magic)")
    fp = io.BytesIO(data)
    try:
        _npy_header(fp, len(data), "the array")
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except _NPZ_ERRORS as exc:
        raise ValueError(f"unreadable .npy array ({type(exc).__name__}: {exc})") from exc
    if not isinstance(array, np.ndarray):
        raise ValueError("not a .npy array")
    return array


def _check_members(
    zf: zipfile.ZipFile, fail: Callable[[str], NoReturn], max_bytes: int
) -> None:
    """Refuse unexpected members and arrays whose header promises more data than is stored."""
    names = sorted(i.filename for i in zf.infolist())
    expected = sorted(f"{k}.npy" for k in _KEYS)
    if names != expected:
        fail(f"must hold exactly the arrays {list(_KEYS)}, found members {names[:10]}")
    if sum(i.file_size for i in zf.infolist()) > max_bytes:
        fail(f"declares more than {max_bytes} uncompressed bytes")
    for info in zf.infolist():
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            fail(f"member {info.filename} is encrypted or uses an unsupported compression")
        with zf.open(info) as fp:
            try:
                _npy_header(fp, info.file_size, f"array {info.filename}")
            except ValueError as exc:
                fail(str(exc))


def decode_prototypes(
    data: bytes,
    *,
    file: str = "prototypes.npz",
    path: str | None = None,
    max_bytes: int = 256 * 1024 * 1024,
) -> Prototypes:
    """Parse ``prototypes.npz`` bytes with ``np.load(allow_pickle=False)`` and validate them.

    Args:
        data: the file's bytes.
        file: its name inside the bundle, for error messages.
        path: the bundle path, for error messages.
        max_bytes: refuse archives that declare more uncompressed data than this.

    Raises:
        BundleFormatError: not an npz, wrong arrays or dtypes, NaN, non-unit or miscounted
            prototypes; the message names the file.
    """
    fix = "re-export the bundle's prototypes with aura_sdk.bundle.encode_prototypes"

    def fail(msg: str, cause: BaseException | None = None) -> NoReturn:
        raise BundleFormatError(f"{msg}; {fix}", path=path, file=file) from cause

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_members(zf, fail, max_bytes)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _KEYS}
    except BundleFormatError:
        raise
    except _NPZ_ERRORS as exc:
        fail(f"is not a readable npz archive ({type(exc).__name__}: {exc})", exc)
    labels, prompts = arrays["labels"], arrays["prompts"]
    idx, emb = arrays["prompt_label"], arrays["embeddings"]
    if labels.ndim != 1 or labels.dtype.kind != "U":
        fail(f"'labels' must be a 1-D unicode array, got {labels.dtype} {labels.shape}")
    if prompts.ndim != 1 or prompts.dtype.kind != "U":
        fail(f"'prompts' must be a 1-D unicode array, got {prompts.dtype} {prompts.shape}")
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        fail(f"'prompt_label' must be a 1-D integer array, got {idx.dtype} {idx.shape}")
    if emb.dtype != np.float32:
        fail(f"'embeddings' must be float32, got {emb.dtype}")
    try:
        return Prototypes(
            tuple(str(x) for x in labels),
            emb,
            tuple(str(x) for x in prompts),
            idx.astype(np.int64),
        )
    except ConfigError as exc:
        fail(str(exc), exc)
