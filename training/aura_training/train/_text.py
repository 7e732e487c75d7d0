"""The texts a run pairs windows with, embedded once by the frozen MiniLM tower.

The tower stays outside the trained module (see :mod:`aura_training.models`): before
training, every description of the train and val splits (plus label prompts if the run uses
them) is embedded once and kept as a table; batches carry row indices into it. The table is
cached in an ``.npz`` in the format of :meth:`aura_training.models.MiniLMTower.save_cache`,
so a run whose texts are all cached never loads the 90 MB tower.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from ..corpus import Sample
from ..losses import text_ids
from ..models import TEXT_DIM, load_text_tower, text_key
from ..text import Split, label_prompts

__all__ = ["TextTable", "sample_texts", "tower_identity"]

logger = logging.getLogger(__name__)


def tower_identity(max_length: int = 256) -> str:
    """The identity a MiniLM cache file records (``MiniLMTower.identity``)."""
    return f"sentence-transformers/all-MiniLM-L6-v2|max_length={max_length}"


def sample_texts(sample: Sample, label_prompt_split: Split | None = None) -> list[str]:
    """Every text a window of ``sample`` can be paired with.

    Args:
        sample: a clip.
        label_prompt_split: also the label prompts of its activities from this template
            split (``"train"``), or ``None``.
    """
    out = list(sample.texts)
    for e in sample.timeline:
        out.extend(e.texts)
        if label_prompt_split is not None and e.activity:
            out.extend(label_prompts(e.activity, label_prompt_split))
    return out


@dataclass(frozen=True)
class TextTable:
    """Distinct texts, their tower embeddings and content ids.

    Attributes:
        texts: the texts, in a fixed (sorted) order.
        embeddings: ``(n, 384)`` float32 unit vectors, row ``i`` for ``texts[i]``.
        ids: ``(n,)`` int64 content ids (:func:`aura_training.losses.text_ids`).
    """

    texts: tuple[str, ...]
    embeddings: NDArray[np.float32]
    ids: NDArray[np.int64]

    def index(self) -> dict[str, int]:
        """Text -> row."""
        return {t: i for i, t in enumerate(self.texts)}

    def tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The embeddings as a tensor on ``device``."""
        return torch.from_numpy(self.embeddings).to(device)

    @classmethod
    def build(cls, texts: Iterable[str], cache: str | os.PathLike[str] | None = None,
              *, max_length: int = 256) -> TextTable:
        """Embed ``texts`` (deduplicated), reading and updating ``cache``.

        The tower is loaded only if some text is missing from the cache.
        """
        uniq = tuple(sorted(set(texts)))
        keys = [text_key(t) for t in uniq]
        known = _read_cache(Path(cache), max_length) if cache is not None else {}
        todo = [t for t, k in zip(uniq, keys, strict=True) if k not in known]
        if todo:
            logger.info("embedding %d new texts with the frozen MiniLM tower (%d cached)",
                        len(todo), len(uniq) - len(todo))
            tower = load_text_tower(None, max_length)
            emb = tower.encode(todo).numpy()
            for t, e in zip(todo, emb, strict=True):
                known[text_key(t)] = e.astype(np.float32)
            if cache is not None:
                _write_cache(Path(cache), known, max_length)
        table = (np.stack([known[k] for k in keys]).astype(np.float32) if keys
                 else np.zeros((0, TEXT_DIM), np.float32))
        return cls(texts=uniq, embeddings=table, ids=text_ids(uniq).numpy())

    @classmethod
    def from_cache(cls, texts: Sequence[str], cache: str | os.PathLike[str],
                   *, max_length: int = 256) -> TextTable:
        """Like :meth:`build`, but every text must already be cached (no tower).

        Raises:
            KeyError: a text is not in the cache.
        """
        known = _read_cache(Path(cache), max_length)
        uniq = tuple(sorted(set(texts)))
        missing = [t for t in uniq if text_key(t) not in known]
        if missing:
            raise KeyError(f"{len(missing)} texts are not in {cache}, e.g. {missing[0]!r}")
        return cls.build(uniq, cache, max_length=max_length)


def _read_cache(path: Path, max_length: int) -> dict[str, NDArray[np.float32]]:
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as z:
            model, keys, emb = str(z["model"]), z["keys"], z["embeddings"]
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("ignoring unreadable text cache %s (%s)", path, exc)
        return {}
    if model != tower_identity(max_length) or emb.shape != (len(keys), TEXT_DIM):
        logger.warning("ignoring text cache %s: written by %r, not %r", path, model,
                       tower_identity(max_length))
        return {}
    return {str(k): np.asarray(e, dtype=np.float32) for k, e in zip(keys, emb, strict=True)}


def _write_cache(path: Path, known: dict[str, NDArray[np.float32]], max_length: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(known)
    emb = (np.stack([known[k] for k in keys]) if keys
           else np.zeros((0, TEXT_DIM), np.float32))
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, keys=np.array(keys, dtype="U40"), embeddings=emb,
                 model=np.array(tower_identity(max_length)))
    os.replace(tmp, path)
