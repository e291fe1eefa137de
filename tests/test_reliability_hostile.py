"""
Hostile peers over loopback: huge announced lengths, trickling, a peer that
never reads, a peer that floods. Memory is measured; time is not asserted.
"""

from __future__ import annotations

import socket
import struct
import tracemalloc
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock, deferLater
from twisted.internet.testing import StringTransport

from twisted_client import (
    MAX_PREFIX_LENGTH,
    MESSAGE_OVERHEAD,
    ClientProtocol,
    ConnectionClosed,
    MessageTooLong,
    ReceiveTimeout,
    connect,
)
from twisted_client._framing import READ_SIZE

from .reliability_peers import (
    PeerServer,
    client_transport,
    frame,
    kernel_buffer,
    rss_bytes,
    send_to_a_slow_reader,
    set_buffers,
    when_paused,
)

MiB = 1024 * 1024
FOUR_GIB = MAX_PREFIX_LENGTH  # the largest length a 4-byte prefix can announce


@pytest_twisted.ensureDeferred
async def test_peer_announcing_4_gib_fails_at_the_header_with_bounded_memory(
    connect_to_peer: Any,
) -> None:
    """
    A peer that announces a 4 GiB message and then sends nothing more, without
    closing, gets `MessageTooLong` from the header alone; the client allocates
    nothing of that size (tracemalloc and RSS grow by far less than 64 MB) and
    aborts the connection. Messages before the bad header are still delivered.
    """
    client, peer = await connect_to_peer()
    rss_before = rss_bytes()
    tracemalloc.start()
    try:
        peer.transport.write(frame(b"first") + struct.pack("<L", FOUR_GIB))
        assert await client.receive() == b"first"
        with pytest.raises(MessageTooLong) as raised:
            await client.receive()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.length == FOUR_GIB
    assert raised.value.max_length == client.max_length
    assert peak < 4 * MiB
    assert rss_bytes() - rss_before < 64 * MiB
    assert await client.when_closed() is raised.value
    await peer.lost  # the client dropped the connection
    with pytest.raises(MessageTooLong):
        await client.send(b"after")


@pytest_twisted.ensureDeferred
async def test_announced_length_is_never_preallocated_even_at_the_largest_limit(
    connect_to_peer: Any,
) -> None:
    """
    With ``max_length`` at its largest (4 GiB - 1), a peer that announces 4 GiB
    and sends 2 MiB of it makes the client hold those 2 MiB, not 4 GiB; when the
    peer then closes, the error counts the partial bytes.
    """
    client, peer = await connect_to_peer(max_length=MAX_PREFIX_LENGTH)
    rss_before = rss_bytes()
    tracemalloc.start()
    try:
        peer.transport.write(struct.pack("<L", FOUR_GIB) + b"x" * (2 * MiB))
        peer.transport.loseConnection()
        with pytest.raises(ConnectionClosed) as raised:
            await client.receive()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.partial == 4 + 2 * MiB
    assert not raised.value.clean
    assert peak < 16 * MiB
    assert rss_bytes() - rss_before < 64 * MiB


@pytest_twisted.ensureDeferred
async def test_a_peer_trickling_one_byte_per_write_is_reassembled(
    reactor: Any, connect_to_peer: Any
) -> None:
    """Bytes written one at a time, each in its own segment, make whole messages."""
    client, peer = await connect_to_peer()
    peer.transport.setTcpNoDelay(True)
    data = frame(b"slow") + frame(b"") + frame(bytes(range(50)))
    pending = [client.receive() for _ in range(3)]

    def trickle(position: int = 0) -> None:
        if position < len(data):
            peer.transport.write(data[position : position + 1])
            reactor.callLater(0, trickle, position + 1)

    trickle()
    assert [await d for d in pending] == [b"slow", b"", bytes(range(50))]
    await client.close()


@pytest.mark.reactorless
def test_a_trickling_peer_cannot_hang_a_receive_with_a_timeout() -> None:
    """
    A peer that sends one byte a second (slow loris) makes ``receive(timeout)``
    fail with `ReceiveTimeout` on time; the connection stays usable, the bytes
    kept are bounded by the message, and the message arrives whole later.
    """
    clock = Clock()
    protocol = ClientProtocol(clock, 64, None)
    protocol.makeConnection(StringTransport())
    client = protocol.client
    data = frame(b"m" * 40)
    outcome: list[object] = []
    client.receive(timeout=5).addBoth(outcome.append)
    for byte in data[:10]:
        protocol.dataReceived(bytes([byte]))
        clock.advance(1)
    assert len(outcome) == 1
    assert isinstance(outcome[0].value, ReceiveTimeout)  # type: ignore[attr-defined]
    assert client.is_open
    assert protocol.partial_bytes == 10
    later: list[object] = []
    client.receive(timeout=60).addBoth(later.append)
    for byte in data[10:]:
        protocol.dataReceived(bytes([byte]))
        clock.advance(1)
        assert protocol.partial_bytes <= 4 + 64
    assert later == [b"m" * 40]


@pytest.mark.reactorless
def test_a_trickled_oversized_header_is_refused_at_its_fourth_byte() -> None:
    """A too-long length sent one byte at a time fails as soon as it is complete."""
    protocol = ClientProtocol(Clock(), 1024, None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    outcome: list[object] = []
    protocol.client.receive().addBoth(outcome.append)
    header = struct.pack("<L", 1025)
    for byte in header[:3]:
        protocol.dataReceived(bytes([byte]))
    assert outcome == []
    protocol.dataReceived(header[3:])
    assert isinstance(outcome[0].value, MessageTooLong)  # type: ignore[attr-defined]
    assert transport.disconnected


@pytest_twisted.ensureDeferred
async def test_send_waits_for_a_peer_that_does_not_read(
    reactor: Any, connect_to_peer: Any
) -> None:
    """
    Back-pressure: `Client.send` fires only once its bytes reached the kernel,
    so a sender that waits for it never gets ahead of a slow reader by more
    than the two kernel buffers; nothing is held in user space beyond the
    message being sent. Every message still arrives whole and in order.
    """
    client, peer = await connect_to_peer()
    set_buffers(client_transport(client), send=64 * 1024)
    set_buffers(peer.transport, recv=64 * 1024)
    in_kernel = kernel_buffer(
        client_transport(client), socket.SO_SNDBUF
    ) + kernel_buffer(peer.transport, socket.SO_RCVBUF)
    messages = [bytes([i]) * (64 * 1024) for i in range(100)]
    total = sum(len(frame(m)) for m in messages)
    assert total > 10 * in_kernel  # so the reader really is the bottleneck
    ahead = await send_to_a_slow_reader(
        reactor, client, peer, messages, lambda message: in_kernel
    )
    assert max(ahead) > 0  # the bound was approached, not trivially met


@pytest_twisted.ensureDeferred
async def test_a_flooding_peer_pauses_reading_and_nothing_is_dropped(
    reactor: Any,
    peer_server: PeerServer,
) -> None:
    """
    A peer that pushes 8 MiB at once to an application that does not read:
    the client stops reading once ``max_buffered`` is passed, holds at most
    that plus one socket read, and delivers every message in order when the
    application reads them, one per reactor turn; reading then resumes.
    """
    max_buffered = 256 * 1024
    client = await connect(
        reactor,
        "127.0.0.1",
        peer_server.number,
        max_length=16 * 1024,
        max_buffered=max_buffered,
    )
    set_buffers(client_transport(client), recv=64 * 1024)
    paused = when_paused(client_transport(client))
    peer = await peer_server.accept()
    set_buffers(peer.transport, send=64 * 1024)
    size = 16 * 1024 - 8
    count = 512
    messages = [struct.pack("<Q", i) + bytes([i % 256]) * size for i in range(count)]
    peer.transport.write(b"".join(frame(m) for m in messages))
    await paused
    bound = max_buffered + READ_SIZE + 16 * 1024  # limit + one read + one message
    assert client.reading_paused
    assert client.buffered_messages < count
    got = []
    for _ in range(count):
        assert client.buffered_messages * (size + 8) <= bound
        got.append(await client.receive())
        await deferLater(reactor, 0, lambda: None)
    assert got == messages
    assert not client.reading_paused
    await client.close()


@pytest.mark.parametrize("size", [0, 1])
@pytest_twisted.ensureDeferred
async def test_a_flood_of_tiny_messages_pauses_reading(
    reactor: Any, size: int, connect_to_peer: Any
) -> None:
    """
    A peer pushes 100,000 empty or 1-byte messages to an application that
    does not read, with ``max_buffered`` 1 MiB: the client stops reading
    once the messages count for more than that (length plus
    `MESSAGE_OVERHEAD` each), holds at most that plus one socket read while
    paused, then delivers all of them in order. (Counting payload bytes only,
    it never paused and held all 100,000.)
    """
    max_buffered = MiB
    client, peer = await connect_to_peer(
        max_length=64 * 1024, max_buffered=max_buffered
    )
    count = 100_000
    messages = [bytes([i % 256]) * size for i in range(count)]
    peer.transport.write(b"".join(frame(m) for m in messages))
    for _ in range(100_000):
        if client.reading_paused or client.buffered_messages == count:
            break
        await deferLater(reactor, 0, lambda: None)
    assert client.reading_paused
    for _ in range(20):  # paused: nothing more is read
        await deferLater(reactor, 0, lambda: None)
    one_read = READ_SIZE // (4 + size) * (size + MESSAGE_OVERHEAD)
    held = client.buffered_bytes + MESSAGE_OVERHEAD * client.buffered_messages
    assert max_buffered < held <= max_buffered + one_read
    assert client.buffered_messages < count // 2
    got = [await client.receive(timeout=10) for _ in range(count)]
    assert got == messages
    assert not client.reading_paused
    await client.close()
