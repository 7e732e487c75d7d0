"""Label prototypes: the bundle's, enrolled ones over them, free-text ones on demand.

:class:`Prototypes` is the table :class:`~aura_sdk.AuraModel` scores against: one unit vector
per label, in order. The bundle's labels come first; an enrolled label is appended (or
shadows a bundle label, which gets its own prototype back when the enrollment is removed);
free text is turned into a prototype by the bundle's text encoder the first time it is
asked for, and kept.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import ConfigError
from .bundle import Bundle

__all__ = ["Prototypes"]

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]


class Prototypes:
    """The label prototypes of one bundle (see module doc)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        protos = bundle.prototypes
        self._labels: list[str] = list(protos.labels)
        self._matrix: F32 = np.array(protos.embeddings, dtype=np.float32)
        self._bundle = dict(zip(self._labels, self._matrix.copy(), strict=True))
        #: free-text prototypes made so far, by label
        self.text: dict[str, F32] = {}
        self._text_encoder: Any = None

    @property
    def labels(self) -> list[str]:
        """Every label with a prototype (free text excluded), in order. Not a copy."""
        return self._labels

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    def matrix(self, names: list[str]) -> F32:
        """``(K, D)`` prototypes of ``names`` in that order (the table itself when ``names``
        is every label in order); free text goes through the text encoder once.

        Raises:
            ConfigError: a label without prototype, and no text encoder to make one.
        """
        if names == self._labels:
            return self._matrix
        missing = [x for x in names if x not in self._labels and x not in self.text]
        if missing:
            self._add_text(missing)
        rows = [self._matrix[self._labels.index(x)] if x in self._labels else self.text[x]
                for x in names]
        return np.stack(rows).astype(np.float32)

    def set(self, label: str, proto: F32) -> None:
        """Give ``label`` this prototype (a new label is appended)."""
        if label in self._labels:
            self._matrix[self._labels.index(label)] = proto
        else:
            self._labels.append(label)
            self._matrix = np.concatenate([self._matrix, proto[None, :]], axis=0)

    def drop(self, label: str) -> None:
        """Undo an enrollment of ``label``: a bundle label gets its own prototype back, any
        other label goes."""
        i = self._labels.index(label)
        if label in self._bundle:
            self._matrix[i] = self._bundle[label]
        else:
            del self._labels[i]
            self._matrix = np.delete(self._matrix, i, axis=0)

    def _add_text(self, labels: list[str]) -> None:
        """Prototypes for free-text labels through the on-device text encoder."""
        ref = self.bundle.manifest.text_encoder
        if ref is None:
            raise ConfigError(
                f"no prototype for {labels}: this bundle knows {self._labels} and has no text "
                "encoder for free-text labels; enroll examples with model.enroll(label, "
                "examples, spec), or use a bundle exported with a text encoder")
        if any(not isinstance(x, str) or not x.strip() for x in labels):
            raise ConfigError("labels must be non-empty strings")
        from .text import DEFAULT_TEMPLATES, TextEncoder, label_prototype

        if self._text_encoder is None:
            tok = (self.bundle.files[ref.tokenizer_file] if ref.tokenizer_file is not None
                   else None)
            self._text_encoder = TextEncoder(tokenizer=tok)
        templates = ref.prompt_templates or DEFAULT_TEMPLATES
        for label in labels:
            self.text[label] = label_prototype(
                self._text_encoder, label, templates, self.bundle.text_projection)
            logger.info("free-text label %r: prototype from %d prompts", label, len(templates))
