"""Helpers shared by the vendor device tests: decoding, chunking, fuzzing, order checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from aura_bridge._types import Decoder, ImuSamples


def decode_all(decoder: Decoder, chunks: Iterable[bytes]) -> list[ImuSamples]:
    """Feed every chunk, then flush if the decoder can."""
    out: list[ImuSamples] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    flush = getattr(decoder, "flush", None)
    if flush is not None:
        out += flush()
    return out


def stack(samples: Sequence[ImuSamples]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Concatenate decoded samples into ``(acc, gyro, t)``; t is None if any part has none."""
    if not samples:
        empty = np.zeros((0, 3))
        return empty, empty.copy(), None
    acc = np.concatenate([s.acc for s in samples])
    gyro = np.concatenate([s.gyro for s in samples])
    has_t = all(s.t is not None for s in samples)
    t = np.concatenate([s.t for s in samples if s.t is not None]) if has_t else None
    return acc, gyro, t


def random_chunks(data: bytes, rng: np.random.Generator, max_len: int = 40) -> list[bytes]:
    """Cut ``data`` at random places (chunk lengths 1..max_len)."""
    out, i = [], 0
    while i < len(data):
        k = int(rng.integers(1, max_len + 1))
        out.append(data[i:i + k])
        i += k
    return out


def rows(values: np.ndarray) -> list[tuple[float, ...]]:
    """The finite rows of an ``(n, 3)`` array as tuples, in order."""
    return [tuple(r) for r in values.tolist() if all(np.isfinite(r))]


def is_subsequence(sub: Sequence[object], seq: Sequence[object]) -> bool:
    """True if ``sub`` appears in ``seq`` in order (gaps allowed, no reuse)."""
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def mutate(frame: bytes, rng: np.random.Generator) -> bytes:
    """One random mutation: bit flips, byte replacement, truncation, extension, or a splice."""
    b = bytearray(frame)
    op = int(rng.integers(0, 5))
    if op == 0 and b:
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(b)))
            b[i] ^= 1 << int(rng.integers(0, 8))
    elif op == 1 and b:
        i = int(rng.integers(0, len(b)))
        b[i] = int(rng.integers(0, 256))
    elif op == 2:
        b = b[: int(rng.integers(0, len(b) + 1))]
    elif op == 3:
        b += rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
    else:
        i = int(rng.integers(0, len(b) + 1))
        b[i:i] = rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8).tobytes()
    return bytes(b)


def fuzz_packets(
    make: Callable[[], Decoder],
    valid: Sequence[bytes],
    rng: np.random.Generator,
    total_bytes: int,
    check: Callable[[ImuSamples], None],
) -> tuple[int, Decoder]:
    """Feed random and mutated notifications until ``total_bytes``; check every output.

    Returns the number of bytes fed and the decoder. Any exception propagates (the test fails).
    """
    dec = make()
    fed = 0
    while fed < total_bytes:
        if rng.random() < 0.5:
            data = rng.integers(0, 256, int(rng.integers(0, 64)), dtype=np.uint8).tobytes()
        else:
            data = mutate(valid[int(rng.integers(0, len(valid)))], rng)
        for s in dec.feed(data):
            check(s)
        fed += len(data)
    return fed, dec


def random_imu(rng: np.random.Generator, n: int, acc_sd: float = 6.0,
               gyro_sd: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Plausible random wrist motion: acc around gravity (m/s^2), gyro (rad/s)."""
    acc = rng.normal(0.0, acc_sd, (n, 3)) + np.array([0.0, 0.0, 9.80665])
    gyro = rng.normal(0.0, gyro_sd, (n, 3))
    return acc, gyro
