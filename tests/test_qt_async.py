"""
`async_slot` and `signal_once`: coroutines from Qt signals, and a signal awaited once.

Real signals of a `QObject` subclass made through the binding seam; time
with `Clock`. A failure's report is captured at `sys.excepthook` and in
Twisted's log, and "Unhandled error in Deferred" is watched for after a
garbage collection.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.logger import LogEvent
from twisted.python.failure import Failure

from twisted_client import ClientError, SignalTimeout, UsageError
from twisted_client.qt import (
    _excepthook,
    async_slot,
    log_slot_errors,
    report_slot_failure,
    signal_once,
)

from .helpers import assert_no_result, failure_of, observing, success_of

pytestmark = pytest.mark.qt


@pytest.fixture
def emitter(qt: Any) -> Any:
    """A QObject with signals of no, one and two arguments."""

    class Emitter(qt.QtCore.QObject):  # type: ignore[misc]
        none = qt.Signal()
        one = qt.Signal(object)
        two = qt.Signal(int, str)

    return Emitter()


def _receivers(qt: Any, emitter: Any, name: str, types: str) -> int:
    """How many slots are connected to ``emitter``'s signal ``name(types)``."""
    if qt.api == "pyside6":  # PySide6 takes the signature, PyQt the signal
        return int(emitter.receivers(f"2{name}({types})"))
    return int(emitter.receivers(getattr(emitter, name)))


class Reports:
    """What async slots reported (it replaces the report_slot_failure hook),
    and what Twisted logged as unhandled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Texts, not the exceptions: an exception's traceback would keep the
        # Deferred alive, and hide an "Unhandled error" at its collection.
        self.reported: list[str] = []
        self.unhandled: list[str] = []
        monkeypatch.setattr(_excepthook, "report_slot_failure", self.report)

    def report(self, failure: Failure) -> None:
        self.reported.append(f"{failure.type.__name__}: {failure.value}")

    def observe(self, event: LogEvent) -> None:
        failure = event.get("log_failure")
        if failure is not None and event.get("log_namespace") == (
            "twisted.internet.defer"
        ):
            self.unhandled.append(f"{failure.type.__name__}: {failure.value}")

    def after_collection(self) -> Reports:
        gc.collect()
        return self


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reports]:
    """Captures the report_slot_failure hook, and "Unhandled error in Deferred"."""
    seen = Reports(monkeypatch)
    with observing(seen.observe):
        yield seen


class Hooked:
    """What reached `sys.excepthook` (it replaces the hook) and Twisted's log
    (not about Deferreds)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hooked: list[str] = []
        self.logged: list[tuple[str, str]] = []
        monkeypatch.setattr(sys, "excepthook", self.hook)

    def hook(
        self,
        kind: type[BaseException],
        value: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        assert traceback is not None  # the hook gets the traceback too
        self.hooked.append(f"{kind.__name__}: {value}")

    def observe(self, event: LogEvent) -> None:
        failure = event.get("log_failure")
        if failure is not None:
            text = f"{failure.type.__name__}: {failure.value}"
            self.logged.append((event.get("log_format") or "", text))


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooked]:
    """A recording sys.excepthook, and the failures Twisted's log received."""
    seen = Hooked(monkeypatch)
    with observing(seen.observe):
        yield seen


def _failure(error: BaseException) -> Failure:
    """A Failure of ``error`` with a traceback, as a coroutine's would have."""
    try:
        raise error
    except BaseException:
        return Failure()


def test_a_signal_runs_the_coroutine_with_its_arguments(emitter: Any) -> None:
    """An emission starts the coroutine at once, with the signal's arguments."""
    calls: list[tuple[int, str]] = []
    gate: Deferred[None] = Deferred()

    @async_slot
    async def slot(number: int, text: str) -> None:
        await gate
        calls.append((number, text))

    emitter.two.connect(slot)
    emitter.two.emit(7, "seven")
    assert calls == []  # waiting on the gate, while Qt goes on
    gate.callback(None)
    assert calls == [(7, "seven")]


def test_the_slot_returns_a_deferred_of_the_coroutines_value(
    reports: Reports,
) -> None:
    """Called directly, the slot gives a Deferred firing with what it returns."""
    gate: Deferred[int] = Deferred()

    @async_slot
    async def double() -> int:
        return 2 * await gate

    running = double()
    assert_no_result(running)
    gate.callback(21)
    assert success_of(running) == 42
    assert reports.after_collection().reported == []


def test_arguments_the_function_cannot_take_are_dropped_from_the_end(
    emitter: Any,
) -> None:
    """As with Qt slots, a slot taking fewer arguments gets the first ones."""
    calls: list[object] = []

    @async_slot
    async def first_only(number: int) -> None:
        calls.append(number)

    @async_slot
    async def nothing() -> None:
        calls.append("nothing")

    emitter.two.connect(first_only)
    emitter.two.connect(nothing)
    emitter.two.emit(3, "three")
    assert sorted(map(str, calls)) == ["3", "nothing"]


def test_a_declared_slot_on_a_qobject_runs_as_a_method(qt: Any) -> None:
    """``@async_slot(int, str)`` or ``(int)`` on a method declares it to Qt."""

    class Window(qt.QtCore.QObject):  # type: ignore[misc]
        changed = qt.Signal(int, str)

        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[int, str]] = []

        @async_slot(int, str)
        async def on_changed(self, number: int, text: str) -> int:
            self.seen.append((number, text))
            return number

        @async_slot(int)
        async def on_number(self, number: int) -> None:
            self.seen.append((number, "number"))

    window = Window()
    window.changed.connect(window.on_changed)
    window.changed.emit(5, "five")
    assert window.seen == [(5, "five")]
    assert success_of(window.on_changed(6, "six")) == 6
    window.changed.connect(window.on_number)
    window.changed.emit(7, "seven")
    assert window.seen[-1] == (7, "number")


def test_a_failure_is_reported_once_and_not_logged_as_unhandled(
    emitter: Any, reports: Reports
) -> None:
    """
    An exception ending the coroutine is reported once, when it happens; the
    Deferred Qt ignored is not logged again as "Unhandled error in Deferred".
    """
    gate: Deferred[None] = Deferred()

    @async_slot
    async def broken(_: object) -> None:
        await gate
        raise ValueError("bug in the slot")

    emitter.one.connect(broken)
    emitter.one.emit("x")
    assert reports.reported == []
    gate.callback(None)
    reports.after_collection()
    assert reports.reported == ["ValueError: bug in the slot"]
    assert reports.unhandled == []


def test_arguments_it_cannot_take_are_reported_not_raised(reports: Reports) -> None:
    """A call missing a required argument fails the Deferred; nothing raises."""

    @async_slot
    async def needs_two(first: int, second: int) -> None:
        pass

    failure_of(needs_two(1), TypeError)
    assert len(reports.after_collection().reported) == 1
    assert reports.reported[0].startswith("TypeError: ")
    assert reports.unhandled == []


def test_a_caller_of_a_failing_slot_still_gets_the_failure(reports: Reports) -> None:
    """The returned Deferred fails with the exception, reported all the same."""

    @async_slot
    async def broken() -> None:
        raise KeyError("missing")

    failure = failure_of(broken(), KeyError)
    assert str(failure.value) == "'missing'"
    del failure
    assert reports.after_collection().reported == ["KeyError: 'missing'"]
    assert reports.unhandled == []


def test_cancelling_the_slots_deferred_is_quiet(reports: Reports) -> None:
    """Cancelling cancels what the coroutine awaits, and nothing is reported."""
    awaited: list[Deferred[None]] = []
    gate: Deferred[None] = Deferred(awaited.append)

    @async_slot
    async def waiting() -> None:
        await gate

    running = waiting()
    running.cancel()
    failure_of(running, CancelledError)
    assert awaited == [gate]
    reports.after_collection()
    assert reports.reported == []
    assert reports.unhandled == []


def test_report_slot_failure_logs_and_calls_the_applications_hook(
    hooked: Hooked,
) -> None:
    """Reported: logged with its traceback, and given to sys.excepthook."""
    report_slot_failure(_failure(ValueError("bug")))
    assert hooked.logged == [
        ("Unhandled exception in an async Qt slot", "ValueError: bug")
    ]
    assert hooked.hooked == ["ValueError: bug"]


def test_report_slot_failure_with_log_slot_errors_logs_once(
    monkeypatch: pytest.MonkeyPatch, hooked: Hooked
) -> None:
    """With log_slot_errors()'s hook installed, that hook logs it, once."""
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    log_slot_errors()
    report_slot_failure(_failure(ValueError("once")))
    assert hooked.logged == [("Unhandled exception in a Qt slot", "ValueError: once")]


def test_report_slot_failure_survives_a_hook_that_raises(
    monkeypatch: pytest.MonkeyPatch, hooked: Hooked
) -> None:
    """A hook that raises is logged too; nothing is raised to the caller."""

    def broken_hook(*_: object) -> None:
        raise RuntimeError("hook bug")

    monkeypatch.setattr(sys, "excepthook", broken_hook)
    report_slot_failure(_failure(ValueError("bug")))
    assert hooked.logged == [
        ("Unhandled exception in an async Qt slot", "ValueError: bug"),
        (
            "sys.excepthook raised while reporting an async slot's failure",
            "RuntimeError: hook bug",
        ),
    ]


def test_a_plain_function_is_refused() -> None:
    """async_slot is for async def functions; a plain one gets a clear UsageError."""

    def plain() -> None:
        pass

    with pytest.raises(UsageError, match="'async def'"):
        async_slot(plain)  # type: ignore[type-var]
    with pytest.raises(UsageError, match="'async def'"):
        async_slot(int)(plain)  # type: ignore[type-var]


def test_signal_once_fires_with_the_arguments_of_the_first_emission(
    qt: Any, emitter: Any
) -> None:
    """It fires once, with the first emission's arguments, then disconnects."""
    waiting = signal_once(emitter.two)
    assert _receivers(qt, emitter, "two", "int,QString") == 1
    emitter.two.emit(1, "first")
    emitter.two.emit(2, "second")
    assert success_of(waiting) == (1, "first")
    assert _receivers(qt, emitter, "two", "int,QString") == 0


def test_signal_once_gives_one_argument_itself_and_none_for_none(
    emitter: Any,
) -> None:
    """One argument comes as itself, no arguments as None."""
    one, none = signal_once(emitter.one), signal_once(emitter.none)
    emitter.one.emit([1, 2])
    emitter.none.emit()
    assert success_of(one) == [1, 2]
    assert success_of(none) is None


def test_cancelling_signal_once_disconnects(qt: Any, emitter: Any) -> None:
    """cancel() fails it with CancelledError and disconnects its slot."""
    waiting = signal_once(emitter.two)
    waiting.cancel()
    failure_of(waiting, CancelledError)
    assert _receivers(qt, emitter, "two", "int,QString") == 0
    emitter.two.emit(1, "after")  # nothing is connected to fire it again


def test_signal_once_times_out_with_signal_timeout(qt: Any, emitter: Any) -> None:
    """After the timeout it fails with SignalTimeout naming the signal, disconnected."""
    clock = Clock()
    waiting = signal_once(emitter.two, timeout=5, reactor=clock)
    clock.advance(4.9)
    assert_no_result(waiting)
    clock.advance(0.1)
    failure = failure_of(waiting, SignalTimeout)
    assert isinstance(failure.value, TimeoutError)
    assert isinstance(failure.value, ClientError)
    assert (
        str(failure.value) == "the signal two(int,QString) was not emitted within 5 s"
    )
    assert failure.value.timeout == 5
    assert _receivers(qt, emitter, "two", "int,QString") == 0


def test_an_emission_in_time_cancels_the_timeout(emitter: Any) -> None:
    """Fired in time, it leaves no timer behind; cancelled, neither."""
    clock = Clock()
    fired = signal_once(emitter.one, timeout=5, reactor=clock)
    cancelled = signal_once(emitter.two, timeout=5, reactor=clock)
    emitter.one.emit("in time")
    cancelled.cancel()
    assert success_of(fired) == "in time"
    failure_of(cancelled, CancelledError)
    assert clock.getDelayedCalls() == []


def test_signal_once_refuses_a_negative_timeout_or_a_non_signal(
    qt: Any, emitter: Any
) -> None:
    """A negative timeout, or something that is not a signal, is a UsageError."""
    with pytest.raises(UsageError, match="at least 0"):
        signal_once(emitter.one, timeout=-0.5, reactor=Clock())
    assert _receivers(qt, emitter, "one", "PyObject") == 0
    with pytest.raises(UsageError, match="bound Qt signal"):
        signal_once(lambda: None)


@pytest_twisted.ensureDeferred
async def test_a_slot_awaits_a_qtclient_reply_on_the_running_reactor(
    qt: Any, reactor: Any, echo_port: int
) -> None:
    """
    The README's pattern for real: a click runs an async slot that sends with
    a QtClient and awaits the echo with signal_once (its timeout on the
    running Qt reactor, the default), then emits the reply.
    """
    from twisted_client.qt import QtClient

    client = QtClient(reactor)

    class Window(qt.QtCore.QObject):  # type: ignore[misc]
        clicked = qt.Signal(bool)
        answered = qt.Signal(object)

        @async_slot
        async def send_line(self) -> None:
            await client.send(b"hello")
            reply = await signal_once(client.message_received, timeout=5)
            self.answered.emit(reply)

    try:
        await client.connect_to_host("127.0.0.1", echo_port)
        window = Window()
        window.clicked.connect(window.send_line)
        answered = signal_once(window.answered, timeout=5)
        window.clicked.emit(False)
        assert await answered == b"hello"
    finally:
        await client.close()
