"""A loaded model: embed recordings, classify them against label prototypes, enroll labels.

``load_bundle`` validates a bundle (see :mod:`aura_sdk.bundle`), opens its encoder and returns
an :class:`AuraModel`. Recordings go through exactly the preprocessing the model was trained
with (:mod:`aura_sdk.preprocessing`), driven by the manifest's input spec.

:class:`AuraModel` puts three parts together, one job each: the encoder's runtime
(:class:`~aura_sdk._runtime.EncoderRuntime`: backend, sessions, batches), the label
prototypes (:class:`~aura_sdk._prototypes.Prototypes`: the bundle's, enrolled and free-text
ones) and the enrollment store (:mod:`aura_sdk.fewshot`: examples, heads, files). It adds
what ties them together: label sets, preprocessing, scoring and enrollment.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import BundleNotFoundError, ConfigError, PreprocessingError
from ._home import aura_home
from ._prototypes import Prototypes
from ._runtime import Backend, EncoderRuntime, Precision
from ._scoring import Decision, Scorer
from ._spec import UPRIGHT_SUFFIX, ModelInputSpec, SensorSpec
from .backends import DeviceName
from .bundle import LABEL_SET_ALL, Bundle, TrustPolicy, read_bundle
from .fewshot import (
    STATS_VERSION,
    EnrolledLabel,
    Enrollments,
    EnrollmentStore,
    window_statistics,
)
from .preprocessing import PreprocessConfig, Windows, preprocess, rotate_imu, upright_rotation

__all__ = ["DEFAULT_BUNDLE_NAME", "DEFAULT_LABEL_SET", "AuraModel", "Labels", "load_bundle"]

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
#: What a ``labels`` argument takes: ``None`` (the default set), a label set's name, or words.
Labels = str | Sequence[str] | None
#: What a ``placement`` argument takes: one of ``SensorSpec.PLACEMENTS`` or ``None`` for
#: every window, or one such entry per window.
Placement = str | Sequence[str | None] | None

#: File name of the default bundle embedded in the ``aura_sdk`` package (``aura_sdk/models/``).
DEFAULT_BUNDLE_NAME = "default.aura"
#: The label set used when no labels are given, where the bundle defines it (else "all").
DEFAULT_LABEL_SET = "everyday"
#: A recording shorter than this fraction of a window is refused rather than padded.
_MIN_FRACTION = 0.2
#: Enrollment: windows start every second of an example, and each example adds this many
#: views turned by a random rotation of up to _VIEW_DEG degrees (the same motion with the
#: device sitting a little differently), so a few examples teach the head more than one pose.
_ENROLL_HOP_S = 1.0
_VIEWS = 2
_VIEW_DEG = 10.0


def _default_bundle_path() -> Path:
    ref = resources.files("aura_sdk").joinpath("models", DEFAULT_BUNDLE_NAME)
    path = Path(str(ref))
    if not path.is_file():
        raise BundleNotFoundError(
            "this aura-sdk build embeds no default bundle yet (it ships with the export "
            "capability, issue #6); pass a bundle: load_bundle('path/to/model.aura')",
            path=path,
        )
    return path


def _is_embedded(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the default bundle inside the installed package."""
    ref = resources.files("aura_sdk").joinpath("models", DEFAULT_BUNDLE_NAME)
    try:
        return Path(path).resolve() == Path(str(ref)).resolve()
    except (OSError, RuntimeError):
        return False


def load_bundle(
    path: str | os.PathLike[str] | None = None,
    *,
    trust: TrustPolicy | None = None,
    precision: Precision = "auto",
    device: DeviceName = "auto",
    backend: Backend = "auto",
    providers: Sequence[Any] | None = None,
    threads: int | None = None,
    encoder_features: bool = True,
) -> AuraModel:
    """Load a model bundle and return a ready :class:`AuraModel`.

    Args:
        path: a bundle directory or ``.aura`` file; ``None`` for the embedded default.
        trust: signature policy (default: verify when signed, warn when unsigned; a bundle's
            warning is logged once per process, and none for the embedded default, whose
            install is its provenance; ``"require"`` refuses it like any unsigned bundle).
        precision: encoder precision; ``"auto"`` takes fp32 when the bundle ships it, else
            int8 (for the shipped student on onnxruntime's CPU provider fp32 is the faster
            of the two at every batch size, docs/benchmarks.md; int8 halves the encoder's
            memory); fp16 is meant for GPU execution providers.
        device: ``"auto"`` (TensorRT, then CUDA, then CPU, whichever is present), or one of
            ``"tensorrt"``, ``"cuda"``, ``"cpu"``.
        backend: ``"onnxruntime"``, ``"tensorrt"`` (a native TensorRT engine built on this
            device and cached beside the bundle), or ``"auto"``: native TensorRT where its
            Python API is installed and ``device`` allows a GPU, else onnxruntime.
        providers: explicit onnxruntime providers (overrides ``device``).
        threads: onnxruntime intra-op threads of the encoder (``None``: onnxruntime's
            default, one per core). On a shared or busy CPU, 1 avoids oversubscription.
        encoder_features: let few-shot heads learn from the encoder's features output where
            the bundle has one (``False``: window statistics only; enrolled labels are then
            stored apart, as another feature layout).

    Raises:
        BundleError: the bundle is refused (its subclasses say why, naming the file).
        BackendError: the backend cannot open the encoder.
        ConfigError: a device or backend that is not available here (says what to install).
    """
    where = _default_bundle_path() if path is None else path
    bundle = read_bundle(where, trust, embedded=_is_embedded(where))
    return AuraModel(bundle, precision=precision, device=device, backend=backend,
                     providers=providers, threads=threads, encoder_features=encoder_features)


class AuraModel:
    """An IMU encoder with its label prototypes: ``embed``, ``classify``, ``recognize``,
    ``enroll``.

    Args:
        bundle: a validated bundle from :func:`aura_sdk.bundle.read_bundle`.
        precision: see :func:`load_bundle`.
        device, backend, providers, threads: see :func:`load_bundle`.
        load_enrollments: add the labels enrolled earlier for this exact bundle.
        encoder_features: see :func:`load_bundle`.
    """

    def __init__(
        self, bundle: Bundle, *, precision: Precision = "auto", device: DeviceName = "auto",
        backend: Backend = "auto", providers: Sequence[Any] | None = None,
        load_enrollments: bool = True, threads: int | None = None,
        encoder_features: bool = True,
    ) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        #: the encoder on its backend (see :mod:`aura_sdk._runtime`)
        self.runtime = EncoderRuntime(
            bundle, precision=precision, device=device, backend=backend, providers=providers,
            threads=threads, cache_dir=self._cache_dir(), features=encoder_features)
        self._prototypes = Prototypes(bundle)
        store = EnrollmentStore(aura_home(), self.fingerprint, self.feature_layout)
        self._enrollments = Enrollments(store, load=load_enrollments)
        for label in self._enrollments.labels:
            self._prototypes.set(label, self._enrollments.get(label).prototype)

    # -- properties -------------------------------------------------------------------------
    @property
    def precision(self) -> Precision:
        """The encoder graph that runs: ``"fp32"``, ``"fp16"`` or ``"int8"``."""
        return self.runtime.precision

    @property
    def backend(self) -> str:
        """``"onnxruntime"`` or ``"tensorrt"``."""
        return self.runtime.backend

    @property
    def providers(self) -> list[Any]:
        """The onnxruntime providers of the encoder's session (empty under TensorRT)."""
        return self.runtime.providers

    @property
    def input_spec(self) -> ModelInputSpec:
        """What the encoder consumes (rate, window, gravity convention, normalisation)."""
        return self.manifest.input

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label with a prototype: the bundle's, then enrolled ones."""
        return tuple(self._prototypes.labels)

    @property
    def embedding_dim(self) -> int:
        return self._prototypes.dim

    # -- label sets -------------------------------------------------------------------------
    @property
    def label_sets(self) -> Mapping[str, tuple[str, ...]]:
        """Named label sets: the bundle's (``"everyday"``, ``"sports"``, ...) and ``"all"``
        (every label with a prototype, enrolled ones included). Read-only."""
        sets = dict(self.manifest.label_sets)
        sets[LABEL_SET_ALL] = self.labels
        return MappingProxyType(sets)

    @property
    def default_label_set(self) -> str:
        """The set scored when no labels are given: ``"everyday"`` where the bundle defines
        it, else ``"all"``."""
        return DEFAULT_LABEL_SET if DEFAULT_LABEL_SET in self.manifest.label_sets \
            else LABEL_SET_ALL

    def resolve_labels(self, labels: Labels = None) -> list[str]:
        """The labels a ``labels`` argument stands for, in order (every API taking one calls this).

        Args:
            labels: ``None`` for the default set (:attr:`default_label_set`) plus every
                enrolled label (the user enrolled them to see them); a set name from
                :attr:`label_sets` for exactly that set; or a sequence of words: bundle
                labels, enrolled labels or free text (scored through the text encoder).

        Raises:
            ConfigError: a string that names no label set (one free-text label goes in a
                one-element list), an empty sequence, repeated or empty labels.
        """
        if labels is None:
            names = list(self.label_sets[self.default_label_set])
            return names + [x for x in self._prototypes.labels
                            if x in self._enrolled and x not in names]
        if isinstance(labels, str):
            sets = self.label_sets
            if labels not in sets:
                raise ConfigError(
                    f"{labels!r} is not a label set of this bundle; sets: {sorted(sets)}. To "
                    f"score one free-text label, pass a one-element list: labels=[{labels!r}]")
            return list(sets[labels])
        names = list(labels)
        if not names:
            raise ConfigError("labels is empty: pass at least one label, a label set's name "
                              f"({sorted(self.label_sets)}), or None for the default set")
        if any(not isinstance(x, str) or not x.strip() for x in names):
            raise ConfigError("labels must be non-empty strings")
        if len(set(names)) != len(names):
            raise ConfigError("labels must be unique")
        return names

    def __repr__(self) -> str:
        return (f"AuraModel({self.manifest.name!r} v{self.manifest.version}, {self.precision}, "
                f"{self.backend}, {len(self._prototypes.labels)} labels)")

    # -- embedding --------------------------------------------------------------------------
    def windows(
        self, imu: npt.ArrayLike, spec: SensorSpec, t: npt.ArrayLike | None = None
    ) -> Windows:
        """Preprocess a recording into model windows (a short one is padded as in training).

        Raises:
            PreprocessingError: bad shapes, or a recording too short to embed.
            SpecMismatchError: the device's gravity convention cannot feed this model.
        """
        config = PreprocessConfig(pad_min_fraction=_MIN_FRACTION)
        w = preprocess(self._turned(imu, spec), spec, self.input_spec, t=t, config=config)
        if len(w) == 0:
            need = _MIN_FRACTION * self.input_spec.window_s
            raise PreprocessingError(
                f"the recording yields no window: it needs at least {need:.2f} s of contiguous "
                f"samples (a fifth of the model's {self.input_spec.window_s:g} s window) "
                "between gaps; pass a longer recording"
            )
        return w

    @property
    def placements(self) -> tuple[str, ...]:
        """Placements the encoder reads as an input (empty: it ignores where it is worn);
        names ending in ``UPRIGHT_SUFFIX`` are those it also reads turned to the wearer's
        upright (see :attr:`SensorSpec.upright`)."""
        return self.manifest.encoder.placements

    def reads_upright(self, placement: str | None) -> bool:
        """Whether this encoder was trained on frames at ``placement`` turned to the
        wearer's upright (it lists ``placement + UPRIGHT_SUFFIX``)."""
        return placement is not None and placement + UPRIGHT_SUFFIX in self.placements

    def input_placement(self, spec: SensorSpec) -> str | None:
        """What the placement input is told for a device described by ``spec``: its
        placement with ``UPRIGHT_SUFFIX`` when ``spec.upright`` is known and this encoder
        reads it (the windows are then turned too), else its placement."""
        if spec.upright is not None and self.reads_upright(spec.placement):
            return spec.input_placement
        return spec.placement

    def _turned(self, imu: npt.ArrayLike, spec: SensorSpec) -> npt.ArrayLike:
        """``imu`` in the frame the encoder reads for ``spec``: turned so that the wearer's
        upright lies along the placement's upright axis when the encoder reads that."""
        if spec.upright is None or spec.placement is None or not self.reads_upright(
                spec.placement):
            return imu
        return rotate_imu(imu, upright_rotation(spec.upright, spec.placement))

    def placement_ids(self, placement: Placement, n: int) -> npt.NDArray[np.int64]:
        """The placement input for ``n`` windows: one name (or ``None``) for all of them, or
        one per window. A placement this encoder does not know reads as "not said" (0).

        Raises:
            ConfigError: a sequence of the wrong length, or a name outside
                ``SensorSpec.PLACEMENTS``.
        """
        if placement is None or isinstance(placement, str):  # one for all of them
            return np.full(n, self.runtime.placement_ids([placement])[0], dtype=np.int64)
        names = list(placement)
        if len(names) != n:
            raise ConfigError(f"{len(names)} placements for {n} windows; pass one name for "
                              "all of them or one per window")
        return self.runtime.placement_ids(names)

    def embed_windows(self, x: npt.ArrayLike, placement: Placement = None) -> F32:
        """Encode preprocessed windows ``(N, window, 6)`` into unit vectors ``(N, D)``.

        ``placement``: where the sensor is worn (see :meth:`placement_ids`); only encoders
        with a placement input (:attr:`placements`) read it.

        Raises:
            ConfigError: wrong window shape or placement.
            BackendError: onnxruntime failed.
        """
        return self.encode_windows(x, features=False, placement=placement)[0]

    def encode_windows(self, x: npt.ArrayLike, *, features: bool = True,
                       placement: Placement = None) -> tuple[F32, F32 | None]:
        """Encode preprocessed windows: unit embeddings ``(N, D)`` and, with ``features``,
        the few-shot head's feature rows ``(N, F)`` (see :meth:`head_features`).
        ``placement`` as in :meth:`embed_windows`.

        Raises:
            ConfigError: wrong window shape or placement.
            BackendError: the encoder failed.
        """
        arr = np.ascontiguousarray(x, dtype=np.float32)
        spec = self.input_spec
        if arr.ndim != 3 or arr.shape[1:] != (spec.window_samples, 6):
            raise ConfigError(
                f"windows must be (N, {spec.window_samples}, 6) float32, got {arr.shape}; "
                "use AuraModel.windows() to preprocess a recording"
            )
        emb, enc = self.runtime.run(arr, self.placement_ids(placement, arr.shape[0]),
                                    features)
        if emb.size == 0:
            emb = np.empty((0, self.embedding_dim), np.float32)
        if not features:
            return _unit(emb), None
        return _unit(emb), self.head_features(arr, enc)

    @property
    def feature_layout(self) -> str:
        """Names the head's feature rows of this model (enrolled records must match it)."""
        enc = self.manifest.encoder
        tail = f"+{enc.features_name}{enc.features_dim}" if self.runtime.features_name else ""
        return f"stats{STATS_VERSION}{tail}"

    def head_features(self, x: npt.ArrayLike, encoder_features: npt.ArrayLike | None) -> F32:
        """Feature rows of the few-shot head for normalised windows ``x`` ``(N, W, 6)``:
        statistics of the windows in SI units joined with the encoder's features output
        (when the bundle has one)."""
        spec = self.input_spec
        si = (np.asarray(x, dtype=np.float64) * np.asarray(spec.norm_std)
              + np.asarray(spec.norm_mean))
        parts = [window_statistics(si, spec.sample_rate_hz)]
        if self.runtime.features_name is not None:
            if encoder_features is None:
                raise ConfigError("this bundle's head needs the encoder's features output")
            parts.append(np.asarray(encoder_features, dtype=np.float64))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def embed(self, imu: npt.ArrayLike, spec: SensorSpec, t: npt.ArrayLike | None = None) -> F32:
        """Embed a whole recording: the renormalised mean of its window embeddings.

        Args:
            imu: ``(T, 6)`` samples ``[ax ay az gx gy gz]`` in ``spec``'s units.
            spec: what the device sent.
            t: optional ``(T,)`` timestamps in seconds (jitter and gaps are handled).

        Returns:
            ``(D,)`` float32 unit vector.

        Raises:
            PreprocessingError, SpecMismatchError, BackendError: see :meth:`windows`.
        """
        e = self.embed_windows(self.windows(imu, spec, t).x, self.input_placement(spec))
        return _unit(e.mean(axis=0, keepdims=True))[0]

    # -- scoring ----------------------------------------------------------------------------
    def _prototype_matrix(self, labels: Labels) -> tuple[list[str], F32]:
        names = self.resolve_labels(labels)
        return names, self._prototypes.matrix(names)

    def prototype_matrix(self, labels: Labels = None) -> F32:
        """``(K, D)`` prototypes of ``labels`` (see :meth:`resolve_labels`), in that order.

        Raises:
            ConfigError: bad ``labels`` (see :meth:`resolve_labels`), or a label has no
                prototype and there is no text encoder.
        """
        return self._prototype_matrix(labels)[1].copy()

    def probabilities(self, embeddings: npt.ArrayLike, labels: Labels = None) -> F32:
        """Zero-shot probabilities for ``(N, D)`` embeddings: softmax over labels of cosine
        similarity / temperature (the scorer's zero-shot part; a few-shot head needs the
        windows' feature rows, see :meth:`scorer`).

        ``labels`` as in :meth:`resolve_labels` (``None``: the default set).

        Returns:
            ``(N, len(labels))`` float32 rows summing to 1.
        """
        names, protos = self._prototype_matrix(labels)
        sc = self.manifest.scoring
        zero_shot = Scorer(names, protos, sc.temperature, sc.unknown_threshold,
                           sc.unknown_margin)
        return zero_shot.probabilities(zero_shot.similarities(embeddings)).astype(np.float32)

    def classify(
        self, imu: npt.ArrayLike, spec: SensorSpec, labels: Labels = None,
        t: npt.ArrayLike | None = None,
    ) -> dict[str, float]:
        """Classify a recording: ``{label: probability}``, most likely first.

        A recording longer than one window is cut into windows one second apart: text labels
        score the mean of their embeddings, enrolled labels the few-shot head's mean window
        log-probability (see :meth:`scorer`). Every label is ranked, none rejected:
        :meth:`recognize` gives the decision, ``"unknown"`` included, that a
        :class:`~aura_sdk.LiveRecognizer` would report for the same window.
        ``labels``: ``None`` (the default label set plus enrolled labels), a label set's
        name (``"sports"``, ``"all"``), or words (see :meth:`resolve_labels`).

        Raises:
            ConfigError: bad ``labels``, or a label has no prototype (see :meth:`enroll`).
            PreprocessingError, SpecMismatchError, BackendError: see :meth:`embed`.
        """
        scorer = self.scorer(labels)
        _, p = self._score_recording(scorer, imu, spec, t)
        names = scorer.labels
        order = np.argsort(-p, kind="stable")
        return {names[i]: float(p[i]) for i in order}

    def recognize(
        self, imu: npt.ArrayLike, spec: SensorSpec, labels: Labels = None,
        t: npt.ArrayLike | None = None, *, top_k: int = 3,
        unknown_threshold: float | None = None, unknown_margin: float | None = None,
    ) -> Decision:
        """Recognise a recording: the label, or ``"unknown"``, with its confidence.

        Scored as :meth:`classify` scores it, then decided with the bundle's unknown
        rejection (or the given overrides), as :class:`~aura_sdk.LiveRecognizer` decides:
        for a recording of one window, the result equals the live event of that window
        with ``smoothing="none"`` (label, confidence, similarity, top k and ``unknown``).

        Raises:
            ConfigError, PreprocessingError, SpecMismatchError, BackendError: see
                :meth:`classify`.
        """
        scorer = self.scorer(labels, unknown_threshold=unknown_threshold,
                             unknown_margin=unknown_margin)
        cos, p = self._score_recording(scorer, imu, spec, t)
        return scorer.decide(cos, p, top_k)

    def _score_recording(self, scorer: Scorer, imu: npt.ArrayLike, spec: SensorSpec,
                         t: npt.ArrayLike | None) -> tuple[npt.NDArray[np.float64],
                                                           npt.NDArray[np.float64]]:
        # windows a second apart, as enrollment cuts them: more views of a long recording
        emb, feats = self.encode_windows(self._example_windows(imu, spec, t),
                                         features=scorer.needs_features,
                                         placement=self.input_placement(spec))
        return scorer.score_recording(emb, feats)

    def scorer(self, labels: Labels = None, *, unknown_threshold: float | None = None,
               unknown_margin: float | None = None) -> Scorer:
        """The scorer of ``labels`` (see :meth:`resolve_labels`): cosine to prototypes with the
        bundle's temperature and unknown rejection (a label set's own bounds where the bundle
        has them, :attr:`~aura_sdk.bundle.ScoringSpec.label_sets`), and a few-shot head over
        the enrolled labels among them when there are two or more. ``classify``, ``recognize`` and
        ``LiveRecognizer`` all score through it.

        Raises:
            ConfigError: bad ``labels``, or a label has no prototype.
        """
        names, protos = self._prototype_matrix(labels)
        sc = self.manifest.scoring
        threshold, margin = sc.rejection(self._set_name(labels))
        return Scorer(names, protos, sc.temperature,
                      threshold if unknown_threshold is None else unknown_threshold,
                      margin if unknown_margin is None else unknown_margin,
                      head=self._enrollments.head_for(names))

    def _set_name(self, labels: Labels) -> str | None:
        """The declared label set ``labels`` names (``None``: the default set), else ``None``."""
        if labels is None:
            return self.default_label_set
        return labels if isinstance(labels, str) else None

    def _cache_dir(self) -> Path:
        """Where built accelerator engines are cached: ``$AURA_HOME/engines/<name>-<fp>``,
        never inside the installed package or beside the bundle."""
        return aura_home() / "engines" / f"{self.manifest.name}-{self.fingerprint[:16]}"

    # -- enrollment ---------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """sha256 of the bundle's manifest: enrolled labels belong to exactly this model."""
        return hashlib.sha256(self.bundle.manifest_bytes).hexdigest()

    @property
    def enrollment_dir(self) -> Path:
        """Where this model's enrolled labels persist:
        ``$AURA_HOME/enrolled/<fingerprint>/<feature layout>`` (``AURA_HOME`` defaults to
        ``~/.aura``); never inside the installed package."""
        return self._enrollments.store.directory

    @property
    def enrolled_labels(self) -> tuple[str, ...]:
        """Enrolled labels, in enrollment order."""
        return self._enrollments.labels

    @property
    def _enrolled(self) -> frozenset[str]:
        return frozenset(self._enrollments.labels)

    def enrollment_summary(self) -> list[dict[str, Any]]:
        """One row per enrolled label: label, examples, windows, created."""
        out = []
        for label in self._enrollments.labels:
            r = self._enrollments.get(label)
            out.append({"label": label, "examples": r.n_examples,
                        "windows": int((r.view == 0).sum()), "created": r.created})
        return out

    def forget(self, label: str, *, persist: bool = True) -> None:
        """Remove an enrolled label (and, with ``persist``, its stored file). A bundle label
        the enrollment had replaced gets its bundle prototype back.

        Raises:
            ConfigError: ``label`` was not enrolled (bundle labels cannot be removed).
        """
        self._enrollments.remove(label, persist=persist)
        self._prototypes.drop(label)

    def export_enrollments(self, out: str | os.PathLike[str],
                           labels: Sequence[str] | None = None) -> Path:
        """Write enrolled labels (all, or ``labels``) to one file for another device with
        the same bundle (:meth:`import_enrollments`).

        Raises:
            ConfigError: nothing enrolled, or a label is not enrolled.
        """
        return self._enrollments.export(Path(out), labels)

    def import_enrollments(self, path: str | os.PathLike[str], *, replace: bool = False,
                           persist: bool = True) -> list[str]:
        """Add the labels of an export of this same bundle; returns their names.

        Raises:
            ConfigError: an export of another bundle, or a clash without ``replace``.
        """
        clash = [x for x in self._enrollments.store.read_export(Path(path))
                 if x in self._prototypes.labels and x not in self._enrolled]
        if clash and not replace:
            raise ConfigError(f"{clash} are bundle labels; pass replace=True to shadow them")
        names = self._enrollments.import_file(Path(path), replace=replace, persist=persist)
        for label in names:
            self._prototypes.set(label, self._enrollments.get(label).prototype)
        return names

    def _example_windows(self, imu: npt.ArrayLike, spec: SensorSpec,
                         t: npt.ArrayLike | None) -> F32:
        hop = max(1, min(self.input_spec.hop_samples,
                         round(_ENROLL_HOP_S * self.input_spec.sample_rate_hz)))
        config = PreprocessConfig(pad_min_fraction=_MIN_FRACTION, hop_samples=hop)
        w = preprocess(self._turned(imu, spec), spec, self.input_spec, t=t, config=config)
        if len(w) == 0:
            self.windows(imu, spec, t)  # raises the explanatory error
        return w.x

    def _views(self, x: F32, rng: np.random.Generator) -> F32:
        """``x`` turned by one random rotation of up to ``_VIEW_DEG`` degrees per window."""
        spec = self.input_spec
        mean, std = np.asarray(spec.norm_mean), np.asarray(spec.norm_std)
        si = x.astype(np.float64) * std + mean
        axis = rng.normal(size=(len(x), 3))
        axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-12)
        angle = np.deg2rad(rng.uniform(-_VIEW_DEG, _VIEW_DEG, size=len(x)))
        k = np.zeros((len(x), 3, 3))  # Rodrigues: R = I + sin(a) K + (1 - cos(a)) K^2
        k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
        k = k - k.transpose(0, 2, 1)
        rot = (np.eye(3) + np.sin(angle)[:, None, None] * k
               + (1 - np.cos(angle))[:, None, None] * (k @ k))
        out = si.copy()
        out[..., :3] = np.einsum("nij,ntj->nti", rot, si[..., :3])
        out[..., 3:] = np.einsum("nij,ntj->nti", rot, si[..., 3:])
        return ((out - mean) / std).astype(np.float32)

    def enroll(
        self, label: str, examples: Sequence[npt.ArrayLike], spec: SensorSpec,
        *, times: Sequence[npt.ArrayLike | None] | None = None, replace: bool = False,
        persist: bool = True, views: int = _VIEWS,
    ) -> F32:
        """Add a few-shot label from example recordings of it.

        Every example is cut into windows one second apart; each window keeps its embedding
        and its head feature row, plus ``views`` slightly rotated copies. Scoring then uses
        the label's prototype (the mean embedding) against text labels, and a few-shot head
        fitted on the device over the enrolled labels whenever two or more are scored together
        (see :meth:`scorer`).

        Args:
            label: the label's name (an existing bundle label is shadowed with ``replace``).
            examples: one or more recordings ``(T, 6)`` of the activity (each at least a
                fifth of the model's window).
            spec: what the device sent.
            times: optional timestamps per example (``None`` entries: uniform samples).
            replace: allow replacing an existing label.
            persist: save it under :attr:`enrollment_dir` so the next load has it.
            views: augmented (rotated) views per window.

        Returns:
            the label's ``(D,)`` prototype.

        Raises:
            ConfigError: no examples, empty label, or the label exists and ``replace`` is
                False.
            PreprocessingError: an example too short to yield a window.
        """
        if not isinstance(label, str) or not label.strip():
            raise ConfigError("label must be a non-empty string")
        if not examples:
            raise ConfigError(f"enroll {label!r}: pass at least one example recording")
        if times is not None and len(times) != len(examples):
            raise ConfigError(f"enroll {label!r}: {len(times)} time arrays for "
                              f"{len(examples)} examples")
        if label in self._prototypes.labels and not replace:
            raise ConfigError(f"label {label!r} already has a prototype; pass replace=True")
        seed = int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        embs, feats, example, view = [], [], [], []
        for i, imu in enumerate(examples):
            x = self._example_windows(imu, spec, None if times is None else times[i])
            for v in range(views + 1):
                xv = x if v == 0 else self._views(x, rng)
                e, f = self.encode_windows(xv, placement=self.input_placement(spec))
                assert f is not None  # features=True always returns rows
                embs.append(e)
                feats.append(f)
                example.append(np.full(len(x), i))
                view.append(np.full(len(x), v))
        rec = EnrolledLabel.now(label, np.concatenate(embs), np.concatenate(feats),
                                np.concatenate(example), np.concatenate(view),
                                self.feature_layout)
        self._enrollments.add(rec, persist=persist)
        self._prototypes.set(label, rec.prototype)
        logger.info("enrolled %r from %d examples (%d windows)", label, len(examples),
                    int((rec.view == 0).sum()))
        return rec.prototype


def _unit(x: F32) -> F32:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)
