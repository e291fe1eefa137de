"""
`QtNotifierReactor`: a reactor that Qt drives with one QSocketNotifier per socket.

The portable fallback, for every binding (PyQt5, PyQt6, PySide6) and every
platform Qt runs on: each reader and each writer gets its own
`QSocketNotifier`, so Qt's event dispatcher watches the sockets itself, and
one single-shot `QTimer` is armed for the next timed call. When a notifier
fires, the reader's ``doRead`` (or the writer's ``doWrite``) runs at once;
when the timer fires, the calls that are due run and the timer is re-armed.
Nothing polls, and nothing needs epoll; the price is that Qt's own loop looks
at every notifier on every turn, so a turn costs more with many sockets open
than with `QtEPollReactor` (kind ``"qt"``, Linux).

Nested event loops (a modal dialog opened by a callback) keep the reactor
running: timed calls, calls from threads and every other socket go on working
inside them, but the socket whose callback opened the loop is not reported
again until that callback returns, so its protocol is never re-entered.

Qt 6 differences it copes with: ``activated`` passes a `QSocketDescriptor`
and the notifier type (Qt 5: an int), and the slot ignores both, as it knows
its selectable already; enums are reached through their scoped names. A
notifier taken out of use is disabled at once and released only once no
notifier slot is running, so no binding deletes a QObject while it emits.
"""

from __future__ import annotations

import math
import signal
import sys
from functools import partial
from typing import Any

from twisted.internet import error
from twisted.internet.interfaces import IReactorFDSet
from twisted.internet.posixbase import PosixReactorBase
from twisted.python import log
from zope.interface import implementer

from ._binding import binding
from ._timer import LONGEST_MS, QtTimerDriven

__all__ = ["QtNotifierReactor", "install"]

_FD_GONE = error.ConnectionFdescWentAway("Filedescriptor went away")


@implementer(IReactorFDSet)
class QtNotifierReactor(QtTimerDriven, PosixReactorBase):
    """
    A reactor whose sockets are watched by Qt, one QSocketNotifier each.

    Create it after the QApplication (`twisted_client.qt.install_reactor`
    does both). It keeps every promise of a reactor: ``run()``,
    ``runReturn()`` with ``app.exec()``, ``stop()`` and ``crash()`` from
    anywhere, shutdown triggers, ``callLater``, ``callFromThread``, the thread
    pool, signal handling, and the lifecycle fixes of `QtLifecycleMixin`.
    ``iterate(delay)`` processes Qt events for at most ``delay`` seconds.
    """

    def __init__(self) -> None:
        qtcore = binding().QtCore

        self._notifier_class: Any = qtcore.QSocketNotifier
        self._read_type: Any = qtcore.QSocketNotifier.Type.Read
        self._write_type: Any = qtcore.QSocketNotifier.Type.Write
        self._reads: dict[Any, Any] = {}  # reader -> its QSocketNotifier
        self._writes: dict[Any, Any] = {}  # writer -> its QSocketNotifier
        self._retired: list[Any] = []  # disabled, released when none emits
        self._dispatching: list[Any] = []  # selectables whose callback runs
        self._suspended: list[Any] = []  # notified while their callback runs
        self._driving = False
        super().__init__()
        self._make_timer()

    # -- how Qt drives it -------------------------------------------------------

    def _start_driving(self) -> None:
        self._driving = True
        for watched in (self._reads, self._writes):
            for selectable, notifier in watched.items():
                if not self._is_suspended(selectable):
                    notifier.setEnabled(True)
        self._arm(0)

    def _stop_driving(self) -> None:
        self._driving = False
        for notifier in self._notifiers():
            notifier.setEnabled(False)
        self._timer.stop()
        self._deadline = math.inf

    def _wake(self) -> None:
        self._arm(0)

    def _notifiers(self) -> list[Any]:
        return [*self._reads.values(), *self._writes.values()]

    def _on_timer(self) -> None:
        self._deadline = math.inf
        if not self._dispatching:
            self._retired.clear()
        self._turn()

    # -- IReactorFDSet ------------------------------------------------------------

    def addReader(self, reader: Any) -> None:
        """Watch ``reader``: call its ``doRead`` whenever it can be read."""
        if reader not in self._reads:
            self._reads[reader] = self._watch(reader, self._read_type, True)

    def addWriter(self, writer: Any) -> None:
        """Watch ``writer``: call its ``doWrite`` whenever it can be written."""
        if writer not in self._writes:
            self._writes[writer] = self._watch(writer, self._write_type, False)

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader`` for reading."""
        self._retire(self._reads.pop(reader, None))

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer`` for writing."""
        self._retire(self._writes.pop(writer, None))

    def removeAll(self) -> list[Any]:
        """Stop watching every reader and writer but the reactor's own."""
        removed: list[Any] = self._removeAll(self._reads, self._writes)  # type: ignore[no-untyped-call]
        return removed

    def getReaders(self) -> list[Any]:
        """The readers watched."""
        return list(self._reads)

    def getWriters(self) -> list[Any]:
        """The writers watched."""
        return list(self._writes)

    def _watch(self, selectable: Any, kind: Any, reading: bool) -> Any:
        """A new notifier for ``selectable``, enabled when it may report now."""
        notifier = self._notifier_class(selectable.fileno(), kind)
        # The slot gets the selectable from here: Qt 5 passes an int, Qt 6 a
        # QSocketDescriptor and the type, and both are ignored.
        notifier.activated.connect(partial(self._on_ready, selectable, reading))
        # Enabled even while the selectable's own callback runs (doRead ->
        # addWriter is common): a report inside a nested loop suspends it.
        notifier.setEnabled(self._driving)
        return notifier

    def _retire(self, notifier: Any) -> None:
        """Disable ``notifier``; keep it until no notifier slot is running."""
        if notifier is not None:
            notifier.setEnabled(False)
            self._retired.append(notifier)

    # -- dispatching, safe for nested event loops --------------------------------

    def _is_busy(self, selectable: Any) -> bool:
        return any(busy is selectable for busy in self._dispatching)

    def _is_suspended(self, selectable: Any) -> bool:
        return any(item is selectable for item in self._suspended)

    def _dispatch(self, selectable: Any, call: Any, *args: Any) -> None:
        """Run ``call(*args)`` with ``selectable`` dispatching; then report it
        again if a nested loop silenced it meanwhile."""
        self._dispatching.append(selectable)
        try:
            call(*args)
        finally:
            self._dispatching.pop()
            if self._suspended and not self._is_busy(selectable):
                self._resume(selectable)

    def _on_ready(self, selectable: Any, reading: bool, *_: object) -> None:
        """A notifier fired: run ``doRead`` or ``doWrite`` in the selectable's log
        context; if its callback is still running (a nested event loop), wait."""
        if not self._dispatching:
            self._retired.clear()  # none of them can be emitting now
        watched = self._reads if reading else self._writes
        if not self._driving or selectable not in watched:
            return
        if self._dispatching and self._is_busy(selectable):
            self._suspend(selectable)
            return
        try:
            self._dispatch(
                selectable,
                log.callWithLogger,
                selectable,
                self._read_or_write,
                selectable,
                reading,
            )
        except KeyboardInterrupt:  # SIGINT without Twisted's handler
            self.sigInt(signal.SIGINT)
        except BaseException:  # nothing may escape into Qt
            log.err(None, "while running the reactor")
        if self._thread_calls or self._justStopped:
            self._turn()  # the waker was read: run the calls from threads now

    def _read_or_write(self, selectable: Any, reading: bool) -> None:
        """What Twisted's poll-like reactors do with a ready descriptor."""
        why: object = None
        in_read = False
        try:
            if selectable.fileno() == -1:
                why = _FD_GONE
            elif reading:
                why = selectable.doRead()
                in_read = True
            else:
                why = selectable.doWrite()
        except BaseException:
            why = sys.exc_info()[1]
            log.err()
        if why:
            self._disconnectSelectable(selectable, why, in_read)  # type: ignore[no-untyped-call]

    def _suspend(self, selectable: Any) -> None:
        """Silence ``selectable`` while a nested event loop runs in its callback."""
        if not self._is_suspended(selectable):
            self._suspended.append(selectable)
        for watched in (self._reads, self._writes):
            notifier = watched.get(selectable)
            if notifier is not None:
                notifier.setEnabled(False)

    def _resume(self, selectable: Any) -> None:
        """Its callback returned: report ``selectable`` again, if still watched."""
        kept = [item for item in self._suspended if item is not selectable]
        if len(kept) == len(self._suspended):
            return
        self._suspended[:] = kept
        for watched in (self._reads, self._writes):
            notifier = watched.get(selectable)
            if notifier is not None:
                notifier.setEnabled(self._driving)

    # -- reading ahead (Client.receive) ------------------------------------------

    def reads(self, selectable: Any) -> bool:
        """True while ``selectable`` is watched for reading."""
        return selectable in self._reads

    def read_now(self, selectable: Any) -> bool:
        """
        Read ``selectable`` now, as its notifier firing would; say whether it did.

        For `Client.receive` reading ahead. Nothing is read (False) while the
        reactor is not driven, ``selectable`` is not watched for reading, or
        it is silenced for a nested event loop opened in its callback. While
        the read runs, ``selectable`` counts as dispatching, so a nested loop
        opened from what it delivers silences it, as when a notifier fires.
        """
        if (
            not self._driving
            or selectable not in self._reads
            or self._is_suspended(selectable)
        ):
            return False
        self._dispatch(selectable, self._read_or_write, selectable, True)
        return True

    # -- iterate() ------------------------------------------------------------------

    def doIteration(self, delay: float | None) -> None:
        """Process Qt events once, waiting at most ``delay`` seconds for one."""
        qtcore = binding().QtCore
        flags = qtcore.QEventLoop.ProcessEventsFlag
        if delay is not None and delay <= 0:
            qtcore.QCoreApplication.processEvents(flags.AllEvents)
            return
        timer = None
        if delay is not None:
            timer = qtcore.QTimer()
            timer.setSingleShot(True)
            timer.start(min(LONGEST_MS, math.ceil(delay * 1000)))
        qtcore.QCoreApplication.processEvents(flags.WaitForMoreEvents)
        if timer is not None:
            timer.stop()


def install() -> QtNotifierReactor:
    """Install a `QtNotifierReactor` as the global reactor (the QApplication first)."""
    from twisted.internet.main import installReactor

    reactor = QtNotifierReactor()
    installReactor(reactor)
    return reactor
