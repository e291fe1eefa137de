"""
`WriteMonitor`'s send-at-once path: on a socket transport made in memory, and
on Twisted's TCP transport over a socket pair (header and body in one
scatter/gather ``sendmsg``, what the socket did not take left to the
transport, in order).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from twisted.internet import tcp
from twisted.internet.abstract import FileDescriptor
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactor

from twisted_client._writes import WriteMonitor, _unsent

from .helpers import assert_no_result, success_of


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


@pytest.fixture
def tcp_pair() -> Iterator[tuple[tcp.Connection, socket.socket]]:
    """Twisted's TCP transport on one end of a socket pair (its reactor in
    memory), the other end a plain socket; the sending buffer kept small."""
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
    transport = tcp.Connection(ours, Protocol(), MemoryReactor())  # type: ignore[no-untyped-call]
    transport.connected = 1
    yield transport, peer
    ours.close()
    peer.close()


def _drain(peer: socket.socket) -> bytes:
    """Everything ``peer`` has received so far."""
    peer.setblocking(False)
    chunks = []
    while True:
        try:
            chunk = peer.recv(1 << 20)
        except BlockingIOError:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.reactorless
@pytest.mark.skipif(not hasattr(socket.socket, "sendmsg"), reason="no sendmsg")
def test_header_and_body_reach_the_socket_in_one_send(
    tcp_pair: tuple[tcp.Connection, socket.socket],
) -> None:
    """Two buffers the socket takes whole are sent at once, unjoined, and
    the write has been flushed when it returns."""
    transport, peer = tcp_pair
    header, body = b"\x00\x20\x00\x00", bytes(range(256)) * 32
    flushed = WriteMonitor(transport).write([header, body])
    assert success_of(flushed) is None
    assert _drain(peer) == header + body
    assert transport not in transport.reactor.getWriters()  # nothing left to write


@pytest.mark.reactorless
@pytest.mark.skipif(not hasattr(socket.socket, "sendmsg"), reason="no sendmsg")
def test_what_the_socket_did_not_take_follows_in_order(
    tcp_pair: tuple[tcp.Connection, socket.socket],
) -> None:
    """A message larger than the socket's buffer is sent in part at once;
    the rest is the transport's to write, after it and in order, and the
    write is flushed only once the transport wrote it all."""
    transport, peer = tcp_pair
    header, body = b"\x00\x00\x02\x00", bytes(range(256)) * 512  # 128 KiB
    flushed = WriteMonitor(transport).write([header, body])
    assert_no_result(flushed)
    received = _drain(peer)
    assert 0 < len(received) < len(header + body)
    while not flushed.called:
        transport.doWrite()
        received += _drain(peer)
    assert received == header + body
    assert success_of(flushed) is None


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("sent", "left"),
    [
        (0, [b"head", b"body"]),
        (2, [b"ad", b"body"]),
        (4, [b"body"]),
        (6, [b"dy"]),
        (8, []),
    ],
)
def test_unsent_is_what_follows_the_bytes_sent(sent: int, left: list[bytes]) -> None:
    """`_unsent` drops the first ``sent`` bytes across the buffers, and keeps
    the rest, in order."""
    assert _unsent([b"head", b"body"], sent) == left
