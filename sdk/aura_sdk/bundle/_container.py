"""Bundle containers: a directory or a single ``.aura`` zip, read safely and written atomically.

Reading never extracts anything to disk and never follows links: a zip member with an
absolute or ``..`` name, a duplicate name, a symlink, encryption or an unusual compression is
refused, and the total uncompressed size is capped before anything is decompressed (zipfile
never yields more than a member's declared size, so the cap holds against zip bombs).
"""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from .._errors import (
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleNotFoundError,
    ConfigError,
)
from ._manifest import MANIFEST_NAME, SIGNATURE_NAME, check_member_name

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Source",
    "is_zip_path",
    "open_source",
    "staged_output",
    "write_members",
]

#: Default cap on a bundle's total uncompressed size: far above any edge encoder.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 4096
ZIP_SUFFIXES = (".aura", ".zip")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same contents give the same archive bytes

_ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError,
    IndexError, OverflowError, NotImplementedError, RuntimeError, zlib.error, struct.error,
)


def is_zip_path(path: str | os.PathLike[str]) -> bool:
    """Whether the writer makes a zip (``.aura`` / ``.zip`` suffix) rather than a directory."""
    return Path(path).suffix.lower() in ZIP_SUFFIXES


class Source(abc.ABC):
    """Read-only view of a bundle container; ``problems`` lists container-level refusals."""

    kind = "container"

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.problems: list[BundleError] = []
        self._read_total = 0

    @abc.abstractmethod
    def names(self) -> list[str]:
        """Every regular file in the container, as a relative POSIX path."""

    @abc.abstractmethod
    def size(self, name: str) -> int:
        """The stored (uncompressed) size of ``name``."""

    @abc.abstractmethod
    def _read(self, name: str) -> bytes:
        """The bytes of ``name``; translate container errors to BundleError."""

    def read(self, name: str) -> bytes:
        """Read one member, counting it against ``max_bytes``.

        Raises:
            BundleIntegrityError: the member cannot be read (corrupted data, vanished file).
            BundleFormatError: reading it would exceed the size cap.
        """
        self._read_total += self.size(name)
        if self._read_total > self.max_bytes:
            raise BundleFormatError(
                f"reading it takes the bundle over the {self.max_bytes} byte limit; a bundle "
                "this large is refused (raise max_bytes only for a bundle you trust)",
                path=self.path, file=name,
            )
        return self._read(name)

    def close(self) -> None:  # noqa: B027 - a directory holds nothing open; zips override
        """Release the underlying file, if any."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _DirSource(Source):
    kind = "directory"

    def __init__(self, path: Path, max_bytes: int) -> None:
        super().__init__(path, max_bytes)
        self._sizes: dict[str, int] = {}
        seen = 0
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            for entry in sorted(dirnames + filenames):
                seen += 1
                if seen > MAX_MEMBERS:
                    self.problems.append(BundleFormatError(
                        f"holds more than {MAX_MEMBERS} entries; a bundle directory holds a "
                        "handful of files: point at the bundle itself", path=path))
                    return
                full = Path(dirpath, entry)
                rel = full.relative_to(path).as_posix()
                try:
                    st = full.lstat()
                except OSError:  # vanished while listing: the integrity check reports it
                    continue
                if stat.S_ISLNK(st.st_mode):
                    self.problems.append(BundleFormatError(
                        "is a symbolic link; bundles may not contain links: replace it with "
                        "the file itself", path=path, file=rel))
                elif stat.S_ISREG(st.st_mode):
                    self._sizes[rel] = st.st_size
                elif not stat.S_ISDIR(st.st_mode):
                    self.problems.append(BundleFormatError(
                        "is not a regular file (device, socket or pipe); remove it",
                        path=path, file=rel))

    def names(self) -> list[str]:
        return sorted(self._sizes)

    def size(self, name: str) -> int:
        return self._sizes[name]

    def _read(self, name: str) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path / name, flags)
            with os.fdopen(fd, "rb") as fh:
                # read at most the listed size + 1 so a file that grew is noticed, not slurped
                return fh.read(self._sizes[name] + 1)
        except OSError as exc:
            raise BundleIntegrityError(
                f"could not be read ({exc.strerror or exc}); check the file's permissions or "
                "copy the bundle again", path=self.path, file=name) from exc


class _ZipSource(Source):
    kind = "zip"

    def __init__(self, path: Path, max_bytes: int) -> None:
        super().__init__(path, max_bytes)
        try:
            self._zf = zipfile.ZipFile(path)
            infos = self._zf.infolist()
        except _ZIP_ERRORS as exc:
            raise BundleFormatError(
                f"is not a readable zip archive ({type(exc).__name__}: {exc}); the file is "
                "truncated or corrupted: copy it again or re-export it", path=path) from exc
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        if len(infos) > MAX_MEMBERS:
            self._refuse(None, f"holds {len(infos)} members, more than {MAX_MEMBERS}")
        for info in infos[:MAX_MEMBERS]:
            self._admit(info)
            total += info.file_size
        if total > max_bytes:
            self._refuse(None, f"declares {total} uncompressed bytes, over the {max_bytes} "
                         "byte limit (zip bomb guard)")

    def _refuse(self, name: str | None, why: str) -> None:
        self.problems.append(BundleFormatError(
            f"{why}; refusing the archive: rebuild it with aura_sdk.bundle.write_bundle",
            path=self.path, file=name))

    def _admit(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        is_dir = name.endswith("/")
        why = check_member_name(name[:-1] if is_dir else name)
        mode = info.external_attr >> 16
        if why is not None:
            self._refuse(name, f"unsafe member name: {why}")
        elif stat.S_ISLNK(mode):
            self._refuse(name, "member is a symbolic link")
        elif name in self._infos:
            self._refuse(name, "the archive holds two members with this name")
        elif info.flag_bits & 0x1:
            self._refuse(name, "member is encrypted")
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self._refuse(name, f"member uses compression method {info.compress_type}; only "
                         "stored and deflated are accepted")
        elif not is_dir:
            self._infos[name] = info

    def names(self) -> list[str]:
        return sorted(self._infos)

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def _read(self, name: str) -> bytes:
        try:
            with self._zf.open(self._infos[name]) as fh:
                return fh.read()
        except _ZIP_ERRORS as exc:
            raise BundleIntegrityError(
                f"is corrupted inside the archive ({type(exc).__name__}: {exc}); copy the "
                "bundle again from its source or re-export it", path=self.path, file=name,
            ) from exc

    def close(self) -> None:
        self._zf.close()


def open_source(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Open a bundle directory or zip for reading.

    Raises:
        BundleNotFoundError: the path does not exist, or holds no ``manifest.json``, or is a
            file that is not a zip archive at all.
        BundleFormatError: the zip's central directory cannot be read.
    """
    p = Path(path)
    hint = (
        "pass the path of a bundle directory or .aura file (as written by "
        "aura_sdk.bundle.write_bundle or `aura export`)"
    )
    try:
        st = p.stat()
    except OSError as exc:
        raise BundleNotFoundError(f"does not exist or cannot be accessed; {hint}",
                                  path=p) from exc
    source: Source
    if stat.S_ISDIR(st.st_mode):
        if not os.path.lexists(p / MANIFEST_NAME):  # before walking: "/" costs nothing
            raise BundleNotFoundError(
                f"is not an AURA bundle: it holds no {MANIFEST_NAME} file; {hint}", path=p)
        source = _DirSource(p, max_bytes)
    elif stat.S_ISREG(st.st_mode):
        try:
            is_zip = zipfile.is_zipfile(p)
        except OSError as exc:
            raise BundleNotFoundError(f"cannot be read ({exc}); {hint}", path=p) from exc
        if not is_zip:
            raise BundleNotFoundError(f"is not an AURA bundle (not a zip archive); {hint}",
                                      path=p)
        source = _ZipSource(p, max_bytes)
    else:
        raise BundleNotFoundError(f"is neither a directory nor a file; {hint}", path=p)
    if not source.problems and MANIFEST_NAME not in source.names():
        source.close()
        raise BundleNotFoundError(
            f"is not an AURA bundle: it holds no {MANIFEST_NAME}; {hint}", path=p)
    return source


def write_members(path: Path, members: Mapping[str, bytes], *, as_zip: bool) -> None:
    """Write ``members`` as a zip file or into an (existing, empty) directory at ``path``.

    ``manifest.json`` goes first and ``signature.json`` last in a zip; the rest keep their order.
    """
    order = [n for n in members if n not in (MANIFEST_NAME, SIGNATURE_NAME)]
    order = [n for n in (MANIFEST_NAME,) if n in members] + order
    order += [n for n in (SIGNATURE_NAME,) if n in members]
    for name in order:
        why = check_member_name(name)
        if why is not None:
            raise ConfigError(f"cannot write bundle file {name!r}: {why}")
    if as_zip:
        with open(path, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name in order:
                    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    zf.writestr(info, members[name])
            fh.flush()
            os.fsync(fh.fileno())
        return
    for name in order:
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(members[name])
            fh.flush()
            os.fsync(fh.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def staged_output(
    out_path: str | os.PathLike[str], *, overwrite: bool, as_zip: bool | None = None
) -> Iterator[Path]:
    """Yield a temporary sibling of ``out_path``; move it into place only on a clean exit.

    The temporary is a file when ``as_zip`` (default: by ``out_path``'s suffix), else a
    directory.

    A zip target is replaced with one atomic rename. A directory target that already exists
    is first renamed aside, so a reader sees either the old or the new bundle, never a mix.

    Raises:
        ConfigError: ``out_path`` exists and ``overwrite`` is false, or its parent is missing.
    """
    out = Path(out_path)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists; pass overwrite=True to replace it")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write {out}: the folder {out.parent} does not exist")
    as_zip = is_zip_path(out) if as_zip is None else as_zip
    if as_zip:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        tmp = Path(name)
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        # mkstemp / mkdtemp create private (0600 / 0700) entries; a bundle is meant to be read
        os.chmod(tmp, 0o644 if as_zip else 0o755)
        if as_zip and (not out.exists() or out.is_file()):
            os.replace(tmp, out)
        elif out.exists() or out.is_symlink():
            aside = out.with_name(f".{out.name}.old-{os.getpid()}")
            _remove(aside)
            os.rename(out, aside)
            os.rename(tmp, out)
            _remove(aside)
        else:
            os.rename(tmp, out)
    finally:
        if tmp.exists():
            _remove(tmp)
