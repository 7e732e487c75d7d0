"""Fit a bundle's unknown rejection again on new validation windows, everything else the same.

Rejection bounds are measured quantities (:mod:`aura_export._scoring`): they depend on the
validation windows, the label sets and the rule that fits them, not on training. When any of
those changes (more validation windows, a corpus of the wearer's own device, label sets given
their own bounds), the encoders and prototypes need not be rebuilt: :func:`rescore_bundle`
runs the bundle's fp32 encoder, the one :func:`aura_sdk.load_bundle` runs by default, on the
windows, fits the bounds with :func:`choose_scoring` and writes a copy whose manifest carries
them, the ``scoring.*`` metrics that go with them and a ``rescore`` provenance entry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import JsonValue

from aura_sdk import ConfigError
from aura_sdk.bundle import Manifest, TrustPolicy, read_bundle

from ._model_card import set_rejection_lines
from ._onnx_export import run_encoder
from ._rewrite import rewrite_bundle
from ._scoring import ScoringChoice, choose_scoring
from ._windows import WindowSet

__all__ = ["RescoreResult", "rescore_bundle"]

_SCORING_SECTION = re.compile(r"## Scoring\n.*?(?=\n## |\Z)", re.S)


@dataclass(frozen=True)
class RescoreResult:
    """What :func:`rescore_bundle` wrote.

    Attributes:
        manifest: the copy's manifest.
        scoring: the fitted parameters and what they do on the validation windows.
        previous: the source's scoring metrics (``scoring.*``), for comparison.
    """

    manifest: Manifest
    scoring: ScoringChoice
    previous: dict[str, float]


def _card_section(choice: ScoringChoice, source: str, when: str) -> str:
    lines = ["## Scoring", "",
             f"- Unknown rejection fitted again on {when} (`aura export --rescore`) from "
             f"{choice.n_windows} validation windows of {source}: threshold "
             f"{choice.spec.unknown_threshold:.4f} and margin {choice.spec.unknown_margin:.4f}, "
             f"keeping {choice.kept_correct:.3f} of the correct ones."
             if choice.kept_correct is not None else
             f"- Unknown rejection: none ({choice.source})."]
    return "\n".join([*lines, *set_rejection_lines(choice)]) + "\n"


def rescore_bundle(
    bundle: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    validation: WindowSet,
    *,
    keep: float = 0.95,
    version: str | None = None,
    trust: TrustPolicy | None = None,
    signing_key: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> RescoreResult:
    """Write a copy of ``bundle`` with its unknown rejection fitted on ``validation``.

    The fit keeps ``keep`` of the correctly classified windows, for all labels and for each
    declared label set among its own labels (:func:`choose_scoring`). The temperature, the
    encoders, prototypes, label sets, text files and the creation time are carried over; the
    model card's scoring section is written again. The source's signature covers its old
    manifest, so the copy is unsigned unless ``signing_key`` signs it.

    Args:
        bundle: the source bundle (directory or ``.aura``).
        out_path: where to write the copy; may equal ``bundle`` with ``overwrite``.
        validation: labelled windows, preprocessed with the bundle's input spec (e.g.
            :func:`corpus_windows` of a corpus's ``val`` split); windows whose label the
            bundle has no prototype for are ignored.
        keep: fraction of correct windows the bounds must keep, in (0, 1].
        version: the copy's version (default: the source's).
        trust: signature policy for reading the source (default ``"off"``).
        signing_key: an Ed25519 PEM private key to sign the copy with.
        overwrite: replace an existing ``out_path``.

    Raises:
        ConfigError: ``validation`` has no labels or the wrong window shape, too few of its
            windows are classified correctly to fit anything, or ``out_path`` exists.
        BundleError: the source is refused, or the copy fails its read-back check.
    """
    src = read_bundle(bundle, trust if trust is not None else TrustPolicy(mode="off"))
    m = src.manifest
    if validation.labels is None:
        raise ConfigError("rescoring needs labelled validation windows")
    shape = tuple(m.encoder.window_shape)
    if tuple(validation.x.shape[1:]) != shape:
        raise ConfigError(f"validation windows are {tuple(validation.x.shape[1:])}, the bundle "
                          f"reads {shape}: preprocess them with its input spec")
    ids = (validation.placement_ids(m.encoder.placements)
           if m.encoder.placement_name is not None else None)
    emb = run_encoder(src.encoder_bytes("fp32"), validation.x, placement=ids)
    choice = choose_scoring(m.scoring.temperature, emb, validation.labels, src.prototypes,
                            keep=keep, label_sets=m.label_sets)
    if choice.source != "validation":
        raise ConfigError(f"{validation.source}: {choice.source}; the bundle's rejection is "
                          "left as it was. Give more windows of the bundle's labels")
    previous = {k: v for k, v in m.metrics.items() if k.startswith("scoring.")}
    metrics = {**{k: v for k, v in m.metrics.items() if not k.startswith("scoring.")},
               **choice.as_metrics()}
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    rescore: dict[str, JsonValue] = {"validation": validation.source,
                                     "windows": choice.n_windows, "keep": keep, "date": when,
                                     "from_version": m.version}
    training: dict[str, JsonValue] = {**m.training, "rescore": rescore}
    card = src.model_card
    section = _card_section(choice, validation.source, when)
    card = (_SCORING_SECTION.sub(lambda _: section, card, count=1)
            if _SCORING_SECTION.search(card) else card.rstrip("\n") + "\n\n" + section)
    manifest = rewrite_bundle(src, out_path, version=version or m.version,
                              scoring=choice.spec, model_card=card, training=training,
                              metrics=metrics, signing_key=signing_key, overwrite=overwrite)
    return RescoreResult(manifest, choice, previous)
