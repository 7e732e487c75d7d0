"""The onnxruntime boundary: check an encoder against its manifest, and open sessions.

Only onnxruntime is used here (the ``onnx`` package is not installed on devices). Every
onnxruntime exception is translated at this boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import BackendError, BundleCompatibilityError, BundleError, BundleFormatError
from .._spec import CHANNELS

__all__ = ["ProviderSpec", "check_encoder", "make_session"]

#: An onnxruntime execution provider: its name, or ``(name, options)``.
ProviderSpec = str | tuple[str, dict[str, Any]]

_INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
_OUTPUT_TYPES = ("tensor(float)", "tensor(float16)")


def _ort() -> Any:
    import onnxruntime

    return onnxruntime


def _ort_errors() -> tuple[type[BaseException], ...]:
    """onnxruntime's own exception types (they derive from Exception only) plus builtins."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    own = tuple(
        obj for obj in vars(state).values()
        if isinstance(obj, type) and issubclass(obj, Exception)
    )
    return (*own, RuntimeError, ValueError, TypeError, OSError)


def make_session(
    model: bytes,
    providers: Sequence[ProviderSpec] = ("CPUExecutionProvider",),
    options: Any = None,
    *,
    what: str = "the encoder",
) -> Any:
    """Create an ``onnxruntime.InferenceSession`` from model bytes.

    Args:
        model: the ONNX model bytes.
        providers: execution providers in priority order; each must be available.
        options: an ``onnxruntime.SessionOptions`` or ``None``.
        what: names the model in error messages.

    Raises:
        BackendError: a provider is not available in this onnxruntime build, or onnxruntime
            refused to create the session.
    """
    ort = _ort()
    available = list(ort.get_available_providers())
    names = [p if isinstance(p, str) else p[0] for p in providers]
    if not names:
        raise BackendError(f"no execution provider given for {what}; available: {available}")
    missing = [n for n in names if n not in available]
    if missing:
        raise BackendError(
            f"execution provider(s) {missing} are not available in this onnxruntime build "
            f"(available: {available}); install the matching onnxruntime package "
            "(e.g. onnxruntime-gpu for CUDAExecutionProvider) or choose another provider"
        )
    try:
        return ort.InferenceSession(model, sess_options=options, providers=list(providers))
    except _ort_errors() as exc:
        raise BackendError(
            f"onnxruntime could not create a session for {what} with providers {names}: {exc}"
        ) from exc


def _shape_str(shape: Sequence[Any]) -> str:
    return "[" + ", ".join(str(d) if d is not None else "?" for d in shape) + "]"


def check_encoder(
    model: bytes,
    *,
    file: str,
    path: str | None,
    window_samples: int,
    embedding_dim: int,
    input_name: str,
    output_name: str,
    features_name: str | None = None,
    features_dim: int | None = None,
    placement_name: str | None = None,
    n_placements: int = 0,
) -> list[BundleError]:
    """Check an encoder's ONNX signature against the manifest and run it on one probe window.

    The batch axis may be dynamic (or fixed); the window axis and channel axis must be the
    fixed ``window_samples`` and 6, and the output must be ``[batch, embedding_dim]``. An
    encoder with a placement input (``placement_name``) takes it as int64 ``[batch]`` and is
    probed with every id from 0 ("not said") to ``n_placements``.

    Returns:
        Every defect found (empty when the encoder fits the manifest).
    """
    ort = _ort()
    where: dict[str, Any] = {"path": path, "file": file}
    fix = (f"export the encoder for a [batch, {window_samples}, {len(CHANNELS)}] input and a "
           f"[batch, {embedding_dim}] output, or correct manifest.json to match the encoder")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: inspection must not spam the console
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(model, sess_options=options,
                                       providers=["CPUExecutionProvider"])
    except _ort_errors() as exc:
        return [BundleFormatError(
            f"is not an ONNX model onnxruntime can load ({type(exc).__name__}: {exc}); "
            "re-export the encoder", **where)]
    defects: list[BundleError] = []
    inputs, outputs = session.get_inputs(), session.get_outputs()
    want_in = ["batch", window_samples, len(CHANNELS)]
    declared = [input_name] if placement_name is None else [input_name, placement_name]
    if sorted(i.name for i in inputs) != sorted(declared):
        defects.append(BundleCompatibilityError(
            f"has inputs {[i.name for i in inputs]}, but manifest.json declares the inputs "
            f"{declared}; {fix}", **where))
        return defects
    if placement_name is not None:
        pin = next(i for i in inputs if i.name == placement_name)
        pshape = list(pin.shape)
        if pin.type != "tensor(int64)" or len(pshape) != 1:
            defects.append(BundleCompatibilityError(
                f"placement input {placement_name!r} is {pin.type} {_shape_str(pshape)}; it "
                "must be tensor(int64) [batch]; re-export the encoder", **where))
            return defects
        inputs = [i for i in inputs if i.name == input_name]
    shape = list(inputs[0].shape)
    dims_ok = (len(shape) == 3 and shape[1] == window_samples and shape[2] == len(CHANNELS)
               and (not isinstance(shape[0], int) or shape[0] >= 1))
    if not dims_ok:
        defects.append(BundleCompatibilityError(
            f"input {input_name!r} has shape {_shape_str(shape)}, but manifest.json declares "
            f"{_shape_str(want_in)} (window_samples={window_samples}); {fix}", **where))
    dtype = _INPUT_DTYPES.get(inputs[0].type)
    if dtype is None:
        defects.append(BundleCompatibilityError(
            f"input {input_name!r} has type {inputs[0].type}; the encoder must take float or "
            "float16 samples", **where))
    by_name = {o.name: o for o in outputs}
    out = by_name.get(output_name)
    if out is None:
        defects.append(BundleCompatibilityError(
            f"has no output {output_name!r} (outputs: {sorted(by_name)}); {fix}", **where))
    else:
        oshape = list(out.shape)
        static_dim = len(oshape) == 2 and isinstance(oshape[1], int)
        if len(oshape) != 2 or (static_dim and oshape[1] != embedding_dim):
            defects.append(BundleCompatibilityError(
                f"output {output_name!r} has shape {_shape_str(oshape)}, but manifest.json "
                f"declares [batch, {embedding_dim}] (embedding_dim={embedding_dim}); {fix}",
                **where))
        elif out.type not in _OUTPUT_TYPES:
            defects.append(BundleCompatibilityError(
                f"output {output_name!r} has type {out.type}; embeddings must be float or "
                "float16", **where))
    if features_name is not None:
        feat = by_name.get(features_name)
        fshape = [] if feat is None else list(feat.shape)
        if feat is None:
            defects.append(BundleCompatibilityError(
                f"has no output {features_name!r} (outputs: {sorted(by_name)}), which "
                "manifest.json declares as encoder.features_name; re-export the bundle, or drop "
                "features_name and features_dim from the manifest", **where))
        elif len(fshape) != 2 or (isinstance(fshape[1], int) and fshape[1] != features_dim):
            defects.append(BundleCompatibilityError(
                f"output {features_name!r} has shape {_shape_str(fshape)}, but manifest.json "
                f"declares [batch, {features_dim}] (features_dim); re-export the bundle",
                **where))
    if defects or dtype is None:
        return defects
    probe = np.random.default_rng(0).standard_normal((1, window_samples, len(CHANNELS)))
    feed: dict[str, Any] = {input_name: probe.astype(dtype)}
    if placement_name is not None:
        # every placement id once: a table shorter than the manifest's list fails here
        n = n_placements + 1
        feed = {input_name: np.repeat(probe, n, axis=0).astype(dtype),
                placement_name: np.arange(n, dtype=np.int64)}
    try:
        (result,) = session.run([output_name], feed)
    except _ort_errors() as exc:
        return [BundleCompatibilityError(
            f"fails on a probe window of shape [1, {window_samples}, {len(CHANNELS)}] "
            f"({type(exc).__name__}: {exc}); re-export the encoder", **where)]
    result = np.asarray(result)[:1]
    if features_name is not None:
        (feats,) = session.run([features_name], feed)
        feats = np.asarray(feats)[:1]
        if np.asarray(feats).shape != (1, features_dim):
            defects.append(BundleCompatibilityError(
                f"returns features of shape {list(np.asarray(feats).shape)} for one window, "
                f"but manifest.json declares features_dim={features_dim}; re-export the "
                "bundle", **where))
    if result.shape != (1, embedding_dim):
        defects.append(BundleCompatibilityError(
            f"returns shape {list(result.shape)} for one window, but manifest.json declares "
            f"embedding_dim={embedding_dim}; {fix}", **where))
    elif not np.isfinite(result).all():
        defects.append(BundleCompatibilityError(
            "returns NaN or infinite values for a probe window; re-export the encoder",
            **where))
    return defects
