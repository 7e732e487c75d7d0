"""A live Foxglove view of AURA streams.

:class:`FoxgloveView` runs a Foxglove WebSocket server (package ``foxglove-sdk``, extra ``ros``)
and publishes three JSON topics per stream, each with a JSON schema so Foxglove can plot fields:

* ``/aura/<stream>/imu``: one message per IMU sample (acceleration m/s², angular velocity rad/s);
* ``/aura/<stream>/label``: the current label, its confidence, the top-k and the window it covers;
* ``/aura/<stream>/health``: the stream's health counters.

A message's log time is its stream time in nanoseconds, so Foxglove's timeline follows the
stream. A channel is made, and advertised to connected clients, the first time a stream publishes
on that topic. In Foxglove: *Open connection → Foxglove WebSocket → ws://host:port*.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, MissingExtraError, TransportError

if TYPE_CHECKING:
    from foxglove import Channel, Context
    from foxglove.websocket import WebSocketServer

__all__ = ["FoxgloveView", "stream_prefix"]

_NUMBER: dict[str, Any] = {"type": "number"}
_TIME: dict[str, Any] = {"type": "object", "required": ["sec", "nsec"],
                         "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}}
_VEC3: dict[str, Any] = {"type": "object", "required": ["x", "y", "z"],
                         "properties": {"x": _NUMBER, "y": _NUMBER, "z": _NUMBER}}


def _schema(title: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
            "type": "object", "properties": {"timestamp": _TIME, **properties},
            "required": ["timestamp", *properties]}


_SCHEMAS: dict[str, dict[str, Any]] = {
    "imu": _schema("aura.Imu", {"linear_acceleration": _VEC3, "angular_velocity": _VEC3}),
    "label": _schema("aura.Label", {
        "label": {"type": "string"}, "confidence": _NUMBER, "unknown": {"type": "boolean"},
        "top_k": {"type": "array", "items": {
            "type": "object", "required": ["label", "confidence"],
            "properties": {"label": {"type": "string"}, "confidence": _NUMBER}}},
        "window_start": _TIME, "window_end": _TIME}),
    "health": _schema("aura.Health",
                      {"counters": {"type": "object", "additionalProperties": _NUMBER}}),
}


def stream_prefix(name: str) -> str:
    """Return the topic prefix of a stream: ``"/aura/"`` plus its sanitised name.

    Leading ``/`` are dropped and every character outside ``[A-Za-z0-9_/]`` becomes ``_``, so
    ``"/imu/data"`` gives ``"/aura/imu/data"`` and ``"left wrist"`` gives ``"/aura/left_wrist"``.
    Two names that sanitise alike share their topics.

    Raises:
        ConfigError: the name is empty once leading ``/`` are dropped.
    """
    body = re.sub(r"[^A-Za-z0-9_/]", "_", name.lstrip("/"))
    if not body:
        raise ConfigError(f"stream name {name!r} is empty; name the stream, e.g. 'wrist'")
    return "/aura/" + body


def _ns(t: float) -> int:
    t = float(t)
    if not math.isfinite(t) or t < 0:
        raise ConfigError(f"stream time {t!r} s cannot be a log time; it must be finite and >= 0")
    return round(t * 1e9)


def _stamp(ns: int) -> dict[str, int]:
    return {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}


def _num(x: float) -> float | int | None:
    """A JSON-safe number: bools and ints stay integers, NaN and infinities become null."""
    if isinstance(x, bool | int | np.integer):
        return int(x)
    value = float(x)
    return value if math.isfinite(value) else None


def _vec(row: Sequence[float]) -> dict[str, float | int | None]:
    return {"x": _num(row[0]), "y": _num(row[1]), "z": _num(row[2])}


class FoxgloveView:
    """Serve live streams on a Foxglove WebSocket: per stream its IMU samples, its current label
    with confidences, and its health counters.

    Publishing is thread-safe; after :meth:`close` it does nothing. Use it as a context manager,
    or call :meth:`close`: the server otherwise runs until the view is garbage-collected.

    Args:
        port: TCP port to listen on; 0 takes a free one (read it back from :attr:`port`).
        host: Address to bind; ``"0.0.0.0"`` serves other machines too.
        name: Server name that Foxglove shows.

    Raises:
        MissingExtraError: ``foxglove-sdk`` is not installed.
        ConfigError: the port is outside 0..65535.
        TransportError: the server cannot start (port in use, bad host).
    """

    def __init__(self, port: int = 8765, host: str = "127.0.0.1", name: str = "aura") -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"port {port} is outside 0..65535; use 0 for a free port")
        try:
            import foxglove
        except ImportError as exc:
            raise MissingExtraError("ros", "the Foxglove live view", "foxglove-sdk") from exc
        self._foxglove = foxglove
        self._context: Context = foxglove.Context()  # private: topics never clash across views
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()
        self._closed = False
        try:
            server: WebSocketServer = foxglove.start_server(
                name=name, host=host, port=port, context=self._context)
        except (RuntimeError, OSError) as exc:
            raise TransportError(
                f"cannot start the Foxglove WebSocket server ({exc}); check the host, stop what "
                "holds the port or pick another one (port=0 takes a free one)",
                device=f"{host}:{port}") from exc
        self._port = int(server.port)  # server.port reads 0 once stopped
        self._stop = weakref.finalize(self, server.stop)

    @property
    def port(self) -> int:
        """The TCP port the server is bound to (the real one when ``port=0`` was asked)."""
        return self._port

    def samples(self, stream: str, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray) -> None:
        """Publish IMU samples on ``<prefix>/imu``, one message per sample.

        Args:
            stream: Stream name (see :func:`stream_prefix`).
            t: ``(n,)`` sample times in seconds on the stream's time axis; ``round(t * 1e9)``
                is each message's log time in ns.
            acc: ``(n, 3)`` acceleration in m/s².
            gyro: ``(n, 3)`` angular velocity in rad/s.

        Raises:
            ConfigError: shapes disagree, or a time is negative or not finite.
        """
        t = np.asarray(t, dtype=np.float64)
        acc = np.asarray(acc, dtype=np.float64)
        gyro = np.asarray(gyro, dtype=np.float64)
        n = t.shape[0] if t.ndim == 1 else -1
        if n < 0 or acc.shape != (n, 3) or gyro.shape != (n, 3):
            raise ConfigError(f"samples need t (n,), acc (n, 3), gyro (n, 3); got "
                              f"{t.shape}, {acc.shape}, {gyro.shape}")
        log_times = [_ns(x) for x in t.tolist()]
        self._publish(stream, "imu", (
            (ns, {"timestamp": _stamp(ns), "linear_acceleration": _vec(a),
                  "angular_velocity": _vec(g)})
            for ns, a, g in zip(log_times, acc.tolist(), gyro.tolist(), strict=True)))

    def label(self, stream: str, t_end: float, label: str, confidence: float,
              top_k: Sequence[tuple[str, float]], unknown: bool, t_start: float) -> None:
        """Publish the current label on ``<prefix>/label``, logged at ``t_end``.

        Args:
            stream: Stream name.
            t_end: End of the scored window, in stream seconds.
            label: The label shown (may be the unknown label).
            confidence: Its confidence.
            top_k: ``(label, confidence)`` pairs, best first.
            unknown: Whether the window was judged unknown.
            t_start: Start of the scored window, in stream seconds.
        """
        end, start = _ns(t_end), _ns(t_start)
        self._publish(stream, "label", [(end, {
            "timestamp": _stamp(end), "label": str(label), "confidence": _num(confidence),
            "unknown": bool(unknown),
            "top_k": [{"label": str(k), "confidence": _num(c)} for k, c in top_k],
            "window_start": _stamp(start), "window_end": _stamp(end)})])

    def health(self, stream: str, t: float, counters: Mapping[str, float]) -> None:
        """Publish health counters on ``<prefix>/health``, logged at ``t`` stream seconds."""
        ns = _ns(t)
        self._publish(stream, "health", [(ns, {
            "timestamp": _stamp(ns), "counters": {str(k): _num(v) for k, v in counters.items()}})])

    def _publish(self, stream: str, kind: str, messages: Iterable[tuple[int, dict[str, Any]]]
                 ) -> None:
        topic = f"{stream_prefix(stream)}/{kind}"
        with self._lock:
            if self._closed:
                return
            channel = self._channels.get(topic)
            if channel is None:
                channel = self._foxglove.Channel(topic, schema=_SCHEMAS[kind],
                                                 context=self._context)
                self._channels[topic] = channel
            if not channel.has_sinks():  # nobody listens: build nothing (1 kHz IMUs)
                return
            for log_time, message in messages:
                channel.log(message, log_time=log_time)

    def close(self) -> None:
        """Unadvertise every channel and stop the server; calling it again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()
        self._stop()

    def __enter__(self) -> FoxgloveView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
