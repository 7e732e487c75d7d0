"""Synthetic ``HAPT.pkl.gz`` files in the real file's pickle layout, written without pandas.

The real file is a gzip'd protocol-2 pickle of ``{user id: [DataFrame, ...]}`` written by
pandas. This module emits the same opcodes, global names and object states by hand (a tiny
protocol-2 writer), so the tests exercise the loader on exactly what it meets in the wild and
never download or commit a real sample. Every number here is made up.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RATE_HZ = 50.0
COLUMNS_FLOAT = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z")
COLUMNS_INT = ("sequence", "label")


@dataclass(frozen=True)
class Global:
    """A ``GLOBAL module name`` opcode."""

    module: str
    name: str


_NO_STATE = object()


@dataclass(frozen=True)
class Reduce:
    """``func(*args)`` (REDUCE), then ``BUILD state`` when a state is given."""

    func: Any
    args: tuple[Any, ...]
    state: Any = field(default=_NO_STATE)


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")  # PROTO 2

    def save(self, x: Any) -> None:
        o = self.out
        if x is None:
            o += b"N"
        elif x is True or x is False:
            o += b"\x88" if x else b"\x89"
        elif isinstance(x, int):
            o += b"J" + struct.pack("<i", x)
        elif isinstance(x, float):
            o += b"G" + struct.pack(">d", x)
        elif isinstance(x, str):
            b = x.encode("utf-8")
            o += b"X" + struct.pack("<I", len(b)) + b
        elif isinstance(x, bytes):  # protocol 2 has no bytes opcode: _codecs.encode(str)
            self.save(Reduce(Global("_codecs", "encode"), (x.decode("latin1"), "latin1")))
        elif isinstance(x, Global):
            o += b"c" + x.module.encode() + b"\n" + x.name.encode() + b"\n"
        elif isinstance(x, Reduce):
            self.save(x.func)
            self.save(x.args)
            o += b"R"
            if x.state is not _NO_STATE:
                self.save(x.state)
                o += b"b"
        elif isinstance(x, tuple):
            o += b"("
            for item in x:
                self.save(item)
            o += b"t"
        elif isinstance(x, list):
            o += b"]"
            if x:
                o += b"("
                for item in x:
                    self.save(item)
                o += b"e"
        elif isinstance(x, dict):
            o += b"}"
            if x:
                o += b"("
                for k, v in x.items():
                    self.save(k)
                    self.save(v)
                o += b"u"
        elif isinstance(x, np.ndarray):
            self.save(ndarray(x))
        else:
            raise TypeError(f"the fixture writer cannot pickle {type(x).__name__}")

    def finish(self) -> bytes:
        return bytes(self.out + b".")


def _dtype(a: np.ndarray) -> Reduce:
    if a.dtype == object:
        return Reduce(Global("numpy", "dtype"), ("O8", False, True),
                      (3, "|", None, None, None, -1, -1, 63))
    code = {np.dtype("<f8"): "f8", np.dtype("<i8"): "i8"}[a.dtype]
    return Reduce(Global("numpy", "dtype"), (code, False, True),
                  (3, "<", None, None, None, -1, -1, 0))


def ndarray(a: np.ndarray, *, shape: tuple[int, ...] | None = None, raw: Any = None) -> Reduce:
    """numpy's own protocol-2 form: ``_reconstruct(ndarray, (0,), b'b')`` + BUILD state
    ``(1, shape, dtype, fortran, raw)``; ``shape`` / ``raw`` override the true ones (to
    write malformed arrays)."""
    if raw is None:
        raw = list(a.ravel()) if a.dtype == object else np.ascontiguousarray(a).tobytes()
    return Reduce(Global("numpy.core.multiarray", "_reconstruct"),
                  (Global("numpy", "ndarray"), (0,), b"b"),
                  (1, tuple(a.shape) if shape is None else shape, _dtype(a), False, raw))


def _index(names: Sequence[str]) -> Reduce:
    return Reduce(Global("pandas.core.indexes.base", "_new_Index"),
                  (Global("pandas.core.indexes.base", "Index"),
                   {"data": np.array(list(names), dtype=object), "name": None}))


def _range_index(n: int) -> Reduce:
    return Reduce(Global("pandas.core.indexes.base", "_new_Index"),
                  (Global("pandas.core.indexes.range", "RangeIndex"),
                   {"name": None, "start": 0, "stop": n, "step": 1}))


def _reconstructor(module: str, name: str, state: Any) -> Reduce:
    return Reduce(Global("copy_reg", "_reconstructor"),
                  (Global(module, name), Global("__builtin__", "object"), None), state)


def dataframe(samples: np.ndarray, labels: np.ndarray, sequence: np.ndarray | None = None,
              *, int_block_first: bool = False, float_block: Any = None) -> Reduce:
    """A pickled pandas DataFrame of the HAPT columns: a float block and an int block.

    ``float_block`` replaces the float block's pickled value (to write malformed frames)."""
    n = samples.shape[0]
    seq = np.arange(n, dtype=np.int64) if sequence is None else sequence.astype(np.int64)
    fblock = np.ascontiguousarray(samples.T.astype(np.float64))  # rows = columns of the frame
    iblock = np.ascontiguousarray(np.stack([seq, labels.astype(np.int64)]))
    blocks = [(fblock, COLUMNS_FLOAT, slice(0, 6, 1)), (iblock, COLUMNS_INT, slice(6, 8, 1))]
    if int_block_first:
        blocks.reverse()
    axes = [_index(COLUMNS_FLOAT + COLUMNS_INT), _range_index(n)]
    values = [float_block if float_block is not None and b is fblock else b
              for b, _, _ in blocks]
    items = [_index(names) for _, names, _ in blocks]
    compat = {"0.14.1": {"axes": axes, "blocks": [
        {"values": b, "mgr_locs": Reduce(Global("__builtin__", "slice"),
                                         (s.start, s.stop, s.step))}
        for b, _, s in blocks]}}
    manager = _reconstructor("pandas.core.internals.managers", "BlockManager",
                             (axes, values, items, compat))
    return _reconstructor("pandas.core.frame", "DataFrame",
                          {"_data": manager, "_typ": "dataframe", "_metadata": [], "attrs": {}})


def pickle_bytes(obj: Any) -> bytes:
    """Protocol-2 pickle bytes of ``obj`` (None, bool, int, float, str, bytes, tuple, list, dict,
    ndarray, :class:`Global`, :class:`Reduce`)."""
    w = _Writer()
    w.save(obj)
    return w.finish()


def write_pickle_gz(path: Path, obj: Any) -> Path:
    """Write ``obj`` (see :func:`pickle_bytes`) gzip'd to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(pickle_bytes(obj), mtime=0))
    return path


# -- synthetic activity signals -----------------------------------------------------------------
#: gravity direction in the phone frame (g) per posture, and cadence (Hz, 0 = still)
_GRAVITY = {1: (1.0, 0.0, 0.1), 2: (0.95, 0.1, 0.25), 3: (0.95, -0.1, 0.25),
            4: (0.3, 0.2, 0.93), 5: (1.0, 0.05, 0.05), 6: (0.05, 0.1, 0.99)}
_CADENCE = {1: 1.8, 2: 1.5, 3: 2.1, 4: 0.0, 5: 0.0, 6: 0.0}
_AMPLITUDE = {1: 0.35, 2: 0.25, 3: 0.5}


def activity_signal(activity: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 6)`` made-up waist-phone samples (g, rad/s) for a HAPT activity id."""
    t = np.arange(n) / RATE_HZ
    x = np.zeros((n, 6))
    g = np.asarray(_GRAVITY.get(activity, (0.7, 0.3, 0.6)))
    x[:, :3] = g / np.linalg.norm(g)
    f = _CADENCE.get(activity, 0.0)
    if f:
        a = _AMPLITUDE[activity]
        phase = rng.uniform(0, 2 * np.pi)
        x[:, 0] += a * np.sin(2 * np.pi * f * t + phase)
        x[:, 2] += 0.5 * a * np.sin(4 * np.pi * f * t + phase)
        x[:, 3:] += 0.8 * a * np.sin(2 * np.pi * f * t[:, None] + phase + np.arange(3))
    elif activity > 6:  # a postural transition: one slow swing
        x[:, 4] += 0.6 * np.sin(np.pi * t / t[-1]) if n > 1 else 0.0
    x += rng.normal(0.0, 0.01 if not f else 0.05, size=(n, 6))
    return x


#: One session's plan: (activity id, rows). -1 = unlabelled, 7..12 transitions.
Plan = Sequence[tuple[int, int]]

#: Default plan per session: every basic activity long enough, plus pieces to drop.
DEFAULT_PLAN: Plan = (
    (-1, 40), (5, 300), (7, 60), (4, 320), (9, 70), (6, 260), (12, 80), (5, 249),
    (1, 400), (-1, 30), (2, 350), (1, 120), (3, 330), (-1, 25),
)


def write_hapt_fixture(
    path: Path,
    plans: dict[int, Sequence[Plan]] | None = None,
    *,
    seed: int = 0,
    int_block_first: bool = False,
) -> dict[int, list[tuple[np.ndarray, np.ndarray]]]:
    """Write a synthetic ``HAPT.pkl.gz`` and return what it holds.

    Args:
        plans: ``{user id: [session plan, ...]}``; default: users 1..4, one session each,
            every session following :data:`DEFAULT_PLAN`.
        seed: seeds the made-up signals.
        int_block_first: put the int block (sequence, label) before the float block.

    Returns:
        ``{user id: [(samples (N, 6), labels (N,)), ...]}`` exactly as written.
    """
    if plans is None:
        plans = {u: [DEFAULT_PLAN] for u in (1, 2, 3, 4)}
    rng = np.random.default_rng(seed)
    truth: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    payload: dict[int, list[Reduce]] = {}
    for user, sessions in plans.items():
        truth[user] = []
        payload[user] = []
        for plan in sessions:
            x = np.concatenate([activity_signal(a, n, rng) for a, n in plan])
            y = np.concatenate([np.full(n, a, dtype=np.int64) for a, n in plan])
            truth[user].append((x, y))
            payload[user].append(dataframe(x, y, int_block_first=int_block_first))
    write_pickle_gz(path, payload)
    return truth
