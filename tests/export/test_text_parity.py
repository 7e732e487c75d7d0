"""On-device int8 MiniLM (ONNX) vs the training side's fp32 sentence-transformers tower."""

import os

import numpy as np
import pytest

from aura_sdk.text import TextEncoder, package_tokenizer_path

PROMPTS = [f"a person {a}" for a in (
    "walking", "running", "cycling", "sitting", "standing", "lying down", "climbing stairs",
    "going down stairs", "jumping", "doing jumping jacks", "skipping rope", "doing push-ups",
    "doing squats", "waving", "clapping", "eating", "drinking", "brushing teeth", "typing",
    "writing", "vacuuming", "cooking", "repairing a bike", "playing soccer",
    "playing basketball", "dancing", "playing the guitar", "rock climbing", "performing CPR",
    "playing tennis", "playing badminton", "throwing a ball", "swimming", "rowing",
    "lifting weights", "doing yoga", "boxing", "washing dishes", "ironing", "driving a car")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # transformers' own import warnings
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_int8_onnx_agrees_with_the_fp32_tower() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    st = pytest.importorskip("sentence_transformers")
    tok = package_tokenizer_path()
    assert tok is not None
    fp32 = st.SentenceTransformer(str(tok.parent), device="cpu")
    ref = fp32.encode(PROMPTS, normalize_embeddings=True, convert_to_numpy=True)
    got = TextEncoder().encode(PROMPTS)
    cos = np.sum(ref * got, axis=1)
    print(f"int8 vs fp32 cosine over {len(PROMPTS)} prompts: mean {cos.mean():.5f}, "
          f"min {cos.min():.5f}")
    assert cos.min() > 0.99
