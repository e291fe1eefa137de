"""
The reactor of this pass, driven by Qt, wakes up for whatever Qt code asks.

Run in each Qt pass, so against `Qt5Reactor`, `QtEPollReactor` and
`QtNotifierReactor`, on the binding of the pass.
The calls are made from pure Qt slots (zero-delay QTimers), where nothing
Twisted is on the stack: the reactor has to notice them by itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

pytestmark = pytest.mark.qt

WAIT = 10.0
"""Seconds before a wait fails the test instead of hanging it."""


def from_qt_slot(function: Callable[[], object], milliseconds: int = 0) -> None:
    """Call ``function`` from a Qt timer's slot, outside any Twisted callback."""
    from twisted_client.qt import binding

    binding().QtCore.QTimer.singleShot(milliseconds, function)


def qt_deadline(waiting: Deferred[Any], seconds: float = 5.0) -> Deferred[Any]:
    """
    Fail ``waiting`` with TimeoutError after ``seconds``, timed by Qt alone.

    A Twisted timeout would wake the reactor, which would then run the
    overdue call and hide the bug under test; a Qt timer does not.
    """

    def expire() -> None:
        if not waiting.called:
            waiting.errback(TimeoutError("the reactor did not wake up"))

    from_qt_slot(expire, int(seconds * 1000))
    return waiting


@pytest_twisted.ensureDeferred
async def test_call_later_from_a_qt_slot_fires_on_time(reactor: Any, qapp: Any) -> None:
    """callLater from a Qt slot, with nothing else pending, fires, and not
    before its time."""
    fired: Deferred[float] = Deferred()
    scheduled: list[float] = []

    def schedule() -> None:
        scheduled.append(reactor.seconds() + 0.05)
        reactor.callLater(0.05, lambda: fired.callback(reactor.seconds()))

    from_qt_slot(schedule)
    when = await qt_deadline(fired)
    assert when >= scheduled[0]


@pytest_twisted.ensureDeferred
async def test_a_timer_that_fires_before_the_call_is_due_is_armed_again(
    reactor: Any, qapp: Any
) -> None:
    """A call whose timer fires before it is due by ``reactor.seconds()`` (Qt's
    clock and Twisted's differ a little; here Twisted's runs at half speed)
    still fires: that turn arms the timer again instead of ending."""
    real = reactor.seconds
    start = real()

    def slow() -> float:
        return float(start + (real() - start) / 2)

    fired: Deferred[None] = Deferred()
    calls: list[Any] = []
    reactor.seconds = slow
    try:
        from_qt_slot(
            lambda: calls.append(reactor.callLater(0.02, fired.callback, None))
        )
        await qt_deadline(fired)
    finally:
        del reactor.seconds
        if calls and calls[0].active():
            calls[0].cancel()


@pytest_twisted.ensureDeferred
async def test_reset_sooner_from_a_qt_slot_is_honoured(reactor: Any, qapp: Any) -> None:
    """A call an hour away, reset from a Qt slot to fire in 10 ms, fires
    without waiting for another Twisted event (stock qt5reactor waits)."""
    fired: Deferred[None] = Deferred()
    call = reactor.callLater(3600, fired.callback, None)
    from_qt_slot(lambda: call.reset(0.01))
    try:
        await qt_deadline(fired)
    finally:
        if call.active():
            call.cancel()


@pytest_twisted.ensureDeferred
async def test_call_from_thread_wakes_the_reactor(reactor: Any, qapp: Any) -> None:
    """callFromThread from another thread runs the call on the reactor thread."""
    ran_on: Deferred[int] = Deferred()
    worker = threading.Thread(
        target=lambda: reactor.callFromThread(
            lambda: ran_on.callback(threading.get_ident())
        )
    )
    worker.start()
    assert await ran_on.addTimeout(WAIT, reactor) == threading.get_ident()
    worker.join()


@pytest_twisted.ensureDeferred
async def test_thread_pool_returns_results(reactor: Any, qapp: Any) -> None:
    """deferToThread runs in a pool thread and gives the result back."""
    results = [deferToThread(lambda n=n: (n, threading.get_ident())) for n in range(5)]
    for n, waiting in enumerate(results):
        value, ident = await waiting.addTimeout(WAIT, reactor)
        assert value == n
        assert ident != threading.get_ident()


@pytest_twisted.ensureDeferred
async def test_nested_event_loop_keeps_twisted_running(
    reactor: Any, qapp: Any, echo_port: int
) -> None:
    """A QEventLoop run from a timed call: inside it timed calls and calls
    from threads run (each once), and a loopback echo completes."""
    from twisted_client import connect
    from twisted_client.qt import binding

    seen: list[str] = []
    done: Deferred[None] = Deferred()

    async def echo() -> None:
        client = await connect(reactor, "127.0.0.1", echo_port)
        await client.send(b"nested")
        seen.append((await client.receive(timeout=WAIT)).decode())
        await client.close()

    def nested() -> None:
        loop = binding().QtCore.QEventLoop()
        reactor.callLater(0.01, seen.append, "timed")
        worker = threading.Thread(
            target=lambda: [
                reactor.callFromThread(seen.append, f"t{n}") for n in range(20)
            ]
        )
        worker.start()
        work = Deferred.fromCoroutine(echo())
        work.addBoth(lambda result: (reactor.callLater(0.02, loop.quit), result)[1])
        loop.exec()
        worker.join()
        reactor.callLater(0, done.callback, None)

    reactor.callLater(0, nested)
    await done.addTimeout(WAIT, reactor)
    assert sorted(seen) == sorted(["timed", "nested", *(f"t{n}" for n in range(20))])


@pytest_twisted.ensureDeferred
async def test_socket_callbacks_log_with_the_transport_prefix(
    reactor: Any, qapp: Any, listening: Any
) -> None:
    """A line logged from ``dataReceived`` carries the transport's logPrefix
    as its system, and an exception raised there is logged with it too and
    drops only that connection: what Twisted's own reactors promise."""
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    from twisted.internet.protocol import Protocol
    from twisted.python import log

    class Greeter(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            self.transport.write(b"hello")

    class Loud(Protocol):
        def dataReceived(self, data: bytes) -> None:
            log.msg(f"got {data!r}")
            raise ValueError("loud on purpose")

        def connectionLost(self, reason: Any = None) -> None:
            lost.callback(None)

    events: list[dict[str, Any]] = []
    lost: Deferred[None] = Deferred()
    log.addObserver(events.append)
    port = listening.tcp(Greeter)
    loud = Loud()
    try:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        await connectProtocol(endpoint, loud)
        await lost.addTimeout(WAIT, reactor)
    finally:
        log.removeObserver(events.append)
    prefix = loud.transport.logPrefix()  # type: ignore[union-attr]
    said = [e for e in events if e.get("message") == ("got b'hello'",)]
    assert [e["system"] for e in said] == [prefix]
    errors = [e for e in events if e.get("isError") and e.get("failure")]
    assert [e["failure"].check(ValueError) for e in errors] == [ValueError]
    assert errors[0]["system"] == prefix


@pytest_twisted.ensureDeferred
async def test_readers_ready_together_each_log_with_their_own_prefix(
    reactor: Any, qapp: Any
) -> None:
    """Descriptors that become readable in the same instant, so are handled in
    one poll, each log with their own logPrefix; outside them (a timed call)
    the system is the reactor's again."""
    import os

    from twisted.python import log

    from twisted_client.qt import Qt5Reactor

    class Pipe:
        def __init__(self, name: str) -> None:
            self.name = name
            self.read_end, self.write_end = os.pipe()

        def fileno(self) -> int:
            return self.read_end

        def logPrefix(self) -> str:
            return self.name

        def doRead(self) -> None:
            os.read(self.read_end, 1)
            log.msg(f"read by {self.name}")
            reactor.removeReader(self)
            read.append(self.name)
            if len(read) == len(pipes):
                reactor.callLater(0, lambda: log.msg("after the reads"))
                reactor.callLater(0, done.callback, None)

        def connectionLost(self, reason: Any) -> None:
            pass

    pipes = [Pipe(f"pipe-{n}") for n in range(3)]
    read: list[str] = []
    done: Deferred[None] = Deferred()
    events: list[dict[str, Any]] = []
    log.addObserver(events.append)
    try:
        for pipe in pipes:
            reactor.addReader(pipe)
        for pipe in pipes:  # all in this callback: ready before the next poll
            os.write(pipe.write_end, b"x")
        await done.addTimeout(WAIT, reactor)
    finally:
        log.removeObserver(events.append)
        for pipe in pipes:
            reactor.removeReader(pipe)
            os.close(pipe.read_end)
            os.close(pipe.write_end)
    said = {e["message"][0]: e["system"] for e in events if e.get("message")}
    assert sorted(read) == [pipe.name for pipe in pipes]
    for pipe in pipes:
        assert said[f"read by {pipe.name}"] == pipe.name
    if not isinstance(reactor, Qt5Reactor):
        # Stock qt5reactor runs timed calls inside the last reader's context.
        assert said["after the reads"] == "-"


def test_the_notifier_reactor_reads_now_only_what_its_notifiers_would(
    reactor: Any, qapp: Any
) -> None:
    """
    `QtNotifierReactor.read_now` (a receive reading ahead) reads a socket it
    watches for reading, as its notifier firing would, and the socket counts
    as dispatching meanwhile (a nested loop opened from what it delivers
    silences it). A socket it does not watch, or one silenced while a
    nested loop runs in its callback, is not read.
    """
    from twisted_client.qt._notifierreactor import QtNotifierReactor

    if not isinstance(reactor, QtNotifierReactor):
        pytest.skip("the notifier reactor's own method")
    ours, theirs = socket.socketpair()

    class Reader:
        def __init__(self) -> None:
            self.busy: list[bool] = []

        def fileno(self) -> int:
            return ours.fileno()

        def doRead(self) -> None:
            self.busy.append(reactor._is_busy(self))

        def logPrefix(self) -> str:
            return "Reader"

    reader = Reader()
    try:
        assert not reactor.read_now(reader)  # not watched
        reactor.addReader(reader)
        assert reactor.read_now(reader)
        assert reader.busy == [True]
        reactor._suspend(reader)  # what a nested loop in its callback does
        assert not reactor.read_now(reader)
        reactor._resume(reader)
        assert reactor.read_now(reader)
        assert reader.busy == [True, True]
        assert not reactor._is_busy(reader)
    finally:
        reactor.removeReader(reader)
        ours.close()
        theirs.close()
