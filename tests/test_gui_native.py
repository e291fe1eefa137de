"""
The demo's ``twisted`` backend over loopback: one reply per step, in order.

It is a signal/slot program on `QtClient`, so these tests need a Qt reactor.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from gui._commands import Reply
from gui._native import TwistedBackend
from gui._options import ServerAddress

pytestmark = pytest.mark.qt


@pytest.fixture
def make_backend(reactor: Any) -> Any:
    """Build a `TwistedBackend`."""

    def make(replies: Any) -> TwistedBackend:
        return TwistedBackend(reactor, replies)

    return make


def _client_of(backend: TwistedBackend) -> Any:
    """The `twisted_client.Client` under the backend's connection."""
    return backend.client


class _Replies:
    """Collects replies; `wait_for` fires once ``count`` of them arrived."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self._waiting: tuple[int, Deferred[list[Reply]]] | None = None

    def __call__(self, reply: Reply) -> None:
        self.replies.append(reply)
        if self._waiting and len(self.replies) >= self._waiting[0]:
            waiting, self._waiting = self._waiting[1], None
            waiting.callback(self.replies)

    def wait_for(self, reactor: Any, count: int) -> Deferred[list[Reply]]:
        """Fire with every reply so far once there are ``count`` (10 s at most)."""
        waiting: Deferred[list[Reply]] = Deferred()
        self._waiting = (count, waiting)
        if len(self.replies) >= count:
            self._waiting = None
            waiting.callback(self.replies)
        return waiting.addTimeout(10, reactor)


def _at(port: int) -> ServerAddress:
    return ServerAddress("127.0.0.1", port)


@pytest_twisted.ensureDeferred
async def test_the_classic_exchange(reactor: Any, make_backend: Any) -> None:
    """connected, send, message_received, close give SUCCESS None, None, the
    reply, None."""
    from twisted_client.server import listen

    port = listen(reactor, 0, reply=b"tuxy")
    try:
        replies = _Replies()
        backend = make_backend(replies)
        backend.exchange(_at(port.getHost().port))
        got = await replies.wait_for(reactor, 4)
        assert [(r.ok, r.data) for r in got] == [
            (True, None),
            (True, None),
            (True, b"tuxy"),
            (True, None),
        ]
        assert not backend.busy
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_errors_are_replies_and_the_backend_goes_on(
    reactor: Any, make_backend: Any
) -> None:
    """A refused connect is one ERROR that ends the exchange; the next
    exchange, queued behind it, works once the server is there."""
    from twisted_client.server import listen

    port = listen(reactor, 0)
    number = port.getHost().port
    await port.stopListening()
    replies = _Replies()
    backend = make_backend(replies)
    backend.exchange(_at(number))
    got = await replies.wait_for(reactor, 1)
    assert [r.ok for r in got] == [False]
    assert "could not connect" in str(got[0].data)
    assert not backend.busy
    port = listen(reactor, number, reply=b"tuxy")
    try:
        backend.exchange(_at(number))
        backend.exchange(_at(number))  # waits for the first one to close
        got = await replies.wait_for(reactor, 9)
        assert [(r.ok, r.data) for r in got[1:]] == [
            (True, None),
            (True, None),
            (True, b"tuxy"),
            (True, None),
        ] * 2
    finally:
        backend.stop()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_stop_drops_everything_without_replies(
    reactor: Any, make_backend: Any
) -> None:
    """stop() while the reply is awaited: the connection is aborted, no reply
    follows."""
    from twisted_client.server import listen

    port = listen(reactor, 0, delay=60)
    try:
        replies = _Replies()
        backend = make_backend(replies)
        backend.exchange(_at(port.getHost().port))
        await replies.wait_for(reactor, 2)
        client = _client_of(backend)
        assert client is not None
        backend.stop()
        await client.when_closed().addTimeout(10, reactor)
        assert len(replies.replies) == 2
        assert not backend.busy
    finally:
        await port.stopListening()
