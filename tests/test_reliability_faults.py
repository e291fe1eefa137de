"""
Faults: the peer closes or resets in the middle of a message, the server
process is killed, the connection is refused, the name does not resolve.
Whole messages are still delivered, then one clear error; every pending
operation is answered.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.python.failure import Failure

from twisted_client import (
    ClientError,
    ConnectError,
    ConnectionClosed,
    connect,
)

from .reliability_peers import (
    PeerServer,
    client_transport,
    frame,
    set_buffers,
    spawn_server,
)


async def outcomes(waiting: list[Deferred[Any]]) -> list[Any]:
    """Wait for every Deferred; each result, or the exception it failed with."""
    results = await DeferredList(waiting, consumeErrors=True)
    return [
        value.value if isinstance(value, Failure) else value for _, value in results
    ]


@pytest.mark.parametrize(
    ("tail", "partial"),
    [
        (b"", 0),
        (b"\x0a\x00", 2),  # mid-header
        (struct.pack("<L", 10) + b"abcde", 9),  # mid-body
    ],
    ids=["between-messages", "mid-header", "mid-body"],
)
@pytest_twisted.ensureDeferred
async def test_peer_closing_delivers_whole_messages_then_one_error(
    reactor: Any, tail: bytes, partial: int, peer_server: PeerServer
) -> None:
    """
    The peer closes after two whole messages and part of a third: the four
    receives already waiting get the two messages, then the same
    `ConnectionClosed` (clean only between messages, counting the partial
    bytes); later receives and sends fail with it too.
    """
    client = await connect(reactor, "127.0.0.1", peer_server.number)
    waiting = [client.receive() for _ in range(4)]
    peer = await peer_server.accept()
    peer.transport.write(frame(b"one") + frame(b"two") + tail)
    peer.transport.loseConnection()
    results = await outcomes(waiting)
    assert results[:2] == [b"one", b"two"]
    error = results[2]
    assert isinstance(error, ConnectionClosed)
    assert results[3] is error
    assert error.partial == partial
    assert error.clean == (partial == 0)
    assert await client.when_closed() is error
    assert (await outcomes([client.receive(), client.send(b"x")])) == [
        error,
        error,
    ]
    assert not client.is_open


@pytest_twisted.ensureDeferred
async def test_a_clean_close_ends_async_iteration_after_every_message(
    connect_to_peer: Any,
) -> None:
    """``async for`` yields every message, then stops when the peer closes cleanly."""
    client, peer = await connect_to_peer()
    sent = [b"%d" % i for i in range(100)]
    peer.transport.write(b"".join(frame(m) for m in sent))
    peer.transport.loseConnection()
    assert [message async for message in client] == sent


@pytest_twisted.ensureDeferred
async def test_a_reset_mid_body_delivers_what_arrived_then_fails(
    connect_to_peer: Any,
) -> None:
    """
    A reset (RST) after one whole message and half of another: the whole one
    is delivered, then an unclean `ConnectionClosed`.
    """
    client, peer = await connect_to_peer()
    peer.transport.write(frame(b"whole") + struct.pack("<L", 100) + b"half")
    assert await client.receive() == b"whole"
    peer.reset()
    with pytest.raises(ConnectionClosed) as raised:
        await client.receive()
    assert not raised.value.clean


@pytest_twisted.ensureDeferred
async def test_a_reset_answers_a_send_stuck_behind_a_peer_that_does_not_read(
    connect_to_peer: Any,
) -> None:
    """
    A send that cannot finish (the peer does not read) and a waiting receive
    both fail with the same unclean `ConnectionClosed` when the peer resets.
    """
    client, peer = await connect_to_peer()
    peer.transport.pauseProducing()
    set_buffers(client_transport(client), send=64 * 1024)
    set_buffers(peer.transport, recv=64 * 1024)
    sending = client.send(b"x" * (8 * 1024 * 1024))
    receiving = client.receive()
    assert not sending.called  # 8 MiB cannot fit in 2 x 64 KiB of buffers
    peer.reset()
    sent, received = await outcomes([sending, receiving])
    assert isinstance(sent, ConnectionClosed)
    assert received is sent
    assert not sent.clean


@pytest_twisted.ensureDeferred
async def test_killing_the_server_process_mid_stream(reactor: Any) -> None:
    """
    The server process is killed while ten requests are always in flight: the
    echoes that arrived are delivered whole and in order (a prefix of what was
    sent), then one `ConnectionClosed`; every send is answered one way or the
    other, later ones with that same error.
    """
    process = spawn_server(reactor)
    try:
        port = await process.listening
        client = await connect(reactor, "127.0.0.1", port)
        sent: list[bytes] = []
        sends: list[Deferred[None]] = []

        def send_next() -> None:
            sent.append(struct.pack("<L", len(sent)) + b"." * 1000)
            sends.append(client.send(sent[-1]))

        for _ in range(10):
            send_next()
        received: list[bytes] = []
        while True:
            try:
                received.append(await client.receive())
            except ClientError as failed:
                error = failed
                break
            if len(received) == 50:
                process.kill()
            send_next()
        assert received == sent[: len(received)]
        assert len(received) >= 50
        assert len(received) < len(sent)  # it really died mid-stream
        assert isinstance(error, ConnectionClosed)
        assert await client.when_closed() is error
        for result in await outcomes(sends):
            assert result is None or result is error
    finally:
        if not process.ended.called:
            process.kill()
        await process.ended


@pytest_twisted.ensureDeferred
async def test_connection_refused_is_a_connect_error(reactor: Any) -> None:
    """Nobody listening: `ConnectError` naming the destination, reason refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectError) as raised:
        await connect(reactor, "127.0.0.1", port)
    assert raised.value.destination == f"127.0.0.1:{port}"
    assert isinstance(raised.value.reason, ConnectionRefusedError)
    assert f"127.0.0.1:{port}" in str(raised.value)


@pytest_twisted.ensureDeferred
async def test_a_name_that_does_not_resolve_is_a_connect_error(reactor: Any) -> None:
    """A ``.invalid`` name (RFC 6761: never resolves): `ConnectError`, DNS reason."""
    with pytest.raises(ConnectError) as raised:
        await connect(reactor, "no-such-host.invalid", 5000, timeout=20)
    assert isinstance(raised.value.reason, DNSLookupError)
    assert "no-such-host.invalid" in str(raised.value)
