"""
Doing the adapters' work in the caller's thread, on the reactor's behalf.

In script mode the reactor runs in a thread of its own. A command put on
``cmd_q`` from another thread used to cross to it (``callFromThread``, the
waker, one loop turn) and its reply to cross back: four thread switches per
SEND/RECEIVE round trip. Most commands need no waiting, though: a SEND goes
straight to the socket when nothing is buffered, and a RECEIVE of a message
that has arrived already is answered from the buffer.

`Dispatcher` lets the putting thread do that work itself. The reactor's
thread holds its lock for everything it does except sleeping in
``epoll_wait`` (`_UnlockedPoller` wraps the reactor's epoll object and lets
the lock go around ``poll``), so a thread that takes the lock may use
Twisted as the reactor's thread would: that thread is then asleep in the
kernel or waiting for the lock. Twisted needs nothing else to be safe: no
Twisted code runs in the reactor's thread without the lock. A put waits a
few milliseconds at most for the reactor's thread to finish its turn, and
otherwise hands the work over as before, so a stuck reactor thread cannot
hold a put. What must wait (a RECEIVE with nothing buffered, a CONNECT) is
finished by the reactor's thread; a CONNECT is even started there, so that
Twisted's resolver threads are started by the daemon reactor thread.

Two things keep the sleeping reactor right:

* epoll sees descriptors added or changed from another thread at once, so a
  write that starts watching its socket needs nothing more;
* a timer set meanwhile (a connect timeout, an abort's zero-delay call) may
  be due before the poll's timeout: then the reactor is woken, and re-arms.

While a thread works on the reactor's behalf, `twisted.python.threadable`
names it the I/O thread (``isInIOThread()`` is true there and only there),
when the reactor's thread was the I/O thread: a check that Twisted objects
are used from the reactor's thread accepts it, as it should.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from typing import Any

from twisted.python import threadable

__all__ = ["Dispatcher"]

_GRAIN = 0.001
"""
Seconds by which a timer must be due before the poll's own timeout to wake it.

epoll waits in whole milliseconds, and the two deadlines are sums of epoch
seconds that differ in their last bits for the very same timer (a cancelled
connect timeout stays in the reactor's heap): comparing them exactly would
wake the reactor after every inline command.
"""

_threadable: Any = threadable  # its stub types ``ioThread`` as always None


class Dispatcher:
    """
    The lock the reactor's thread holds while it is not asleep in ``poll``.

    `run_reactor` runs the reactor in the calling thread under the lock;
    `run` runs a function in another thread under it, on the reactor's
    behalf, if the lock is free (or frees up within a bound).
    """

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self._lock = threading.RLock()
        self._open = False  # True while the reactor runs with an unlocked poll
        self._owner: int | None = None  # the reactor's thread
        self._sleeping_until: float | None = None  # when its poll will time out

    def run_reactor(self) -> None:
        """
        Run the reactor in this thread; block until it stops.

        Work can be done inline only on a reactor whose loop is Twisted's
        epoll loop (the default on Linux): its poll is the one wrapped.
        Any other reactor runs as it is, and `run` always declines.
        """
        reactor = self._reactor
        if not _polls_like_epoll(reactor):
            reactor.run(installSignalHandlers=False)
            return
        with self._lock:
            self._owner = threading.get_ident()
            poller = reactor._poller
            reactor._poller = _UnlockedPoller(poller, self)
            self._open = True
            try:
                reactor.run(installSignalHandlers=False)
            finally:
                self._open = False
                reactor._poller = poller

    def run(self, function: Callable[[], None], wait: float | None = 0.0) -> bool:
        """
        Run ``function()`` now in this thread, on the reactor's behalf.

        Returns False, without running it, when that cannot be done: the
        reactor's loop is not unlocked (not started, stopped, or not an epoll
        loop), or the lock was not free within ``wait`` seconds (0: do not
        wait; None: wait as long as it takes).
        """
        lock = self._lock
        if wait == 0:
            if not lock.acquire(blocking=False):
                return False
        elif not lock.acquire(timeout=-1 if wait is None else wait):
            return False
        try:
            if not self._open:
                return False
            # As the I/O thread (see the module's docstring), then re-arm.
            me = threading.get_ident()
            owner = self._owner
            borrowed = me != owner and _threadable.ioThread == owner
            if borrowed:
                _threadable.ioThread = me
            try:
                function()
            finally:
                if borrowed:
                    _threadable.ioThread = owner
                self._rearm()
        finally:
            lock.release()
        return True

    def _rearm(self) -> None:
        """Wake the sleeping reactor if a timer is now due before it would wake."""
        until = self._sleeping_until
        reactor = self._reactor
        if until is None or not reactor._newTimedCalls:
            # Not asleep: it computes its timeout afresh before it sleeps. Or
            # no timer was added since it did (``callLater`` appends to
            # ``_newTimedCalls``, which ``timeout()`` empties; the inline
            # commands never move a timer sooner with ``reset``).
            return
        delay = reactor.timeout()
        if delay is not None and reactor.seconds() + delay < until - _GRAIN:
            self._sleeping_until = None  # one wake-up is enough
            reactor.wakeUp()


class _UnlockedPoller:
    """
    A reactor's epoll object whose ``poll`` lets the dispatch lock go while it waits.

    Everything else (``register``, ``modify``, ``unregister``, ...) is the
    epoll object's own.
    """

    def __init__(self, poller: Any, dispatcher: Dispatcher) -> None:
        self._poller = poller
        self._dispatcher = dispatcher
        self._seconds = dispatcher._reactor.seconds
        self.register = poller.register
        self.modify = poller.modify
        self.unregister = poller.unregister

    def __getattr__(self, name: str) -> Any:
        return getattr(self._poller, name)

    def poll(self, timeout: float = -1, maxevents: int = -1) -> list[tuple[int, int]]:
        """The epoll object's ``poll``, without the dispatch lock while it sleeps."""
        dispatcher = self._dispatcher
        lock = dispatcher._lock
        dispatcher._sleeping_until = (
            math.inf if timeout < 0 else self._seconds() + timeout
        )
        lock.release()
        try:
            events: list[tuple[int, int]] = self._poller.poll(timeout, maxevents)
        finally:
            lock.acquire()
            dispatcher._sleeping_until = None
        return events


def _polls_like_epoll(reactor: Any) -> bool:
    """True when ``reactor``'s loop is Twisted's epoll loop, unchanged."""
    epollreactor = sys.modules.get("twisted.internet.epollreactor")
    if epollreactor is None:
        return False  # not imported: the reactor cannot be an epoll reactor
    base = epollreactor.EPollReactor
    cls = type(reactor)
    return (
        issubclass(cls, base)
        and cls.doIteration is base.doIteration
        and cls.doPoll is base.doPoll
    )
