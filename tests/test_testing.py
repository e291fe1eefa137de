"""`twisted_client.testing`: the in-memory and loopback servers users test with."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from twisted_client import (
    Client,
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    MessageTooLong,
    ReceiveTimeout,
    ReconnectingClient,
    UsageError,
    connect,
    connect_endpoint,
)
from twisted_client.testing import LoopbackServer, MemoryServer, MessagePeer, echo

from .helpers import assert_no_result, failure_of, success_of
from .wire import wire


def connected(server: MemoryServer, **options: Any) -> tuple[Client, MessagePeer]:
    """A client connected to ``server``, and the server's end of it."""
    connecting = connect_endpoint(server.reactor, server.endpoint, **options)
    peer = server.accept()
    return success_of(connecting), peer


@pytest.mark.reactorless
def test_messages_cross_both_ways_when_flushed() -> None:
    """What the client sends reaches the peer, and back, only when flushed."""
    server = MemoryServer()
    client, peer = connected(server)
    client.send(b"hello")
    assert peer.received == []
    assert server.flush()
    assert peer.received == [b"hello"]
    peer.send(b"tuxy")
    receiving = client.receive()
    assert_no_result(receiving)
    server.flush()
    assert success_of(receiving) == b"tuxy"
    assert not server.flush()  # nothing left to move


@pytest.mark.reactorless
def test_echo_handler_answers_each_message_in_order() -> None:
    """With `echo`, each message comes back, in order."""
    server = MemoryServer(echo)
    client, _ = connected(server)
    for message in (b"one", b"", b"three"):
        client.send(message)
    server.flush()
    assert [success_of(client.receive()) for _ in range(3)] == [
        b"one",
        b"",
        b"three",
    ]


def test_connect_by_host_and_port_reaches_the_memory_server() -> None:
    """`connect` to 127.0.0.1 and the server's port is accepted like the endpoint."""
    server = MemoryServer(echo, port=4321)
    connecting = connect(server.reactor, "127.0.0.1", 4321)
    assert server.pending == 1
    server.accept()
    assert isinstance(success_of(connecting), Client)


@pytest.mark.reactorless
def test_time_moves_only_when_advanced() -> None:
    """A receive timeout fires on `advance`, not before."""
    server = MemoryServer()
    client, _ = connected(server)
    receiving = client.receive(timeout=5)
    server.advance(4.9)
    assert_no_result(receiving)
    server.advance(0.2)
    assert isinstance(failure_of(receiving).value, ReceiveTimeout)


def test_an_attempt_not_accepted_times_out() -> None:
    """An attempt the test never accepts ends with `ConnectTimeout`."""
    server = MemoryServer()
    connecting = connect_endpoint(server.reactor, server.endpoint, timeout=2)
    server.advance(2)
    assert isinstance(failure_of(connecting).value, ConnectTimeout)


def test_refused_attempt_is_a_connect_error() -> None:
    """`refuse` fails the attempt with `ConnectError`."""
    server = MemoryServer()
    connecting = connect_endpoint(server.reactor, server.endpoint)
    server.refuse()
    assert isinstance(failure_of(connecting).value, ConnectError)


@pytest.mark.reactorless
def test_accept_and_refuse_need_an_attempt() -> None:
    """With nothing waiting, `accept` and `refuse` say so."""
    server = MemoryServer()
    with pytest.raises(UsageError, match="no connection attempt"):
        server.accept()
    with pytest.raises(UsageError, match="no connection attempt"):
        server.refuse()


@pytest.mark.reactorless
def test_peer_reset_and_clean_close_reach_the_client() -> None:
    """`reset` is an unclean end, `close` a clean one, both seen by the client."""
    server = MemoryServer()
    first, first_peer = connected(server)
    first_peer.reset()
    server.flush()
    error = failure_of(first.receive()).value
    assert isinstance(error, ConnectionClosed)
    assert not error.clean
    second, second_peer = connected(server)
    second_peer.close()
    server.flush()
    error = failure_of(second.receive()).value
    assert isinstance(error, ConnectionClosed)
    assert error.clean
    assert [peer.is_open for peer in server.peers] == [False, False]


@pytest.mark.reactorless
def test_send_raw_breaks_the_framing_on_purpose() -> None:
    """Raw bytes announcing too long a message fail the client with `MessageTooLong`."""
    server = MemoryServer()
    client, peer = connected(server, max_length=8)
    peer.send_raw(wire(b"ok") + b"\xff\xff\x00\x00")
    server.flush()
    assert success_of(client.receive()) == b"ok"
    assert isinstance(failure_of(client.receive()).value, MessageTooLong)


@pytest.mark.reactorless
def test_client_close_is_seen_by_the_peer() -> None:
    """`Client.close` ends the peer's connection cleanly once flushed."""
    server = MemoryServer()
    client, peer = connected(server)
    closing = client.close()
    server.flush()
    success_of(closing)
    assert not peer.is_open
    assert peer.lost is not None


@pytest_twisted.ensureDeferred
async def test_loopback_server_drops_and_restarts_on_the_same_port(
    reactor: Any,
) -> None:
    """A reconnecting client survives `drop_connections` and `restart`."""
    server = LoopbackServer(reactor)
    port = server.start()
    reconnecting = ReconnectingClient(
        reactor, f"tcp:127.0.0.1:{port}", initial_delay=0.01, jitter=0
    )
    reconnecting.start()
    try:
        client = await reconnecting.when_connected()
        await client.send(b"one")
        assert await client.receive(timeout=10) == b"one"
        server.drop_connections()
        error = await client.when_closed()
        assert isinstance(error, ConnectionClosed)
        assert await server.restart() == port
        again: Client = await reconnecting.when_connected()
        assert again is not client
        await again.send(b"two")
        assert await again.receive(timeout=10) == b"two"
        assert len(server.peers) == 2
    finally:
        await reconnecting.stop()
        await server.stop()
    assert not server.listening


@pytest_twisted.ensureDeferred
async def test_loopback_server_stop_refuses_new_connections(reactor: Any) -> None:
    """After `stop`, connecting to its port is refused."""
    server = LoopbackServer(reactor)
    port = server.start()
    await server.stop()
    attempt: Deferred[Client] = connect(reactor, "127.0.0.1", port, timeout=10)
    with pytest.raises(ConnectError):
        await attempt


@pytest.mark.qt
def test_qt_client_runs_against_the_memory_server(qapp: Any) -> None:
    """A `QtClient` on the server's reactor emits its signals as bytes are flushed."""
    from twisted_client.qt import QtClient

    server = MemoryServer(echo)
    qt_client = QtClient(server.reactor)
    seen: list[object] = []
    qt_client.connected.connect(lambda: seen.append("connected"))
    qt_client.message_received.connect(seen.append)
    qt_client.connect_to_endpoint(server.endpoint)
    server.accept()
    assert seen == ["connected"]
    qt_client.send(b"ping")
    server.flush()
    assert seen == ["connected", b"ping"]
