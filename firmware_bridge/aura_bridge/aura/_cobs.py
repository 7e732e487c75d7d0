"""Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999) with a 0x00 frame delimiter.

COBS removes every 0x00 from a frame, so a receiver that sees 0x00 knows a frame just ended,
whatever garbage came before: it resynchronises at the next delimiter. The encoding is the
canonical one (a block of 254 non-zero bytes that ends the frame gets no trailing empty block),
byte-identical to ``firmware_bridge/c/aura_proto.c``.
"""

from __future__ import annotations

__all__ = ["cobs_decode", "cobs_encode", "cobs_max_encoded_len"]


def cobs_max_encoded_len(n: int) -> int:
    """Worst-case COBS length of an ``n``-byte frame (delimiter not included)."""
    return n + n // 254 + 1


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``; the result contains no 0x00 (append ``b"\\x00"`` to delimit)."""
    out = bytearray()
    runs = bytes(data).split(b"\x00")
    last = len(runs) - 1
    for i, run in enumerate(runs):
        start = 0
        # A run longer than 254 bytes becomes full 0xFF blocks, which imply no zero.
        while len(run) - start >= 254:
            out.append(0xFF)
            out += run[start:start + 254]
            start += 254
        if start and start == len(run) and i == last:
            break  # canonical form: nothing follows a final full block
        out.append(len(run) - start + 1)
        out += run[start:]
    return bytes(out)


def cobs_decode(chunk: bytes) -> bytes:
    """Decode one COBS block (without its delimiter).

    Raises:
        ValueError: the chunk is empty, contains 0x00, or a code byte points past its end.
    """
    chunk = bytes(chunk)
    out = None if b"\x00" in chunk else decode_or_none(chunk)
    if out is None:
        raise ValueError("malformed COBS block: empty, contains 0x00, or a code overruns it")
    return bytes(out)


def decode_or_none(chunk: bytes) -> bytearray | None:
    """The decoder's hot path: decode a chunk that holds no 0x00, or None if it is malformed.

    COBS decoding is "drop the first byte, and at every later code position write 0x00 (or,
    after a 0xFF block, delete the code byte)". Walking the code chain touches one byte per
    zero in the frame, not every byte, and leaves the copying to ``bytearray``.
    """
    n = len(chunk)
    if n == 0:
        return None
    buf = bytearray(chunk)
    j = buf[0]
    if n <= 254:
        # Up to 254 bytes a 0xFF code would overrun the chunk, so this loop needs no 0xFF case
        # (and no 0x00 case: the caller guarantees there is none).
        while j < n:
            code = buf[j]
            buf[j] = 0
            j += code
    else:
        prev = buf[0]
        deleted: list[int] = []
        while j < n:
            code = buf[j]
            if code == 0:
                return None
            if prev == 0xFF:
                deleted.append(j)  # a full block implies no zero
            else:
                buf[j] = 0
            prev = code
            j += code
        for pos in reversed(deleted):
            del buf[pos]
    if j != n:
        return None
    del buf[0]  # O(1): bytearray deletes from the front by moving its start
    return buf
