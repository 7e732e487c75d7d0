"""Named label sets: the compact vocabularies people pick from the 57 synthetic activities.

A bundle scores its ``"everyday"`` set when the caller names no labels (see
:meth:`aura_sdk.AuraModel.resolve_labels`); the other sets serve one use each. They are
defined once here (:data:`LABEL_SETS`), written by :func:`export_bundle`, and can be put into
an existing bundle with :func:`with_label_sets` without re-exporting it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from aura_sdk import ConfigError
from aura_sdk.bundle import Manifest, TrustPolicy, read_bundle

from ._rewrite import rewrite_bundle

__all__ = ["LABEL_SETS", "catalogue_label_sets", "with_label_sets"]

logger = logging.getLogger(__name__)

#: Label sets over :data:`~aura_export.DEFAULT_LABELS`. Each set that is meant to run live
#: keeps the rest states a wearer falls back to (standing, sitting), so the stream has a
#: right answer between bouts of the set's activities.
LABEL_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # a day of a typical wearer: postures, getting about, meals, screens, hygiene
    "everyday": (
        "standing", "sitting", "lying down", "walking", "running", "walking upstairs",
        "walking downstairs", "cycling", "driving a car", "eating", "drinking",
        "brushing teeth", "typing", "using a smartphone",
    ),
    # postures and getting from place to place (the classic HAR benchmark vocabulary)
    "locomotion": (
        "standing", "sitting", "lying down", "walking slowly", "walking", "walking fast",
        "jogging", "running", "walking upstairs", "walking downstairs", "cycling",
    ),
    # a workout: cardio, calisthenics, weights, rest
    "exercise": (
        "standing", "walking", "jogging", "running", "cycling", "rowing", "jumping",
        "jumping jacks", "skipping rope", "doing push-ups", "doing squats", "doing sit-ups",
        "lifting weights", "doing yoga", "boxing",
    ),
    # ball and racket games and other sports
    "sports": (
        "standing", "walking", "running", "cycling", "swimming", "playing soccer",
        "playing basketball", "playing tennis", "playing badminton", "playing table tennis",
        "playing golf", "throwing a ball", "rock climbing", "dancing",
    ),
    # chores at home
    "household": (
        "standing", "sitting", "walking", "vacuuming", "sweeping the floor", "wiping a table",
        "ironing", "washing dishes", "washing hands", "cooking", "carrying a box",
        "pushing a cart", "hammering",
    ),
    # musical instruments, and the postures they are played in
    "music": (
        "standing", "sitting", "playing guitar", "playing piano", "playing violin",
        "playing drums",
    ),
})  # fmt: skip


def catalogue_label_sets(labels: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The sets of :data:`LABEL_SETS` whose every label is in ``labels``.

    A set that a vocabulary covers only in part is left out (a half "everyday" would
    mislead), and logged.
    """
    have = set(labels)
    out = {name: labels_ for name, labels_ in LABEL_SETS.items() if have.issuperset(labels_)}
    left = sorted(set(LABEL_SETS) - set(out))
    if left:
        logger.info("label sets %s left out: the vocabulary lacks some of their labels", left)
    return out


def with_label_sets(
    bundle: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    label_sets: Mapping[str, Sequence[str]] | None = None,
    *,
    trust: TrustPolicy | None = None,
    signing_key: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Manifest:
    """Write a copy of a bundle whose manifest holds new label sets, everything else the same.

    The encoders (with their features output and placement input), prototypes, model card,
    text files, scoring, provenance, metrics and creation time are carried over (a set's own
    rejection bounds only while the set keeps exactly its labels); the manifest
    is written again by :func:`aura_sdk.bundle.write_bundle` (new file table, full read-back
    check). The source's signature covers its old manifest, so the copy is unsigned unless
    ``signing_key`` signs it.

    Args:
        bundle: the source bundle (directory or ``.aura``); every file's hash is checked.
        out_path: where to write the copy (``.aura`` for a zip); may equal ``bundle`` with
            ``overwrite`` (the source is read whole first, the copy moved in atomically).
        label_sets: the new sets (replacing the old ones); ``None`` for the sets of
            :data:`LABEL_SETS` the bundle's labels cover (:func:`catalogue_label_sets`);
            ``{}`` for none.
        trust: signature policy for reading the source (default: ``"off"``, since the
            signature is replaced anyway; pass one to refuse a source of unknown origin).
        signing_key: an Ed25519 PEM private key to sign the copy with.
        overwrite: replace an existing ``out_path``.

    Returns:
        The copy's manifest.

    Raises:
        BundleError: the source is refused, or the copy fails its read-back check.
        ConfigError: a set names a label the bundle has no prototype for, a bad set name,
            or ``out_path`` exists and ``overwrite`` is false.
    """
    src = read_bundle(bundle, trust if trust is not None else TrustPolicy(mode="off"))
    m = src.manifest
    sets = (catalogue_label_sets(src.labels) if label_sets is None
            else {k: tuple(v) for k, v in label_sets.items()})
    for name, labels in sets.items():
        strangers = [x for x in labels if x not in src.labels]
        if strangers:
            raise ConfigError(f"label set {name!r} names {strangers}, which {src.path} has no "
                              "prototype for; a label set may only name the bundle's labels")
    # a set's fitted rejection holds for exactly the labels it was fitted among
    kept = {k: r for k, r in m.scoring.label_sets.items()
            if k in sets and sets[k] == m.label_sets.get(k)}
    scoring = m.scoring.model_copy(update={"label_sets": kept})
    return rewrite_bundle(src, out_path, scoring=scoring, label_sets=sets,
                          signing_key=signing_key, overwrite=overwrite)
