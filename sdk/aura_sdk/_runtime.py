"""The encoder's runtime: which backend runs the bundle's graph, and running it.

:class:`EncoderRuntime` opens the bundle's encoder with onnxruntime (CPU, CUDA, ... through
:func:`~aura_sdk.backends.select_providers`) or TensorRT, and runs preprocessed windows
through it in bounded batches: raw embeddings and, where the bundle exports one, the
few-shot head's features output. What the outputs mean (unit vectors, scores, labels) is
:class:`~aura_sdk.AuraModel`'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ._errors import BackendError, ConfigError
from ._spec import check_placement
from .backends import DeviceName, select_providers, tensorrt_available
from .bundle import Bundle

__all__ = ["Backend", "EncoderRuntime", "Precision"]

F32 = npt.NDArray[np.float32]
Precision = Literal["auto", "fp32", "fp16", "int8"]
Backend = Literal["auto", "onnxruntime", "tensorrt"]
#: windows per encoder call
BATCH = 64


class EncoderRuntime:
    """A bundle's encoder, opened on a backend.

    Args:
        bundle: a validated bundle.
        precision, device, backend, providers, threads: see :func:`aura_sdk.load_bundle`.
        cache_dir: where TensorRT engines are cached.
        features: also run the bundle's features output (when it has one).

    Raises:
        ConfigError: unknown backend, or ``threads < 1``.
        BackendError: the backend could not open the graph.
    """

    def __init__(self, bundle: Bundle, *, precision: Precision, device: DeviceName,
                 backend: Backend, providers: Sequence[Any] | None, threads: int | None,
                 cache_dir: Path, features: bool) -> None:
        manifest = bundle.manifest
        enc = manifest.encoder
        if precision == "auto":  # fp32 runs the shipped student faster (see load_bundle)
            precision = "fp32" if "fp32" in bundle.precisions else bundle.precisions[0]
        self.precision: Precision = precision
        self.input_name = enc.input_name
        self.output_name = enc.output_name
        self.placement_name = enc.placement_name
        #: the features output this runtime runs (``None``: the bundle has none, or not asked)
        self.features_name = enc.features_name if features else None
        self._encoder = enc
        self._placement_ids: dict[str | None, int] = {}
        self._trt: Any = None
        self._session: Any = None
        use_trt = backend == "tensorrt" or (
            backend == "auto" and device in ("auto", "tensorrt") and providers is None
            and tensorrt_available())
        if use_trt:
            from .backends import TensorRTEngine

            # engines are built from the fp32 graph; TensorRT picks fp16 kernels itself
            self._trt = TensorRTEngine(
                bundle.encoder_bytes("fp32"), manifest.input.window_samples, cache_dir,
                precision="fp32" if precision == "fp32" else "fp16",
                placement_name=enc.placement_name)
            self.backend = "tensorrt"
            self.providers: list[Any] = []
            return
        if backend not in ("auto", "onnxruntime"):
            raise ConfigError(f"unknown backend {backend!r}; use auto, onnxruntime or "
                              "tensorrt")
        self.providers = list(providers) if providers is not None else select_providers(
            device, cache_dir=cache_dir, fp16=precision == "fp16")
        options = None
        if threads is not None:
            if threads < 1:
                raise ConfigError(f"threads must be >= 1 (or None for onnxruntime's "
                                  f"default), got {threads}")
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = int(threads)
        self._session = bundle.create_session(precision, self.providers, options)
        self.backend = "onnxruntime"

    def placement_ids(self, names: Sequence[str | None]) -> npt.NDArray[np.int64]:
        """The placement input of windows worn at ``names`` (one per window); a placement
        the encoder does not know reads as "not said" (0).

        Raises:
            ConfigError: a name outside ``SensorSpec.PLACEMENTS``.
        """
        known = self._placement_ids  # names checked before (a live stream asks every window)
        for p in set(names) - known.keys():
            known[p] = self._encoder.placement_id(check_placement(p, upright_ok=True))
        return np.array([known[p] for p in names], dtype=np.int64)

    def run(self, x: F32, ids: npt.NDArray[np.int64], features: bool = True
            ) -> tuple[F32, F32 | None]:
        """Raw embeddings ``(N, D)`` of windows ``x`` ``(N, W, 6)`` (contiguous float32) at
        placements ``ids``, and, with ``features``, the features output ``(N, F)`` when this
        runtime runs it (``None`` otherwise). No window: ``(0, 0)`` embeddings.

        Raises:
            BackendError: the backend failed.
        """
        want = [self.output_name]
        if features and self.features_name is not None:
            want.append(self.features_name)
        outs: list[list[F32]] = [[] for _ in want]
        for i in range(0, x.shape[0], BATCH):
            part = x[i : i + BATCH]
            if self._trt is not None:
                got = self._trt.run_outputs(part, want, ids[i : i + BATCH])
            else:
                feed: dict[str, Any] = {self.input_name: part}
                if self.placement_name is not None:
                    feed[self.placement_name] = ids[i : i + BATCH]
                try:
                    got = self._session.run(want, feed)
                except Exception as exc:  # onnxruntime raises its own non-AuraError types
                    raise BackendError(
                        f"the encoder failed on a batch of windows: {exc}") from exc
            for acc, y in zip(outs, got, strict=True):
                acc.append(np.asarray(y, dtype=np.float32))
        emb = _joined(outs[0]) if outs[0] else np.empty((0, 0), np.float32)
        feats = _joined(outs[1]) if len(want) > 1 and outs[1] else None
        return emb, feats


def _joined(parts: list[F32]) -> F32:
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
