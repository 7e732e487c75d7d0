"""The on-device text encoder (int8 MiniLM ONNX, no torch) and free-text labels."""

import subprocess
import sys

import numpy as np
import pytest

from aura_export import toy_windows, write_example_bundle
from aura_sdk import ConfigError, SensorSpec, load_bundle
from aura_sdk.text import DEFAULT_TEMPLATES, TextEncoder, label_prototype


@pytest.fixture(scope="module")
def enc() -> TextEncoder:
    return TextEncoder()


def test_embeddings_are_unit_384d_and_semantic(enc) -> None:
    e = enc.encode(["a person walking", "someone strolling down the street",
                    "brushing teeth in the bathroom"])
    assert e.shape == (3, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2


def test_each_text_is_encoded_once(enc, monkeypatch) -> None:
    calls = []
    real = enc._session.run
    monkeypatch.setattr(enc._session, "run", lambda *a, **k: calls.append(1) or real(*a, **k))
    enc.encode(["cycling uphill", "cycling uphill", "rowing"])
    enc.encode(["rowing"])
    assert len(calls) == 1  # one batch for the two new texts, then the cache


def test_label_prototype_is_the_renormalised_prompt_mean(enc) -> None:
    p = label_prototype(enc, "swimming")
    prompts = enc.encode([t.replace("{label}", "swimming") for t in DEFAULT_TEMPLATES])
    mean = prompts.mean(axis=0)
    np.testing.assert_allclose(p, mean / np.linalg.norm(mean), atol=1e-6)
    proj = np.random.default_rng(0).standard_normal((384, 16))
    q = label_prototype(enc, "swimming", projection=proj)
    assert q.shape == (16,) and abs(np.linalg.norm(q) - 1) < 1e-5


def test_empty_text_is_refused(enc) -> None:
    with pytest.raises(ConfigError):
        enc.encode(["walking", " "])


def test_free_text_labels_through_a_bundle_that_ships_its_tokenizer(tmp_path) -> None:
    path = tmp_path / "t.aura"
    write_example_bundle(path, window_samples=100, sample_rate_hz=50.0, embedding_dim=32,
                         with_text_projection=True, include_tokenizer=True)
    m = load_bundle(str(path), precision="fp32")
    x = toy_windows("walking", 2, 100, 50.0).reshape(-1, 6)
    probs = m.classify(x, SensorSpec(sample_rate_hz=50), labels=["walking", "juggling balls"])
    assert set(probs) == {"walking", "juggling balls"}
    assert abs(sum(probs.values()) - 1) < 1e-5
    assert "juggling balls" in m._prototypes.text  # built once through the text encoder, cached


def test_text_encoder_never_imports_torch() -> None:
    code = ("import sys; from aura_sdk.text import TextEncoder; TextEncoder().encode(['a']); "
            "sys.exit(int('torch' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
