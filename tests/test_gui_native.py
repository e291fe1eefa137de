"""
The demo's ``twisted`` backend over loopback: one reply per command, in order.

It runs on `QtClient` signals, so these tests need a Qt reactor.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from gui._commands import CLOSE, CONNECT, RECEIVE, SEND, Command, Reply
from gui._native import TwistedBackend

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


def _exchange(port: int) -> list[Command]:
    return [
        Command(CONNECT, ("127.0.0.1", port)),
        Command(SEND, b"hello"),
        Command(RECEIVE),
        Command(CLOSE),
    ]


@pytest_twisted.ensureDeferred
async def test_the_seed_exchange(reactor: Any, make_backend: Any) -> None:
    """CONNECT, SEND, RECEIVE, CLOSE give SUCCESS None, None, the reply, None."""
    from twisted_client.server import listen

    port = listen(reactor, 0, reply=b"tuxy")
    try:
        replies = _Replies()
        backend = make_backend(replies)
        backend.submit(_exchange(port.getHost().port))
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
    """A refused CONNECT and the commands after it are ERRORs; then it works again."""
    from twisted_client.server import listen

    port = listen(reactor, 0)
    number = port.getHost().port
    await port.stopListening()
    replies = _Replies()
    backend = make_backend(replies)
    backend.submit([*_exchange(number), Command(99)])
    got = await replies.wait_for(reactor, 5)
    assert [r.ok for r in got] == [False, False, False, True, False]
    assert "could not connect" in str(got[0].data)
    for refused in got[1:3]:
        assert str(refused.data).lower() == "not connected: connect first"
    assert got[4].data == "unknown command type 99"
    port = listen(reactor, number)
    try:
        backend.submit([*_exchange(number)[:2], Command(SEND, "text")])
        got = await replies.wait_for(reactor, 8)
        assert [r.ok for r in got[5:]] == [True, True, False]
        assert "bytes" in str(got[7].data)
    finally:
        backend.stop()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_stop_drops_everything_without_replies(
    reactor: Any, make_backend: Any
) -> None:
    """stop() while RECEIVE waits: the connection is aborted, no reply follows."""
    from twisted_client.server import listen

    port = listen(reactor, 0, delay=60)
    try:
        replies = _Replies()
        backend = make_backend(replies)
        backend.submit(_exchange(port.getHost().port))
        await replies.wait_for(reactor, 2)
        client = _client_of(backend)
        assert client is not None
        backend.stop()
        await client.when_closed().addTimeout(10, reactor)
        assert len(replies.replies) == 2
        assert not backend.busy
    finally:
        await port.stopListening()
