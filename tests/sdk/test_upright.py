"""The wearer's upright: turning a device frame to it, finding it from walking, and models
whose placement input reads frames turned to it (``"waist+upright"``)."""

from __future__ import annotations

import numpy as np
import pytest
from live_support import RATE, WINDOW, session
from placement_support import placement_bundle

from aura_sdk import (
    ConfigError,
    LabelEvent,
    LiveRecognizer,
    PreprocessingError,
    SensorSpec,
    load_bundle,
)
from aura_sdk.preprocessing import (
    UPRIGHT_AXES,
    UPRIGHT_SUFFIX,
    PreprocessConfig,
    UprightTracker,
    estimate_upright,
    preprocess,
    rotate_imu,
    to_si,
    upright_rotation,
)
from aura_sdk.recording import Recording

G = 9.80665


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _walking(rate: float, seconds: float, rot: np.ndarray, seed: int = 0,
             step_hz: float = 1.9) -> np.ndarray:
    """A device turned by ``rot`` (v_device = rot @ v_body) on a body walking upright: a
    vertical bounce and fore-aft surge at the step rate on 1 g, in m/s^2, and a sway turn."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    ph = 2 * np.pi * step_hz * t + rng.uniform(0, 2 * np.pi)
    body = np.zeros((t.size, 6))
    body[:, 2] = G + 2.5 * np.sin(ph) + 0.8 * np.sin(2 * ph + 0.3)
    body[:, 0] = 1.5 * np.sin(ph + 1.0)
    body[:, 1] = 0.6 * np.sin(0.5 * ph)
    body[:, 3:] = 0.3 * np.column_stack([np.sin(0.5 * ph), np.sin(ph), np.cos(0.5 * ph)])
    body += rng.normal(0, 0.05, body.shape)
    return rotate_imu(body, rot)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


@pytest.mark.parametrize("placement", sorted(UPRIGHT_AXES))
def test_the_turn_takes_the_upright_to_the_placement_axis(placement) -> None:
    rng = np.random.default_rng(3)
    axis = np.asarray(UPRIGHT_AXES[placement])
    ups = [rng.standard_normal(3) * 4 for _ in range(20)] + [axis * 2, -axis, axis + 1e-14]
    for u in ups:
        r = upright_rotation(u, placement)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(r @ (u / np.linalg.norm(u)), axis, atol=1e-12)
    # the smallest turn: a device already upright is not turned, a tilted one turns its tilt
    np.testing.assert_allclose(upright_rotation(axis, placement), np.eye(3), atol=1e-15)
    tilt = axis + 0.1 * np.roll(axis, 1)
    assert np.degrees(np.arccos((np.trace(upright_rotation(tilt, placement)) - 1) / 2)) == (
        pytest.approx(_angle_deg(tilt, axis), abs=1e-9))


def test_bad_uprights_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="non-zero 3-vector"):
        upright_rotation((0, 0, 0), "waist")
    with pytest.raises(ConfigError, match="non-zero 3-vector"):
        upright_rotation((1, 0), "waist")
    with pytest.raises(ConfigError, match="needs a placement"):
        upright_rotation((1, 0, 0), "ankle")
    with pytest.raises(ValueError, match="non-zero direction"):
        SensorSpec(sample_rate_hz=50, upright=(0, 0, 0))
    with pytest.raises(ValueError, match="non-zero direction"):
        SensorSpec(sample_rate_hz=50, upright=(np.nan, 0, 1))


def test_a_spec_keeps_its_upright_as_a_unit_vector_and_names_the_input() -> None:
    s = SensorSpec(sample_rate_hz=50, placement="waist", upright=np.array([0.0, 3.0, 4.0]))
    assert s.upright == pytest.approx((0.0, 0.6, 0.8))
    assert s.input_placement == "waist" + UPRIGHT_SUFFIX
    assert SensorSpec(sample_rate_hz=50, placement="waist").input_placement == "waist"
    # without a placement there is no axis to turn to: the upright alone names nothing
    assert SensorSpec(sample_rate_hz=50, upright=[1, 0, 0]).input_placement is None
    assert SensorSpec.model_validate_json(s.model_dump_json()) == s


def test_rotate_imu_turns_both_triads() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 6))
    r = _random_rotation(rng)
    y = rotate_imu(x, r)
    np.testing.assert_allclose(y[:, :3], x[:, :3] @ r.T)
    np.testing.assert_allclose(y[:, 3:], x[:, 3:] @ r.T)
    np.testing.assert_allclose(np.linalg.norm(y[:, :3], axis=1),
                               np.linalg.norm(x[:, :3], axis=1))


@pytest.mark.parametrize("rate", [12.5, 50.0, 200.0])
def test_estimate_upright_finds_up_from_walking_whatever_the_mounting(rate) -> None:
    rng = np.random.default_rng(int(rate))
    for k in range(4):
        rot = _random_rotation(rng)
        imu = _walking(rate, 30.0, rot, seed=k)
        # a still stretch lying down first: it must not pull the estimate
        still = rotate_imu(np.tile([G, 0.0, 0.0, 0.0, 0.0, 0.0], (int(20 * rate), 1)), rot)
        u = estimate_upright(np.vstack([still, imu]), SensorSpec(sample_rate_hz=rate))
        assert u is not None
        assert _angle_deg(u, rot @ np.array([0.0, 0.0, 1.0])) < 3.0


def test_estimate_upright_reads_the_device_units() -> None:
    rot = _random_rotation(np.random.default_rng(9))
    imu = _walking(50.0, 20.0, rot)
    in_g = imu.copy()
    in_g[:, :3] /= G
    in_g[:, 3:] = np.degrees(in_g[:, 3:])
    a = estimate_upright(imu, SensorSpec(sample_rate_hz=50.0))
    b = estimate_upright(in_g, SensorSpec(sample_rate_hz=50.0, accel_unit="g",
                                          gyro_unit="deg/s"))
    assert a is not None and b is not None
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_estimate_upright_says_none_without_enough_walking() -> None:
    spec = SensorSpec(sample_rate_hz=50.0)
    rng = np.random.default_rng(1)
    still = np.tile([0.0, 0.0, G, 0, 0, 0], (3000, 1)) + rng.normal(0, 0.02, (3000, 6))
    assert estimate_upright(still, spec) is None
    noise = rng.normal(0, 3.0, (3000, 6)) + np.array([0, 0, G, 0, 0, 0])  # shaking, no rhythm
    assert estimate_upright(noise, spec) is None
    short = _walking(50.0, 4.0, np.eye(3))  # a few steps: too little to trust
    assert estimate_upright(short, spec) is None
    assert estimate_upright(np.zeros((10, 6)), spec) is None
    # walking in two mountings that disagree: the device moved on the body
    a = _walking(50.0, 20.0, np.eye(3))
    b = _walking(50.0, 20.0, np.diag([1.0, -1.0, -1.0]))
    assert estimate_upright(np.vstack([a, b]), spec) is None
    with pytest.raises(PreprocessingError, match="gravity-removed"):
        estimate_upright(a, SensorSpec(sample_rate_hz=50.0, gravity_removed=True))
    with pytest.raises(PreprocessingError):
        estimate_upright(np.zeros((10, 5)), spec)


def test_estimate_upright_survives_garbage_rows() -> None:
    imu = _walking(50.0, 30.0, np.eye(3))
    imu[::97] = np.nan
    u = estimate_upright(imu, SensorSpec(sample_rate_hz=50.0))
    assert u is not None and _angle_deg(u, np.array([0.0, 0.0, 1.0])) < 3.0


KNOWN = ("wrist", "waist", "waist" + UPRIGHT_SUFFIX)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The toy bundle whose encoder reads wrist, waist and waist turned to the upright."""
    root = placement_bundle(tmp_path_factory.mktemp("upright") / "toy", KNOWN, seed=2,
                            window=WINDOW, rate=RATE, precisions=("fp32",))
    return load_bundle(str(root), precision="fp32")


def _imu(seconds: float = 6.0) -> np.ndarray:
    rec = session(["walking", "still"], seconds / 2, seed=4)
    return np.column_stack([rec.acc, rec.gyro])


def test_a_model_trained_on_turned_frames_turns_the_windows_and_says_so(model) -> None:
    imu = _imu()
    up = np.array([0.6, 0.0, 0.8])
    told = SensorSpec(sample_rate_hz=RATE, placement="waist", upright=up)
    assert model.input_placement(told) == "waist" + UPRIGHT_SUFFIX
    turned = rotate_imu(to_si(imu, told), upright_rotation(up, "waist"))
    plain = SensorSpec(sample_rate_hz=RATE, placement="waist")
    ref = model.windows(turned, plain).x
    np.testing.assert_allclose(model.windows(imu, told).x, ref, atol=1e-5)
    e = model.embed(imu, told)
    want = model.embed_windows(ref, "waist" + UPRIGHT_SUFFIX).mean(axis=0)
    np.testing.assert_allclose(e, want / np.linalg.norm(want), atol=1e-5)
    assert float(e @ model.embed(imu, plain)) < 0.999
    p_told, p_plain = model.classify(imu, told), model.classify(imu, plain)
    assert any(abs(p_told[k] - p_plain[k]) > 1e-4 for k in p_told)


def test_without_a_turned_placement_the_upright_is_ignored(model) -> None:
    imu = _imu()
    up = (0.6, 0.0, 0.8)
    wrist = SensorSpec(sample_rate_hz=RATE, placement="wrist")
    told = wrist.model_copy(update={"upright": up})
    assert model.input_placement(told) == "wrist"  # the encoder knows no "wrist+upright"
    np.testing.assert_array_equal(model.windows(imu, told).x, model.windows(imu, wrist).x)
    np.testing.assert_array_equal(model.embed(imu, told), model.embed(imu, wrist))


def test_turned_placement_names_pass_the_placement_input(model) -> None:
    x = model.windows(_imu(), SensorSpec(sample_rate_hz=RATE)).x
    a = model.embed_windows(x, "waist")
    b = model.embed_windows(x, "waist" + UPRIGHT_SUFFIX)
    assert np.abs(a - b).max() > 0.05
    with pytest.raises(ConfigError, match="not one of"):
        model.embed_windows(x, "ankle" + UPRIGHT_SUFFIX)


def test_live_streams_told_their_upright_read_the_turned_windows(model) -> None:
    """A replay told its wearer's upright (and one not told), batched together: each event's
    similarity is what the offline turned windows give; told an upright an encoder cannot
    read, or without a placement, the stream is refused or read as it comes."""
    rec = session(["walking", "waving"], 6.0)
    up = np.array([0.3, -0.2, 0.9])
    recog = LiveRecognizer(model=model, smoothing="none", unknown_threshold=-1.0,
                           unknown_margin=0.0)
    recog.add_replay(rec, realtime=False, name="told", placement="waist", upright=up)
    recog.add_replay(rec, realtime=False, name="plain", placement="waist")
    events = [e for e in recog if isinstance(e, LabelEvent)]
    assert recog.inference_calls < recog.inference_windows  # the streams shared batches
    imu = np.column_stack([rec.acc, rec.gyro])
    config = PreprocessConfig(hop_samples=recog.preprocess_config.hop_samples)
    spec = SensorSpec(sample_rate_hz=RATE)
    labels = list(recog.scorer.labels)
    protos = model.prototype_matrix(labels)
    turned = rotate_imu(imu, upright_rotation(up, "waist"))
    for name, data, where in (("told", turned, "waist" + UPRIGHT_SUFFIX),
                              ("plain", imu, "waist")):
        pre = preprocess(data, spec, model.input_spec, t=rec.t, config=config)
        mine = [e for e in events if e.stream == name]
        assert len(mine) == len(pre)
        cos = model.embed_windows(pre.x, where) @ protos.T
        want = [cos[i, labels.index(e.label)] for i, e in enumerate(mine) if e.label in labels]
        got = [e.similarity for e in mine if e.label in labels]
        assert len(got) > 3
        np.testing.assert_allclose(got, want, atol=1e-4)
    with pytest.raises(ConfigError, match="needs placement"):
        LiveRecognizer(model=model).add_replay(rec, upright=up)
    with pytest.raises(ValueError, match="non-zero direction"):
        LiveRecognizer(model=model).add_replay(rec, placement="waist", upright=(0, 0, 0))
    wrist = LiveRecognizer(model=model)  # no "wrist+upright" in this encoder: read as it is
    wrist.add_replay(rec, realtime=False, placement="wrist", upright=up)
    assert list(wrist._placements.values()) == ["wrist"] and not wrist._turns


def test_a_tracker_finds_the_upright_fed_in_pieces_and_follows_a_moved_device() -> None:
    rng = np.random.default_rng(11)
    first, second = _random_rotation(rng), _random_rotation(rng)
    tracker = UprightTracker(50.0)
    a = _walking(50.0, 40.0, first, seed=1)[:, :3]
    changed = [tracker.feed(a[i : i + 37]) for i in range(0, len(a), 37)]
    assert sum(changed) >= 1 and tracker.upright is not None
    assert _angle_deg(tracker.upright, first @ [0.0, 0.0, 1.0]) < 3.0
    # fed whole or in pieces, the same walking windows are seen
    whole = UprightTracker(50.0)
    whole.feed(a)
    assert whole.upright is not None and _angle_deg(whole.upright, tracker.upright) < 1.0
    b = _walking(50.0, 60.0, second, seed=2)[:, :3]  # the device was clipped on anew
    tracker.feed(b)
    assert _angle_deg(tracker.upright, second @ [0.0, 0.0, 1.0]) < 3.0
    still = UprightTracker(50.0)
    assert not still.feed(np.tile([0.0, 0.0, G], (3000, 1)))
    assert still.upright is None
    with pytest.raises(ConfigError):
        UprightTracker(0.0)


def test_live_upright_auto_turns_the_stream_once_its_walking_agrees(model) -> None:
    rot = _random_rotation(np.random.default_rng(5))
    x = _walking(RATE, 30.0, rot, seed=3)
    t = np.arange(len(x)) / RATE
    rec = Recording(t=t, acc=x[:, :3], gyro=x[:, 3:])
    recog = LiveRecognizer(model=model, smoothing="none", unknown_threshold=-1.0,
                           unknown_margin=0.0)
    name = recog.add_replay(rec, realtime=False, placement="waist", upright="auto")
    assert recog._placements[name] == "waist"  # nothing known yet
    events = [e for e in recog if isinstance(e, LabelEvent)]
    placement, tracker = recog._trackers[name]
    assert placement == "waist" and tracker.upright is not None
    assert _angle_deg(tracker.upright, rot @ [0.0, 0.0, 1.0]) < 3.0
    assert recog._placements[name] == "waist" + UPRIGHT_SUFFIX
    # the last window was read turned to the upright found
    config = PreprocessConfig(hop_samples=recog.preprocess_config.hop_samples)
    turned = rotate_imu(x, upright_rotation(tracker.upright, "waist"))
    pre = preprocess(turned, SensorSpec(sample_rate_hz=RATE), model.input_spec, t=t,
                     config=config)
    labels = list(recog.scorer.labels)
    cos = model.embed_windows(pre.x[-1:], "waist" + UPRIGHT_SUFFIX) @ model.prototype_matrix(
        labels).T
    assert len(events) == len(pre)
    assert events[-1].similarity == pytest.approx(float(cos[0].max()), abs=1e-4)
    with pytest.raises(ConfigError, match="'auto'"):
        LiveRecognizer(model=model).add_replay(rec, placement="waist", upright="up")
    with pytest.raises(ConfigError, match="waist or pocket"):  # a wrist's chores repeat too
        LiveRecognizer(model=model).add_replay(rec, placement="wrist", upright="auto")
    pocket = LiveRecognizer(model=model)  # no "pocket+upright" here: auto does nothing
    pocket.add_replay(rec, realtime=False, placement="pocket", upright="auto")
    assert not pocket._trackers
