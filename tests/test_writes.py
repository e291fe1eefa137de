"""`WriteMonitor`'s send-at-once path, on a socket transport made in memory."""

from __future__ import annotations

import pytest
from twisted.internet.abstract import FileDescriptor
from twisted.internet.testing import MemoryReactor

from twisted_client._writes import WriteMonitor

from .helpers import success_of


class SocketLike(FileDescriptor):
    """A connected socket transport that records how bytes were handed over."""

    def __init__(self, *, tls: bool) -> None:
        super().__init__(MemoryReactor())
        self.connected = 1
        self.TLS = tls
        self.offered: list[bytes] = []
        self.buffered: list[bytes] = []

    def writeSomeData(self, data: bytes) -> int:  # type: ignore[override]
        self.offered.append(bytes(data))
        return len(data)

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.buffered.append(data)


@pytest.mark.reactorless
def test_a_message_is_offered_to_the_socket_at_once() -> None:
    """With the transport's buffer empty, the bytes go to the socket, and the
    write has been flushed when it returns."""
    transport = SocketLike(tls=False)
    flushed = WriteMonitor(transport).write([b"\x03\x00\x00\x00", b"abc"])
    assert transport.offered == [b"\x03\x00\x00\x00abc"]
    assert transport.buffered == []
    assert success_of(flushed) is None


@pytest.mark.reactorless
def test_after_start_tls_every_byte_goes_through_the_tls_layer() -> None:
    """Once ``startTLS`` ran on the connection (``transport.TLS``), nothing is
    sent past it to the socket: the bytes go to ``write``, which encrypts."""
    transport = SocketLike(tls=True)
    WriteMonitor(transport).write([b"\x03\x00\x00\x00abc"])
    assert transport.offered == []
    assert transport.buffered == [b"\x03\x00\x00\x00abc"]
