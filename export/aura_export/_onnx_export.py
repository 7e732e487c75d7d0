"""IMU encoder ``nn.Module`` -> one self-contained ONNX file, simplified, checked, parity-gated.

The graph takes ``imu`` float32 ``[batch, window, 6]`` (preprocessed, normalised windows; the
batch is dynamic, the window fixed: TensorRT rebuilds engines for dynamic shapes) and returns
``embedding`` float32 ``[batch, D]``. An encoder with a placement input (an ``ImuTransformer``
whose config lists ``placements``) takes a second input ``placement`` int64 ``[batch]`` on the
same batch axis: 0 for "not said", ``1 + i`` for its ``placements[i]``, the ids of the bundle's
``encoder.placements``. It is exported with torch's dynamo exporter into a single
file (weights inside, no external data), simplified with onnxscript's optimizer plus onnx-ir
passes (constant folding, dead code and common subexpression elimination; only standard ONNX
ops, so TensorRT's parser still reads it; onnxruntime's offline optimisation was measured and
not used: at its basic level it added Transposes and foreign opset imports, at higher levels it
writes ``com.microsoft`` fused ops), passed through the full ``onnx.checker``, and compared with
torch on random and corpus-like windows (under every placement id). An fp32 export whose largest
absolute difference from torch is not below the tolerance (``1e-4`` by default) is refused
(STYLE.md rule 11).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx

from aura_sdk import CHANNELS, ConfigError, ModelInputSpec

from ._errors import ExportError, ParityError
from ._windows import WindowSet, as_window_set

__all__ = [
    "DEFAULT_FP32_TOLERANCE",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "PLACEMENT_NAME",
    "OnnxExport",
    "ParityReport",
    "SimplifyReport",
    "check_parity",
    "encoder_feed",
    "encoder_placements",
    "export_onnx",
    "run_encoder",
    "simplify_onnx",
    "torch_embed",
]

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
INPUT_NAME = "imu"
OUTPUT_NAME = "embedding"
#: The optional second input of an encoder that reads where its sensor is worn.
PLACEMENT_NAME = "placement"
#: Largest absolute difference allowed between the fp32 ONNX graph and torch (unit vectors).
DEFAULT_FP32_TOLERANCE = 1e-4
_BATCH = 64


@dataclass(frozen=True)
class ParityReport:
    """How far an ONNX encoder is from its torch reference.

    Attributes:
        tolerance: the bound every ``max_abs_*`` must stay below.
        max_abs_random: largest absolute difference on standard-normal windows.
        max_abs_corpus: the same on corpus-like (preprocessed real or synthetic) windows, or
            ``None`` when none were given. With a placement input, the random windows cycle
            through every placement id and corpus windows carry their own.
        max_abs_single: the same when each window runs alone (batch 1: the dynamic batch).
        n_random: random windows compared.
        n_corpus: corpus-like windows compared.
    """

    tolerance: float
    max_abs_random: float
    max_abs_corpus: float | None
    max_abs_single: float
    n_random: int
    n_corpus: int

    @property
    def max_abs(self) -> float:
        """The largest difference over every input set."""
        values = [self.max_abs_random, self.max_abs_single]
        if self.max_abs_corpus is not None:
            values.append(self.max_abs_corpus)
        return max(values)

    @property
    def ok(self) -> bool:
        """Whether every difference is below the tolerance."""
        return self.max_abs < self.tolerance

    def as_metrics(self, prefix: str = "parity.fp32") -> dict[str, float]:
        """Flat, finite metrics for a bundle manifest."""
        out = {f"{prefix}.max_abs_random": self.max_abs_random,
               f"{prefix}.max_abs_single": self.max_abs_single,
               f"{prefix}.tolerance": self.tolerance}
        if self.max_abs_corpus is not None:
            out[f"{prefix}.max_abs_corpus"] = self.max_abs_corpus
        return out


@dataclass(frozen=True)
class SimplifyReport:
    """What graph simplification did: the method and the node / initializer counts."""

    method: str
    nodes_before: int
    nodes_after: int
    initializers_before: int
    initializers_after: int


@dataclass(frozen=True)
class OnnxExport:
    """An exported, checked, parity-gated encoder.

    Attributes:
        model: the ONNX bytes (one file, weights inside).
        window_samples: the fixed window length.
        embedding_dim: output dimension ``D``.
        opset: the default-domain opset.
        parity: the comparison with torch.
        simplify: what simplification did.
        op_counts: op type -> count in the final graph.
        placements: the placement names of its :data:`PLACEMENT_NAME` input (id ``1 + i``
            is ``placements[i]``); empty when the graph has no placement input.
    """

    model: bytes
    window_samples: int
    embedding_dim: int
    opset: int
    parity: ParityReport
    simplify: SimplifyReport
    op_counts: dict[str, int] = field(default_factory=dict)
    placements: tuple[str, ...] = ()


# -- running both sides ---------------------------------------------------------------------
def encoder_placements(model: Any) -> tuple[str, ...]:
    """The placement names a torch encoder's placement input knows (its config's
    ``placements``, id ``1 + i`` for ``placements[i]``); ``()`` for an encoder without one."""
    if not getattr(model, "uses_placement", False):
        return ()
    return tuple(str(p) for p in model.config.placements)


def _placement_ids(placement: npt.ArrayLike | None, n: int) -> I64:
    """``(n,)`` int64 placement ids (all 0, "not said", for ``None``).

    Raises:
        ConfigError: not one integer id per window, or a negative id.
    """
    if placement is None:
        return np.zeros(n, dtype=np.int64)
    raw = np.asarray(placement)
    if raw.shape != (n,) or (raw.size and not np.issubdtype(raw.dtype, np.integer)):
        raise ConfigError(f"placement ids must be ({n},) integers, one per window; got "
                          f"{raw.dtype} of shape {raw.shape}")
    ids = raw.astype(np.int64)
    if ids.size and int(ids.min()) < 0:
        raise ConfigError(f"placement ids are 0 (not said) or 1 + an index into the encoder's "
                          f"placements; got {int(ids.min())}")
    return ids


def torch_embed(model: Any, x: npt.ArrayLike, batch: int = _BATCH,
                placement: npt.ArrayLike | None = None) -> F32:
    """Run a torch encoder on ``(N, W, 6)`` windows in eval mode without gradients.

    Args:
        model: the torch encoder.
        x: the windows.
        batch: windows per forward pass.
        placement: ``(N,)`` placement ids for an encoder with a placement input (0: not said,
            ``1 + i``: its ``placements[i]``; default all 0); an encoder without one ignores
            them.

    Raises:
        ConfigError: ``placement`` is not one non-negative integer per window.
    """
    import torch

    arr = np.ascontiguousarray(x, dtype=np.float32)
    ids = _placement_ids(placement, arr.shape[0])
    placed = bool(getattr(model, "uses_placement", False))
    was_training = bool(model.training)
    model.eval()
    outs = []
    try:
        with torch.no_grad():
            for i in range(0, arr.shape[0], batch):
                args = [torch.from_numpy(arr[i : i + batch])]
                if placed:
                    args.append(torch.from_numpy(ids[i : i + batch]))
                outs.append(model(*args).detach().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(outs).astype(np.float32)


def _session(model: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception types
        raise ExportError(f"onnxruntime cannot load the exported graph: {exc}") from exc


def encoder_feed(session: Any, x: npt.ArrayLike,
                 placement: npt.ArrayLike | None = None) -> dict[str, npt.NDArray[Any]]:
    """The input feed of an onnxruntime encoder session for ``(N, W, 6)`` windows.

    The window goes to the float input; an int64 input, the placement input, gets
    ``placement`` (``(N,)`` ids, default all 0: not said). An encoder without a placement
    input ignores ``placement``.

    Raises:
        ConfigError: ``placement`` is not one non-negative integer per window.
    """
    arr = np.ascontiguousarray(x, dtype=np.float32)
    ids = _placement_ids(placement, arr.shape[0])
    return {i.name: ids if i.type == "tensor(int64)" else arr for i in session.get_inputs()}


def run_encoder(model: bytes, x: npt.ArrayLike, batch: int = _BATCH,
                placement: npt.ArrayLike | None = None, output: str | None = None) -> F32:
    """Run an ONNX encoder on ``(N, W, 6)`` windows with onnxruntime (CPU).

    Args:
        model: the ONNX bytes.
        x: the windows.
        batch: windows per run.
        placement: ``(N,)`` ids for the placement input (see :func:`encoder_feed`).
        output: the output to return (default: the first, the embedding).

    Raises:
        ExportError: onnxruntime cannot load or run the graph.
        ConfigError: ``placement`` is not one non-negative integer per window.
    """
    session = _session(model)
    first = output or session.get_outputs()[0].name  # a features output may follow
    arr = np.ascontiguousarray(x, dtype=np.float32)
    ids = _placement_ids(placement, arr.shape[0])
    outs = []
    for i in range(0, arr.shape[0], batch):
        feed = encoder_feed(session, arr[i : i + batch], ids[i : i + batch])
        try:
            (y,) = session.run([first], feed)
        except Exception as exc:
            raise ExportError(f"onnxruntime failed to run the exported graph: {exc}") from exc
        outs.append(np.asarray(y, dtype=np.float32))
    return np.concatenate(outs)


def check_parity(
    onnx_model: bytes, torch_model: Any, window_samples: int, *,
    corpus: WindowSet | npt.ArrayLike | None = None, tolerance: float = DEFAULT_FP32_TOLERANCE,
    n_random: int = 16, seed: int = 0,
) -> ParityReport:
    """Compare an ONNX encoder with its torch module (does not raise on a mismatch).

    An encoder with a placement input is fed placement ids on both sides: the random windows
    cycle through every id from 0 to ``len(placements)`` (a table that is off by one row, or
    ignored, shows), corpus windows carry their own (:meth:`WindowSet.placement_ids`).

    Args:
        onnx_model: the exported graph.
        torch_model: the module it came from.
        window_samples: the window length.
        corpus: corpus-like preprocessed windows (at most 256 are used).
        tolerance: the bound recorded in the report.
        n_random: standard-normal windows to compare (every placement id appears when
            ``n_random`` exceeds the number of placements).
        seed: seeds the random windows.
    """
    rng = np.random.default_rng(seed)
    rand = rng.standard_normal((n_random, window_samples, len(CHANNELS))).astype(np.float32)
    placements = encoder_placements(torch_model)
    ids = np.arange(n_random, dtype=np.int64) % (len(placements) + 1)
    got = run_encoder(onnx_model, rand, placement=ids)
    max_random = float(np.abs(got - torch_embed(torch_model, rand, placement=ids)).max())
    single = run_encoder(onnx_model, rand[:4], batch=1, placement=ids[:4])
    max_single = float(np.abs(single - got[:4]).max())
    max_corpus: float | None = None
    n_corpus = 0
    if corpus is not None:
        ws = as_window_set(corpus, window_samples).subset(256, seed)
        placed = ws.placement_ids(placements)
        diff = np.abs(run_encoder(onnx_model, ws.x, placement=placed)
                      - torch_embed(torch_model, ws.x, placement=placed))
        max_corpus, n_corpus = float(diff.max()), len(ws)
    return ParityReport(tolerance, max_random, max_corpus, max_single, n_random, n_corpus)


# -- export ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence what torch's exporter says about its *own* internals (not about our model).

    torch 2.13's exporter calls helpers it deprecated itself (FutureWarnings), warns about
    its own probes when tracing a GRU, and logs that optional torchvision ops are skipped;
    onnxscript and onnx-ir log every pass at INFO. None of it concerns the graph, and all of
    it would otherwise reach every ``aura export -v`` user.
    """
    loggers = {name: logging.getLogger(name) for name in (
        "torch.onnx._internal.exporter._registration", "onnxscript", "onnx_ir")}
    levels = {name: lg.level for name, lg in loggers.items()}
    for name, lg in loggers.items():
        lg.setLevel(logging.ERROR if "torch" in name else logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is "
                                    "deprecated", category=FutureWarning)
            warnings.filterwarnings("ignore", message="_check_is_size will be removed",
                                    category=FutureWarning)
            # tracing nn.GRU (the IMU2CLIP baseline) into a loop, torch.export probes the
            # GRU's cached flat-weight views and a non-leaf .grad of its own
            warnings.filterwarnings("ignore", message=r"The tensor attributes self\.gru\."
                                    "_flat_weights", category=UserWarning)
            warnings.filterwarnings("ignore", message=r"The \.grad attribute of a Tensor that "
                                    "is not a leaf Tensor", category=UserWarning)
            # the window and placement inputs share one batch axis on purpose; the exporter
            # says so while naming it
            warnings.filterwarnings("ignore", message=r"# The axis name: batch will not be "
                                    "used, since it shares the same shape constraints with "
                                    "another axis: batch", category=UserWarning)
            yield
    finally:
        for name, lg in loggers.items():
            lg.setLevel(levels[name])


def _opset(proto: onnx.ModelProto) -> int:
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    raise ExportError("the exported graph imports no default ONNX opset")


def _free_io_names(model: Any) -> None:
    """Rename inner values of an exported ``onnx_ir`` model that carry the name of a graph
    input or output: torch names the value of an ``nn.Embedding`` lookup (the placement
    vectors) ``embedding``, the name of the encoder's output, and two values of one name
    make an invalid graph."""
    graph = model.graph
    io = {*graph.inputs, *graph.outputs}
    taken = {v.name for node in graph for v in node.outputs} | {v.name for v in io}
    reserved = {v.name for v in io}
    for node in graph:
        for value in node.outputs:
            if value.name in reserved and value not in io:
                k = 1
                while f"{value.name}_{k}" in taken:
                    k += 1
                value.name = f"{value.name}_{k}"
                taken.add(value.name)


def simplify_onnx(proto: onnx.ModelProto) -> tuple[onnx.ModelProto, SimplifyReport]:
    """Constant folding, dead-code and common-subexpression elimination, standard ops only.

    Returns:
        The simplified model and a :class:`SimplifyReport`.
    """
    import onnx_ir as ir
    from onnx_ir.passes import common
    from onnxscript import optimizer

    before = (len(proto.graph.node), len(proto.graph.initializer))
    model = ir.serde.deserialize_model(proto)
    optimizer.optimize_ir(model)
    for p in (common.CommonSubexpressionEliminationPass(),
              common.DeduplicateInitializersPass(),
              common.RemoveUnusedNodesPass(),
              common.RemoveUnusedOpsetsPass(),
              common.TopologicalSortPass()):
        p(model)
    out = ir.serde.serialize_model(model)
    report = SimplifyReport("onnxscript.optimizer + onnx_ir CSE/dedup/DCE", before[0],
                            len(out.graph.node), before[1], len(out.graph.initializer))
    return out, report


def _check_signature(proto: onnx.ModelProto, window: int, placed: bool) -> int:
    """The embedding dimension, after checking the graph's inputs (the window, and the
    placement when ``placed``) and its one output."""
    g = proto.graph
    want = [INPUT_NAME, PLACEMENT_NAME] if placed else [INPUT_NAME]
    if [i.name for i in g.input] != want or [o.name for o in g.output] != [OUTPUT_NAME]:
        raise ExportError(f"the exported graph has inputs {[i.name for i in g.input]} and "
                          f"outputs {[o.name for o in g.output]}; expected the inputs {want} "
                          f"and one output {OUTPUT_NAME!r}: the encoder's forward must take "
                          "one window tensor (and, with placements, one placement id per "
                          "window) and return one embedding")
    dims = [d.dim_param or d.dim_value for d in g.input[0].type.tensor_type.shape.dim]
    if len(dims) != 3 or not isinstance(dims[0], str) or dims[1:] != [window, len(CHANNELS)]:
        raise ExportError(f"input shape {dims} is not [batch, {window}, {len(CHANNELS)}]")
    if placed:
        pin = g.input[1].type.tensor_type
        pdims = [d.dim_param or d.dim_value for d in pin.shape.dim]
        if pin.elem_type != onnx.TensorProto.INT64 or pdims != dims[:1]:
            kind = onnx.TensorProto.DataType.Name(pin.elem_type)
            raise ExportError(f"placement input is {kind} {pdims}, not INT64 {dims[:1]} (one id "
                              "per window on the window's batch axis)")
    out = [d.dim_param or d.dim_value for d in g.output[0].type.tensor_type.shape.dim]
    if len(out) != 2 or not isinstance(out[0], str) or not isinstance(out[1], int) or out[1] < 1:
        raise ExportError(f"output shape {out} is not [batch, D] with a fixed D")
    return int(out[1])


def export_onnx(
    model: Any,
    input_spec: ModelInputSpec | int,
    *,
    corpus: WindowSet | npt.ArrayLike | None = None,
    opset: int | None = None,
    simplify: bool = True,
    tolerance: float = DEFAULT_FP32_TOLERANCE,
    n_random: int = 16,
    seed: int = 0,
) -> OnnxExport:
    """Export an IMU encoder to one ONNX file and refuse it unless it matches torch.

    An encoder with a placement input (``model.uses_placement``; the ids of
    ``model.config.placements``) is exported with a second input :data:`PLACEMENT_NAME`,
    int64 ``[batch]``, on the same dynamic batch axis as the windows.

    Args:
        model: a torch ``nn.Module`` mapping ``(B, W, 6)`` float windows (and, with
            placements, ``(B,)`` int64 placement ids) to ``(B, D)``.
        input_spec: the model's input spec, or just its window length ``W``.
        corpus: corpus-like preprocessed windows for the parity check (recommended).
        opset: default-domain opset (``None``: the exporter's default).
        simplify: run :func:`simplify_onnx`.
        tolerance: largest absolute difference from torch allowed (fp32).
        n_random: random windows in the parity check.
        seed: seeds the parity check's random windows.

    Returns:
        The :class:`OnnxExport`.

    Raises:
        ExportError: the exporter, the ONNX checker or onnxruntime rejected the graph, or its
            signature is not ``imu [batch, W, 6] (, placement [batch]) -> embedding
            [batch, D]``.
        ParityError: the graph differs from torch by ``tolerance`` or more.
        ConfigError: ``model`` is not a torch module.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"export_onnx needs a torch nn.Module, got {type(model).__name__}")
    window = input_spec if isinstance(input_spec, int) else input_spec.window_samples
    placements = encoder_placements(model)
    was_training = model.training
    model.eval()
    dummy = torch.randn(2, window, len(CHANNELS), generator=torch.Generator().manual_seed(seed))
    batch = torch.export.Dim("batch")  # one axis object: both inputs share the batch
    args: tuple[Any, ...] = (dummy,)
    names = [INPUT_NAME]
    dynamic: tuple[dict[int, Any], ...] = ({0: batch},)
    if placements:
        args += (torch.tensor([0, len(placements)], dtype=torch.long),)
        names.append(PLACEMENT_NAME)
        dynamic += ({0: batch},)
    try:
        with _quiet_exporter(), torch.no_grad():
            program = torch.onnx.export(
                model, args, dynamo=True, external_data=False, opset_version=opset,
                input_names=names, output_names=[OUTPUT_NAME],
                dynamic_shapes=dynamic, verbose=False)
    except Exception as exc:  # the exporter raises many types; all mean "no graph"
        raise ExportError(f"torch.onnx.export failed for {type(model).__name__}: {exc}") from exc
    finally:
        model.train(was_training)
    if program is None:
        raise ExportError("torch.onnx.export returned no program")
    _free_io_names(program.model)
    proto = program.model_proto
    nodes = len(proto.graph.node)
    report = SimplifyReport("none", nodes, nodes, len(proto.graph.initializer),
                            len(proto.graph.initializer))
    if simplify:
        with _quiet_exporter():
            proto, report = simplify_onnx(proto)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"the exported graph fails the ONNX checker: {exc}") from exc
    dim = _check_signature(proto, window, bool(placements))
    data = proto.SerializeToString()
    parity = check_parity(data, model, window, corpus=corpus, tolerance=tolerance,
                          n_random=n_random, seed=seed)
    logger.info("ONNX parity vs torch: max abs %.2e (random), %s (corpus), %.2e (batch 1)",
                parity.max_abs_random,
                "n/a" if parity.max_abs_corpus is None else f"{parity.max_abs_corpus:.2e}",
                parity.max_abs_single)
    if not parity.ok:
        raise ParityError(
            f"the fp32 ONNX graph differs from torch by up to {parity.max_abs:.3g} (tolerance "
            f"{tolerance:g}); the export is refused. Check for ops the exporter lowers "
            "differently (custom attention, in-place ops) or re-export without simplify",
            precision="fp32", measure="max_abs", value=parity.max_abs, tolerance=tolerance)
    counts = dict(sorted(Counter(n.op_type for n in proto.graph.node).items()))
    return OnnxExport(data, window, dim, _opset(proto), parity, report, counts, placements)
