"""Write a copy of a read bundle with some manifest fields replaced, everything else the same."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aura_sdk.bundle import Bundle, Manifest, write_bundle

__all__ = ["rewrite_bundle"]


def rewrite_bundle(src: Bundle, out_path: str | os.PathLike[str], *,
                   signing_key: str | os.PathLike[str] | None = None, overwrite: bool = False,
                   **changes: Any) -> Manifest:
    """Write ``src`` again through :func:`aura_sdk.bundle.write_bundle` (new file table, full
    read-back check): its encoders (with their features output and placement input),
    prototypes, model card, text files, scoring, provenance, metrics, label sets and creation
    time, each replaced where ``changes`` names it by its ``write_bundle`` argument
    (``scoring=``, ``label_sets=``, ``version=``, ``model_card=``, ...). The source's
    signature covers its old manifest, so the copy is unsigned unless ``signing_key`` signs it.
    """
    m = src.manifest
    encoders = m.encoder.files.as_dict()
    own = {*encoders.values(), m.prototypes_file, m.model_card}
    fields: dict[str, Any] = dict(
        name=m.name, version=m.version, input_spec=m.input,
        encoders={p: src.encoder_bytes(p) for p in encoders}, prototypes=src.prototypes,
        scoring=m.scoring, model_card=src.model_card, input_name=m.encoder.input_name,
        output_name=m.encoder.output_name, features=(
            None if m.encoder.features_name is None or m.encoder.features_dim is None
            else (m.encoder.features_name, m.encoder.features_dim)),
        placement_name=m.encoder.placement_name, placements=m.encoder.placements,
        text_encoder=m.text_encoder,
        files={name: data for name, data in src.files.items() if name not in own},
        producer=m.producer, training=m.training, metrics=m.metrics, label_sets=m.label_sets,
        created=m.created)
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise TypeError(f"rewrite_bundle cannot change {unknown}")
    fields.update(changes)
    return write_bundle(Path(out_path), signing_key=signing_key, overwrite=overwrite, **fields)
