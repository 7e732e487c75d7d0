"""Many AURA byte streams decoded in one numpy pass: a gateway's steady state.

A gateway with a thousand wrists gets, each tick, a few complete SAMPLES frames from every
wrist. Decoding them stream by stream costs a Python call, a loop over each frame's COBS
code bytes and a dozen small numpy operations per stream; :func:`decode_streams` does the
same work for all streams at once: the COBS code chains of every frame are walked together,
headers and payloads are read with array indexing, sequence numbers and timestamps are
checked and unwrapped per stream with segmented arithmetic.

It takes only the common case, and takes it whole or not at all, stream by stream: the
stream's bytes are complete frames (no partial frame pending, none left over), every one a
valid SAMPLES frame (COBS, CRC, length) with the same sample count, in sequence right after
the last frame the decoder accepted, with increasing times, and the decoder has its HELLO.
Anything else (a HELLO, a corrupt or lost or reordered frame, a cut frame, frames of
another size) leaves that stream untouched (``None``) for its own decoder's ``feed``, which
handles every case. For the streams it takes, the samples and the decoder's state and
counters afterwards are exactly what ``feed`` (with ``merge_frames``) gives: the same
arithmetic in the same order (``tests/bridge/test_aura_many.py``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._types import ImuSamples
from ._decoder import _SAMPLES, _SEQ_MASK, AuraStreamDecoder
from ._wire import AURA_MAX_SAMPLES_PER_FRAME, CRC_RESIDUE, MIN_FRAME_LEN, SAMPLE_LEN

__all__ = ["decode_streams"]

I64 = npt.NDArray[np.int64]

_HEADER = 7  # type, seq, t_us
_OVERHEAD = _HEADER + 4  # + CRC
#: longest encoded frame whose COBS code chain has no 0xFF block
_SHORT = 254


def _eligible(dec: object, data: bytes) -> bool:
    return (type(dec) is AuraStreamDecoder and len(data) > 1 and data[-1] == 0
            and data[0] != 0 and not dec._tail and not dec._skipping
            and dec._config is not None and not dec._held and not dec._batch
            and dec._seq_hi >= 0 and dec._t_raw >= 0)


def decode_streams(decoders: Sequence[AuraStreamDecoder], datas: Sequence[bytes]
                   ) -> list[ImuSamples | None]:
    """Decode ``datas[i]`` with ``decoders[i]`` for every stream the batch path can take
    (see module doc): one :class:`ImuSamples` with all its samples (``seq`` of its first
    frame), the decoder's state and counters moved on as ``feed`` would; ``None`` for the
    others, whose decoder and bytes are left as they were."""
    out: list[ImuSamples | None] = [None] * len(decoders)
    take = [i for i, (d, b) in enumerate(zip(decoders, datas, strict=True)) if _eligible(d, b)]
    if not take:
        return out
    parts = [datas[i] for i in take]
    buf = np.frombuffer(b"".join(parts), np.uint8).copy()
    sizes = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    ends_b = np.cumsum(sizes)
    zeros = np.flatnonzero(buf == 0)  # each frame's delimiter
    start = np.empty(zeros.size, np.int64)  # each frame's first (code) byte
    start[0] = 0
    start[1:] = zeros[:-1] + 1
    n_frames = np.diff(np.searchsorted(zeros, ends_b - 1, side="right"), prepend=0)
    stream_of = np.repeat(np.arange(len(take)), n_frames)
    first_frame = np.cumsum(n_frames) - n_frames
    enc_len = zeros - start
    ok = (enc_len >= MIN_FRAME_LEN + 1) & (enc_len <= _SHORT)
    # COBS: walk every frame's code chain together, writing 0x00 at each code position;
    # a chain must land exactly on its frame's end (decode_or_none, the short-frame case)
    p = start.copy()
    active = np.flatnonzero(ok)
    landed = np.zeros(zeros.size, bool)
    while active.size:
        at = p[active]
        nxt = at + buf[at]
        buf[at] = 0
        done = nxt >= zeros[active]
        if done.any():
            fin = active[done]
            landed[fin] = nxt[done] == zeros[fin]
        p[active] = nxt
        active = active[~done]
    ok &= landed
    body = start + 1  # the decoded frame: buf[body : zeros]
    view = memoryview(buf.data)
    crc = np.fromiter((zlib.crc32(view[b:e]) if g else 0 for b, e, g in
                       zip(body.tolist(), zeros.tolist(), ok.tolist(), strict=True)),
                      np.int64, zeros.size)
    count, rest = np.divmod(enc_len - 1 - _OVERHEAD, SAMPLE_LEN)
    # type, seq and t_us of every frame (a frame too short for them is not ok already)
    head = buf[np.minimum(body[:, None] + np.arange(_HEADER), buf.size - 1)].astype(np.int64)
    ok &= ((crc == CRC_RESIDUE) & (head[:, 0] == _SAMPLES) & (rest == 0) & (count >= 1)
           & (count <= AURA_MAX_SAMPLES_PER_FRAME))
    seq = head[:, 1] | (head[:, 2] << 8)
    t_raw = head[:, 3] | (head[:, 4] << 8) | (head[:, 5] << 16) | (head[:, 6] << 24)
    decs = [decoders[i] for i in take]
    # each frame against the one before it (the decoder's last for a stream's first)
    prev_seq = np.concatenate(([0], seq[:-1]))
    prev_seq[first_frame] = [d._seq_hi for d in decs]
    prev_t = np.concatenate(([0], t_raw[:-1]))
    prev_t[first_frame] = [d._t_raw for d in decs]
    ok &= ((seq - prev_seq) & 0xFFFF) == 1
    ok &= count == count[first_frame][stream_of]
    dt = (t_raw - prev_t) & 0xFFFFFFFF
    dt = np.where(dt & 0x80000000, dt - 0x100000000, dt)
    base = np.array([d._t_us for d in decs], np.int64)
    run = np.cumsum(dt)
    t_us = run - (run[first_frame] - dt[first_frame])[stream_of] + base[stream_of]
    rate = np.array([d._config.sample_rate_hz for d in decs])  # type: ignore[union-attr]
    times = t_us * 1e-6
    # merged only when each frame's first sample comes after the previous frame's last
    lead = (1 - count).astype(np.int64) * (1.0 / rate[stream_of])
    later = np.ones(zeros.size, bool)
    later[1:] = times[1:] + lead[1:] > times[:-1]
    later[first_frame] = True
    ok &= later
    good = np.logical_and.reduceat(ok, first_frame)
    for k in np.unique(count[good[stream_of]]).tolist():
        _emit(out, take, decs, good, k, count, first_frame, n_frames, body, buf, times, seq,
              t_raw, t_us)
    return out


def _emit(out: list[ImuSamples | None], take: list[int], decs: list[AuraStreamDecoder],
          good: npt.NDArray[np.bool_], k: int, count: I64, first_frame: I64, n_frames: I64,
          body: I64, buf: npt.NDArray[np.uint8], times: npt.NDArray[np.float64], seq: I64,
          t_raw: I64, t_us: I64) -> None:
    """The samples of the accepted streams whose frames hold ``k`` samples, and their
    decoders' state moved on (as ``_AuraDecoderCore._consume`` / ``_emit`` do)."""
    sel = good & (count[first_frame] == k)
    streams = np.flatnonzero(sel)
    frames = np.flatnonzero(np.repeat(sel, n_frames))  # theirs, in order
    payload = buf[(body[frames] + _HEADER)[:, None] + np.arange(SAMPLE_LEN * k)[None, :]]
    raw = payload.view("<i2").reshape(-1, 6)
    spans = n_frames[streams] * k  # samples per stream
    # every stream's scales and sample times at once: the same products and sums as
    # _AuraDecoderCore._emit makes per stream
    cfgs = [decs[j]._config for j in streams.tolist()]
    per_sample = np.repeat(np.arange(streams.size), spans)
    acc_scale = np.array([c.accel_scale for c in cfgs])  # type: ignore[union-attr]
    gyro_scale = np.array([c.gyro_scale for c in cfgs])  # type: ignore[union-attr]
    acc = raw[:, :3] * acc_scale[per_sample, None]
    gyro = raw[:, 3:] * gyro_scale[per_sample, None]
    rates = [c.sample_rate_hz for c in cfgs]  # type: ignore[union-attr]
    if len(set(rates)) == 1:
        t_all = (times[frames, None] + decs[int(streams[0])]._offsets(k, rates[0])).reshape(-1)
    else:
        offsets = np.stack([decs[j]._offsets(k, r) for j, r in zip(streams.tolist(), rates,
                                                                   strict=True)])
        t_all = (times[frames, None] + offsets[np.repeat(np.arange(streams.size),
                                                         n_frames[streams])]).reshape(-1)
    ends = np.cumsum(spans).tolist()
    last = (first_frame[streams] + n_frames[streams] - 1).tolist()
    for j, f0, nf, e, n_s, fl in zip(streams.tolist(), first_frame[streams].tolist(),
                                     n_frames[streams].tolist(), ends, spans.tolist(), last,
                                     strict=True):
        dec = decs[j]
        out[take[j]] = ImuSamples(acc[e - n_s : e], gyro[e - n_s : e], t_all[e - n_s : e],
                                  int(seq[f0]))
        dec._seq_hi = int(seq[fl])
        dec._seen = ((dec._seen << nf) | ((1 << nf) - 1)) & _SEQ_MASK
        dec._missing = (dec._missing << nf) & _SEQ_MASK  # (_accept_seq, frames in order)
        dec._t_raw = int(t_raw[fl])
        dec._t_us = int(t_us[fl])
        dec.stats.frames_ok += nf
        dec.stats.samples += n_s
