"""`Client.subscribe`: the push path, in memory (`twisted_client.testing`)."""

from __future__ import annotations

from typing import Any

import pytest

from twisted_client import ClientClosed, UsageError
from twisted_client.testing import MemoryServer

from .helpers import connected, failure_of, observing, success_of


class Link:
    """A client connected to a `MemoryServer`, the server's end of it (``peer``),
    and ``got``: what `subscribe` hands over."""

    def __init__(self, **options: Any) -> None:
        self.server = MemoryServer()
        self.client, self.peer = connected(self.server, **options)
        self.got: list[bytes] = []

    def push(self, *messages: bytes) -> None:
        """The peer sends each of ``messages``; the server delivers them."""
        for message in messages:
            self.peer.send(message)
        self.server.flush()

    def subscribe(self) -> None:
        """Subscribe ``got.append``."""
        self.client.subscribe(self.got.append)


@pytest.fixture
def link() -> Link:
    """A `Link` with the client's default options."""
    return Link()


def test_subscriber_gets_every_message_in_order(link: Link) -> None:
    """Each message goes to the subscriber as it arrives; none waits in the client."""
    link.subscribe()
    assert link.client.subscribed
    link.push(b"one", b"", b"three")
    assert link.got == [b"one", b"", b"three"]
    assert link.client.buffered_messages == 0


def test_waiting_messages_are_delivered_first_in_order(link: Link) -> None:
    """Messages that arrived before subscribing come first, then the new ones."""
    client = link.client
    link.push(b"early 1", b"early 2")
    assert client.buffered_messages == 2
    link.subscribe()
    assert link.got == [b"early 1", b"early 2"]
    assert (client.buffered_messages, client.buffered_bytes) == (0, 0)
    link.push(b"late")
    assert link.got == [b"early 1", b"early 2", b"late"]


def test_messages_arriving_while_waiting_ones_are_handed_over_queue_behind(
    link: Link,
) -> None:
    """A message parsed while the waiting ones are handed over comes after them."""
    link.push(b"a", b"b")

    def subscriber(message: bytes) -> None:
        link.got.append(message)
        if message == b"a":  # a nested event loop reads the socket meanwhile
            link.push(b"c")

    link.client.subscribe(subscriber)
    assert link.got == [b"a", b"b", b"c"]


def test_receive_while_subscribed_is_a_usage_error(link: Link) -> None:
    """receive() raises UsageError saying the subscriber owns delivery."""
    link.client.subscribe(lambda message: None)
    with pytest.raises(UsageError, match="subscriber owns delivery"):
        link.client.receive()


def test_unsubscribe_gives_delivery_back_to_receive(link: Link) -> None:
    """After unsubscribe, messages wait for receive() again, in order."""
    client = link.client
    link.subscribe()
    link.push(b"pushed")
    client.unsubscribe()
    client.unsubscribe()  # harmless twice
    assert not client.subscribed
    link.push(b"pulled")
    assert link.got == [b"pushed"]
    assert success_of(client.receive()) == b"pulled"


def test_unsubscribe_from_the_subscriber_leaves_the_rest_waiting(link: Link) -> None:
    """A subscriber that unsubscribes mid-way: the remaining messages wait."""
    client = link.client
    link.push(b"1", b"2", b"3")

    def take_one(message: bytes) -> None:
        link.got.append(message)
        client.unsubscribe()

    client.subscribe(take_one)
    assert link.got == [b"1"]
    assert client.buffered_messages == 2
    assert success_of(client.receive()) == b"2"


def test_a_failing_subscriber_is_logged_and_the_client_goes_on(link: Link) -> None:
    """An exception from the subscriber is logged; the next message still arrives."""

    def subscriber(message: bytes) -> None:
        link.got.append(message)
        if message == b"bad":
            raise ValueError("subscriber bug")

    logged: list[dict[str, Any]] = []
    with observing(logged.append):
        link.client.subscribe(subscriber)
        link.push(b"bad", b"good")
    assert link.got == [b"bad", b"good"]
    assert link.client.is_open
    failures = [event["log_failure"] for event in logged if "log_failure" in event]
    assert [f.type for f in failures] == [ValueError]


def test_subscribing_twice_or_with_receives_waiting_is_refused(link: Link) -> None:
    """A second subscriber, or one while receive() calls wait, is a UsageError."""
    client = link.client
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


def test_the_subscriber_does_not_see_messages_after_close(link: Link) -> None:
    """After close(), nothing more is handed over; when_closed tells the end."""
    link.subscribe()
    closed = link.client.when_closed()
    link.client.close()
    link.push(b"too late")
    assert link.got == []
    assert isinstance(success_of(closed), ClientClosed)


def test_a_subscriber_keeps_max_buffered_from_pausing_reading() -> None:
    """The client does not buffer for a subscriber: reading never pauses."""
    link = Link(max_length=1024, max_buffered=1024)
    link.subscribe()
    link.push(*[b"x" * 100] * 100)
    assert len(link.got) == 100
    assert not link.client.reading_paused
