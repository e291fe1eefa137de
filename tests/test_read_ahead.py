"""
`Client.receive` reading ahead (`twisted_client._read_ahead`): a message
already in the kernel is returned fired; the schedule that stops reading
ahead while it does not pay, or for long enough to keep the loop from its
turn, is checked with a fake reactor and a fake clock.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import deferLater

from twisted_client import ConnectionClosed
from twisted_client._framing import frame
from twisted_client._read_ahead import _STREAK_AT_MOST, ReactorRead, ReadAhead

from .helpers import assert_no_result, error_of, success_of, wait_in_kernel


async def _reading_pair(connect_to_peer: Any) -> tuple[Any, Any]:
    """A client that reads ahead, connected to a `Peer`; the test is skipped
    where the reactor is not an epoll one (receive does not read ahead)."""
    client, peer = await connect_to_peer()
    if not client.reads_ahead:
        pytest.skip("not an epoll reactor: receive does not read ahead")
    return client, peer


def _arrive(client: Any, peer: Any, message: bytes) -> None:
    """The peer sends ``message``; return once it waits, unread, in the
    client's socket (the reactor has not had a turn to read it)."""
    sent = frame(message)[0]
    peer.transport.getHandle().sendall(sent)
    wait_in_kernel(client._protocol.transport.getHandle(), len(sent))


@pytest_twisted.ensureDeferred
async def test_a_message_in_the_kernel_is_received_at_once(
    connect_to_peer: Any,
) -> None:
    """A receive whose message has reached the socket, not yet read by the
    reactor, reads it and returns it fired; with nothing there it waits,
    and the message read by the reactor later reaches it."""
    client, peer = await _reading_pair(connect_to_peer)
    _arrive(client, peer, b"ready")
    assert success_of(client.receive()) == b"ready"
    waiting = client.receive()
    assert_no_result(waiting)
    peer.transport.write(frame(b"later")[0])
    assert await waiting == b"later"


@pytest_twisted.ensureDeferred
async def test_the_end_read_ahead_fails_the_receive(connect_to_peer: Any) -> None:
    """The peer's closing, read ahead by a receive, ends the connection
    there and then: the receive fails with it, as it would have."""
    client, peer = await _reading_pair(connect_to_peer)
    sent = frame(b"last")[0]
    peer.transport.getHandle().sendall(sent)
    peer.transport.getHandle().shutdown(socket.SHUT_WR)
    wait_in_kernel(client._protocol.transport.getHandle(), len(sent))
    assert success_of(client.receive()) == b"last"
    error = error_of(client.receive())
    assert isinstance(error, ConnectionClosed)
    assert error.clean


@pytest_twisted.ensureDeferred
async def test_reading_ahead_can_be_turned_off(
    reactor: Any, connect_to_peer: Any
) -> None:
    """With ``reads_ahead`` False a message in the kernel is left to the
    reactor, which delivers it in a turn of its loop; True again reads
    ahead again."""
    client, peer = await _reading_pair(connect_to_peer)
    client.reads_ahead = False
    assert not client.reads_ahead
    _arrive(client, peer, b"by the loop")
    waiting = client.receive()
    assert_no_result(waiting)
    assert await waiting == b"by the loop"
    # Out of that delivery first: a read ahead from within a message's
    # delivery is delivered once the delivery returns, not at once.
    await deferLater(reactor, 0)
    client.reads_ahead = True
    assert client.reads_ahead
    _arrive(client, peer, b"ahead")
    assert success_of(client.receive()) == b"ahead"


class FakeReactor:
    """What `ReadAhead` uses of an epoll reactor; each read is recorded and
    does what ``outcome`` says (add a message, add bytes, or nothing)."""

    _POLL_IN = 1

    def __init__(self, selectable: object) -> None:
        self._selectables = {7: selectable}
        self._reads = {7: 1}
        self.reads = 0
        self.outcome = "message"
        self.messages: list[bytes] = []
        self.protocol = FakeProtocol()

    def _doReadOrWrite(self, selectable: object, fd: int, event: int) -> None:
        self.reads += 1
        if self.outcome == "message":
            self.messages.append(b"m")
        elif self.outcome == "bytes":
            self.protocol.partial_bytes += 1


class FakeProtocol:
    partial_bytes = 0


class FakeClock:
    now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeReactor, ReadAhead, FakeClock]:
    selectable = object()
    reactor = FakeReactor(selectable)
    clock = FakeClock()
    monkeypatch.setattr("twisted_client._read_ahead.time", clock)
    read_ahead = ReadAhead(ReactorRead(reactor, 7, selectable).read, reactor.protocol)
    return reactor, read_ahead, clock


def _reads_over(
    reactor: FakeReactor, read_ahead: ReadAhead, receives: int
) -> list[int]:
    """Which of ``receives`` receives read the socket (1) or skipped it (0)."""
    done = []
    for _ in range(receives):
        before = reactor.reads
        read_ahead(reactor.messages)
        reactor.messages.clear()  # the receive took it
        done.append(reactor.reads - before)
    return done


@pytest.mark.reactorless
def test_reads_that_find_nothing_are_made_ever_more_rarely(fake: Any) -> None:
    """After a read that found nothing the next 1, 3, 7, ... receives do not
    read, never more than 63 in a row; a read that brings something (a
    message, or the start of one) makes every receive read again."""
    reactor, read_ahead, _ = fake
    reactor.outcome = "nothing"
    done = _reads_over(reactor, read_ahead, 15)
    assert done == [1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    runs = "".join(map(str, _reads_over(reactor, read_ahead, 1000))).split("1")
    assert max(map(len, runs)) == 63
    reactor.outcome = "bytes"
    while not _reads_over(reactor, read_ahead, 1)[0]:
        pass  # the skips left run out
    assert _reads_over(reactor, read_ahead, 5) == [1, 1, 1, 1, 1]


@pytest.mark.reactorless
def test_after_a_millisecond_of_reads_that_paid_one_receive_waits(fake: Any) -> None:
    """Reads that paid for longer than 1 ms in a row: the next
    receive does not read (it waits, and the loop gets its turn); the one
    after reads again."""
    reactor, read_ahead, clock = fake
    assert _reads_over(reactor, read_ahead, 3) == [1, 1, 1]
    clock.now += _STREAK_AT_MOST / 2
    assert _reads_over(reactor, read_ahead, 1) == [1]
    clock.now += _STREAK_AT_MOST
    assert _reads_over(reactor, read_ahead, 3) == [0, 1, 1]


@pytest.mark.reactorless
def test_a_socket_the_reactor_does_not_read_is_not_read(fake: Any) -> None:
    """Reading paused (or the descriptor gone, or another in its place):
    no read ahead."""
    reactor, read_ahead, _ = fake
    del reactor._reads[7]
    assert _reads_over(reactor, read_ahead, 2) == [0, 0]
    reactor._reads[7] = 1
    reactor._selectables[7] = object()
    assert _reads_over(reactor, read_ahead, 2) == [0, 0]
