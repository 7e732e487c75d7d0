"""Polar PMD delta compression: decode and encode.

Layout of a delta-compressed PMD payload (frame type with bit 0x80 set):

* a reference sample: ``channels`` values of ``ceil(resolution / 8)`` bytes each, little-endian
  (two's complement for integer data, raw IEEE-754 bit patterns for float data);
* then blocks ``[delta bit width][sample count][ceil(width * count * channels / 8) bytes]``;
  the bytes form a bit stream read least-significant bit of the first byte first, each delta
  a ``width``-bit two's complement number, channels interleaved per sample. Each delta is
  added to the previous sample of its channel (integer addition; for float data on the
  32-bit patterns, wrapping like Java ``Int``).

Strictness, so that garbage is rejected rather than decoded: blocks must consume the payload
exactly, widths must be 1..32, and integer data must stay inside its resolution. A width of
0 is accepted and yields no samples, as in the SDK.

Deviation from the SDK, on purpose: Polar's ``parseDeltaFrame`` sign-extends with
``Int.MAX_VALUE shl (width - 1)``, which for width 1 turns the delta ``1`` into
``Int.MAX_VALUE``; here a 1-bit delta is two's complement (``1`` -> ``-1``). The encoder never
emits widths below 2, so its output decodes identically with both.

Source: polarofficial/polar-ble-sdk ``sources/Android/android-communications/library/src/main/
java/com/polar/androidcommunications/api/ble/model/gatt/client/pmd/BlePMDClient.kt``
(``parseDeltaFramesAll``, ``parseDeltaFrame``, ``parseDeltaFrameRefSamples``). Reimplemented
from the description above, not copied.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["decode_delta", "encode_delta", "min_width", "wrap32"]

MAX_BLOCK = 255  # the sample count is one byte


def wrap32(x: int) -> int:
    """``x`` wrapped to a signed 32-bit integer (Java ``Int`` arithmetic)."""
    return ((x + 0x8000_0000) & 0xFFFF_FFFF) - 0x8000_0000


def min_width(values: Sequence[int]) -> int:
    """Smallest two's-complement bit width holding every value (at least 2, see module doc)."""
    w = 2
    for v in values:
        need = (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1
        w = max(w, need)
    return w


def decode_delta(
    payload: bytes, channels: int, resolution: int, *, float_bits: bool = False
) -> list[list[int]] | None:
    """Decode a delta-compressed payload into integer samples.

    Args:
        payload: the frame content after the 10-byte PMD header.
        channels: values per sample (3 for ACC / GYRO).
        resolution: bits per reference value (16 for int16, 32 for float32 patterns).
        float_bits: values are IEEE-754 bit patterns: unsigned reference, 32-bit wrapping.

    Returns:
        ``[sample][channel]`` integers, reference sample first, or None if the payload is
        malformed (truncated block, bad width, bytes left over, integer overflow).
    """
    nbytes = (resolution + 7) // 8
    off = channels * nbytes
    if len(payload) < off:
        return None
    ref = [
        int.from_bytes(payload[c * nbytes:(c + 1) * nbytes], "little", signed=not float_bits)
        for c in range(channels)
    ]
    if float_bits:
        ref = [wrap32(v) for v in ref]
    lo, hi = -(1 << (resolution - 1)), (1 << (resolution - 1)) - 1
    samples = [ref]
    prev = ref
    n = len(payload)
    while off < n:
        if n - off < 2:
            return None
        width, count = payload[off], payload[off + 1]
        off += 2
        if width > 32:
            return None
        nbits = width * count * channels
        end = off + (nbits + 7) // 8
        if end > n:
            return None
        if width == 0:
            continue
        bits = int.from_bytes(payload[off:end], "little")
        off = end
        mask, sign = (1 << width) - 1, 1 << (width - 1)
        pos = 0
        for _ in range(count):
            cur = []
            for c in range(channels):
                d = (bits >> pos) & mask
                pos += width
                if d & sign:
                    d -= 1 << width
                v = prev[c] + d
                if float_bits:
                    v = wrap32(v)
                elif not lo <= v <= hi:
                    return None
                cur.append(v)
            samples.append(cur)
            prev = cur
    return samples


def encode_delta(
    samples: Sequence[Sequence[int]],
    resolution: int,
    *,
    float_bits: bool = False,
    block: int = 16,
    max_bytes: int | None = None,
) -> tuple[bytes, int]:
    """Delta-compress integer samples, as many as fit in ``max_bytes``.

    Args:
        samples: ``[sample][channel]`` integers (bit patterns as signed int32 for floats).
        resolution: bits per reference value.
        float_bits: deltas wrap at 32 bits (float bit patterns).
        block: samples per delta block (1..255); each block gets its own bit width.
        max_bytes: payload budget; None for no limit.

    Returns:
        ``(payload, n_samples_encoded)``; at least the reference sample is encoded.
    """
    if not samples:
        raise ValueError("encode_delta needs at least one sample")
    block = max(1, min(MAX_BLOCK, int(block)))
    channels = len(samples[0])
    nbytes = (resolution + 7) // 8
    out = bytearray()
    for v in samples[0]:
        out += (v & ((1 << (8 * nbytes)) - 1)).to_bytes(nbytes, "little")
    used = 1
    while used < len(samples):
        chunk = samples[used:used + block]
        deltas = []
        for k, cur in enumerate(chunk):
            prev = samples[used + k - 1]
            row = [cur[c] - prev[c] for c in range(channels)]
            deltas.append([wrap32(d) for d in row] if float_bits else row)
        width = min_width([d for row in deltas for d in row])
        if width > 32:
            raise ValueError(f"delta needs {width} bits; PMD allows at most 32")
        count = len(deltas)
        if max_bytes is not None:
            room = max_bytes - len(out) - 2
            count = min(count, max(0, room * 8 // (width * channels)))
            if count == 0:
                break
        bits = 0
        pos = 0
        for row in deltas[:count]:
            for d in row:
                bits |= (d & ((1 << width) - 1)) << pos
                pos += width
        out += bytes((width, count)) + bits.to_bytes((pos + 7) // 8, "little")
        used += count
        if count < len(deltas):
            break
    return bytes(out), used
