"""The serial link pushes what a port with a descriptor reads (a pty here, a tty on a
device) and reads URL ports such as ``loop://`` in a worker thread; an unplugged port is
reported to the consumer."""

from __future__ import annotations

import asyncio
import time

import pytest

from aura_sdk import TransportError
from aura_sdk.live._serial import SerialLink
from aura_sdk.sim import PtyLink

pytest.importorskip("serial")


def test_a_pty_pushes_each_read_as_it_arrives_and_reports_the_unplug() -> None:
    async def scenario() -> tuple[list[tuple[bytes, float]], str]:
        link = PtyLink()
        port = SerialLink(link.port)
        await port.open()
        assert port.can_push
        got: list[tuple[bytes, float]] = []
        port.attach(lambda data, arrival, since: got.append((data, arrival)))
        sent = []
        for i in range(5):
            sent.append(time.monotonic())
            await link.send(b"packet-%d" % i)
            await asyncio.sleep(0.03)
        await port.watch(0.05)  # nothing wrong yet: returns after the timeout
        link.close()  # unplugged
        with pytest.raises(TransportError) as err:
            for _ in range(50):
                await port.watch(0.1)
        port.attach(None)
        await port.close()
        assert all(a >= s for (_, a), s in zip(got, sent, strict=False))
        return got, str(err.value)

    got, why = asyncio.run(scenario())
    assert b"".join(d for d, _ in got) == b"".join(b"packet-%d" % i for i in range(5))
    assert "serial device" in why


def test_a_url_port_has_no_descriptor_and_is_read() -> None:
    async def scenario() -> list[bytes]:
        port = SerialLink("loop://")
        await port.open()
        assert not port.can_push
        with pytest.raises(TransportError, match="cannot push"):
            port.attach(lambda *a: None)
        await port.write(b"echo")
        out = await port.read(1.0)
        await port.close()
        return out

    assert b"".join(asyncio.run(scenario())) == b"echo"
