"""FoxgloveView against a real WebSocket client speaking the Foxglove WebSocket protocol.

The client is ``websockets``' asyncio client on subprotocol ``foxglove.sdk.v1`` (the one
foxglove-sdk's server accepts; it refuses the legacy ``foxglove.websocket.v1``). Server to
client: JSON ``serverInfo`` / ``advertise`` / ``unadvertise`` / ``status`` ops, and binary
message-data frames: opcode ``0x01``, uint32 LE subscription id, uint64 LE log time in ns, then
the payload. Client to server: ``{"op": "subscribe", "subscriptions": [{"id", "channelId"}]}``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("foxglove")
pytest.importorskip("websockets")

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aura_sdk import ConfigError, MissingExtraError, TransportError
from aura_sdk.ros._foxglove import FoxgloveView, stream_prefix

SUBPROTOCOL = "foxglove.sdk.v1"
STEP = 3.0  # seconds any single expected frame may take


def run(test: Callable[[], Awaitable[None]], timeout: float = 15.0) -> None:
    """Run one async test under a hard timeout; fail if it leaves a task behind."""

    async def main() -> None:
        await asyncio.wait_for(test(), timeout)
        await asyncio.sleep(0)
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(main())


class Client:
    """The few client-side pieces of the Foxglove WebSocket protocol the tests need."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.channels: dict[str, dict[str, Any]] = {}  # topic -> its advertisement
        self.ops: list[dict[str, Any]] = []  # every JSON op received, in order
        self.data: list[tuple[int, int, Any]] = []  # (subscription id, log time ns, payload)

    async def _recv(self, timeout: float = STEP) -> None:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(frame, bytes):
            assert frame[0] == 0x01, f"not a message-data frame: opcode {frame[0]:#x}"
            sub_id, log_time = struct.unpack_from("<IQ", frame, 1)
            self.data.append((sub_id, log_time, json.loads(frame[13:])))
            return
        op = json.loads(frame)
        self.ops.append(op)
        if op["op"] == "advertise":
            self.channels.update({c["topic"]: c for c in op["channels"]})

    async def wait_topics(self, topics: set[str]) -> None:
        while not topics <= set(self.channels):
            await self._recv()

    async def subscribe(self, subscriptions: dict[int, int]) -> None:
        """Subscribe, then wait until the server has applied it.

        The server handles a connection's requests in order and answers a subscription to an
        unknown channel with an error status, so that status is a barrier.
        """
        await self.ws.send(json.dumps({"op": "subscribe", "subscriptions": [
            {"id": sub, "channelId": chan} for sub, chan in subscriptions.items()]}))
        await self.ws.send(json.dumps(
            {"op": "subscribe", "subscriptions": [{"id": 999, "channelId": 4_000_000_000}]}))
        while not any(op["op"] == "status" and "4000000000" in op["message"] for op in self.ops):
            await self._recv()

    async def wait_data(self, count: int) -> None:
        while len(self.data) < count:
            await self._recv()

    async def quiet(self, seconds: float) -> None:
        """Assert nothing but JSON ops arrives for a while."""
        before = len(self.data)
        try:
            while True:
                await self._recv(seconds)
        except TimeoutError:
            pass
        assert len(self.data) == before


def test_stream_prefix() -> None:
    assert stream_prefix("/imu/data") == "/aura/imu/data"
    assert stream_prefix("left wrist") == "/aura/left_wrist"
    assert stream_prefix("wrist") == "/aura/wrist"
    assert stream_prefix("//a-b.c/d_9") == "/aura/a_b_c/d_9"
    assert stream_prefix("brazo izquierdo ñ") == "/aura/brazo_izquierdo__"


def test_client_receives_exactly_what_the_view_publishes() -> None:
    async def body() -> None:
        with FoxgloveView(port=0, name="aura-test") as view:
            assert view.port > 0
            async with connect(f"ws://127.0.0.1:{view.port}", subprotocols=[SUBPROTOCOL],
                               open_timeout=STEP, close_timeout=1) as ws:
                assert ws.subprotocol == SUBPROTOCOL
                client = Client(ws)
                await client._recv()
                assert client.ops[0]["op"] == "serverInfo"
                assert client.ops[0]["name"] == "aura-test"

                # First messages make the channels; they go out before anyone subscribed.
                z3 = np.zeros((1, 3))
                view.samples("left wrist", np.array([0.5]), z3, z3)
                view.label("left wrist", 0.5, "walk", 0.9, [("walk", 0.9)], False, 0.0)
                view.health("left wrist", 0.5, {"dropped": 0})
                topics = {f"/aura/left_wrist/{k}" for k in ("imu", "label", "health")}
                await client.wait_topics(topics)
                for topic in topics:
                    advert = client.channels[topic]
                    assert advert["encoding"] == "json"
                    assert advert["schemaEncoding"] == "jsonschema"
                    schema = json.loads(advert["schema"])
                    assert schema["type"] == "object" and "timestamp" in schema["properties"]
                imu_schema = json.loads(client.channels["/aura/left_wrist/imu"]["schema"])
                assert imu_schema["properties"]["linear_acceleration"]["properties"]["z"] == {
                    "type": "number"}
                assert client.channels["/aura/left_wrist/label"]["schemaName"] == "aura.Label"

                subs = {1: "imu", 2: "label", 3: "health"}
                await client.subscribe(
                    {s: client.channels[f"/aura/left_wrist/{k}"]["id"] for s, k in subs.items()})

                t = np.array([1.0, 1.01, 1.02])
                acc = np.array([[0.25, -9.5, 1.125], [0.5, -9.75, 1.25], [0.75, -10.0, 1.5]])
                gyro = np.array([[0.01, 0.02, 0.03], [-0.04, 0.05, -0.06], [0.07, -0.08, 0.09]])
                view.samples("left wrist", t, acc, gyro)
                view.label("left wrist", 1.02, "cycling", 0.75,
                           [("cycling", 0.75), ("walk", 0.2), ("run", 0.05)], False, 0.02)
                view.health("left wrist", 1.5, {"dropped": 3, "latency_ms": 12.5})
                await client.wait_data(5)
                await client.quiet(0.3)

                by_sub = {s: [(ns, msg) for sid, ns, msg in client.data if sid == s]
                          for s in subs}
                assert sorted(sid for sid, _, _ in client.data) == [1, 1, 1, 2, 3]
                ns = [1_000_000_000, 1_010_000_000, 1_020_000_000]
                assert by_sub[1] == [(ns[i], {
                    "timestamp": {"sec": 1, "nsec": ns[i] - 1_000_000_000},
                    "linear_acceleration": dict(zip("xyz", acc[i].tolist(), strict=True)),
                    "angular_velocity": dict(zip("xyz", gyro[i].tolist(), strict=True)),
                }) for i in range(3)]
                assert by_sub[2] == [(1_020_000_000, {
                    "timestamp": {"sec": 1, "nsec": 20_000_000},
                    "label": "cycling", "confidence": 0.75, "unknown": False,
                    "top_k": [{"label": "cycling", "confidence": 0.75},
                              {"label": "walk", "confidence": 0.2},
                              {"label": "run", "confidence": 0.05}],
                    "window_start": {"sec": 0, "nsec": 20_000_000},
                    "window_end": {"sec": 1, "nsec": 20_000_000},
                })]
                assert by_sub[3] == [(1_500_000_000, {
                    "timestamp": {"sec": 1, "nsec": 500_000_000},
                    "counters": {"dropped": 3, "latency_ms": 12.5},
                })]

                # Closing stops the server: the connection ends, later publishing is a no-op.
                view.close()
                with pytest.raises(ConnectionClosed):
                    while True:
                        await client._recv()
                assert {op["op"] for op in client.ops[-1:]} <= {"status", "unadvertise"}
                view.samples("left wrist", t, acc, gyro)
                view.close()
                assert view.port > 0

    run(body)


def test_port_in_use_raises_transport_error() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(TransportError, match=f"127.0.0.1:{port}") as info:
            FoxgloveView(port=port)
        assert isinstance(info.value.__cause__, RuntimeError)
        assert "in use" in str(info.value)


def test_bad_input_is_refused_and_publishes_nothing() -> None:
    with FoxgloveView(port=0) as view:
        z = np.zeros((2, 3))
        with pytest.raises(ConfigError, match="acc"):
            view.samples("s", np.array([0.0, 0.1]), np.zeros((2, 2)), z)
        with pytest.raises(ConfigError, match=">= 0"):
            view.samples("s", np.array([-0.1, 0.1]), z, z)
        with pytest.raises(ConfigError, match="finite"):
            view.health("s", float("nan"), {})
        with pytest.raises(ConfigError, match="empty"):
            view.health("/", 0.0, {})
        assert view._channels == {}
    with pytest.raises(ConfigError, match="65535"):
        FoxgloveView(port=70000)


def test_missing_foxglove_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "foxglove", None)
    with pytest.raises(MissingExtraError, match=r"aura-sdk\[ros\]"):
        FoxgloveView(port=0)
