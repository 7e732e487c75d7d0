"""Where enrolled labels live: one ``.npz`` per label under the user data directory.

``$AURA_HOME/enrolled/<model fingerprint>/<feature layout>/<label hash>.npz``
(``AURA_HOME`` defaults to ``~/.aura``; see :func:`aura_sdk._home.aura_home`). The
fingerprint is the sha256 of the bundle's manifest, so enrolled labels belong to exactly one
model and never to the installed package. Each file keeps, per window of each example (and
each augmented view of it), the embedding and the head's feature row, so the head can be
refit whenever the label set changes. Files are written atomically and read with
``allow_pickle=False``; a file that is unreadable, of another model or of another feature
layout is skipped with a warning and left untouched, never silently used.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError

__all__ = ["EnrolledLabel", "EnrollmentStore"]

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
_FORMAT = 1


@dataclass(frozen=True)
class EnrolledLabel:
    """The enrolled examples of one label, window by window.

    Attributes:
        label: the label's name.
        embeddings: ``(N, D)`` unit embeddings of every window (all views).
        features: ``(N, F)`` head feature rows of the same windows.
        example: ``(N,)`` which example each window came from (0-based).
        view: ``(N,)`` 0 for the recorded example, 1.. for its augmented views.
        layout: the feature layout the rows were made with (see ``AuraModel``).
        created: ISO time of enrollment (UTC).
    """

    label: str
    embeddings: F32
    features: F32
    example: I32
    view: I32
    layout: str
    created: str

    def __post_init__(self) -> None:
        n = self.embeddings.shape[0]
        if not self.label.strip():
            raise ConfigError("an enrolled label needs a non-empty name")
        if n == 0 or self.features.shape[0] != n or self.example.shape != (n,) \
                or self.view.shape != (n,):
            raise ConfigError(f"enrolled label {self.label!r}: inconsistent window arrays "
                              f"({self.embeddings.shape}, {self.features.shape}, "
                              f"{self.example.shape}, {self.view.shape})")
        if not (np.isfinite(self.embeddings).all() and np.isfinite(self.features).all()):
            raise ConfigError(f"enrolled label {self.label!r}: NaN or infinite values")

    @property
    def n_examples(self) -> int:
        return int(self.example.max()) + 1

    @property
    def prototype(self) -> F32:
        """Unit mean of the recorded (view 0) window embeddings: the label's cosine anchor."""
        e = self.embeddings[self.view == 0]
        m = e.mean(axis=0)
        return (m / max(float(np.linalg.norm(m)), 1e-12)).astype(np.float32)

    @classmethod
    def now(cls, label: str, embeddings: npt.ArrayLike, features: npt.ArrayLike,
            example: npt.ArrayLike, view: npt.ArrayLike, layout: str) -> EnrolledLabel:
        """Build a record stamped with the current time."""
        return cls(label, np.asarray(embeddings, np.float32), np.asarray(features, np.float32),
                   np.asarray(example, np.int32), np.asarray(view, np.int32), layout,
                   datetime.now(UTC).isoformat())

    def arrays(self, fingerprint: str) -> dict[str, Any]:
        return {"format": np.array(_FORMAT), "fingerprint": np.array(fingerprint),
                "label": np.array(self.label), "layout": np.array(self.layout),
                "created": np.array(self.created), "embeddings": self.embeddings,
                "features": self.features, "example": self.example, "view": self.view}

    @classmethod
    def from_arrays(cls, z: np.lib.npyio.NpzFile) -> tuple[str, EnrolledLabel]:
        """``(fingerprint, record)`` from an open ``.npz``.

        Raises:
            KeyError, ValueError, ConfigError: missing or malformed arrays.
        """
        if int(z["format"]) != _FORMAT:
            raise ValueError(f"enrollment format {int(z['format'])} is not {_FORMAT}")
        rec = cls(str(z["label"]), np.asarray(z["embeddings"], np.float32),
                  np.asarray(z["features"], np.float32), np.asarray(z["example"], np.int32),
                  np.asarray(z["view"], np.int32), str(z["layout"]), str(z["created"]))
        return str(z["fingerprint"]), rec


def _file_name(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()[:20] + ".npz"


class EnrollmentStore:
    """The enrolled labels of one model on disk.

    Args:
        root: the user data directory (``aura_home()``).
        fingerprint: sha256 of the model's manifest.
        layout: the feature layout this model makes; records of another layout are skipped.
    """

    def __init__(self, root: Path, fingerprint: str, layout: str) -> None:
        self.fingerprint = fingerprint
        self.layout = layout
        self.directory = Path(root) / "enrolled" / fingerprint[:16] / layout

    def path(self, label: str) -> Path:
        """The file that holds ``label``."""
        return self.directory / _file_name(label)

    def _read(self, path: Path) -> EnrolledLabel | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                fp, rec = EnrolledLabel.from_arrays(z)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            logger.warning("%s: enrolled label unreadable (%s); skipped and left untouched",
                           path, exc)
            return None
        if fp != self.fingerprint:
            logger.warning("%s: enrolled for another model (fingerprint %s); skipped",
                           path, fp[:12])
            return None
        if rec.layout != self.layout:
            logger.warning("%s: enrolled label %r has feature layout %s, this model makes %s; "
                           "skipped: enroll it again", path, rec.label, rec.layout, self.layout)
            return None
        return rec

    def load_all(self) -> dict[str, EnrolledLabel]:
        """Every usable enrolled label, oldest first."""
        if not self.directory.is_dir():
            return {}
        recs = [r for p in sorted(self.directory.glob("*.npz"))
                if (r := self._read(p)) is not None]
        recs.sort(key=lambda r: (r.created, r.label))
        return {r.label: r for r in recs}

    def save(self, rec: EnrolledLabel) -> Path:
        """Write one label (atomically; replaces an earlier file of the same label)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(rec.label)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **rec.arrays(self.fingerprint))
        tmp.replace(path)
        return path

    def remove(self, label: str) -> bool:
        """Delete ``label``'s file; ``False`` if there was none."""
        path = self.path(label)
        if path.is_file():
            path.unlink()
            return True
        return False

    def export(self, records: dict[str, EnrolledLabel], out: Path) -> Path:
        """Write ``records`` into one zip of per-label ``.npz`` files (``import_file`` reads it).

        Raises:
            ConfigError: nothing to export.
        """
        if not records:
            raise ConfigError("no enrolled labels to export; enroll some first "
                              "(AuraModel.enroll or `aura enroll add`)")
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for rec in records.values():
                with zf.open(_file_name(rec.label), "w") as f:
                    np.savez(f, **rec.arrays(self.fingerprint))
        tmp.replace(out)
        return out

    def read_export(self, path: Path) -> dict[str, EnrolledLabel]:
        """The labels of an export made by :meth:`export` for this same model.

        Raises:
            ConfigError: not a readable export, or made for another model or layout.
        """
        out: dict[str, EnrolledLabel] = {}
        try:
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    with zf.open(name) as f, np.load(f, allow_pickle=False) as z:
                        fp, rec = EnrolledLabel.from_arrays(z)
                    if fp != self.fingerprint:
                        raise ConfigError(
                            f"{path}: enrolled for another model (fingerprint {fp[:12]}, this "
                            f"one {self.fingerprint[:12]}); enroll the labels again with "
                            "this bundle")
                    if rec.layout != self.layout:
                        raise ConfigError(f"{path}: feature layout {rec.layout} differs from "
                                          f"this model's {self.layout}; enroll again")
                    out[rec.label] = rec
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{path} is not an AURA enrollment export ({exc}); make one "
                              "with `aura enroll export`") from exc
        return out
