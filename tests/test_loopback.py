"""The client over loopback sockets: echo, push, faults, flow control, seed wire."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import pytest_twisted
from twisted.internet import task, threads
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.protocol import Protocol

from twisted_client import (
    MESSAGE_OVERHEAD,
    ConnectError,
    ConnectionClosed,
    connect,
    connect_endpoint,
)
from twisted_client._framing import READ_SIZE

from .compat_programs.peers import frame, free_port, read_frame


@pytest.fixture
def echo_port(listening: Any) -> int:
    """An echo server on a free loopback port, taking messages up to 64 MiB."""
    return int(listening.echo(max_length=64 * 1024 * 1024).getHost().port)


@pytest_twisted.ensureDeferred
async def test_echo(reactor: Any, echo_port: int) -> None:
    """Messages of every size come back unchanged and in order."""
    client = await connect(reactor, "127.0.0.1", echo_port)
    messages = [b"", b"hello", bytes(range(256)) * 4096, b"z" * (3 * 1024 * 1024)]
    for message in messages:
        await client.send(message)
    for message in messages:
        assert await client.receive(timeout=30) == message
    await client.close()


@pytest_twisted.ensureDeferred
async def test_localhost_by_name(reactor: Any, echo_port: int) -> None:
    """A host name is resolved (IPv4 and IPv6 tried) and connected."""
    client = await connect(reactor, "localhost", echo_port, timeout=10)
    await client.send(b"by name")
    assert await client.receive(timeout=10) == b"by name"
    await client.close()


@pytest_twisted.ensureDeferred
async def test_endpoint_string(reactor: Any, echo_port: int) -> None:
    """`connect_endpoint` accepts a Twisted endpoint description."""
    client = await connect_endpoint(reactor, f"tcp:host=127.0.0.1:port={echo_port}")
    await client.send(b"endpoint")
    assert await client.receive(timeout=10) == b"endpoint"
    await client.close()


@pytest_twisted.ensureDeferred
async def test_server_push_is_kept_in_order(reactor: Any, listening: Any) -> None:
    """Messages the server sends unasked are kept, in order, for later receives."""
    port = listening.echo(push_every=0.01)
    client = await connect(reactor, "127.0.0.1", port.getHost().port)
    got = [await client.receive(timeout=10) for _ in range(3)]
    assert got == [b"push 1", b"push 2", b"push 3"]
    await client.close()


class HalfMessage(Protocol):
    """Sends one whole message and half of the next, then closes."""

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(b"\x05\x00\x00\x00whole\x0a\x00\x00\x00half")
        self.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_peer_closes_mid_message(reactor: Any, listening: Any) -> None:
    """The whole message is delivered; then `ConnectionClosed`, not clean."""
    port = listening.tcp(HalfMessage)
    client = await connect(reactor, "127.0.0.1", port.getHost().port)
    assert await client.receive(timeout=10) == b"whole"
    with pytest.raises(ConnectionClosed) as caught:
        await client.receive(timeout=10)
    assert not caught.value.clean
    assert caught.value.partial == 8
    assert isinstance(await client.when_closed(), ConnectionClosed)


@pytest_twisted.ensureDeferred
async def test_refused(reactor: Any) -> None:
    """A port nobody listens on fails with `ConnectError` caused by a refusal."""
    with pytest.raises(ConnectError) as caught:
        await connect(reactor, "127.0.0.1", free_port())
    assert isinstance(caught.value.reason, ConnectionRefusedError)


async def turns_until(reactor: Any, condition: Callable[[], bool]) -> None:
    """Let the reactor turn until ``condition()`` holds (fail after many turns)."""
    for _ in range(100_000):
        if condition():
            return
        await task.deferLater(reactor, 0, lambda: None)
    raise AssertionError("the condition never held")


class Silent(Protocol):
    """Does not read until told to, so that the client's bytes pile up."""

    instances: ClassVar[list[Silent]] = []

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.pauseProducing()  # type: ignore[attr-defined]
        self.received = 0
        Silent.instances.append(self)

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)


@pytest_twisted.ensureDeferred
async def test_send_fires_once_the_bytes_left_for_the_kernel(
    reactor: Any, listening: Any
) -> None:
    """
    `send` fires only once its bytes left the transport's buffer.

    Against a peer that does not read, 32 MiB cannot all leave; once the peer
    reads, the Deferred fires and the peer has every byte.
    """
    Silent.instances.clear()
    port = listening.tcp(Silent)
    client = await connect(reactor, "127.0.0.1", port.getHost().port)
    size = 32 * 1024 * 1024
    sent = client.send(b"s" * size)
    assert not sent.called
    await turns_until(reactor, lambda: bool(Silent.instances))
    (peer,) = Silent.instances
    peer.transport.resumeProducing()
    await sent
    assert peer.received <= size + 4
    await client.close()


@pytest_twisted.ensureDeferred
async def test_small_send_reaches_the_kernel_at_once(
    reactor: Any, echo_port: int
) -> None:
    """
    With nothing buffered, a small message goes straight to the socket.

    Its Deferred has fired when `send` returns: the bytes are in the kernel,
    with no trip through the event loop.
    """
    client = await connect(reactor, "127.0.0.1", echo_port)
    sent = client.send(b"straight through")
    assert sent.called
    assert await client.receive(timeout=10) == b"straight through"
    await client.close()


class Recorder(Protocol):
    """Does not read until told to; then keeps every byte."""

    instances: ClassVar[list[Recorder]] = []

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.pauseProducing()  # type: ignore[attr-defined]
        self.data = bytearray()
        Recorder.instances.append(self)

    def dataReceived(self, data: bytes) -> None:
        self.data += data


@pytest_twisted.ensureDeferred
async def test_small_send_never_overtakes_buffered_bytes(
    reactor: Any, listening: Any
) -> None:
    """
    Behind bytes still waiting in the transport, a small message waits too.

    It is not written straight to the socket, and the peer gets every
    message whole and in order.
    """
    Recorder.instances.clear()
    port = listening.tcp(Recorder)
    client = await connect(reactor, "127.0.0.1", port.getHost().port)
    big = b"b" * (16 * 1024 * 1024)
    first = client.send(big)
    second = client.send(b"small")
    assert not first.called
    assert not second.called
    await turns_until(reactor, lambda: bool(Recorder.instances))
    (peer,) = Recorder.instances
    peer.transport.resumeProducing()
    await second
    assert first.called
    expected = struct.pack("<L", len(big)) + big + b"\x05\x00\x00\x00small"
    await turns_until(reactor, lambda: len(peer.data) >= len(expected))
    assert bytes(peer.data) == expected
    await client.close()


class Flood(Protocol):
    """Writes ``COUNT`` numbered 32 KiB messages as soon as it is connected."""

    COUNT = 600

    def connectionMade(self) -> None:
        assert self.transport is not None
        body = b"f" * (32 * 1024 - 8)
        for n in range(self.COUNT):
            self.transport.write(struct.pack("<LQ", len(body) + 8, n) + body)


@pytest_twisted.ensureDeferred
async def test_transport_close_from_outside_completes(
    reactor: Any, echo_port: int
) -> None:
    """
    ``transport.loseConnection()`` called directly still closes the connection.

    The client tracks writes as the transport's producer; it steps aside once
    the buffer is flushed, so Twisted code that closes transports (such as
    `ClientService`) works on ours too.
    """
    client = await connect(reactor, "127.0.0.1", echo_port)
    client.send(b"x" * 1024 * 1024)
    client._protocol.transport.loseConnection()
    reason = await client.when_closed().addTimeout(10, reactor)
    assert isinstance(reason, ConnectionClosed)
    assert reason.clean


@pytest_twisted.ensureDeferred
async def test_flood_pauses_reading_and_drops_nothing(
    reactor: Any, listening: Any
) -> None:
    """
    A peer pushes ~19 MiB while the application reads nothing.

    Reading pauses with the client's buffer near ``max_buffered`` instead of
    holding everything; once the application reads, reading resumes and every
    message arrives, in order.
    """
    port = listening.tcp(Flood)
    limit = 1024 * 1024
    client = await connect(
        reactor, "127.0.0.1", port.getHost().port, max_buffered=limit
    )
    await turns_until(reactor, lambda: client.reading_paused)
    # One socket read (at most READ_SIZE of messages) may land past the limit.
    held = client.buffered_bytes + MESSAGE_OVERHEAD * client.buffered_messages
    assert limit < held <= limit + READ_SIZE
    for n in range(Flood.COUNT):
        message = await client.receive(timeout=10)
        assert struct.unpack_from("<Q", message)[0] == n
        assert client.buffered_bytes <= limit + READ_SIZE
    assert not client.reading_paused
    await client.close()


def seed_exchange(port: int, message: bytes) -> bytes:
    """The seed's client, written to its contract with a plain blocking socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(message))
        return read_frame(sock)


@pytest_twisted.ensureDeferred
async def test_server_talks_to_a_seed_style_client(listening: Any) -> None:
    """Our server answers a plain-socket client written to the seed's contract."""
    number = listening.echo(reply=b"tuxy", delay=0.05).getHost().port
    assert await threads.deferToThread(seed_exchange, number, b"hello") == b"tuxy"


@pytest_twisted.ensureDeferred
async def test_client_talks_to_a_seed_style_server(reactor: Any) -> None:
    """Our client talks to the seed's test server: read 1024 bytes, answer ``tuxy``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    got: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            got.append(connection.recv(1024))
            connection.sendall(b"\x04\x00\x00\x00tuxy")
        listener.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = await connect(reactor, "127.0.0.1", listener.getsockname()[1])
    await client.send(b"hello")
    assert await client.receive(timeout=10) == b"tuxy"
    assert got == [b"\x05\x00\x00\x00hello"]
    with pytest.raises(ConnectionClosed) as caught:
        await client.receive(timeout=10)
    assert caught.value.clean
    await threads.deferToThread(server.join, 10)
