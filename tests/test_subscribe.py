"""`Client.subscribe`: the push path, in memory (`twisted_client.testing`)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from twisted_client import Client, ClientClosed, UsageError, connect_endpoint
from twisted_client.testing import MemoryServer, MessagePeer

_trial = SynchronousTestCase()
success_of = _trial.successResultOf
failure_of = _trial.failureResultOf


def connected(server: MemoryServer, **options: Any) -> tuple[Client, MessagePeer]:
    """A client connected to ``server``, and the server's end of it."""
    connecting = connect_endpoint(server.reactor, server.endpoint, **options)
    peer = server.accept()
    return success_of(connecting), peer


def test_subscriber_gets_every_message_in_order() -> None:
    """Each message goes to the subscriber as it arrives; none waits in the client."""
    server = MemoryServer()
    client, peer = connected(server)
    got: list[bytes] = []
    client.subscribe(got.append)
    assert client.subscribed
    for message in (b"one", b"", b"three"):
        peer.send(message)
    server.flush()
    assert got == [b"one", b"", b"three"]
    assert client.buffered_messages == 0


def test_waiting_messages_are_delivered_first_in_order() -> None:
    """Messages that arrived before subscribing come first, then the new ones."""
    server = MemoryServer()
    client, peer = connected(server)
    peer.send(b"early 1")
    peer.send(b"early 2")
    server.flush()
    assert client.buffered_messages == 2
    got: list[bytes] = []
    client.subscribe(got.append)
    assert got == [b"early 1", b"early 2"]
    assert (client.buffered_messages, client.buffered_bytes) == (0, 0)
    peer.send(b"late")
    server.flush()
    assert got == [b"early 1", b"early 2", b"late"]


def test_messages_arriving_while_waiting_ones_are_handed_over_queue_behind() -> None:
    """A message parsed while the waiting ones are handed over comes after them."""
    server = MemoryServer()
    client, peer = connected(server)
    peer.send(b"a")
    peer.send(b"b")
    server.flush()
    got: list[bytes] = []

    def subscriber(message: bytes) -> None:
        got.append(message)
        if message == b"a":  # a nested event loop reads the socket meanwhile
            peer.send(b"c")
            server.flush()

    client.subscribe(subscriber)
    assert got == [b"a", b"b", b"c"]


def test_receive_while_subscribed_is_a_usage_error() -> None:
    """receive() raises UsageError saying the subscriber owns delivery."""
    server = MemoryServer()
    client, _ = connected(server)
    client.subscribe(lambda message: None)
    with pytest.raises(UsageError, match="subscriber owns delivery"):
        client.receive()


def test_unsubscribe_gives_delivery_back_to_receive() -> None:
    """After unsubscribe, messages wait for receive() again, in order."""
    server = MemoryServer()
    client, peer = connected(server)
    got: list[bytes] = []
    client.subscribe(got.append)
    peer.send(b"pushed")
    server.flush()
    client.unsubscribe()
    client.unsubscribe()  # harmless twice
    assert not client.subscribed
    peer.send(b"pulled")
    server.flush()
    assert got == [b"pushed"]
    assert success_of(client.receive()) == b"pulled"


def test_unsubscribe_from_the_subscriber_leaves_the_rest_waiting() -> None:
    """A subscriber that unsubscribes mid-way: the remaining messages wait."""
    server = MemoryServer()
    client, peer = connected(server)
    for message in (b"1", b"2", b"3"):
        peer.send(message)
    server.flush()
    got: list[bytes] = []

    def take_one(message: bytes) -> None:
        got.append(message)
        client.unsubscribe()

    client.subscribe(take_one)
    assert got == [b"1"]
    assert client.buffered_messages == 2
    assert success_of(client.receive()) == b"2"


def test_a_failing_subscriber_is_logged_and_the_client_goes_on() -> None:
    """An exception from the subscriber is logged; the next message still arrives."""
    server = MemoryServer()
    client, peer = connected(server)
    got: list[bytes] = []

    def subscriber(message: bytes) -> None:
        got.append(message)
        if message == b"bad":
            raise ValueError("subscriber bug")

    logged: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(logged.append)
    try:
        client.subscribe(subscriber)
        peer.send(b"bad")
        peer.send(b"good")
        server.flush()
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert got == [b"bad", b"good"]
    assert client.is_open
    failures = [event["log_failure"] for event in logged if "log_failure" in event]
    assert [f.type for f in failures] == [ValueError]


def test_subscribing_twice_or_with_receives_waiting_is_refused() -> None:
    """A second subscriber, or one while receive() calls wait, is a UsageError."""
    server = MemoryServer()
    client, _ = connected(server)
    waiting = client.receive()
    with pytest.raises(UsageError, match="receive"):
        client.subscribe(lambda message: None)
    assert not client.subscribed
    waiting.cancel()
    failure_of(waiting)
    client.subscribe(lambda message: None)
    with pytest.raises(UsageError, match="already subscribed"):
        client.subscribe(lambda message: None)
    client.unsubscribe()
    with pytest.raises(UsageError, match="callable"):
        client.subscribe(b"not callable")  # type: ignore[arg-type]


def test_the_subscriber_does_not_see_messages_after_close() -> None:
    """After close(), nothing more is handed over; when_closed tells the end."""
    server = MemoryServer()
    client, peer = connected(server)
    got: list[bytes] = []
    client.subscribe(got.append)
    closed = client.when_closed()
    client.close()
    peer.send(b"too late")
    server.flush()
    assert got == []
    assert isinstance(success_of(closed), ClientClosed)


def test_a_subscriber_keeps_max_buffered_from_pausing_reading() -> None:
    """The client does not buffer for a subscriber: reading never pauses."""
    server = MemoryServer()
    client, peer = connected(server, max_length=1024, max_buffered=1024)
    got: list[bytes] = []
    client.subscribe(got.append)
    for _ in range(100):
        peer.send(b"x" * 100)
    server.flush()
    assert len(got) == 100
    assert not client.reading_paused
