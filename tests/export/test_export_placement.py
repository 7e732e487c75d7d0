"""An IMU encoder with a placement input: exported with it, fed it everywhere, declared by the
bundle, and refused by the reader where the manifest and the graph disagree on it."""

from __future__ import annotations

import copy
import functools
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto
from test_export_support import SPEC, TinyEncoder, val_windows

from aura_export import (
    ExportResult,
    WindowReader,
    WindowSet,
    check_parity,
    compare_encoders,
    convert_fp16,
    corpus_windows,
    export_bundle,
    export_onnx,
    quantize_int8,
    run_encoder,
    synthetic_windows,
    torch_embed,
    with_label_sets,
    write_example_bundle,
)
from aura_sdk import BundleCompatibilityError, ConfigError, load_bundle
from aura_sdk.bundle import TrustPolicy, read_bundle
from aura_training.cli_data import main as data_main
from aura_training.models import ImuTransformer, build_encoder

PLACEMENTS = ("wrist", "waist", "pocket", "upper_arm")
#: the activities of the 1-minute corpus's clips, and two more
LABELS = ["dancing", "jumping jacks", "using a smartphone", "walking", "running"]


def placed_encoder(seed: int = 0) -> ImuTransformer:
    """A one-block imu-student with a placement input whose vectors are not zero (trained
    ones are not: a zero table would make every placement look alike)."""
    torch.manual_seed(seed)
    model = build_encoder({"preset": "imu-student", "placements": PLACEMENTS, "depth": 1,
                           "dim": 32, "heads": 2, "mlp_dim": 48})
    assert isinstance(model, ImuTransformer) and model.placement is not None
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        model.placement.weight.copy_(0.5 * torch.randn(model.placement.weight.shape,
                                                       generator=gen))
    return model.eval()


@functools.lru_cache(maxsize=1)
def _corpus(root: str) -> Path:
    out = Path(root) / "corpus"
    assert data_main(["synth", "--minutes", "1", "--out", str(out), "--no-video", "--quiet",
                      "--seed", "3"]) == 0
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _corpus(str(tmp_path_factory.mktemp("placed-corpus")))


@functools.lru_cache(maxsize=1)
def _placed_windows(root: str) -> WindowSet:
    return corpus_windows(_corpus(root), SPEC, split=None, max_windows=96, seed=0)


@pytest.fixture(scope="module")
def placed_windows(corpus: Path) -> WindowSet:
    return _placed_windows(str(corpus.parent))


def _graph_inputs(model: bytes) -> dict[str, tuple[int, list[int | str]]]:
    return {i.name: (i.type.tensor_type.elem_type,
                     [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
            for i in onnx.load_from_string(model).graph.input}


# -- windows --------------------------------------------------------------------------------
def test_window_sets_carry_placement_names_and_number_them_per_encoder() -> None:
    x = np.random.default_rng(0).standard_normal((5, 250, 6)).astype(np.float32)
    ws = WindowSet(x, tuple("abcde"), "t", ("waist", None, "wrist", "ankle", "waist"))
    # the encoder's own order decides the ids; unknown and unsaid are 0
    assert ws.placement_ids(PLACEMENTS).tolist() == [2, 0, 1, 0, 2]
    assert ws.placement_ids(("waist",)).tolist() == [1, 0, 0, 0, 1]
    assert ws.placement_ids(()).tolist() == [0] * 5
    assert WindowSet(x).placement_ids(PLACEMENTS).tolist() == [0] * 5
    sub = ws.subset(3, seed=2)
    assert sub.labels is not None and sub.placements is not None
    pairs = dict(zip("abcde", ws.placements or (), strict=True))
    assert [pairs[lab] for lab in sub.labels] == list(sub.placements)
    with pytest.raises(ConfigError, match="2 placements for 5 windows"):
        WindowSet(x, placements=("wrist", "waist"))
    with pytest.raises(ConfigError, match="empty name"):
        WindowSet(x, placements=("wrist", "", None, None, None))


def test_corpus_windows_carry_their_streams_placements(corpus: Path) -> None:
    ws = corpus_windows(corpus, SPEC, split=None, max_windows=10_000)
    assert ws.placements is not None and len(ws.placements) == len(ws)
    assert set(ws.placements) == set(PLACEMENTS)  # both wrists and one of each body site
    for location, kind in (("left_wrist", "wrist"), ("right_wrist", "wrist"),
                           ("left_waist", "waist")):
        one = corpus_windows(corpus, SPEC, split=None, max_windows=10_000, location=location)
        assert one.placements == (kind,) * len(one)
    # a stream's windows keep their placement through the subset, in step with the windows
    sub = corpus_windows(corpus, SPEC, split=None, max_windows=40, seed=1)
    assert sub.placements is not None and len(sub.placements) == len(sub) == 40
    assert synthetic_windows(SPEC, ["walking"], clips_per_activity=1, seed=0).placements is None


# -- ONNX -----------------------------------------------------------------------------------
def test_a_placement_encoder_exports_both_inputs_with_parity_under_every_id(
        placed_windows: WindowSet) -> None:
    model = placed_encoder()
    result = export_onnx(model, SPEC, corpus=placed_windows)
    assert result.placements == PLACEMENTS
    assert result.parity.ok and result.parity.n_corpus == len(placed_windows)
    inputs = _graph_inputs(result.model)
    assert list(inputs) == ["imu", "placement"]
    assert inputs["imu"] == (TensorProto.FLOAT, ["batch", 250, 6])
    assert inputs["placement"] == (TensorProto.INT64, ["batch"])  # the same batch axis
    assert [o.name for o in onnx.load_from_string(result.model).graph.output] == ["embedding"]
    x = placed_windows.x[:6]
    by_id = []
    for pid in range(len(PLACEMENTS) + 1):
        ids = np.full(len(x), pid)
        got = run_encoder(result.model, x, placement=ids)
        np.testing.assert_allclose(got, torch_embed(model, x, placement=ids), atol=1e-4)
        by_id.append(got)
    # placements matter: the same windows embed elsewhere at the waist than at the wrist
    assert np.abs(by_id[1] - by_id[2]).max() > 1e-2
    # one batch mixing placements is each window at its own placement, batch 1 included
    mixed = np.arange(len(x)) % (len(PLACEMENTS) + 1)
    want = np.stack([by_id[p][i] for i, p in enumerate(mixed)])
    np.testing.assert_allclose(run_encoder(result.model, x, placement=mixed), want, atol=1e-5)
    np.testing.assert_allclose(run_encoder(result.model, x, batch=1, placement=mixed), want,
                               atol=1e-5)
    # no ids: "not said", as torch's default
    np.testing.assert_allclose(run_encoder(result.model, x), by_id[0], atol=1e-6)
    with pytest.raises(ConfigError, match=r"\(6,\) integers"):
        run_encoder(result.model, x, placement=np.zeros(5, np.int64))


def test_parity_catches_a_placement_table_in_the_wrong_order() -> None:
    model = placed_encoder()
    good = export_onnx(model, SPEC.window_samples, simplify=False)
    swapped = copy.deepcopy(model)
    assert swapped.placement is not None and model.placement is not None
    with torch.no_grad():  # "wrist" and "waist" trade rows
        swapped.placement.weight[[1, 2]] = model.placement.weight[[2, 1]]
    report = check_parity(good.model, swapped, 250)
    assert not report.ok and report.max_abs > 1e-2


def test_encoders_without_placements_export_one_input() -> None:
    for model in (TinyEncoder(), build_encoder({"preset": "imu-student", "depth": 1})):
        result = export_onnx(model, SPEC, corpus=val_windows().x[:4])
        assert result.placements == () and list(_graph_inputs(result.model)) == ["imu"]
        # placement ids are simply not read by an encoder without the input
        x = val_windows().x[:3]
        np.testing.assert_array_equal(run_encoder(result.model, x, placement=[1, 2, 3]),
                                      run_encoder(result.model, x))


# -- int8, fp16 -----------------------------------------------------------------------------
def test_int8_feeds_placements_keeps_the_table_float_and_agrees_per_placement(
        placed_windows: WindowSet) -> None:
    fp32 = export_onnx(placed_encoder(), SPEC, corpus=placed_windows).model
    reader = WindowReader(placed_windows, batch_size=8, placements=PLACEMENTS,
                          placement_name="placement")
    feed = reader.get_next()
    assert feed is not None and set(feed) == {"imu", "placement"}
    assert feed["placement"].dtype == np.int64
    assert feed["placement"].tolist() == placed_windows.placement_ids(PLACEMENTS)[:8].tolist()
    for method in ("dynamic", "static"):
        int8 = quantize_int8(fp32, method, placed_windows, placements=PLACEMENTS)
        proto = onnx.load_from_string(int8)
        assert [i.name for i in proto.graph.input] == ["imu", "placement"]
        floats = {t.name for t in proto.graph.initializer if t.data_type == TensorProto.FLOAT}
        (lookup,) = [n for n in proto.graph.node if "placement" in n.input]
        assert lookup.op_type == "Gather" and lookup.input[0] in floats  # the table: float
        report = compare_encoders(fp32, int8, placed_windows, precision="int8",
                                  variant=method, placements=PLACEMENTS)
        print(f"int8 {method}: mean cosine {report.cosine_mean:.5f}, per placement "
              f"{report.cosine_by_placement}")
        assert report.cosine_by_placement is not None
        assert list(report.cosine_by_placement) == ["not_said", *PLACEMENTS]
        assert min(report.cosine_by_placement.values()) > 0.98
        assert report.cosine_mean > 0.98
        metrics = report.as_metrics()
        assert metrics["agreement.int8.placement.pocket.cosine_mean"] == (
            report.cosine_by_placement["pocket"])
        # and by hand: each placement's int8 embedding next to fp32's
        x = placed_windows.x[:8]
        for pid in range(len(PLACEMENTS) + 1):
            ids = np.full(len(x), pid)
            a, b = run_encoder(fp32, x, placement=ids), run_encoder(int8, x, placement=ids)
            assert float(np.sum(a * b, axis=1).min()) > 0.95, (method, pid)
    half = compare_encoders(fp32, convert_fp16(fp32), placed_windows, precision="fp16",
                            variant="fp16", placements=PLACEMENTS)
    assert half.cosine_by_placement is not None
    assert min(half.cosine_by_placement.values()) > 0.999


# -- bundle ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _bundle(root: str) -> tuple[ExportResult, Path]:
    out = Path(root) / "placed"  # a directory: the refusal tests edit its manifest
    result = export_bundle(placed_encoder(), SPEC, out, labels=LABELS,
                           precisions=("fp32", "int8"), calibration=_placed_windows(root),
                           aliases=False, label_sets={})
    return result, out


@pytest.fixture(scope="module")
def placed_bundle(corpus: Path) -> tuple[ExportResult, Path]:
    return _bundle(str(corpus.parent))


def test_a_placement_encoder_exports_to_a_bundle_that_declares_the_input(
        placed_bundle: tuple[ExportResult, Path], placed_windows: WindowSet) -> None:
    result, out = placed_bundle
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    enc = bundle.manifest.encoder
    assert enc.placement_name == "placement" and enc.placements == PLACEMENTS
    assert enc.placement_id("pocket") == 3 and enc.placement_id(None) == 0
    assert enc.features_name == "features"
    assert bundle.precisions == ("fp32", "int8")
    for precision in bundle.precisions:
        inputs = _graph_inputs(bundle.encoder_bytes(precision))
        assert inputs["placement"] == (TensorProto.INT64, ["batch"]), precision
    metrics = bundle.manifest.metrics
    assert metrics["parity.fp32.max_abs_corpus"] < 1e-4
    assert all(metrics[f"agreement.int8.placement.{p}.cosine_mean"] > 0.98
               for p in ("not_said", *PLACEMENTS))
    assert "0 not said, 1 wrist, 2 waist, 3 pocket, 4 upper_arm" in bundle.model_card
    # the device runs it with each window's placement, as torch does
    model = load_bundle(out, precision="fp32", trust=TrustPolicy(mode="off"))
    x = placed_windows.x[:4]
    emb, _ = model.encode_windows(x, placement="waist")
    np.testing.assert_allclose(emb, torch_embed(placed_encoder(), x, placement=[2] * 4),
                               atol=1e-4)


def test_a_bundle_copy_keeps_the_placement_input(
        placed_bundle: tuple[ExportResult, Path], tmp_path: Path) -> None:
    _, out = placed_bundle
    copied = with_label_sets(out, tmp_path / "copy.aura", {"few": ("walking", "running")})
    assert copied.encoder.placement_name == "placement"
    assert copied.encoder.placements == PLACEMENTS
    assert copied.encoder.features_name == "features"  # the features output is kept too
    assert read_bundle(tmp_path / "copy.aura", TrustPolicy(mode="off")).manifest.encoder == (
        copied.encoder)


def _edit_manifest(bundle: Path, edit: dict[str, object]) -> None:
    path = bundle / "manifest.json"
    data = json.loads(path.read_text())
    data["encoder"].update(edit)
    path.write_text(json.dumps(data, indent=2))


def test_a_manifest_declaring_a_placement_input_the_onnx_lacks_is_refused(
        tmp_path: Path) -> None:
    out = tmp_path / "toy"
    write_example_bundle(out, precisions=("fp32",), examples_per_label=2)
    _edit_manifest(out, {"placement_name": "placement", "placements": ["wrist", "waist"]})
    with pytest.raises(BundleCompatibilityError,
                       match=r"has inputs \['imu'\], but manifest.json declares the inputs "
                             r"\['imu', 'placement'\]") as info:
        read_bundle(out, TrustPolicy(mode="off"))
    assert "encoder_fp32.onnx" in str(info.value)


def test_an_onnx_placement_input_the_manifest_does_not_declare_is_refused(
        placed_bundle: tuple[ExportResult, Path], tmp_path: Path) -> None:
    _, src = placed_bundle
    out = tmp_path / "undeclared"
    shutil.copytree(src, out)
    _edit_manifest(out, {"placement_name": None, "placements": []})
    with pytest.raises(BundleCompatibilityError,
                       match=r"has inputs \['imu', 'placement'\], but manifest.json declares "
                             r"the inputs \['imu'\]"):
        read_bundle(out, TrustPolicy(mode="off"))
