"""The enrolled labels of one loaded model: in memory, persisted through the store, and the
few-shot heads fitted over them (cached per label set)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from .._errors import ConfigError
from ._classifier import DEFAULT_C, FewShotHead
from ._store import EnrolledLabel, EnrollmentStore

__all__ = ["Enrollments"]

logger = logging.getLogger(__name__)


class Enrollments:
    """Enrolled labels of one model.

    Args:
        store: where they persist.
        load: read the labels enrolled earlier for this model.
        c: the head's inverse regularisation strength per example.
    """

    def __init__(self, store: EnrollmentStore, *, load: bool = True, c: float = DEFAULT_C
                 ) -> None:
        self.store = store
        self.c = c
        self._records: dict[str, EnrolledLabel] = store.load_all() if load else {}
        self._heads: dict[tuple[str, ...], FewShotHead] = {}

    @property
    def labels(self) -> tuple[str, ...]:
        """Enrolled labels, in enrollment order."""
        return tuple(self._records)

    def __contains__(self, label: object) -> bool:
        return label in self._records

    def get(self, label: str) -> EnrolledLabel:
        """The record of an enrolled label.

        Raises:
            ConfigError: not enrolled.
        """
        try:
            return self._records[label]
        except KeyError:
            raise ConfigError(f"{label!r} is not an enrolled label; enrolled: "
                              f"{list(self._records)}") from None

    def add(self, rec: EnrolledLabel, *, persist: bool) -> None:
        """Add or replace one label."""
        if rec.layout != self.store.layout:
            raise ConfigError(f"{rec.label!r} has feature layout {rec.layout}, this model makes "
                              f"{self.store.layout}")
        self._records.pop(rec.label, None)
        self._records[rec.label] = rec
        self._heads.clear()
        if persist:
            path = self.store.save(rec)
            logger.info("enrolled %r saved to %s", rec.label, path)

    def remove(self, label: str, *, persist: bool) -> None:
        """Remove one label (and its file with ``persist``).

        Raises:
            ConfigError: not enrolled.
        """
        self.get(label)
        del self._records[label]
        self._heads.clear()
        if persist:
            self.store.remove(label)

    def head_for(self, labels: Sequence[str]) -> FewShotHead | None:
        """The head over the enrolled ones among ``labels``, or ``None`` when fewer than two
        of them are enrolled (cached until the enrolled labels change)."""
        key = tuple(x for x in labels if x in self._records)
        if len(key) < 2:
            return None
        head = self._heads.get(key)
        if head is None:
            head = FewShotHead.fit([self._records[x] for x in key], c=self.c)
            self._heads[key] = head
        return head

    def export(self, out: str | Path, labels: Sequence[str] | None = None) -> Path:
        """Write the enrolled labels (all, or ``labels``) into one file.

        Raises:
            ConfigError: a label is not enrolled, or nothing to export.
        """
        names = list(self._records) if labels is None else list(labels)
        return self.store.export({x: self.get(x) for x in names}, Path(out))

    def import_file(self, path: str | Path, *, replace: bool = False, persist: bool = True
                    ) -> list[str]:
        """Add the labels of an export made for this same model; returns their names.

        Raises:
            ConfigError: another model's export, or a label exists and ``replace`` is False.
        """
        recs = self.store.read_export(Path(path))
        clash = sorted(x for x in recs if x in self._records)
        if clash and not replace:
            raise ConfigError(f"already enrolled: {clash}; pass replace=True (--replace) to "
                              "overwrite them")
        for rec in recs.values():
            self.add(rec, persist=persist)
        return list(recs)
