"""Video and mocap encoders trained from scratch, and the projection encoder."""

from __future__ import annotations

import math

import pytest
import torch

from aura_sdk import ConfigError
from aura_training.models import (
    FeatureProjection,
    MocapCnn,
    MocapCnnConfig,
    MultiModalEncoder,
    ProjectionConfig,
    VideoCnn,
    VideoCnnConfig,
    body_frame_features,
    build_encoder,
    count_flops,
    count_parameters,
    frame_indices,
)

torch.set_num_threads(1)


@pytest.mark.parametrize("name", ["video-cnn", "video-cnn-4f", "video-motion", "mocap-cnn"])
def test_presets_give_unit_embeddings(name: str) -> None:
    torch.manual_seed(0)
    model = build_encoder(name).eval()
    x = model.dummy_input(2, generator=torch.Generator().manual_seed(1))  # type: ignore[operator]
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 384)
    torch.testing.assert_close(y.norm(dim=-1), torch.ones(2))
    print(f"{name}: {count_parameters(model):,} parameters, "
          f"{count_flops(model, x[:1]) / 1e6:.1f} MFLOPs per clip")


def test_frame_indices() -> None:
    assert frame_indices(50, 1) == [25]  # the middle frame, as the paper
    assert frame_indices(50, 4) == [6, 18, 31, 43]
    assert frame_indices(3, 3) == [0, 1, 2]
    with pytest.raises(ConfigError):
        frame_indices(2, 3)


def test_single_frame_video_encoder_sees_only_the_middle_frame() -> None:
    torch.manual_seed(0)
    model = VideoCnn(VideoCnnConfig(frame_size=32, widths=(8, 16))).eval()
    clip = torch.randint(0, 256, (1, 50, 32, 32), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        base = model(clip)
        others = clip.clone()
        others[:, :25] = 0
        others[:, 26:] = 255
        torch.testing.assert_close(model(others), base, rtol=0, atol=0)
        middle = clip.clone()
        middle[:, 25] = 255 - middle[:, 25]
        assert (model(middle) - base).abs().max() > 1e-3
        # uint8 0..255 and float 0..1 are the same input
        torch.testing.assert_close(model(clip.float() / 255.0), base, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="frames"):
        model(torch.zeros(1, 50, 64, 64))


def _rotate_z(x: torch.Tensor, angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return x @ rot.T


def test_motion_encoder_reads_only_what_changes_between_its_frames() -> None:
    torch.manual_seed(0)
    model = VideoCnn(VideoCnnConfig(frame_size=32, widths=(8, 16), n_frames=4,
                                    motion=True)).eval()
    assert model.config.in_channels == 3
    gen = torch.Generator().manual_seed(3)
    clip = torch.randint(0, 120, (2, 50, 32, 32), dtype=torch.uint8, generator=gen)
    with torch.no_grad():
        base = model(clip)
        # the same motion over another room: a constant image added to every frame cancels
        room = torch.randint(0, 100, (1, 1, 32, 32), dtype=torch.uint8, generator=gen)
        torch.testing.assert_close(model(clip + room), base, rtol=0, atol=1e-6)
        # a still clip is one point whatever it shows; a moving one is elsewhere
        still = clip[:, :1].expand(-1, 50, -1, -1).contiguous()
        other_still = clip[:, 1:2].expand(-1, 50, -1, -1).contiguous()
        torch.testing.assert_close(model(still), model(other_still), rtol=0, atol=1e-6)
        assert (model(still) - base).norm(dim=-1).min() > 1e-3
        # frames between the chosen ones are not read
        idx = frame_indices(50, 4)
        edited = clip.clone()
        keep = torch.zeros(50, dtype=torch.bool)
        keep[idx] = True
        edited[:, ~keep] = 255
        torch.testing.assert_close(model(edited), base, rtol=0, atol=0)


def test_video_jitter_moves_training_clips_only_and_keeps_their_shape() -> None:
    torch.manual_seed(0)
    config = VideoCnnConfig(frame_size=32, widths=(8, 16), n_frames=2, jitter_px=3)
    model = VideoCnn(config)
    clip = torch.zeros(4, 2, 32, 32)
    clip[:, :, 14:18, 14:18] = 1.0  # a bright square in the middle of a dark frame
    shifted = model._jitter(clip)
    assert shifted.shape == clip.shape
    assert float(shifted.min()) >= 0.0 and float(shifted.max()) <= 1.0
    # each clip is moved as one (its frames alike), by at most 3 pixels
    torch.testing.assert_close(shifted[:, 0], shifted[:, 1])
    for k in range(4):
        ys, xs = torch.nonzero(shifted[k, 0] > shifted[k, 0].mean(), as_tuple=True)
        assert 11 <= int(ys.min()) <= 17 and 11 <= int(xs.min()) <= 17
        assert int(ys.max()) - int(ys.min()) == 3 and int(xs.max()) - int(xs.min()) == 3
    # four clips draw four shifts or gains, not one
    draws = {(*torch.nonzero(s[0] > s[0].mean())[0].tolist(), round(float(s.max()), 3))
             for s in shifted}
    assert len(draws) > 1
    u8 = (torch.rand(2, 50, 32, 32, generator=torch.Generator().manual_seed(4)) * 255).to(
        torch.uint8)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(u8), model(u8), rtol=0, atol=0)
    model.train()
    with torch.no_grad():
        assert not torch.equal(model(u8), model(u8))


def test_video_config_refuses_motion_without_two_frames_and_oversized_jitter() -> None:
    with pytest.raises(ValueError, match="n_frames >= 2"):
        VideoCnnConfig(motion=True)
    with pytest.raises(ValueError, match="half the frame size"):
        VideoCnnConfig(frame_size=16, jitter_px=8)


def test_body_frame_features_put_the_left_hip_on_plus_y() -> None:
    joints = torch.zeros(1, 3, 17, 3)
    joints[..., 2] = 1.0
    joints[:, :, 11] = torch.tensor([0.0, 0.1, 0.9])  # left hip
    joints[:, :, 12] = torch.tensor([0.0, -0.1, 0.9])  # right hip
    joints[:, :, 0] = torch.tensor([0.05, 0.0, 1.6])  # nose, slightly forward
    walking = joints.clone()
    walking[:, :, :, 0] += torch.arange(3.0)[None, :, None] * 0.1  # 1 m/s along +x at 10 fps
    turned = _rotate_z(walking, math.pi / 3) + torch.tensor([4.0, -2.0, 0.0])
    f = body_frame_features(turned, fps=10.0)
    assert f.shape == (1, 3, 17 * 3 + 4)
    rel = f[..., :51].reshape(1, 3, 17, 3)
    torch.testing.assert_close(rel[0, :, 11], torch.tensor([[0.0, 0.1, 0.0]] * 3), atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(rel[0, :, 0], torch.tensor([[0.05, 0.0, 0.7]] * 3), atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(f[0, :, 51:54], torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0],
                                                             [1.0, 0.0, 0.0]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(f[0, :, 54], torch.full((3,), 0.9))


def test_mocap_encoder_ignores_where_the_person_stands_and_faces() -> None:
    torch.manual_seed(0)
    model = MocapCnn(MocapCnnConfig()).eval()
    x = model.dummy_input(2, generator=torch.Generator().manual_seed(3))
    moved = _rotate_z(x, 2.0) + torch.tensor([3.0, -1.5, 0.0])
    with torch.no_grad():
        torch.testing.assert_close(model(moved), model(x), rtol=1e-4, atol=1e-5)
        raw = MocapCnn(MocapCnnConfig(canonicalize=False)).eval()
        assert (raw(moved) - raw(x)).abs().max() > 1e-3
    with pytest.raises(ConfigError, match="keypoints"):
        model(torch.zeros(2, 40, 17, 3))


def test_projection_encoder_and_the_multimodal_container() -> None:
    torch.manual_seed(0)
    proj = FeatureProjection(ProjectionConfig(in_dim=384))
    feats = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    torch.testing.assert_close(proj(feats), feats)  # identity init for a square projection
    mlp = build_encoder({"kind": "projection", "in_dim": 512, "hidden_dim": 64})
    assert mlp(torch.randn(2, 512)).shape == (2, 384)
    with pytest.raises(ConfigError, match="512"):
        mlp(torch.randn(2, 500))
    model = MultiModalEncoder.from_configs({"imu": "imu-student", "video": "video-cnn"})
    out = model({"imu": torch.randn(2, 250, 6), "text": ["ignored: no text encoder"]})
    assert set(out) == {"imu"} and out["imu"].shape == (2, 384)
    with pytest.raises(ConfigError, match="embed_dim"):
        MultiModalEncoder({"imu": build_encoder("imu-student", embed_dim=256),
                           "video": build_encoder("video-cnn")})
