"""A native TensorRT engine for the IMU encoder, built on the device from the bundle's ONNX.

Written against TensorRT's Python API (10.x) and pycuda. TensorRT engines are specific to the
GPU and TensorRT version that built them, so they are built on the target device and cached
beside the bundle under a key of (TensorRT version, GPU name, compute capability, precision,
sha256 of the ONNX); a timing cache speeds up rebuilds. The window shape is fixed (dynamic
shapes trigger rebuilds); only the batch dimension varies, within an optimisation profile.

TensorRT cannot be installed on every machine (its libraries come from NVIDIA's own index):
everything here imports it lazily and raises :class:`~aura_sdk.MissingExtraError` (extra
``tensorrt``) where it is absent.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._errors import BackendError, MissingExtraError

__all__ = ["TensorRTEngine", "engine_cache_key", "tensorrt_available"]

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]


def tensorrt_available() -> bool:
    """Whether TensorRT's Python API and pycuda import here."""
    try:
        import pycuda.driver  # noqa: F401
        import tensorrt  # noqa: F401
    except Exception:  # ImportError, or a CUDA driver that fails to load
        return False
    return True


def _import() -> tuple[Any, Any]:
    try:
        import pycuda.autoinit  # noqa: F401  (creates the CUDA context)
        import pycuda.driver as cuda
        import tensorrt as trt
    except ImportError as exc:
        raise MissingExtraError("tensorrt", "the native TensorRT backend",
                                exc.name or "tensorrt") from exc
    return trt, cuda


def engine_cache_key(onnx: bytes, trt_version: str, gpu_name: str, capability: tuple[int, int],
                     precision: str, max_batch: int) -> str:
    """The file name of a cached engine: one per model, TensorRT version, GPU and precision."""
    h = hashlib.sha256(onnx).hexdigest()[:16]
    gpu = "".join(c if c.isalnum() else "-" for c in gpu_name)[:40]
    return (f"encoder-{h}-trt{trt_version}-{gpu}-sm{capability[0]}{capability[1]}-"
            f"{precision}-b{max_batch}.engine")


class TensorRTEngine:
    """Build (or load from cache) and run a TensorRT engine of an IMU encoder.

    Args:
        onnx: the encoder's ONNX bytes (input ``[batch, window, 6]``, output ``[batch, D]``).
        window_samples: the fixed window length.
        cache_dir: where engines and the timing cache live (beside the bundle).
        precision: ``"fp32"`` or ``"fp16"`` (LayerNorm kept in fp32 by TensorRT's
            normalization-layer precision setting).
        max_batch: largest batch the optimisation profile covers.
        placement_name: the encoder's placement input (int64 ``[batch]``), if it has one.

    Raises:
        MissingExtraError: TensorRT or pycuda is not installed.
        BackendError: the ONNX does not parse, or the build fails.
    """

    def __init__(self, onnx: bytes, window_samples: int, cache_dir: str | os.PathLike[str],
                 *, precision: Literal["fp32", "fp16"] = "fp16", max_batch: int = 64,
                 placement_name: str | None = None) -> None:
        trt, cuda = _import()
        self._trt, self._cuda = trt, cuda
        dev = cuda.Device(0)
        key = engine_cache_key(onnx, trt.__version__, dev.name(), dev.compute_capability(),
                               precision, max_batch)
        cache = Path(cache_dir)
        cache.mkdir(parents=True, exist_ok=True)
        self.engine_path = cache / key
        self.window = window_samples
        self.max_batch = max_batch
        self.placement_name = placement_name
        trt_logger = trt.Logger(trt.Logger.WARNING)
        runtime = trt.Runtime(trt_logger)
        blob = self.engine_path.read_bytes() if self.engine_path.is_file() else None
        if blob is None:
            blob = self._build(trt, trt_logger, onnx, precision, cache / "timing.cache")
            tmp = self.engine_path.with_suffix(".tmp")
            tmp.write_bytes(blob)
            tmp.replace(self.engine_path)
            logger.info("built TensorRT engine %s", self.engine_path)
        self.engine = runtime.deserialize_cuda_engine(blob)
        if self.engine is None:
            raise BackendError(f"TensorRT could not load {self.engine_path}; delete it to "
                               "rebuild")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names
                  if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if n not in inputs]
        self._in = next(n for n in inputs if n != placement_name)
        self._out = outputs[0]
        self._widths = {n: int(self.engine.get_tensor_shape(n)[-1]) for n in outputs}
        self.dim = self._widths[self._out]
        self._stream = cuda.Stream()

    def _build(self, trt: Any, trt_logger: Any, onnx: bytes, precision: str,
               timing_path: Path) -> bytes:
        builder = trt.Builder(trt_logger)
        network = builder.create_network(0)  # explicit batch is the only mode in TRT 10
        parser = trt.OnnxParser(network, trt_logger)
        if not parser.parse(onnx):
            errs = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise BackendError(f"TensorRT cannot parse the encoder ONNX: {errs}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 30)
        if precision == "fp16":
            config.set_flag(trt.BuilderFlag.FP16)
            # keep normalisation layers in fp32: fp16 LayerNorm loses accuracy on long windows
            for i in range(network.num_layers):
                layer = network.get_layer(i)
                if layer.type == trt.LayerType.NORMALIZATION:
                    layer.precision = trt.float32
            config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
        timing = config.create_timing_cache(timing_path.read_bytes()
                                            if timing_path.is_file() else b"")
        config.set_timing_cache(timing, ignore_mismatch=True)
        profile = builder.create_optimization_profile()
        shape = (self.window, 6)
        opt = min(8, self.max_batch)
        for k in range(network.num_inputs):
            name = network.get_input(k).name
            if name == self.placement_name:
                profile.set_shape(name, (1,), (opt,), (self.max_batch,))
            else:
                profile.set_shape(name, (1, *shape), (opt, *shape), (self.max_batch, *shape))
        config.add_optimization_profile(profile)
        blob = builder.build_serialized_network(network, config)
        if blob is None:
            raise BackendError("TensorRT failed to build the encoder engine")
        timing_path.write_bytes(memoryview(config.get_timing_cache().serialize()))
        return bytes(blob)

    def run(self, x: npt.ArrayLike, placement: npt.ArrayLike | None = None) -> F32:
        """Encode windows ``(N, window, 6)`` float32 -> ``(N, D)``, in chunks of max_batch."""
        return self.run_outputs(x, [self._out], placement)[0]

    def run_outputs(self, x: npt.ArrayLike, names: list[str],
                    placement: npt.ArrayLike | None = None) -> list[F32]:
        """Encode windows and return the named outputs (e.g. ``embedding``, ``features``).

        ``placement``: ``(N,)`` int64 ids for an engine with a placement input (``None``:
        "not said", 0, for every window).

        Raises:
            BackendError: an unknown output name, or execution failed.
        """
        unknown = [n for n in names if n not in self._widths]
        if unknown:
            raise BackendError(f"the TensorRT engine has no outputs {unknown}; it has "
                               f"{sorted(self._widths)}")
        cuda = self._cuda
        arr = np.ascontiguousarray(x, dtype=np.float32)
        ids = (np.zeros(arr.shape[0], np.int64) if placement is None
               else np.ascontiguousarray(placement, dtype=np.int64))
        outs = {n: np.empty((arr.shape[0], self._widths[n]), np.float32) for n in self._widths}
        for i in range(0, arr.shape[0], self.max_batch):
            part = arr[i: i + self.max_batch]
            res = {n: np.empty((part.shape[0], w), np.float32) for n, w in self._widths.items()}
            d_in = cuda.mem_alloc(part.nbytes)
            d_out = {n: cuda.mem_alloc(r.nbytes) for n, r in res.items()}
            self.context.set_input_shape(self._in, part.shape)
            self.context.set_tensor_address(self._in, int(d_in))
            if self.placement_name is not None:
                pid = ids[i: i + self.max_batch]
                d_pid = cuda.mem_alloc(pid.nbytes)
                self.context.set_input_shape(self.placement_name, pid.shape)
                self.context.set_tensor_address(self.placement_name, int(d_pid))
                cuda.memcpy_htod_async(d_pid, pid, self._stream)
            for n, d in d_out.items():  # every output needs an address, wanted or not
                self.context.set_tensor_address(n, int(d))
            cuda.memcpy_htod_async(d_in, part, self._stream)
            if not self.context.execute_async_v3(self._stream.handle):
                raise BackendError("TensorRT execution failed")
            for n, r in res.items():
                cuda.memcpy_dtoh_async(r, d_out[n], self._stream)
            self._stream.synchronize()
            for n, r in res.items():
                outs[n][i: i + part.shape[0]] = r
        return [outs[n] for n in names]
