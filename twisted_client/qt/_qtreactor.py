"""
`QtEPollReactor`: Twisted's epoll reactor, driven by Qt's event loop.

Qt watches one file descriptor for the whole reactor, the epoll descriptor,
with one `QSocketNotifier`; one single-shot `QTimer` is armed for the next
timed call. When either fires, the reactor polls epoll without waiting,
dispatches what is ready, runs the calls that are due and re-arms the timer.
Adding or removing a reader or writer is an ``epoll_ctl`` call, not a new
QObject, and the cost of a turn of Qt's loop does not grow with the number of
sockets.

Nested event loops (a modal dialog opened by a callback) keep the reactor
running: timed calls, calls from threads and every socket go on working inside
them, except the socket whose callback opened the loop, which waits until that
callback returns so its protocol is never re-entered. An event list that a
nested loop made stale is dropped rather than dispatched (epoll is
level-triggered: whatever is still ready is reported again).
"""

from __future__ import annotations

import errno
import math
from select import EPOLLONESHOT
from typing import Any

from twisted.internet.epollreactor import EPOLLIN, EPOLLOUT, EPollReactor
from twisted.internet.posixbase import _NO_FILEDESC
from twisted.python import context, log

from ._binding import binding
from ._timer import QtTimerDriven

__all__ = ["QtEPollReactor", "install"]


class QtEPollReactor(QtTimerDriven, EPollReactor):
    """
    An epoll reactor whose events are delivered by Qt's event loop.

    Create it after the QApplication (`twisted_client.qt.install_reactor`
    does both). It is an `EPollReactor`, so code that checks for one accepts
    it, and it keeps every promise of a reactor: ``run()``, ``runReturn()``
    with ``app.exec()``, ``stop()`` and ``crash()`` from anywhere, shutdown
    triggers, ``callLater``, ``callFromThread``, the thread pool, signal
    handling. ``iterate()`` polls epoll directly and does not process Qt
    events.
    """

    def __init__(self) -> None:
        qtcore = binding().QtCore

        self._notifier: Any = None
        self._polls = 0
        self._dispatching: list[Any] = []
        self._suspended: dict[int, Any] = {}
        # The context the last batch was dispatched in, and the one pushed
        # for it (see _dispatch_logged).
        self._log_outer: object = None
        self._log_pushed: dict[Any, Any] = {}
        super().__init__()
        self._notifier = qtcore.QSocketNotifier(
            self._poller.fileno(), qtcore.QSocketNotifier.Type.Read
        )
        self._notifier.setEnabled(False)
        self._notifier.activated.connect(self._on_ready)
        self._make_timer()

    # -- how Qt drives it -------------------------------------------------------

    def _start_driving(self) -> None:
        self._notifier.setEnabled(True)
        self._arm(0)

    def _stop_driving(self) -> None:
        self._notifier.setEnabled(False)
        self._timer.stop()
        self._deadline = math.inf

    def _wake(self) -> None:
        self._arm(0)

    # -- polling, safe for nested event loops -----------------------------------

    def doPoll(self, timeout: float | None = 0) -> None:
        """
        Poll epoll for at most ``timeout`` seconds and dispatch what is ready.

        The batch is dispatched under one log context of its own: what
        ``context.call`` does, for less: with Twisted's own context tracker,
        the pushed context is made again only when the context around it
        changed, and pushed straight onto the thread's stack.
        """
        if timeout is None:
            timeout = -1
        self._polls += 1
        poll = self._polls
        try:
            events = self._poller.poll(timeout, max(1, len(self._selectables)))
        except OSError as err:
            if err.errno == errno.EINTR:
                return
            raise
        if not events:
            return
        tracker: object = context.theContextTracker  # installContextTracker may swap it
        if not isinstance(tracker, context.ThreadedContextTracker):
            logged = dict(context.get(log.ILogContext) or {})
            context.call(
                {log.ILogContext: logged}, self._dispatch, events, poll, logged
            )
            return
        stack = tracker.currentContext().contexts
        outer = stack[-1]
        if outer is not self._log_outer:
            self._log_outer = outer  # held, so its identity cannot be reused
            self._log_pushed = {
                log.ILogContext: dict(context.get(log.ILogContext) or {})
            }
        pushed = self._log_pushed
        stack.append(pushed)
        try:
            self._dispatch(events, poll, pushed[log.ILogContext])
        finally:
            stack.pop()

    doIteration = doPoll
    # A turn starts with a poll that does not wait; the slot of the epoll
    # descriptor's notifier is the turn itself (one Python call less a wake-up).
    _poll_now = doPoll
    _on_ready = QtTimerDriven._turn

    def _dispatch(
        self, events: list[tuple[int, int]], poll: int, logged: dict[str, Any]
    ) -> None:
        """
        Handle each event in its selectable's log context, as Twisted's reactors do.

        Log lines written while handling an event carry the selectable's
        `logPrefix` as their ``system``, and an error escaping the handler is
        logged with it: what `log.callWithLogger` gives Twisted's reactors,
        for a fraction of the cost. ``logged`` is the context pushed once for
        the batch; only its ``system`` changes from one event to the next.
        """
        for fd, event in events:
            if self._polls != poll:
                # A nested event loop polled meanwhile: the rest is stale.
                return
            selectable = self._selectables.get(fd)
            if selectable is None:
                continue
            if self._dispatching and any(
                busy is selectable for busy in self._dispatching
            ):
                self._suspend(fd, selectable)
                continue
            try:
                prefix = selectable.logPrefix()
            except Exception:
                prefix = "(buggy logPrefix method)"
                log.err(system=prefix)
            logged["system"] = prefix
            self._dispatching.append(selectable)
            try:
                if event == EPOLLIN:
                    # Readable, nothing else: what _doReadOrWrite does for
                    # it, without the call.
                    try:
                        why = (
                            _NO_FILEDESC
                            if selectable.fileno() == -1
                            else selectable.doRead()
                        )
                    except BaseException as error:
                        why = error
                        log.err()
                    if why:
                        self._disconnectSelectable(selectable, why, True)  # type: ignore[no-untyped-call]
                else:
                    self._doReadOrWrite(selectable, fd, event)  # type: ignore[no-untyped-call]
            except Exception:
                log.err(system=prefix)
            finally:
                self._dispatching.pop()
                if fd in self._suspended:
                    self._resume(fd)

    def _suspend(self, fd: int, selectable: Any) -> None:
        """Stop reporting ``fd`` while its callback runs a nested event loop."""
        if self._suspended.get(fd) is not selectable:
            self._suspended[fd] = selectable
            # One-shot with no events: silent, even for hang-ups, until resumed.
            self._poller.modify(fd, EPOLLONESHOT)

    def _resume(self, fd: int) -> None:
        selectable = self._suspended.pop(fd)
        if self._selectables.get(fd) is not selectable:
            return  # gone, or the descriptor was reused and registered anew
        flags = (EPOLLIN if fd in self._reads else 0) | (
            EPOLLOUT if fd in self._writes else 0
        )
        self._poller.modify(fd, flags)

    def _add(self, xer: Any, primary: set[int], *rest: Any) -> None:
        # rest: other, selectables, event, antievent (Twisted's signature)
        fd = xer.fileno()
        if self._suspended.get(fd) is xer:
            primary.add(fd)  # epoll learns it when the descriptor is resumed
            return
        super()._add(xer, primary, *rest)  # type: ignore[no-untyped-call]

    def _remove(  # noqa: PLR0917 (Twisted's signature)
        self,
        xer: Any,
        primary: set[int],
        other: set[int],
        selectables: dict[int, Any],
        event: int,
        antievent: int,
    ) -> None:
        fd = xer.fileno()
        if fd != -1 and self._suspended.get(fd) is xer:
            primary.discard(fd)
            if fd not in other:
                del self._suspended[fd]
                selectables.pop(fd, None)
                self._poller.unregister(fd)
            return
        super()._remove(  # type: ignore[no-untyped-call]
            xer, primary, other, selectables, event, antievent
        )


def install() -> QtEPollReactor:
    """Install a `QtEPollReactor` as the global reactor (the QApplication first)."""
    from twisted.internet.main import installReactor

    reactor = QtEPollReactor()
    installReactor(reactor)
    return reactor
