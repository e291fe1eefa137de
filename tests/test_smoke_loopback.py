"""Loopback: the client and the server talk over a real TCP socket."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from twisted_client import connect
from twisted_client.server import listen


@pytest_twisted.ensureDeferred
async def test_echo_over_loopback(reactor: Any) -> None:
    """A message sent to the echo server comes back unchanged."""
    port = listen(reactor, 0)
    try:
        client = await connect(reactor, "127.0.0.1", port.getHost().port)
        await client.send(b"hello")
        assert await client.receive(timeout=5) == b"hello"
        await client.close()
    finally:
        await port.stopListening()
