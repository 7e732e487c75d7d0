"""Fuzzing the loader: random and mutated zips, manifests, prototypes and signatures may
only ever be refused with a BundleError subclass (or load, when a mutation is harmless)."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bundle_support import keypair, make_dir, make_zip, read_manifest, scratch

from aura_sdk import BundleError, BundleFormatError, BundleSignatureError
from aura_sdk.bundle import TrustPolicy, decode_prototypes, key_id, read_bundle, sign_bundle

FUZZ = settings(derandomize=True, deadline=None, max_examples=120, database=None,
                suppress_health_check=[HealthCheck.too_slow])

_BASE = scratch("fuzz-base")
_ZIP = make_zip(_BASE).read_bytes()
_DIR = make_dir(_BASE, "dir")
_MANIFEST = read_manifest(_DIR)
_PROTOTYPES = (_DIR / "prototypes.npz").read_bytes()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    return out


MANIFEST_PATHS = _paths(_MANIFEST)


def _loads_or_refuses(path: Path, trust: TrustPolicy | None = None) -> None:
    # any exception other than a BundleError escapes and fails the test
    with contextlib.suppress(BundleError):
        read_bundle(path, trust)


def _mutate(blob: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(blob)
    for pos, value in flips:
        data[pos % len(data)] = value
    return bytes(data[:cut] if cut is not None else data)


@FUZZ
@given(st.binary(max_size=4096) | st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b)
       | st.binary(max_size=512).map(lambda b: b + b"PK\x05\x06" + bytes(18)))
def test_random_bytes_as_bundle(blob: bytes) -> None:
    path = _BASE / "random.aura"
    path.write_bytes(blob)
    _loads_or_refuses(path)


positions = st.integers(0, len(_ZIP) - 1) | st.integers(len(_ZIP) - 600, len(_ZIP) - 1)


@FUZZ
@given(st.lists(st.tuples(positions, st.integers(0, 255)), min_size=1, max_size=6),
       st.none() | st.integers(0, len(_ZIP)))
def test_mutated_zip(flips: list[tuple[int, int]], cut: int | None) -> None:
    path = _BASE / "mutated.aura"
    path.write_bytes(_mutate(_ZIP, flips, cut))
    _loads_or_refuses(path)


@FUZZ
@given(st.sampled_from(MANIFEST_PATHS), json_values, st.booleans())
def test_mutated_manifest_fields(where: tuple[str, ...], value: Any, delete: bool) -> None:
    data = json.loads(json.dumps(_MANIFEST))
    node = data
    for key in where[:-1]:
        node = node[key]
    if delete:
        del node[where[-1]]
    else:
        node[where[-1]] = value
    (_DIR / "manifest.json").write_text(json.dumps(data))
    _loads_or_refuses(_DIR)


@FUZZ
@given(json_values | st.text(max_size=200) | st.binary(max_size=200))
def test_random_manifest_documents(doc: Any) -> None:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode() if not isinstance(
        doc, str) else doc.encode()
    (_DIR / "manifest.json").write_bytes(raw)
    _loads_or_refuses(_DIR)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_PROTOTYPES) - 1), st.integers(0, 255)),
                min_size=1, max_size=6), st.none() | st.integers(0, len(_PROTOTYPES)))
def test_mutated_prototypes(flips: list[tuple[int, int]], cut: int | None) -> None:
    with contextlib.suppress(BundleFormatError):
        decode_prototypes(_mutate(_PROTOTYPES, flips, cut))


_SIGNED = make_dir(_BASE, "signed")
sign_bundle(_SIGNED, keypair("alice")[0])
_SIGNATURE = json.loads((_SIGNED / "signature.json").read_text())


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(sorted(_SIGNATURE)), json_values, st.sampled_from(["warn", "require"]))
def test_mutated_signature_fields(field: str, value: Any, mode: str) -> None:
    doc = dict(_SIGNATURE, **{field: value})
    (_SIGNED / "signature.json").write_text(json.dumps(doc))
    _loads_or_refuses(_SIGNED, TrustPolicy(mode=mode,  # type: ignore[arg-type]
                                           trusted_keys=[keypair("alice")[1]]))


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(["signature", "public_key"]), st.integers(0, 511), st.booleans())
def test_bit_flipped_signature(field: str, bit: int, fix_key_id: bool) -> None:
    raw = bytearray(base64.b64decode(_SIGNATURE[field]))
    raw[(bit // 8) % len(raw)] ^= 1 << (bit % 8)
    doc = dict(_SIGNATURE, **{field: base64.b64encode(bytes(raw)).decode()})
    if fix_key_id and field == "public_key":
        doc["key_id"] = key_id(bytes(raw))
    (_SIGNED / "signature.json").write_text(json.dumps(doc))
    with pytest.raises(BundleSignatureError):
        read_bundle(_SIGNED, TrustPolicy(trusted_keys=[keypair("alice")[1]]))


def test_fuzz_base_is_sound() -> None:
    # the mutations above start from bundles that load, so refusals come from the mutations
    (_DIR / "manifest.json").write_text(json.dumps(_MANIFEST))
    assert read_bundle(_DIR).labels == ("still", "walking", "running", "waving")
    (_SIGNED / "signature.json").write_text(json.dumps(_SIGNATURE))
    assert read_bundle(_SIGNED, TrustPolicy(trusted_keys=[keypair("alice")[1]])).signature.key_id
