"""ROS 1 bags (format 2.0) read record by record, front to back, without their index.

A parser, so no I/O: :class:`Ros1BagParser` takes bytes as they come (``feed``) and returns the
connections and messages completed so far. Reading front to back is what makes a bag whose
recording was cut off (no index: ``rosbag record`` killed, a full disk, a truncated copy) give
every message before the cut, where an index-first reader refuses the whole file.

Format (ROS wiki, *Bags/Format/2.0*): the line ``#ROSBAG V2.0\\n``, then records, each
``<header_len u32><header><data_len u32><data>``; a header is fields ``<len u32>name=value``.
Ops: 0x03 bag header, 0x05 chunk (its data: records, compressed ``none`` / ``bz2`` / ``lz4``),
0x07 connection (its data: fields ``topic``, ``type``, ``message_definition`` ...), 0x02
message data (header ``conn`` u32, ``time`` sec u32 + nsec u32), 0x04 index data and 0x06 chunk
info (skipped: they only repeat what the chunks hold).
"""

from __future__ import annotations

import bz2
import struct
from dataclasses import dataclass

__all__ = ["MAGIC", "Ros1BagParser", "Ros1Connection", "Ros1FormatError", "Ros1Message"]

MAGIC = b"#ROSBAG V2.0\n"
_OP_MSG, _OP_HEADER, _OP_CHUNK, _OP_CONN = 0x02, 0x03, 0x05, 0x07
_U32 = struct.Struct("<I")
#: the largest record accepted (a corrupt length must not make the parser wait for gigabytes)
MAX_RECORD = 1 << 30


class Ros1FormatError(ValueError):
    """The bytes are not a ROS 1 bag (format 2.0), or a record in it is malformed."""


@dataclass(frozen=True)
class Ros1Connection:
    """A connection record: ``conn`` id, topic, message type (ROS 1 spelling) and its
    definition text."""

    conn: int
    topic: str
    msgtype: str
    definition: str


@dataclass(frozen=True)
class Ros1Message:
    """A message data record: its connection, receive time (ns) and serialised bytes."""

    conn: int
    time_ns: int
    data: bytes


def _fields(buf: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    i = 0
    while i < len(buf):
        if i + 4 > len(buf):
            raise Ros1FormatError("a header field's length is cut")
        (n,) = _U32.unpack_from(buf, i)
        i += 4
        if n > len(buf) - i:
            raise Ros1FormatError("a header field runs past its header")
        name, eq, value = buf[i : i + n].partition(b"=")
        if not eq:
            raise Ros1FormatError("a header field has no '='")
        out[name.decode("ascii", "replace")] = value
        i += n
    return out


def _u32(fields: dict[str, bytes], name: str) -> int:
    v = fields.get(name)
    if v is None or len(v) != 4:
        raise Ros1FormatError(f"record field {name!r} is missing or not 4 bytes")
    return int(_U32.unpack(v)[0])


def _decompress(kind: bytes, data: bytes, size: int) -> bytes:
    try:
        if kind == b"none":
            out = data
        elif kind == b"bz2":
            out = bz2.decompress(data)
        elif kind == b"lz4":
            import lz4.frame  # a dependency of rosbags (the ros extra)

            out = lz4.frame.decompress(data)
        else:
            raise Ros1FormatError(f"chunk compression {kind!r} is not none, bz2 or lz4")
    except (OSError, ValueError, RuntimeError) as exc:
        if isinstance(exc, Ros1FormatError):
            raise
        raise Ros1FormatError(f"a chunk does not decompress ({exc})") from exc
    if len(out) != size:
        raise Ros1FormatError(f"a chunk decompresses to {len(out)} bytes, its header says {size}")
    return out


class Ros1BagParser:
    """Incremental parser of a ROS 1 bag: ``feed(bytes)`` returns the connections and
    messages completed by those bytes, in file order.

    Raises:
        Ros1FormatError: from ``feed``, on bytes that are not a bag or a malformed record
            (everything before it was returned by earlier calls).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._magic = False
        self.connections: dict[int, Ros1Connection] = {}

    @property
    def pending(self) -> int:
        """Bytes held that do not complete a record yet (a cut file ends with some)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Ros1Connection | Ros1Message]:
        self._buf += data
        out: list[Ros1Connection | Ros1Message] = []
        if not self._magic:
            if len(self._buf) < len(MAGIC):
                if not MAGIC.startswith(bytes(self._buf)):
                    raise Ros1FormatError("not a ROS 1 bag (no '#ROSBAG V2.0' line)")
                return out
            if bytes(self._buf[: len(MAGIC)]) != MAGIC:
                raise Ros1FormatError("not a ROS 1 bag (no '#ROSBAG V2.0' line)")
            del self._buf[: len(MAGIC)]
            self._magic = True
        pos = 0
        buf = self._buf
        while True:
            rec = self._record(buf, pos)
            if rec is None:
                break
            header, body, pos = rec
            self._handle(header, body, out)
        del buf[:pos]
        return out

    @staticmethod
    def _record(buf: bytearray, pos: int) -> tuple[dict[str, bytes], bytes, int] | None:
        if len(buf) - pos < 4:
            return None
        (hlen,) = _U32.unpack_from(buf, pos)
        if hlen > MAX_RECORD:
            raise Ros1FormatError(f"a record header claims {hlen} bytes")
        if len(buf) - pos < 8 + hlen:
            return None
        (dlen,) = _U32.unpack_from(buf, pos + 4 + hlen)
        if dlen > MAX_RECORD:
            raise Ros1FormatError(f"a record claims {dlen} bytes of data")
        end = pos + 8 + hlen + dlen
        if len(buf) < end:
            return None
        header = _fields(bytes(buf[pos + 4 : pos + 4 + hlen]))
        return header, bytes(buf[pos + 8 + hlen : end]), end

    def _handle(self, header: dict[str, bytes], body: bytes,
                out: list[Ros1Connection | Ros1Message]) -> None:
        op = header.get("op")
        if op is None or len(op) != 1:
            raise Ros1FormatError("a record has no op")
        code = op[0]
        if code == _OP_CHUNK:
            inner = _decompress(header.get("compression", b""), body, _u32(header, "size"))
            pos = 0
            buf = bytearray(inner)
            while pos < len(buf):
                rec = self._record(buf, pos)
                if rec is None:
                    raise Ros1FormatError("a chunk ends inside a record")
                h, b, pos = rec
                self._handle(h, b, out)
        elif code == _OP_CONN:
            conn = _u32(header, "conn")
            info = _fields(body)
            topic = (info.get("topic") or header.get("topic") or b"").decode("utf-8", "replace")
            c = Ros1Connection(conn, topic, info.get("type", b"").decode("ascii", "replace"),
                               info.get("message_definition", b"").decode("utf-8", "replace"))
            if conn not in self.connections:
                self.connections[conn] = c
                out.append(c)
        elif code == _OP_MSG:
            conn = _u32(header, "conn")
            t = header.get("time")
            if t is None or len(t) != 8:
                raise Ros1FormatError("a message record has no 8-byte time")
            sec, nsec = struct.unpack("<II", t)
            if conn not in self.connections:
                raise Ros1FormatError(f"a message names connection {conn}, not defined before")
            out.append(Ros1Message(conn, sec * 1_000_000_000 + nsec, body))
        # bag header, index data, chunk info: nothing a front-to-back read needs
