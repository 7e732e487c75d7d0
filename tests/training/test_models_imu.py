"""IMU encoders: the Transformer (paper "SS" and smaller presets) and the IMU2CLIP baseline."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch
from pydantic import ValidationError

from aura_sdk import ConfigError
from aura_training.models import (
    ENCODER_PRESETS,
    Imu2ClipConfig,
    Imu2ClipEncoder,
    ImuTransformer,
    ImuTransformerConfig,
    build_encoder,
    count_flops,
    count_parameters,
    encoder_config,
)

torch.set_num_threads(1)

IMU_PRESETS = [n for n, c in ENCODER_PRESETS.items() if c.kind in ("imu_transformer", "imu2clip")]
# One export per distinct graph: the paper's SS, the student that ships, the GRU baseline.
# imu-ss-50hz / imu-xs / imu2clip-50hz are the same graphs at other sizes (5-6 s each here).
EXPORTED = ["imu-ss", "imu-student", "imu2clip"]


def _transformer_params(c: ImuTransformerConfig) -> int:
    d, m, n = c.dim, c.mlp_dim, c.n_patches
    patch = c.channels * d * c.patch_size + d + 2 * d  # conv + bias + LayerNorm
    block = (2 * 2 * d  # two LayerNorms
             + 3 * d * d + (3 * d if c.qkv_bias else 0) + d * d + d  # qkv, out proj
             + d * m + m + m * d + d)  # MLP
    return patch + d + (n + 1) * d + c.depth * block + 2 * d + d * c.embed_dim + c.embed_dim


def _transformer_flops(c: ImuTransformerConfig) -> int:
    d, m, t = c.dim, c.mlp_dim, c.n_patches + 1
    per_block = 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * m
    patch = 2 * c.n_patches * d * c.channels * c.patch_size
    return patch + c.depth * per_block + 2 * d * c.embed_dim


def test_ss_preset_is_the_papers_configuration() -> None:
    c = encoder_config("imu-ss")
    assert isinstance(c, ImuTransformerConfig)
    assert (c.sample_rate_hz, c.window_s, c.window_samples, c.patch_size, c.n_patches) == (
        200.0, 5.0, 1000, 8, 125)
    assert (c.dim, c.depth, c.heads, c.mlp_dim, c.embed_dim) == (192, 6, 6, 384, 384)
    model = ImuTransformer(c)
    assert model.pos_embed.shape == (1, 126, 192)
    assert isinstance(model.patch.proj, torch.nn.Conv1d)
    assert (model.patch.proj.kernel_size, model.patch.proj.stride) == ((8,), (8,))


def test_ss_parameter_count_is_about_1_9_million() -> None:
    c = encoder_config("imu-ss")
    assert isinstance(c, ImuTransformerConfig)
    n = count_parameters(ImuTransformer(c))
    print(f"imu-ss parameters: {n:,}")
    assert n == _transformer_params(c) == 1_887_360
    assert 1.85e6 < n < 1.95e6  # "about 1.9 M" (paper)


@pytest.mark.parametrize("name", ["imu-ss", "imu-xs", "imu-student"])
def test_transformer_flop_count_matches_the_formula(name: str) -> None:
    model = build_encoder(name)
    c = model.config
    flops = count_flops(model, model.dummy_input(1))  # type: ignore[operator]
    print(f"{name}: {flops / 1e6:.1f} MFLOPs per window")
    assert flops == pytest.approx(_transformer_flops(c), rel=1e-3)


@pytest.mark.parametrize("name", IMU_PRESETS)
def test_imu_presets_give_unit_embeddings(name: str) -> None:
    torch.manual_seed(0)
    model = build_encoder(name).eval()
    x = model.dummy_input(3, generator=torch.Generator().manual_seed(1))  # type: ignore[operator]
    with torch.no_grad():
        y = model(x)
    assert y.shape == (3, model.embed_dim)
    torch.testing.assert_close(y.norm(dim=-1), torch.ones(3))
    assert not torch.allclose(y[0], y[1], atol=1e-3)  # different windows, different embeddings
    with pytest.raises(ConfigError, match="expects"):
        model(x[:, :-1])


def test_blocks_are_residual() -> None:
    torch.manual_seed(0)
    model = build_encoder("imu-student")
    assert isinstance(model, ImuTransformer)
    block = model.blocks[0]
    x = torch.randn(2, 26, model.config.dim)
    y = block(x)
    assert (y - x).abs().max() > 1e-3
    with torch.no_grad():  # silence both branches: a residual block becomes the identity
        for lin in (block.attn.proj, block.mlp.fc2):
            lin.weight.zero_()
            lin.bias.zero_()
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)


def test_patch_count_follows_rate_and_window() -> None:
    c = ImuTransformerConfig(sample_rate_hz=100, window_s=4.0, patch_size=8, dim=64, heads=4,
                             depth=1, mlp_dim=64, embed_dim=32)
    assert (c.window_samples, c.n_patches) == (400, 50)
    model = ImuTransformer(c)
    assert model.pos_embed.shape == (1, 51, 64)
    assert model(torch.randn(2, 400, 6)).shape == (2, 32)


@pytest.mark.parametrize("bad", [
    {"sample_rate_hz": 50, "patch_size": 8},  # 250 samples, not divisible by 8
    {"sample_rate_hz": 33.3},  # 166.5 samples
    {"dim": 100},  # 6 heads do not divide 100
    {"depth": 0},
    {"n_layers": 6},  # unknown field
    {"placements": ("waist", "waist")},
    {"placements": ("",)},
])
def test_invalid_transformer_configs_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImuTransformerConfig(**bad)  # type: ignore[arg-type]


def test_registry_resolves_names_mappings_and_overrides() -> None:
    assert {"imu-ss", "imu-xs", "imu-student", "imu2clip", "video-cnn", "mocap-cnn",
            "text-minilm"} <= set(ENCODER_PRESETS)
    with pytest.raises(ConfigError, match="unknown encoder"):
        build_encoder("imu-xxl")
    c = encoder_config({"preset": "imu-ss", "embed_dim": 512})
    assert isinstance(c, ImuTransformerConfig) and c.embed_dim == 512 and c.dim == 192
    c2 = encoder_config({"kind": "imu2clip", "sample_rate_hz": 50})
    assert isinstance(c2, Imu2ClipConfig) and c2.window_samples == 250
    with pytest.raises(ConfigError, match="invalid encoder config"):
        encoder_config("imu-ss", patch_size=7)
    assert build_encoder("imu-ss", embed_dim=256).embed_dim == 256
    with pytest.raises(ValidationError):  # frozen
        c.dim = 8  # type: ignore[misc]


def test_importing_the_models_builds_and_loads_nothing() -> None:
    code = ("import sys, aura_training.models, aura_training.losses; "
            "assert 'transformers' not in sys.modules, 'text tower loaded at import'; "
            "assert 'sentence_transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_seeded_builds_are_identical() -> None:
    outs = []
    x = torch.randn(2, 250, 6, generator=torch.Generator().manual_seed(3))
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        with torch.no_grad():
            outs.append(build_encoder("imu-xs").eval()(x))
    assert torch.equal(outs[0], outs[1])
    assert not torch.allclose(outs[0], outs[2])


def test_imu2clip_shapes_and_parameter_count() -> None:
    c = Imu2ClipConfig()
    assert c.pooled_length == 32 and Imu2ClipConfig(sample_rate_hz=50).pooled_length == 5
    model = Imu2ClipEncoder(c)
    w, h = c.conv_channels, c.hidden
    want = (2 * 6 + 6 * w * 10 + w * w * 5 * 2 + 2 * w  # GroupNorms and bias-free convs
            + 3 * (w * h + h * h + 2 * h)  # GRU (two bias vectors per gate)
            + h * c.embed_dim + c.embed_dim)
    n = count_parameters(model)
    print(f"imu2clip parameters: {n:,}")
    assert n == want


def test_imu2clip_reference_quirk_runs_the_gru_over_channels() -> None:
    torch.manual_seed(0)
    model = Imu2ClipEncoder(Imu2ClipConfig(gru_over="channels"))
    assert model.gru.input_size == 32  # the pooled time axis, fed as features
    assert model(torch.randn(2, 1000, 6)).shape == (2, 384)
    with pytest.raises(ValidationError, match="pooled length"):
        Imu2ClipConfig(sample_rate_hz=50, gru_over="channels")
    with pytest.raises(ValidationError, match="too short"):
        Imu2ClipConfig(window_s=0.1)


@pytest.mark.filterwarnings(
    # torch.export/onnx internals (torch 2.13) warn about their own deprecated helpers and,
    # tracing nn.GRU into a while_loop, about its cached flat-weight views and a non-leaf
    # .grad probe of their own; none of these concerns our code or the exported graph.
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning",
    "ignore:_check_is_size will be removed:FutureWarning",
    "ignore:The tensor attributes self.gru._flat_weights:UserWarning",
    "ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning",
)
@pytest.mark.parametrize("name", EXPORTED)
def test_onnx_export_matches_torch(name: str) -> None:
    torch.manual_seed(0)
    model = build_encoder(name).eval()
    x = model.dummy_input(2)  # type: ignore[operator]
    program = torch.onnx.export(
        model, (x,), dynamo=True, external_data=False, input_names=["imu"],
        output_names=["embedding"], dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
        verbose=False)
    assert program is not None
    session = ort.InferenceSession(program.model_proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "imu" and inp.shape[1:] == list(x.shape[1:])
    assert not isinstance(inp.shape[0], int)  # dynamic batch
    probe = torch.randn(3, *x.shape[1:], generator=torch.Generator().manual_seed(9))
    (got,) = session.run(["embedding"], {"imu": probe.numpy()})
    with torch.no_grad():
        want = model(probe).numpy()
    err = float(np.abs(np.asarray(got) - want).max())
    print(f"{name}: ONNX vs torch max abs {err:.2e}")
    assert err < 1e-4


def test_a_placement_input_starts_neutral_and_then_tells_placements_apart() -> None:
    kinds = ("wrist", "waist", "pocket", "upper_arm")
    torch.manual_seed(0)
    plain = build_encoder("imu-student").eval()
    torch.manual_seed(0)
    enc = build_encoder({"preset": "imu-student", "placements": kinds}).eval()
    assert enc.uses_placement and not plain.uses_placement
    # 5 rows: "not said" plus one per placement; the rest of the weights are the plain ones
    assert enc.placement.weight.shape == (len(kinds) + 1, enc.config.dim)
    own = {k: v for k, v in enc.state_dict().items() if not k.startswith("placement.")}
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in own.items())
    x = enc.dummy_input(3, torch.Generator().manual_seed(1))
    ids = torch.tensor([0, 2, 3])
    with torch.no_grad():
        ref = plain(x)
        # zero-initialised: before training a placement changes nothing
        assert torch.allclose(enc(x, ids), ref, atol=1e-6)
        assert torch.allclose(enc(x), ref, atol=1e-6)  # None means "not said"
        enc.placement.weight.normal_(0.0, 0.5)  # as if trained
        waist = enc(x, torch.full((3,), 1 + kinds.index("waist")))
        wrist = enc(x, torch.full((3,), 1 + kinds.index("wrist")))
        assert torch.allclose(enc(x), enc(x, torch.zeros(3, dtype=torch.long)))
    assert (waist - wrist).abs().max() > 1e-3  # the same motion, read per placement
    assert torch.allclose(waist.norm(dim=1), torch.ones(3), atol=1e-5)
    with pytest.raises(ConfigError, match="placement"):
        enc(x, torch.zeros(2, dtype=torch.long))
