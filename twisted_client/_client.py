"""`Client`: one framed connection, with Deferred-returning send and receive."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from threading import get_ident
from typing import TYPE_CHECKING, Any, Final

from twisted.internet.abstract import FileDescriptor
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.endpoints import _WrappingProtocol
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, connectionDone
from twisted.logger import Logger
from twisted.python import threadable
from twisted.python.failure import Failure

from ._checks import check_max_buffered, check_seconds
from ._errors import (
    ClientClosed,
    ClientError,
    ConnectionClosed,
    MessageTooLong,
    ReactorShutdown,
    ReceiveTimeout,
    UsageError,
    WrongThreadError,
)
from ._framing import LengthPrefixedProtocol, check_max_length, frame
from ._read_ahead import ReadAhead
from ._shutdown import forget, watch
from ._writes import WriteMonitor

if TYPE_CHECKING:
    from types import TracebackType

    from twisted.internet.interfaces import IAddress, IReactorTime

__all__ = [
    "MESSAGE_OVERHEAD",
    "Client",
    "ClientProtocol",
    "Subscriber",
    "client_factory",
    "set_up",
]

_threadable: Any = threadable  # its stub types ``ioThread`` as always None

Subscriber = Callable[[bytes], object]
"""What `Client.subscribe` takes: called with each message, in order."""

_log = Logger()

MESSAGE_OVERHEAD: Final = 64
"""
Bytes each unread message is counted for beyond its payload, against
``max_buffered``.

Measured on CPython 3.11 (64-bit): a bytes object is 33 bytes plus its
payload (``sys.getsizeof(b"x") == 34``), the allocator rounds that up to a
multiple of 16 (up to 15 bytes more), and its slot in the deque is 8 bytes
plus 1/64 of a 64-slot block. Two million 1-byte messages sliced from a
buffer into a deque grew RSS by 56.7 bytes each (tracemalloc: 42.3); empty
ones, which share one ``b""``, by 8.5. 64 covers the worst case with a
margin for the allocator's pages.
"""


class ClientProtocol(LengthPrefixedProtocol):
    """The protocol under a `Client`: frames bytes and hands messages to it."""

    def __init__(
        self, reactor: IReactorTime, max_length: int, max_buffered: int | None
    ) -> None:
        # A running reactor has turns to give away: a flood of small messages
        # is then delivered over several of them (the GUI stays live). A bare
        # Clock (unit tests) has none, and delivery stays all at once.
        running = bool(getattr(reactor, "running", False))
        super().__init__(max_length, clock=reactor if running else None)
        self._lost_meanwhile: Failure | None = None  # see connectionLost
        self.setup_failure: Failure | None = None
        """Why setting the client up in `connectionMade` failed, if it did."""
        self.client = Client(reactor, self, max_buffered)
        if type(self).message_received is ClientProtocol.message_received:
            # Not overridden: each message goes straight to the client, one
            # Python call less per message.
            self.message_received = self.client._message_received  # type: ignore[method-assign]

    def connectionMade(self) -> None:
        """
        Start tracking writes; the client is usable from now on.

        A socket transport made by an endpoint holds the endpoint's wrapper,
        which only forwards what the transport reports to this protocol
        (this protocol has none of the interfaces the wrapper would add):
        the transport then reports to this protocol directly, one Python
        call less per read.

        An exception while setting the client up is not raised: the reactor
        would only log it, and the endpoint would never report the attempt,
        which would then wait for its timeout. It is kept as `setup_failure`
        and the connection is aborted; ``set_up`` turns it into the attempt's
        failure.
        """
        transport: Any = self.transport
        try:
            wrapper = getattr(transport, "protocol", None)
            if (
                isinstance(transport, FileDescriptor)
                and type(wrapper) is _WrappingProtocol
                and getattr(wrapper, "_wrappedProtocol", None) is self
            ):
                transport.protocol = self  # type: ignore[attr-defined]
            self.client._connection_made()
        except Exception:
            self.setup_failure = Failure()
            transport.abortConnection()

    def message_received(self, message: bytes) -> None:
        """Hand ``message`` to the client (its subscriber, or `Client.receive`)."""
        self.client._message_received(message)

    def length_limit_exceeded(self, length: int) -> None:
        """Fail the client with `MessageTooLong` and abort the connection."""
        self.client._protocol_error(MessageTooLong(length, self.max_length))
        super().length_limit_exceeded(length)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        Deliver the messages held back, then tell the client how it ended.

        When the end is read while a message is being delivered (a receive
        reading ahead, or a nested event loop, from a callback of that
        message), this waits until the delivery returns: the messages read
        before the end go first, in order, and only an incomplete message
        then counts as cut.
        """
        if self.delivering:
            self._lost_meanwhile = reason
            return
        super().connectionLost(reason)
        self.client._connection_lost(reason, self.partial_bytes)
        self.stop_parsing()

    def delivery_ended(self) -> None:
        """Run the `connectionLost` that came during the delivery, if one did."""
        reason = self._lost_meanwhile
        if reason is not None:
            self._lost_meanwhile = None
            self.connectionLost(reason)


def set_up(protocol: ClientProtocol) -> ClientProtocol | Failure:
    """
    ``protocol`` once an endpoint has connected it, or why its setup failed.

    For the callback of an endpoint's attempt: a `ClientProtocol` whose
    `connectionMade` failed (see `ClientProtocol.setup_failure`) makes the
    attempt fail with that failure, at once.
    """
    failure = protocol.setup_failure
    return protocol if failure is None else failure


def client_factory(
    reactor: IReactorTime, max_length: int, max_buffered: int | None
) -> Factory[ClientProtocol]:
    """
    A factory of `ClientProtocol`s, for endpoints and `ClientService`.

    Bad arguments raise `UsageError` here rather than in the reactor, and the
    factory does not log a line for every connection it starts and stops.
    """
    check_max_buffered(max_buffered, check_max_length(max_length))
    return _ClientFactory(reactor, max_length, max_buffered)


class _ClientFactory(Factory[ClientProtocol]):
    """Builds `ClientProtocol`s with the limits it was given; quiet in the log."""

    noisy = False

    def __init__(
        self, reactor: IReactorTime, max_length: int, max_buffered: int | None
    ) -> None:
        self._reactor = reactor
        self._max_length = max_length
        self._max_buffered = max_buffered

    def buildProtocol(self, addr: IAddress | None) -> ClientProtocol:
        """A new `ClientProtocol`, with this factory as its ``factory``."""
        protocol = ClientProtocol(self._reactor, self._max_length, self._max_buffered)
        protocol.factory = self
        return protocol


class Client:
    """
    A connection that sends and receives whole messages.

    Made by `connect` or `connect_endpoint`, never directly. Every method is
    called on the reactor thread and returns at once; results come as
    Deferreds, which can be awaited from coroutines and cancelled. While the
    reactor runs, `send`, `receive`, `close`, `abort` and `when_closed`
    called from another thread raise `WrongThreadError` (use
    ``reactor.callFromThread``, or the drop-in ``compat.SocketClientThread``).

    Messages reach the application in one of two ways, one at a time:

    * Pull (the default): `receive` gives the next message. Messages that
      arrive before anyone calls it wait in order (see below).
    * Push: `subscribe` hands every message to one callback as it arrives,
      the waiting ones first; `unsubscribe` goes back to pull. While a
      subscriber is attached `receive` raises `UsageError`: the subscriber
      owns delivery.

    Messages that arrive before anyone calls `receive` wait in order. Each
    counts for its length plus `MESSAGE_OVERHEAD` (64) bytes, what it costs in
    memory, so that empty and tiny messages count too. Once they count for
    more than ``max_buffered`` the client stops reading from the socket (TCP
    then slows the peer down) and starts again when the application has read
    them down to half: memory stays bounded and nothing is dropped. The
    socket read in progress when reading stops is still parsed to its end,
    so the bound can be passed by what one read holds (256 KiB at a time:
    at most 65,536 messages).

    How the connection ended is the error operations fail with afterwards
    (and what `when_closed` gives), each saying whose side ended it:

    * `ClientClosed`: this side called `close` or `abort`.
    * `ReactorShutdown` (a `ClientClosed`): this side's reactor is shutting
      down (``reactor.stop()``, a Qt application quitting, Ctrl-C). At the
      start of the shutdown ("before" triggers) the client ends with it:
      pending receives and sends fail with it, unread messages are dropped,
      then the reactor drops the connection. Its text says the client was
      closed locally, not by the peer.
    * `ConnectionClosed`: the peer closed or the network broke it.
    * `MessageTooLong`: the peer broke the limit.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        protocol: ClientProtocol,
        max_buffered: int | None = None,
    ) -> None:
        self.reactor = reactor
        self._protocol = protocol
        # Protocols are built on the reactor's thread: this is that thread.
        self._thread = get_ident()
        self.max_buffered = check_max_buffered(max_buffered, protocol.max_length)
        self._messages: deque[bytes] = deque()
        self._buffered_bytes = 0
        self._reading_paused = False
        self._waiters: deque[Deferred[bytes]] = deque()
        self._subscriber: Subscriber | None = None
        self._writes: WriteMonitor | None = None
        self._read_ahead: ReadAhead | None = None
        self._end: ClientError | None = None
        self._lost = False
        self._lost_waiters: list[Deferred[ClientError]] = []

    def __repr__(self) -> str:
        state = "open" if self._end is None else f"ended: {self._end}"
        return f"<Client {self.peer} {state}>"

    # -- what the application uses -------------------------------------------

    @property
    def max_length(self) -> int:
        """The longest message accepted from the peer."""
        return self._protocol.max_length

    @property
    def peer(self) -> IAddress | None:
        """The address of the other end, or None before the connection is made."""
        transport = self._protocol.transport
        return transport.getPeer() if transport is not None else None

    @property
    def is_open(self) -> bool:
        """True until the connection ends or `close` is called."""
        return self._end is None

    @property
    def reads_ahead(self) -> bool:
        """
        Whether `receive` reads the socket before it waits (see `receive`).

        True on the epoll reactors (`QtEPollReactor` included) and on
        `QtNotifierReactor`, where it can; set it to False to have every
        message read by the reactor in a turn of its loop, as on the other
        reactors (setting it True where it cannot read ahead changes
        nothing).
        """
        return self._read_ahead is not None

    @reads_ahead.setter
    def reads_ahead(self, value: bool) -> None:
        if not value:
            self._read_ahead = None
        elif self._read_ahead is None and self._writes is not None:
            self._read_ahead = ReadAhead.for_client(self.reactor, self)

    @property
    def buffered_messages(self) -> int:
        """How many received messages wait for `receive` (a count, not bytes)."""
        return len(self._messages)

    @property
    def buffered_bytes(self) -> int:
        """
        How many payload bytes of received messages wait for `receive`.

        What counts against ``max_buffered`` is this plus `MESSAGE_OVERHEAD`
        for each of the `buffered_messages`.
        """
        return self._buffered_bytes

    @property
    def turn_budget(self) -> float:
        """
        Seconds of delivering messages in one reactor turn (default 0.004).

        While the reactor runs, a read holding many messages is delivered
        (to `receive` waiters or the subscriber) for at most about this long
        per turn of the event loop; reading pauses meanwhile, and the rest
        follows on the next turns, in order. 0 hands over 16 messages a turn.
        A bare `Clock` (unit tests) has no turns: delivery is all at once.
        """
        return self._protocol.turn_budget

    @turn_budget.setter
    def turn_budget(self, seconds: float) -> None:
        self._protocol.turn_budget = check_seconds("turn_budget", seconds) or 0.0

    @property
    def reading_paused(self) -> bool:
        """True while reading from the socket is paused because of unread messages."""
        return self._reading_paused

    def send(self, data: bytes) -> Deferred[None]:
        """
        Send ``data`` as one message.

        Returns a Deferred that fires with None once the bytes are handed to
        the kernel (the transport's buffer has drained: what `sendall`
        returning means), or fails with the error that ended the connection.
        Cancelling it stops the wait, not the sending.

        Raises:
            TypeError: ``data`` is not bytes-like.
            UsageError: ``data`` is longer than the 4-byte prefix can announce.
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("send")
        buffers = frame(data)
        if self._end is not None:
            return fail(self._end)
        assert self._writes is not None
        return self._writes.write(buffers)

    def receive(self, timeout: float | None = None) -> Deferred[bytes]:
        """
        The next message, in the order the peer sent them.

        With no message waiting, it first reads what the socket holds, on
        the epoll reactors and both Qt reactors (see `reads_ahead`): a reply
        already in the kernel is then returned fired, without a loop turn
        (after 1 ms of those in a row one receive waits, so the loop gets
        its turn). That read is the reactor's own: the peer's closing found
        there ends the connection at once (`when_closed` fires) and this
        fails with it.

        Messages that arrived whole are delivered even after the connection
        ended; after the last of them this fails with the reason it ended:
        `ConnectionClosed` (the peer or the network), `MessageTooLong` (the
        peer broke the limit), `ClientClosed` (`close` was called) or
        `ReactorShutdown` (the reactor stopped).

        Args:
            timeout: Seconds to wait (a finite number >= 0), or None to
                wait as long as it takes; anything else is a `UsageError`.
                When it runs out the Deferred fails with `ReceiveTimeout`
                (a `TimeoutError`); cancelling it fails it with
                `CancelledError`. Either way the connection stays usable and
                the next message goes to the next `receive`.

        Raises:
            UsageError: ``timeout`` is not None or a finite number >= 0, or a
                subscriber is attached (it gets every message; see
                `subscribe`).
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("receive")
        if self._subscriber is not None:
            raise UsageError(
                "receive() while a subscriber is attached: the subscriber owns "
                "delivery and gets every message; unsubscribe() first"
            )
        seconds = None if timeout is None else check_seconds("timeout", timeout)
        read_ahead = self._read_ahead
        if (
            read_ahead is not None
            and self._end is None
            and not self._messages
            and not self._waiters
        ):
            read_ahead(self._messages)  # the reply may be in the kernel already
        if self._messages:
            return succeed(self._take())
        if self._end is not None:
            return fail(self._end)
        waiter: Deferred[bytes] = Deferred(self._forget_waiter)
        self._waiters.append(waiter)
        if seconds is not None:
            waiter.addTimeout(seconds, self.reactor, onTimeoutCancel=_receive_timed_out)
        return waiter

    def subscribe(self, subscriber: Subscriber) -> None:
        """
        Hand every message to ``subscriber(message)``, in order, as it arrives.

        The messages waiting for `receive` go first, at once, from this call;
        after that each message is handed over as it is parsed (protocol →
        client → subscriber). While subscribed, `receive` raises `UsageError`;
        `unsubscribe` gives delivery back to `receive`, and messages arriving
        after it wait for `receive` again.

        Back-pressure is the subscriber's: the client does not buffer for it
        and does not pause reading however slow it is (``max_buffered``
        bounds only messages waiting for `receive`). A subscriber that cannot
        keep up queues messages itself, or unsubscribes so that the client
        buffers and pauses reading at ``max_buffered``. Delivery still takes
        at most about `turn_budget` per reactor turn, so the event loop runs.

        An exception from ``subscriber`` is logged; the message counts as
        delivered and the connection goes on. The end of the connection is
        not a message: `when_closed` tells it.

        Raises:
            UsageError: ``subscriber`` is not callable, another subscriber is
                attached, or `receive` calls are waiting (they would never
                get a message).
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("subscribe")
        if not callable(subscriber):
            raise UsageError(f"subscriber must be callable, not {subscriber!r}")
        if self._subscriber is not None:
            raise UsageError(
                f"already subscribed by {self._subscriber!r}: unsubscribe() first"
            )
        if self._waiters:
            raise UsageError(
                f"{len(self._waiters)} receive() call(s) are waiting for a "
                "message: cancel them before subscribing"
            )
        self._subscriber = subscriber
        self._hand_over_waiting(subscriber)

    def unsubscribe(self) -> None:
        """
        Detach the subscriber: messages wait for `receive` again.

        Harmless when none is attached.

        Raises:
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("unsubscribe")
        self._subscriber = None

    @property
    def subscribed(self) -> bool:
        """True while a subscriber (see `subscribe`) receives every message."""
        return self._subscriber is not None

    def close(self) -> Deferred[None]:
        """
        Close the connection after writing what is still buffered.

        Pending and later receives fail with `ClientClosed`; messages not read
        yet are dropped. Returns a Deferred that fires once the connection is
        gone; cancelling it drops the connection at once instead of waiting
        for the buffer to drain. Calling it again is harmless.

        Raises:
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("close")
        self._end_here()
        if not self._lost:
            self._close_transport()
        closing: Deferred[None] = Deferred(lambda _: self.abort())

        def closed(_: object) -> None:
            if not closing.called:  # a cancelled close has fired already
                closing.callback(None)

        self.when_closed().addCallback(closed)
        return closing

    def abort(self) -> None:
        """
        Drop the connection at once, discarding anything not yet written.

        Raises:
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("abort")
        self._end_here()
        transport = self._protocol.transport
        if not self._lost and transport is not None:
            transport.abortConnection()  # type: ignore[attr-defined]

    def when_closed(self) -> Deferred[ClientError]:
        """
        A Deferred that fires, with the reason, once the connection is gone.

        The reason is the error later operations fail with: `ClientClosed`,
        `ReactorShutdown`, `ConnectionClosed` or `MessageTooLong`. Each call
        returns a new Deferred, so cancelling one does not affect the others.

        Raises:
            WrongThreadError: called from a thread other than the reactor's.
        """
        if (ident := get_ident()) != self._thread and ident != _threadable.ioThread:
            self._wrong_thread("when_closed")
        if self._lost:
            assert self._end is not None
            return succeed(self._end)
        watcher: Deferred[ClientError] = Deferred(self._forget_watcher)
        self._lost_waiters.append(watcher)
        return watcher

    async def __aenter__(self) -> Client:
        """
        ``async with await connect(...) as client:`` gives the client itself.

        Like every await on a Deferred, this works in Twisted's coroutines
        (`Deferred.fromCoroutine`, `ensureDeferred`, `task.react`, and
        asyncio code run on Twisted's asyncio reactor through
        `Deferred.asFuture`).
        """
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """
        Close the connection and wait until it is gone, as `close` does.

        An exception raised in the block propagates unchanged.
        """
        await self.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Iterate over messages with ``async for``; see `__anext__`."""
        return self

    async def __anext__(self) -> bytes:
        """
        The next message; the iteration ends when the connection closes cleanly.

        A connection closed by `close` or by the peer between messages ends
        the iteration; one that broke (reset, or cut mid-message) or a peer
        that broke the limit raises.
        """
        try:
            return await self.receive()
        except ClientClosed:
            raise StopAsyncIteration from None
        except ConnectionClosed as error:
            if error.clean:
                raise StopAsyncIteration from None
            raise

    # -- what the protocol reports --------------------------------------------

    def _connection_made(self) -> None:
        transport = self._protocol.transport
        assert transport is not None
        self._writes = WriteMonitor(transport)
        self._read_ahead = ReadAhead.for_client(self.reactor, self)
        watch(self.reactor, self)

    def _message_received(self, message: bytes) -> None:
        if isinstance(self._end, ClientClosed):
            return
        subscriber = self._subscriber
        if subscriber is not None and not self._messages:
            self._deliver(subscriber, message)
            return
        # With a subscriber and messages waiting, they are being handed over
        # further up the stack (`_hand_over_waiting`): queue behind them.
        if self._waiters:
            self._waiters.popleft().callback(message)
            return
        messages = self._messages
        messages.append(message)
        self._buffered_bytes += len(message)
        if (
            not self._reading_paused
            and self._buffered_bytes + MESSAGE_OVERHEAD * len(messages)
            > self.max_buffered
        ):
            self._reading_paused = True
            self._protocol.pause_reading()

    def _protocol_error(self, error: ClientError) -> None:
        if self._end is None:
            self._end = error
            self._fail_waiters(error)

    def _connection_lost(self, reason: Failure, partial: int) -> None:
        self._lost = True
        forget(self.reactor, self)
        if self._end is None:
            self._end = ConnectionClosed(
                reason, clean=reason.check(ConnectionDone) is not None, partial=partial
            )
            self._fail_waiters(self._end)
        if self._writes is not None:
            flushed = isinstance(self._end, ClientClosed) and reason.check(
                ConnectionDone
            )
            self._writes.finish(None if flushed else Failure(self._end))
        watchers, self._lost_waiters = self._lost_waiters, []
        for watcher in watchers:
            watcher.callback(self._end)

    def _reactor_shutting_down(self) -> None:
        """
        The reactor is stopping ("before shutdown"): end with `ReactorShutdown`.

        The reactor then drops the connection itself ("during shutdown"),
        with a `ConnectionLost` that would blame the peer; the reason set
        here is the one every operation reports.
        """
        if self._end is None:
            self._end = ReactorShutdown()
            self._drop_messages()
            self._fail_waiters(self._end)
        transport = self._protocol.transport
        if self._reading_paused and not self._lost and transport is not None:
            # A paused transport with nothing to write is in none of the
            # reactor's sets, so the reactor would not drop it: put it back.
            self._reading_paused = False
            transport.resumeProducing()  # type: ignore[attr-defined]

    # -- internals -------------------------------------------------------------

    def _wrong_thread(self, method: str) -> None:
        """
        Raise `WrongThreadError` for a call to ``method`` from another thread.

        Only while the reactor runs: once it has stopped nothing else touches
        the client, so the thread that stopped it may still close it (the
        drop-in's ``join`` does). A reactor that cannot tell (a `Clock`) is
        taken as not running. Nor for a thread that `twisted.python.threadable`
        names the I/O thread: the drop-in lends that role to a thread that
        works under the reactor's dispatch lock (`compat._inline`).
        """
        if not getattr(self.reactor, "running", False):
            return
        if threadable.isInIOThread():
            # The reactor's thread lent this thread its I/O-thread role: it
            # runs on the reactor's behalf, holding the lock the reactor's
            # thread holds whenever it is not asleep in its poll (the
            # drop-in's script mode, compat._inline), so nothing else touches
            # Twisted meanwhile.
            return
        caller = threading.current_thread().name
        raise WrongThreadError(
            f"Client.{method}() was called from thread {caller!r}, not from the "
            "thread that runs the reactor; Twisted objects are not thread-safe. "
            f"From another thread, use reactor.callFromThread(client.{method}, "
            "...) (blockingCallFromThread to wait for the result), or the "
            "drop-in compat.SocketClientThread, whose queues work from any thread."
        )

    def _hand_over_waiting(self, subscriber: Subscriber) -> None:
        """Give the waiting messages to ``subscriber`` while it is attached."""
        while self._messages and self._subscriber is subscriber:
            self._deliver(subscriber, self._take())

    def _deliver(self, subscriber: Subscriber, message: bytes) -> None:
        """Call ``subscriber``; what it raises is logged, not propagated."""
        try:
            subscriber(message)
        except Exception:
            _log.failure(
                "subscriber {subscriber!r} of {client!r} failed on a message",
                subscriber=subscriber,
                client=self,
            )

    def _take(self) -> bytes:
        messages = self._messages
        message = messages.popleft()
        self._buffered_bytes -= len(message)
        if (
            self._reading_paused
            and self._buffered_bytes + MESSAGE_OVERHEAD * len(messages)
            <= self.max_buffered // 2
        ):
            self._reading_paused = False
            self._protocol.resume_reading()
        return message

    def _forget_waiter(self, waiter: Deferred[bytes]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)

    def _forget_watcher(self, watcher: Deferred[ClientError]) -> None:
        if watcher in self._lost_waiters:
            self._lost_waiters.remove(watcher)

    def _fail_waiters(self, error: ClientError) -> None:
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.called:
                waiter.errback(Failure(error))

    def _end_here(self) -> None:
        """This side ends the client: unread messages dropped, waiters failed."""
        if self._end is None:
            self._end = ClientClosed()
            self._drop_messages()
            self._fail_waiters(self._end)

    def _drop_messages(self) -> None:
        self._messages.clear()
        self._buffered_bytes = 0

    def _close_transport(self) -> None:
        transport = self._protocol.transport
        if transport is None:
            return
        if self._writes is not None:
            self._writes.detach()
        transport.loseConnection()


def _receive_timed_out(result: Any, timeout: float) -> Any:
    """Turn the cancellation `Deferred.addTimeout` made into `ReceiveTimeout`."""
    if isinstance(result, Failure):
        result.trap(CancelledError)
        raise ReceiveTimeout(timeout)
    return result
