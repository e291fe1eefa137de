"""`Client` on an in-memory transport: receive, send, close, timeouts, flow control."""

from __future__ import annotations

import gc
import struct
import tracemalloc

import pytest
from twisted.internet.defer import CancelledError, ensureDeferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_client import (
    MESSAGE_OVERHEAD,
    Client,
    ClientClosed,
    ClientError,
    ClientProtocol,
    ConnectionClosed,
    MessageTooLong,
    ReactorShutdown,
    ReceiveTimeout,
    UsageError,
)

from .helpers import error_of, observing, success_of
from .wire import wire


class Harness:
    """A `Client` on a `StringTransport`, with a `Clock` for its timeouts."""

    def __init__(
        self,
        max_length: int = 1024,
        max_buffered: int | None = None,
        reactor: Clock | None = None,
    ) -> None:
        self.clock = reactor if reactor is not None else Clock()
        self.protocol = ClientProtocol(self.clock, max_length, max_buffered)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.client: Client = self.protocol.client

    def feed(self, *messages: bytes) -> None:
        """The peer sends ``messages``."""
        self.protocol.dataReceived(wire(*messages))

    def lose(self, reason: Exception | None = None) -> None:
        """The connection ends, cleanly unless ``reason`` says otherwise."""
        self.protocol.connectionLost(Failure(reason or ConnectionDone()))


@pytest.fixture
def h() -> Harness:
    """A connected client."""
    return Harness()


@pytest.mark.reactorless
def test_pushed_messages_wait_in_order(h: Harness) -> None:
    """Messages that arrive before anyone asks are kept and given out in order."""
    h.feed(b"one", b"two")
    h.feed(b"three")
    assert h.client.buffered_messages == 3
    assert [success_of(h.client.receive()) for _ in range(3)] == [
        b"one",
        b"two",
        b"three",
    ]
    assert h.client.buffered_messages == 0
    assert h.client.buffered_bytes == 0


@pytest.mark.reactorless
def test_waiting_receives_are_served_in_order(h: Harness) -> None:
    """Receives made before the messages arrive get them in call order."""
    first, second = h.client.receive(), h.client.receive()
    assert not first.called
    h.feed(b"a", b"b")
    assert success_of(first) == b"a"
    assert success_of(second) == b"b"


@pytest.mark.reactorless
def test_empty_message(h: Harness) -> None:
    """An empty message is a message."""
    h.feed(b"")
    assert success_of(h.client.receive()) == b""


@pytest.mark.reactorless
def test_receive_timeout_then_the_message_is_not_lost(h: Harness) -> None:
    """
    A receive that times out fails with `ReceiveTimeout`, a `TimeoutError`.

    The connection stays usable: the message that arrives later goes to the
    next receive.
    """
    late = h.client.receive(timeout=2.5)
    h.clock.advance(2.4)
    assert not late.called
    h.clock.advance(0.1)
    error = error_of(late)
    assert isinstance(error, ReceiveTimeout)
    assert isinstance(error, TimeoutError)
    assert "2.5 s" in str(error)
    h.feed(b"late")
    assert success_of(h.client.receive()) == b"late"


@pytest.mark.reactorless
def test_receive_timeout_is_cancelled_by_the_message(h: Harness) -> None:
    """A message in time fires the receive and leaves no timer behind."""
    d = h.client.receive(timeout=5)
    h.feed(b"in time")
    assert success_of(d) == b"in time"
    assert h.clock.getDelayedCalls() == []


@pytest.mark.reactorless
def test_timeouts_do_not_reorder_messages(h: Harness) -> None:
    """Between two timed-out receives and a waiting one, order is kept."""
    timed = h.client.receive(timeout=1)
    waiting = h.client.receive()
    h.clock.advance(1)
    assert isinstance(error_of(timed), ReceiveTimeout)
    h.feed(b"first", b"second")
    assert success_of(waiting) == b"first"
    assert success_of(h.client.receive(timeout=1)) == b"second"


@pytest.mark.reactorless
def test_cancelled_receive_leaves_the_next_message(h: Harness) -> None:
    """Cancelling a receive fails it with CancelledError and loses nothing."""
    d = h.client.receive()
    d.cancel()
    assert isinstance(error_of(d), CancelledError)
    h.feed(b"kept")
    assert success_of(h.client.receive()) == b"kept"


@pytest.mark.reactorless
@pytest.mark.parametrize(
    "bad", [-1, "1", float("nan"), float("inf"), -float("inf"), True]
)
def test_bad_timeout_is_a_usage_error(h: Harness, bad: object) -> None:
    """A timeout must be None or a finite number of seconds >= 0."""
    with pytest.raises(UsageError, match="timeout"):
        h.client.receive(timeout=bad)  # type: ignore[arg-type]


@pytest.mark.reactorless
def test_send_writes_one_framed_message(h: Harness) -> None:
    """`send` writes the prefix and the bytes; in memory, it fires at once."""
    d = h.client.send(b"hello")
    assert h.transport.value() == wire(b"hello")
    assert success_of(d) is None


@pytest.mark.reactorless
@pytest.mark.parametrize("bad", ["hello", 42, None])
def test_send_non_bytes_is_a_type_error(h: Harness, bad: object) -> None:
    """Sending anything but bytes raises TypeError and writes nothing."""
    with pytest.raises(TypeError):
        h.client.send(bad)  # type: ignore[arg-type]
    assert h.transport.value() == b""
    assert h.client.is_open


@pytest.mark.reactorless
def test_clean_close_by_peer_after_delivering_everything(h: Harness) -> None:
    """
    When the peer closes, messages that arrived whole are still delivered.

    Then receive fails with `ConnectionClosed`, marked clean.
    """
    h.feed(b"last words")
    h.lose()
    assert not h.client.is_open
    assert success_of(h.client.receive()) == b"last words"
    error = error_of(h.client.receive())
    assert isinstance(error, ConnectionClosed)
    assert error.clean
    assert error.partial == 0
    assert str(error) == "connection closed by the peer"


@pytest.mark.reactorless
def test_waiting_receive_fails_when_the_peer_closes(h: Harness) -> None:
    """A receive that is waiting when the connection ends fails at once."""
    d = h.client.receive()
    h.lose()
    assert isinstance(error_of(d), ConnectionClosed)


@pytest.mark.reactorless
def test_close_mid_message_is_not_clean(h: Harness) -> None:
    """A connection that ends inside a message says so, and how much was lost."""
    h.protocol.dataReceived(wire(b"whole") + struct.pack("<L", 10) + b"half")
    h.lose()
    assert success_of(h.client.receive()) == b"whole"
    error = error_of(h.client.receive())
    assert isinstance(error, ConnectionClosed)
    assert not error.clean
    assert error.partial == 8
    assert "middle of a message" in str(error)


@pytest.mark.reactorless
def test_close_mid_header_is_not_clean(h: Harness) -> None:
    """Even two bytes of a header make the close unclean."""
    h.protocol.dataReceived(b"\x01\x00")
    h.lose()
    error = error_of(h.client.receive())
    assert isinstance(error, ConnectionClosed)
    assert (error.clean, error.partial) == (False, 2)


@pytest.mark.reactorless
def test_connection_lost_is_not_clean(h: Harness) -> None:
    """A reset or lost connection is reported as lost, with the reason."""
    h.lose(ConnectionLost("reset"))
    error = error_of(h.client.receive())
    assert isinstance(error, ConnectionClosed)
    assert not error.clean
    assert error.reason.check(ConnectionLost)
    assert str(error).startswith("connection lost")


@pytest.mark.reactorless
def test_send_after_the_peer_closed_fails(h: Harness) -> None:
    """Sending on a connection the peer closed fails with `ConnectionClosed`."""
    h.lose()
    assert isinstance(error_of(h.client.send(b"x")), ConnectionClosed)


@pytest.mark.reactorless
def test_too_long_fails_every_waiting_receive(h: Harness) -> None:
    """
    An announced length above ``max_length`` fails every waiting receive.

    With `MessageTooLong` naming the length and the limit, and the
    connection is aborted.
    """
    first, second = h.client.receive(), h.client.receive()
    h.protocol.dataReceived(struct.pack("<L", 4_000_000_000))
    for d in (first, second):
        error = error_of(d)
        assert isinstance(error, MessageTooLong)
        assert (error.length, error.max_length) == (4_000_000_000, 1024)
        assert "4000000000" in str(error)
        assert "1024" in str(error)
    assert h.transport.disconnected
    h.lose(ConnectionLost())
    assert isinstance(error_of(h.client.receive()), MessageTooLong)


@pytest.mark.reactorless
def test_too_long_after_whole_messages_delivers_them_first(h: Harness) -> None:
    """Messages that arrived whole before a hostile prefix are still delivered."""
    h.protocol.dataReceived(wire(b"fine") + struct.pack("<L", 2048))
    assert success_of(h.client.receive()) == b"fine"
    assert isinstance(error_of(h.client.receive()), MessageTooLong)


@pytest.mark.reactorless
def test_close_fails_pending_and_later_operations(h: Harness) -> None:
    """After `close`, receives and sends fail with `ClientClosed`."""
    pending = h.client.receive()
    closing = h.client.close()
    assert isinstance(error_of(pending), ClientClosed)
    assert isinstance(error_of(h.client.receive()), ClientClosed)
    assert isinstance(error_of(h.client.send(b"x")), ClientClosed)
    assert h.transport.disconnecting
    assert not closing.called
    h.lose()
    assert success_of(closing) is None


@pytest.mark.reactorless
def test_close_drops_unread_messages(h: Harness) -> None:
    """Closing means not wanting more: unread messages are dropped."""
    h.feed(b"unread")
    h.client.close()
    assert h.client.buffered_messages == 0
    assert isinstance(error_of(h.client.receive()), ClientClosed)


@pytest.mark.reactorless
def test_close_is_idempotent(h: Harness) -> None:
    """Closing twice is harmless; both Deferreds fire when the connection is gone."""
    first, second = h.client.close(), h.client.close()
    h.lose()
    assert success_of(first) is None
    assert success_of(second) is None
    assert success_of(h.client.close()) is None


@pytest.mark.reactorless
def test_cancelling_close_aborts(h: Harness) -> None:
    """Cancelling the Deferred of `close` drops the connection at once."""
    closing = h.client.close()
    closing.cancel()
    assert h.transport.disconnected
    assert isinstance(error_of(closing), CancelledError)


@pytest.mark.reactorless
def test_cancelled_close_logs_no_error_when_the_connection_ends(h: Harness) -> None:
    """After a cancelled `close`, the end of the connection is no unhandled error."""
    failures: list[dict[str, object]] = []

    def observe(event: dict[str, object]) -> None:
        if "log_failure" in event:
            failures.append(event)

    with observing(observe):
        closing = h.client.close()
        closing.cancel()
        assert isinstance(error_of(closing), CancelledError)
        h.lose()
        gc.collect()
    assert failures == []


@pytest.mark.reactorless
def test_when_closed_gives_the_reason(h: Harness) -> None:
    """`when_closed` fires, with the reason, once the connection is gone."""
    watcher, cancelled = h.client.when_closed(), h.client.when_closed()
    cancelled.cancel()
    assert not watcher.called
    h.lose()
    reason = success_of(watcher)
    assert isinstance(reason, ConnectionClosed)
    assert isinstance(error_of(cancelled), CancelledError)
    assert success_of(h.client.when_closed()) is reason


@pytest.mark.reactorless
def test_when_closed_after_our_close(h: Harness) -> None:
    """Closed by us, the reason is `ClientClosed`."""
    h.client.close()
    h.lose()
    assert isinstance(success_of(h.client.when_closed()), ClientClosed)


@pytest.mark.reactorless
def test_reading_pauses_above_max_buffered_and_resumes_at_half() -> None:
    """
    Unread messages counting for more than ``max_buffered`` (each its length
    plus `MESSAGE_OVERHEAD`) pause reading from the socket.

    Reading resumes once the application has read them down to half; no
    message is dropped.
    """
    h = Harness(max_length=100, max_buffered=2 * (100 + MESSAGE_OVERHEAD) + 10)
    h.feed(b"a" * 100, b"b" * 100)
    assert h.transport.producerState == "producing"
    h.feed(b"c" * 100)
    assert h.client.reading_paused
    assert h.transport.producerState == "paused"
    assert success_of(h.client.receive()) == b"a" * 100
    assert h.transport.producerState == "paused"
    assert success_of(h.client.receive()) == b"b" * 100
    assert h.transport.producerState == "producing"
    assert not h.client.reading_paused
    assert success_of(h.client.receive()) == b"c" * 100


def accounted(client: Client) -> int:
    """What the unread messages count for against ``max_buffered``."""
    return client.buffered_bytes + MESSAGE_OVERHEAD * client.buffered_messages


READ = 64 * 1024
"""What one socket read delivers at most (Twisted's TCP reads 64 KiB)."""


@pytest.mark.reactorless
@pytest.mark.parametrize("size", [0, 1])
def test_a_flood_of_tiny_messages_pauses_reading(size: int) -> None:
    """
    A peer floods empty or 1-byte messages in 64 KiB reads to an application
    that reads nothing: with ``max_buffered`` 1 MiB, reading pauses after
    about 1 MiB of what the messages cost, and the memory they hold
    (tracemalloc) stays within ``max_length + max_buffered`` plus what one
    read holds. (Counting payload bytes only, empty messages never paused
    and 1-byte ones only after a million, 42 MB.)
    """
    max_buffered = 1024 * 1024
    h = Harness(max_length=64 * 1024, max_buffered=max_buffered)
    per_read = READ // (4 + size)
    chunk = wire(*[b"x" * size] * per_read)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2_000_000 // per_read):  # a cap, so a failure ends
            if h.transport.producerState == "paused":
                break
            h.protocol.dataReceived(chunk)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    one_read = per_read * (size + MESSAGE_OVERHEAD)
    assert h.client.reading_paused
    assert h.transport.producerState == "paused"
    assert max_buffered < accounted(h.client) <= max_buffered + one_read
    assert grown <= h.client.max_length + max_buffered + one_read
    count = h.client.buffered_messages
    got = [success_of(h.client.receive()) for _ in range(count)]
    assert got == [b"x" * size] * count
    assert h.transport.producerState == "producing"


@pytest.mark.reactorless
def test_each_message_counts_its_overhead() -> None:
    """
    ``buffered_bytes`` stays the payload; what pauses reading is the payload
    plus `MESSAGE_OVERHEAD` per message, so the same bytes in more messages
    pause sooner.
    """
    h = Harness(max_length=100, max_buffered=10 * MESSAGE_OVERHEAD)
    h.feed(*[b""] * 10)
    assert (h.client.buffered_messages, h.client.buffered_bytes) == (10, 0)
    assert not h.client.reading_paused
    h.feed(b"")
    assert h.client.reading_paused
    for _ in range(5):
        success_of(h.client.receive())
    assert h.client.reading_paused  # 6 left: 6 * 64 > 320
    success_of(h.client.receive())
    assert not h.client.reading_paused  # 5 left: 5 * 64 <= 320


@pytest.mark.reactorless
def test_messages_for_waiters_are_not_buffered() -> None:
    """A message that goes straight to a waiting receive never counts as buffered."""
    h = Harness(max_length=100, max_buffered=10)
    d = h.client.receive()
    h.feed(b"x" * 100)
    assert success_of(d) == b"x" * 100
    assert h.transport.producerState == "producing"


@pytest.mark.reactorless
@pytest.mark.parametrize("bad", [-1, 1.5, "1"])
def test_bad_max_buffered_is_a_usage_error(bad: object) -> None:
    """``max_buffered`` must be an int >= 0."""
    with pytest.raises(UsageError, match="max_buffered"):
        ClientProtocol(Clock(), 10, bad)  # type: ignore[arg-type]


def test_async_iteration_ends_on_clean_close(h: Harness) -> None:
    """``async for`` yields every message and ends when the peer closes cleanly."""

    async def collect() -> list[bytes]:
        return [message async for message in h.client]

    h.feed(b"x", b"y")
    h.lose()
    assert success_of(ensureDeferred(collect())) == [b"x", b"y"]


def test_async_iteration_raises_when_cut_mid_message(h: Harness) -> None:
    """``async for`` raises `ConnectionClosed` when the stream was cut."""

    async def collect() -> list[bytes]:
        return [message async for message in h.client]

    got = ensureDeferred(collect())
    h.protocol.dataReceived(wire(b"x") + b"\x09\x00")
    h.lose()
    assert isinstance(error_of(got), ConnectionClosed)


def test_async_iteration_ends_on_our_close(h: Harness) -> None:
    """``async for`` ends quietly when the client is closed."""

    async def collect() -> list[bytes]:
        return [message async for message in h.client]

    got = ensureDeferred(collect())
    h.feed(b"only")
    h.client.close()
    assert success_of(got) == [b"only"]


@pytest.mark.reactorless
def test_callbacks_that_receive_again_keep_order(h: Harness) -> None:
    """A callback that asks for the next message while messages arrive keeps order."""
    seen: list[bytes] = []

    def next_one(message: bytes) -> None:
        seen.append(message)
        if len(seen) < 3:
            h.client.receive().addCallback(next_one)

    h.client.receive().addCallback(next_one)
    h.feed(b"1", b"2", b"3", b"4")
    assert seen == [b"1", b"2", b"3"]
    assert success_of(h.client.receive()) == b"4"


def shut_down(reactor: MemoryReactorClock) -> None:
    """Run what ``reactor.stop()`` runs first: the "before shutdown" triggers."""
    for trigger, args, kwargs in reactor.triggers["before"]["shutdown"]:
        trigger(*args, **kwargs)


def test_reactor_shutdown_ends_open_clients_locally() -> None:
    """
    When the reactor shuts down, every open client of that reactor ends with
    `ReactorShutdown` (a `ClientClosed` whose text says it was closed
    locally) before the reactor drops its connections with a
    `ConnectionLost` that would blame the peer: pending and later
    operations, and `when_closed`, report the local reason. One trigger per
    reactor, not per client.
    """
    reactor = MemoryReactorClock()
    a, b = Harness(reactor=reactor), Harness(reactor=reactor)
    assert len(reactor.triggers["before"]["shutdown"]) == 1
    waiting = a.client.receive()
    b.feed(b"unread")
    shut_down(reactor)
    error = error_of(waiting)
    assert isinstance(error, ReactorShutdown)
    assert isinstance(error, ClientClosed)
    assert "closed locally" in str(error)
    assert "reactor is shutting down" in str(error)
    assert not a.client.is_open
    for h in (a, b):  # then the reactor drops every connection (disconnectAll)
        h.lose(ConnectionLost())
        assert isinstance(success_of(h.client.when_closed()), ReactorShutdown)
        assert isinstance(error_of(h.client.receive()), ReactorShutdown)
        assert isinstance(error_of(h.client.send(b"x")), ReactorShutdown)


def test_reactor_shutdown_leaves_ended_clients_alone() -> None:
    """A client that ended before the shutdown keeps its reason (the peer's
    close, or our own close); only open clients are ended by it."""
    reactor = MemoryReactorClock()
    by_peer, by_us = Harness(reactor=reactor), Harness(reactor=reactor)
    by_peer.lose()
    by_us.client.close()
    shut_down(reactor)
    reason = success_of(by_peer.client.when_closed())
    assert isinstance(reason, ConnectionClosed)
    assert reason.clean
    by_us.lose(ConnectionLost())
    reason = success_of(by_us.client.when_closed())
    assert type(reason) is ClientClosed


def test_reactor_shutdown_resumes_a_paused_transport() -> None:
    """A transport paused by flow control (and with nothing to write) is in
    none of the reactor's sets, so the reactor would never drop it: the
    shutdown resumes it, and ends the client."""
    reactor = MemoryReactorClock()
    h = Harness(max_length=100, max_buffered=0, reactor=reactor)
    h.feed(b"x")
    assert h.transport.producerState == "paused"
    shut_down(reactor)
    assert h.transport.producerState == "producing"
    assert not h.client.reading_paused
    assert isinstance(error_of(h.client.receive()), ReactorShutdown)


def test_async_iteration_ends_on_reactor_shutdown() -> None:
    """``async for`` over a client ends, without an error, when the reactor
    shuts down (this side ended it)."""
    reactor = MemoryReactorClock()
    h = Harness(reactor=reactor)
    got: list[bytes] = []

    async def read_all() -> None:
        async for message in h.client:
            got.append(message)

    done = ensureDeferred(read_all())
    h.feed(b"one")
    shut_down(reactor)
    assert success_of(done) is None
    assert got == [b"one"]


@pytest.mark.reactorless
def test_errors_share_one_base() -> None:
    """Every error the client fails with is a `ClientError`."""
    for error in (ClientClosed(), MessageTooLong(2, 1), ReceiveTimeout(1.0)):
        assert isinstance(error, ClientError)


@pytest.mark.reactorless
def test_repr_says_state(h: Harness) -> None:
    """The repr tells the peer and whether the client is open."""
    assert "open" in repr(h.client)
    h.client.close()
    assert "ended" in repr(h.client)


@pytest.mark.reactorless
@pytest.mark.parametrize("whole_read", [False, True], ids=["chunk", "one-message"])
def test_an_end_read_during_a_delivery_waits_for_it(
    h: Harness, whole_read: bool
) -> None:
    """
    The peer's closing read from a callback of a message being delivered (a
    receive reading ahead, a nested event loop): the messages read before
    it still come first, in order; then the receives fail, the close clean
    when nothing was cut, unclean with the incomplete message's bytes.
    """
    got: list[object] = []
    first = h.client.receive()

    def then(message: bytes) -> None:
        got.append(message)
        h.lose()  # from within the delivery of the first message
        got.append("returned")

    first.addCallback(then)
    if whole_read:
        h.feed(b"a")
    else:
        h.protocol.dataReceived(wire(b"a", b"b", b"c") + b"\x09\x00")
    assert got == [b"a", "returned"]
    later = [] if whole_read else [b"b", b"c"]
    assert [success_of(h.client.receive()) for _ in later] == later
    error = error_of(h.client.receive())
    assert isinstance(error, ConnectionClosed)
    assert (error.clean, error.partial) == (whole_read, 0 if whole_read else 2)
