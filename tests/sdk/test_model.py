"""load_bundle -> AuraModel: embed, classify, enroll on a real (toy) ONNX encoder."""

from pathlib import Path

import numpy as np
import pytest

from aura_export import toy_windows, write_example_bundle
from aura_sdk import (
    GRAVITY,
    AuraModel,
    BundleNotFoundError,
    ConfigError,
    PreprocessingError,
    SensorSpec,
    SpecMismatchError,
    load_bundle,
)

RATE = 50.0
WINDOW = 100
SI = SensorSpec(sample_rate_hz=RATE)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("model") / "toy.aura"
    write_example_bundle(path, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32)
    return str(path)


@pytest.fixture(scope="module")
def model(bundle_path) -> AuraModel:
    return load_bundle(bundle_path, precision="fp32")


def _recording(label: str, windows: int = 3, seed: int = 5) -> np.ndarray:
    return toy_windows(label, windows, WINDOW, RATE, seed=seed).reshape(-1, 6).astype(np.float64)


def test_auto_precision_is_fp32_and_int8_agrees_with_it(bundle_path, model) -> None:
    auto = load_bundle(bundle_path)
    assert auto.precision == "fp32"
    x = _recording("walking")
    assert np.array_equal(auto.embed(x, SI), model.embed(x, SI))
    int8 = load_bundle(bundle_path, precision="int8")
    assert int8.precision == "int8"
    cos = float(int8.embed(x, SI) @ model.embed(x, SI))
    assert cos > 0.98, cos


def test_embed_is_a_unit_vector_of_the_manifest_dimension(model) -> None:
    e = model.embed(_recording("still"), SI)
    assert e.shape == (32,) and e.dtype == np.float32
    assert abs(float(np.linalg.norm(e)) - 1.0) < 1e-5


@pytest.mark.parametrize("label", ["still", "walking", "running", "waving"])
def test_classify_recovers_the_toy_activity(model, label) -> None:
    probs = model.classify(_recording(label), SI)
    assert list(probs)[0] == label, probs
    assert abs(sum(probs.values()) - 1.0) < 1e-5


def test_units_are_converted_before_the_encoder(model) -> None:
    x = _recording("running")
    in_g = x.copy()
    in_g[:, :3] /= GRAVITY
    in_g[:, 3:] *= 180.0 / np.pi
    spec_g = SensorSpec(sample_rate_hz=RATE, accel_unit="g", gyro_unit="deg/s")
    np.testing.assert_allclose(model.embed(in_g, spec_g), model.embed(x, SI), atol=1e-5)


def test_other_device_rates_reach_the_same_answer(model) -> None:
    # the same motion recorded at 100 Hz is resampled to the model's 50 Hz
    t50 = np.arange(3 * WINDOW) / RATE
    x50 = _recording("walking")
    t100 = np.arange(6 * WINDOW) / 100.0
    x100 = np.column_stack([np.interp(t100, t50, x50[:, c]) for c in range(6)])
    probs = model.classify(x100, SensorSpec(sample_rate_hz=100.0))
    assert list(probs)[0] == "walking"


def test_short_recording_is_padded_and_too_short_is_refused(model) -> None:
    half = _recording("waving", 1)[: WINDOW // 2]
    assert model.embed(half, SI).shape == (32,)
    with pytest.raises(PreprocessingError, match=r"at least 0\.40 s"):
        model.embed(half[:10], SI)


def test_restricting_labels_and_unknown_labels(model) -> None:
    probs = model.classify(_recording("running"), SI, labels=["still", "running"])
    assert set(probs) == {"still", "running"}
    with pytest.raises(ConfigError, match="no prototype for \\['cooking'\\]"):
        model.classify(_recording("running"), SI, labels=["cooking"])


def test_gravity_removed_stream_cannot_feed_a_gravity_included_model(model) -> None:
    with pytest.raises(SpecMismatchError):
        model.embed(_recording("still"), SensorSpec(sample_rate_hz=RATE, gravity_removed=True))


def test_enroll_adds_a_prototype_that_classify_uses(bundle_path) -> None:
    m = load_bundle(bundle_path, precision="fp32")
    rng = np.random.default_rng(3)
    t = np.arange(3 * WINDOW) / RATE

    def shaking(seed: int) -> np.ndarray:
        r = np.random.default_rng(seed)
        x = r.normal(0, 0.05, (t.size, 6))
        x[:, 2] += GRAVITY
        x[:, 0] += 9.0 * np.sin(2 * np.pi * 6.0 * t + r.uniform(0, 6))  # hard 6 Hz shake
        x[:, 5] += 6.0 * np.sin(2 * np.pi * 6.0 * t)
        return x

    proto = m.enroll("shaking a bottle", [shaking(1), shaking(2)], SI, persist=False)
    assert abs(float(np.linalg.norm(proto)) - 1.0) < 1e-5
    assert m.labels[-1] == "shaking a bottle"
    assert list(m.classify(shaking(int(rng.integers(10, 99))), SI))[0] == "shaking a bottle"
    with pytest.raises(ConfigError, match="already has a prototype"):
        m.enroll("walking", [shaking(4)], SI, persist=False)
    with pytest.raises(ConfigError, match="at least one example"):
        m.enroll("x", [], SI)


def test_embed_windows_checks_the_shape(model) -> None:
    with pytest.raises(ConfigError, match=r"\(N, 100, 6\)"):
        model.embed_windows(np.zeros((2, 50, 6), np.float32))


def test_default_bundle_absent_is_a_clear_error(monkeypatch) -> None:
    # this checkout embeds one; a build without it looks for a file that is not there
    import aura_sdk._model

    monkeypatch.setattr(aura_sdk._model, "DEFAULT_BUNDLE_NAME", "absent.aura")
    with pytest.raises(BundleNotFoundError, match="embeds no default bundle") as err:
        load_bundle()
    assert err.value.path is not None and Path(err.value.path).name == "absent.aura"


def test_enrolled_labels_persist_in_aura_home_for_that_bundle_only(tmp_path, caplog) -> None:
    import os

    path = tmp_path / "p.aura"
    write_example_bundle(path, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32)
    m = load_bundle(str(path), precision="fp32")
    x = _recording("running")
    proto = m.enroll("sprinting", [x], SI)
    home = Path(os.environ["AURA_HOME"])
    assert m.enrollment_dir == home / "enrolled" / m.fingerprint[:16] / m.feature_layout
    assert len(list(m.enrollment_dir.glob("*.npz"))) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.aura"]  # nothing beside it
    again = load_bundle(str(path), precision="fp32")
    assert again.labels[-1] == "sprinting"
    assert again.enrolled_labels == ("sprinting",)
    np.testing.assert_allclose(again.prototype_matrix(["sprinting"])[0], proto, atol=1e-6)
    again.forget("sprinting")
    assert "sprinting" not in load_bundle(str(path), precision="fp32").labels
    with pytest.raises(ConfigError, match="not an enrolled label"):
        again.forget("walking")
    # a file of this bundle copied into another bundle's store is refused, not used
    m.enroll("sprinting", [x], SI, replace=True)
    other = tmp_path / "q.aura"
    write_example_bundle(other, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32,
                         seed=9)
    q = load_bundle(str(other))
    q.enrollment_dir.mkdir(parents=True)
    (q.enrollment_dir / "x.npz").write_bytes(next(m.enrollment_dir.glob("*.npz")).read_bytes())
    assert "sprinting" not in load_bundle(str(other)).labels
    assert "another model" in caplog.text
    (q.enrollment_dir / "x.npz").write_bytes(b"not an npz")
    assert len(load_bundle(str(other)).labels) == 4
    assert "unreadable" in caplog.text


def test_enrolling_a_bundle_label_shadows_it_until_forgotten(bundle_path, model) -> None:
    m = load_bundle(bundle_path, precision="fp32")
    before = m.prototype_matrix(["walking"])[0].copy()
    m.enroll("walking", [_recording("running")], SI, replace=True, persist=False)
    assert not np.allclose(m.prototype_matrix(["walking"])[0], before)
    m.forget("walking", persist=False)
    np.testing.assert_array_equal(m.prototype_matrix(["walking"])[0], before)
    assert m.labels == model.labels


def test_enrollments_export_and_import_between_devices(bundle_path, tmp_path, monkeypatch
                                                        ) -> None:
    m = load_bundle(bundle_path, precision="fp32")
    m.enroll("sprinting", [_recording("running")], SI)
    m.enroll("strolling", [_recording("walking")], SI)
    out = m.export_enrollments(tmp_path / "mine.zip")
    monkeypatch.setenv("AURA_HOME", str(tmp_path / "other-device"))
    fresh = load_bundle(bundle_path, precision="fp32")
    assert fresh.enrolled_labels == ()
    assert fresh.import_enrollments(out) == ["sprinting", "strolling"]
    assert fresh.enrolled_labels == ("sprinting", "strolling")
    np.testing.assert_allclose(fresh.prototype_matrix(["sprinting"]),
                               m.prototype_matrix(["sprinting"]), atol=1e-7)
    with pytest.raises(ConfigError, match="already enrolled"):
        fresh.import_enrollments(out)
    other = tmp_path / "q.aura"
    write_example_bundle(other, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32,
                         seed=9)
    with pytest.raises(ConfigError, match="another model"):
        load_bundle(str(other)).import_enrollments(out)
    (tmp_path / "junk.zip").write_bytes(b"PK not really")
    with pytest.raises(ConfigError, match="not an AURA enrollment export"):
        fresh.import_enrollments(tmp_path / "junk.zip")


def test_pinned_threads_give_the_same_embeddings(bundle_path, model) -> None:
    one = load_bundle(bundle_path, precision="fp32", threads=1)
    x = np.random.default_rng(5).normal(size=(3, WINDOW, 6)).astype(np.float32)
    np.testing.assert_allclose(one.embed_windows(x), model.embed_windows(x), atol=1e-6)
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        load_bundle(bundle_path, precision="fp32", threads=0)
