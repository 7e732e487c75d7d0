"""A second encoder output for few-shot heads: pooled token features before the projection.

The embedding is what the contrastive loss shaped: a point in the text space, which keeps the
motion detail a text prompt can name and drops the rest. A few-shot head on the device wants
the rest too (posture, sway, cadence detail). :func:`add_feature_output` adds an output
``features`` to an exported encoder graph: the mean and the standard deviation over time of
the final (normalised) token sequence, ``(B, 2 * D_model)``. It is graph surgery on the
exported ONNX (fp32, or int8 / fp16 made from it), so the embedding output is untouched
bit for bit and the parity checks of the export still hold.

The token tensor is found by the shape of the graph the exporter writes for a CLS-token
Transformer: the last ``Gather`` on axis 1 that selects the CLS token from a ``(B, T, D)``
tensor (the projection head reads that selection). Encoders without tokens (a GRU's last
state, IMU2CLIP) expose the projection's input instead: the input of the last ``Gemm`` or
``MatMul`` before the embedding.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper

from aura_sdk.bundle import Manifest

from ._errors import ExportError
from ._onnx_export import encoder_feed, run_encoder

__all__ = ["FEATURES_NAME", "add_feature_output", "feature_agreement", "feature_source",
           "features_dim", "with_feature_output"]

#: Name of the features output in every AURA encoder graph that has one.
FEATURES_NAME = "features"


def _producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in graph.node for out in node.output}


def _axis(node: onnx.NodeProto) -> int:
    for a in node.attribute:
        if a.name == "axis":
            return int(a.i)
    return 0


def feature_source(model: onnx.ModelProto) -> tuple[str, str]:
    """``(tensor, kind)``: the tensor the features are read from, ``kind`` ``"tokens"``
    (a ``(B, T, D)`` sequence, pooled) or ``"vector"`` (a ``(B, D)`` projection input).

    Raises:
        ExportError: neither pattern is in the graph.
    """
    g = model.graph
    gathers = [n for n in g.node if n.op_type == "Gather" and _axis(n) == 1]
    if gathers:
        return gathers[-1].input[0], "tokens"
    producers = _producers(g)
    # walk back from the output through the normalisation to the projection
    seen: set[str] = set()
    frontier = [o.name for o in g.output[:1]]
    while frontier:
        name = frontier.pop()
        node = producers.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if node.op_type in ("Gemm", "MatMul", "MatMulInteger"):
            return node.input[0], "vector"
        frontier.extend(node.input)
    raise ExportError("cannot find the encoder's pre-projection tensor (no CLS-token Gather and "
                      "no projection Gemm/MatMul before the output); export the encoder with "
                      "features=False")


def _opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 0


def add_feature_output(model_bytes: bytes) -> bytes:
    """Return the encoder graph with a second output :data:`FEATURES_NAME`.

    The embedding output and every existing node are kept unchanged; new nodes only read.

    Raises:
        ExportError: the graph already has the output, or its feature source is not found.
    """
    model = onnx.load_from_string(model_bytes)
    g = model.graph
    if any(o.name == FEATURES_NAME for o in g.output):
        raise ExportError(f"the encoder already has an output {FEATURES_NAME!r}")
    src, kind = feature_source(model)
    # the source's element type (float16 in an fp16 graph, whose value_info the conversion
    # clears): the new nodes and the output follow it
    elem = TensorProto.FLOAT
    typed = onnx.shape_inference.infer_shapes(model).graph
    for vi in [*typed.value_info, *typed.output]:
        if vi.name == src and vi.type.tensor_type.elem_type:
            elem = vi.type.tensor_type.elem_type
    p = "aura_features/"
    if kind == "vector":
        g.node.append(helper.make_node("Identity", [src], [FEATURES_NAME], name=p + "out"))
    else:
        # mean and population std over the token axis; ReduceMean takes axes as an input
        # from opset 18 and as an attribute before it
        def reduce(inp: str, out: str) -> onnx.NodeProto:
            if _opset(model) >= 18:
                return helper.make_node("ReduceMean", [inp, p + "axes"], [out], keepdims=0,
                                        name=p + out.rsplit("/", 1)[-1])
            return helper.make_node("ReduceMean", [inp], [out], axes=[1], keepdims=0,
                                    name=p + out.rsplit("/", 1)[-1])

        g.initializer.append(helper.make_tensor(p + "axes", TensorProto.INT64, [1], [1]))
        g.initializer.append(helper.make_tensor(p + "zero", elem, [], [0.0]))
        g.node.extend([
            reduce(src, p + "mean"),
            helper.make_node("Mul", [src, src], [p + "sq"], name=p + "sq"),
            reduce(p + "sq", p + "mean_sq"),
            helper.make_node("Mul", [p + "mean", p + "mean"], [p + "sq_mean"], name=p + "sqm"),
            helper.make_node("Sub", [p + "mean_sq", p + "sq_mean"], [p + "var"], name=p + "var"),
            helper.make_node("Max", [p + "var", p + "zero"], [p + "var0"], name=p + "var0"),
            helper.make_node("Sqrt", [p + "var0"], [p + "std"], name=p + "std"),
            helper.make_node("Concat", [p + "mean", p + "std"], [FEATURES_NAME], axis=1,
                             name=p + "out"),
        ])
    g.output.append(helper.make_tensor_value_info(FEATURES_NAME, elem, ["batch", None]))
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        onnx.checker.check_model(inferred)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"the encoder with a features output fails the ONNX checker: "
                          f"{exc}") from exc
    return model.SerializeToString()


def feature_agreement(reference: bytes, other: bytes, windows: npt.ArrayLike,
                      placement: npt.ArrayLike | None = None) -> float:
    """Smallest cosine between two encoders' features outputs on ``windows`` (e.g. int8 vs
    fp32 of the same model).

    Args:
        reference: the reference encoder's ONNX bytes (with the features output).
        other: the other encoder's.
        windows: ``(N, W, 6)`` preprocessed windows.
        placement: ``(N,)`` placement ids for encoders with a placement input (default: all
            0, not said).

    Raises:
        ExportError: onnxruntime cannot load or run either graph.
    """
    a, b = (np.asarray(run_encoder(blob, windows, placement=placement, output=FEATURES_NAME),
                       dtype=np.float64) for blob in (reference, other))
    cos = (a * b).sum(axis=1) / np.maximum(
        np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return float(cos.min())


def with_feature_output(
    bundle: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    version: str | None = None,
    min_cosine: float = 0.995,
    signing_key: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Manifest:
    """Copy a bundle, adding the :data:`FEATURES_NAME` output to every encoder.

    Everything else is carried over (prototypes, scoring, label sets, provenance, metrics,
    creation time, the placement input); the embedding output is unchanged bit for bit. The
    features of every other precision must agree with fp32's at cosine ``min_cosine`` or
    better on seeded synthetic windows (run under every placement id in turn, for an encoder
    with a placement input), and the figure is recorded in the metrics
    (``agreement.<precision>.features_cosine_min``).

    Raises:
        ExportError: the encoders have no recognisable feature source, or already have it.
        ParityError: another precision's features disagree with fp32's.
        BundleError: the source is refused or the copy fails its read-back check.
    """
    from aura_sdk.bundle import TrustPolicy, read_bundle, write_bundle

    from ._errors import ParityError
    from ._windows import synthetic_windows

    src = read_bundle(bundle, TrustPolicy(mode="off"))
    m = src.manifest
    encoders = {p: add_feature_output(src.encoder_bytes(p)) for p in m.encoder.files.as_dict()}
    probe = synthetic_windows(m.input, clips_per_activity=1, seed=0).x[:256]
    ids = np.arange(len(probe), dtype=np.int64) % (len(m.encoder.placements) + 1)
    metrics = dict(m.metrics)
    for p, blob in encoders.items():
        if p == "fp32":
            continue
        cos = feature_agreement(encoders["fp32"], blob, probe, placement=ids)
        metrics[f"agreement.{p}.features_cosine_min"] = cos
        if cos < min_cosine:
            raise ParityError(f"{p} features agree with fp32 at cosine {cos:.5f} only (needed "
                              f"{min_cosine})", precision=p, measure="features_cosine_min",
                              value=cos, tolerance=min_cosine)
    sess_dim = features_dim(encoders["fp32"])
    own = {*m.encoder.files.as_dict().values(), m.prototypes_file, m.model_card}
    extras = {name: data for name, data in src.files.items() if name not in own}
    return write_bundle(
        Path(out_path), name=m.name, version=version or m.version, input_spec=m.input,
        encoders=encoders, prototypes=src.prototypes, scoring=m.scoring,
        model_card=src.model_card, input_name=m.encoder.input_name,
        output_name=m.encoder.output_name, features=(FEATURES_NAME, sess_dim),
        placement_name=m.encoder.placement_name, placements=m.encoder.placements,
        text_encoder=m.text_encoder, files=extras, producer=m.producer, training=m.training,
        metrics=metrics, label_sets=m.label_sets, created=m.created,
        signing_key=signing_key, overwrite=overwrite)


def features_dim(blob: bytes) -> int:
    """Width of the features output, measured on one zero window (placement not said)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    window = next(i for i in sess.get_inputs() if i.type != "tensor(int64)")
    feed = encoder_feed(sess, np.zeros((1, *window.shape[1:]), np.float32))
    (f,) = sess.run([FEATURES_NAME], feed)
    return int(np.asarray(f).shape[1])
