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

A RECEIVE whose message has not been parsed yet is often in the kernel
already (a reply to the SEND just before it): `Reader` lets the putting
thread read it there, as the reactor's thread would on a read event, and
keeps the reactor's poll from waking for data that thread reads itself
(the wake-up alone, then waiting for the GIL and for the lock, costs a
few thread switches per message on one CPU). A RECEIVE that finds
nothing yet keeps the socket held, and a thread that then waits for its
reply in ``reply_q.get`` waits for the socket instead (`Reader.wait_readable`)
and reads the message itself; only when the hold ends first (50 ms after the
SEND) does the reactor's thread read it. A request/reply loop then runs in
the caller's thread alone, with no thread switch of its own.

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
import select
import sys
import threading
from collections.abc import Callable
from typing import Any

from twisted.python import threadable

from .._read_ahead import ReactorRead, descriptor_of

__all__ = ["Dispatcher", "Reader"]

_GRAIN = 0.001
"""
Seconds by which a timer must be due before the poll's own timeout to wake it.

epoll waits in whole milliseconds, and the two deadlines are sums of epoch
seconds that differ in their last bits for the very same timer (a cancelled
connect timeout stays in the reactor's heap): comparing them exactly would
wake the reactor after every inline command.
"""

_HOLD_AT_MOST = 0.05
"""Seconds a socket may stay held (see `Reader`): the longest poll meanwhile."""

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
                if self._sleeping_until is not None and self._reactor._newTimedCalls:
                    self._rearm()
        finally:
            lock.release()
        return True

    def reader(self, client: object) -> Reader | None:
        """
        A `Reader` of ``client``'s socket for threads working on the reactor's behalf.

        None when there can be none: not an unlocked epoll loop (`run_reactor`
        has not wrapped the poll), or ``client``'s transport is not one of
        the reactor's descriptors.
        """
        poller = self._reactor._poller if _polls_like_epoll(self._reactor) else None
        if not isinstance(poller, _UnlockedPoller):
            return None
        found = descriptor_of(self._reactor, client)
        if found is None:
            return None
        return Reader(self._reactor, poller, *found)

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


class Reader(ReactorRead):
    """
    Reads one client's socket in a thread holding the lock (see `Dispatcher.run`).

    `read` (under the lock) does what the reactor's thread does when its
    poll reports the socket readable: one non-blocking read, handed to the
    protocol (a read finding nothing does nothing). So a RECEIVE whose
    message is in the kernel already is answered without the reactor's
    thread waking to read it and the reply crossing back.

    That thread would still wake for the data (and then wait for the GIL
    and the lock, a few thread switches per message on one CPU) unless its
    poll stops watching the socket for reading: `hold` does that, for the
    time one thread reads for itself (from a SEND to its RECEIVE, say);
    `release` makes the poll watch it again (when that RECEIVE has to wait,
    its message is read by the reactor's thread as before). A hold also
    ends by itself 50 ms after the last `hold` of the socket: a reactor's
    thread sleeps no longer than the earliest hold lasts, and releases
    those whose time is up when it wakes (so a message the server pushes,
    or its closing, is seen within that time even when the thread that
    held the socket does nothing more).

    Twisted's own view of the socket never changes: it still counts it
    among the descriptors it reads; only the kernel's epoll mask does.
    """

    def __init__(
        self, reactor: Any, poller: _UnlockedPoller, fd: int, selectable: Any
    ) -> None:
        super().__init__(reactor, fd, selectable)
        self._poller = poller

    def hold(self) -> None:
        """
        Stop the reactor's poll from waking for data here, for a while (under the lock).

        It still wakes for the peer's closing or an error (and then reads
        the socket, which ends the hold), as it would without the hold.
        """
        if self.still_read():
            self._poller.hold(self._fd)

    def release(self) -> None:
        """Let the reactor's poll wake for data here again (under the lock)."""
        self._poller.release(self._fd)

    def wait_readable(self, timeout: float | None) -> bool:
        """
        Wait, without the lock, until data (or the peer's closing) is there.

        At most ``timeout`` seconds (None: as long as the hold lasts), and
        never past the hold's end: after it the reactor's thread reads the
        socket again. True when the socket became readable in time (`read`
        it under the lock then); False at once when it is not held.
        """
        until = self._poller.held_until(self._fd)
        if until is None:
            return False
        left = until - self._poller.seconds()
        if timeout is not None and timeout < left:
            left = timeout
        if left <= 0:
            return False
        waiting = select.poll()  # one per wait: a poll object is not shared
        waiting.register(self._fd, select.POLLIN | select.POLLRDHUP)
        try:
            return bool(waiting.poll(math.ceil(left * 1000)))
        except OSError:  # the descriptor was closed meanwhile
            return True  # reading (under the lock) finds out what happened


class _UnlockedPoller:
    """
    A reactor's epoll object whose ``poll`` lets the dispatch lock go while it waits.

    It also keeps the sockets a `Reader` holds: the kernel's mask of each
    has ``EPOLLRDHUP`` in place of ``EPOLLIN`` (the peer's closing still
    wakes the poll, data does not) while ``_held`` keeps the mask Twisted
    set (a ``modify`` meanwhile updates that, and applies it so changed).
    An event on a held socket releases it and reaches Twisted as a read
    event, so Twisted reads the closing (or the error) as it would have.
    Everything else is the epoll object's own.
    """

    def __init__(self, poller: Any, dispatcher: Dispatcher) -> None:
        self._poller = poller
        self._dispatcher = dispatcher
        self._seconds = dispatcher._reactor.seconds
        self._writes = dispatcher._reactor._writes
        self._held: dict[int, int] = {}  # fd: the mask Twisted wants
        self._until: dict[int, float] = {}  # fd: when its hold ends

    def __getattr__(self, name: str) -> Any:
        return getattr(self._poller, name)

    def register(self, fd: int, mask: int) -> None:
        """The epoll object's ``register`` (a reused descriptor is not held)."""
        self._forget(fd)
        self._poller.register(fd, mask)

    def modify(self, fd: int, mask: int) -> None:
        """The epoll object's ``modify``; a held socket keeps ``EPOLLIN`` off."""
        held = self._held
        if fd in held:
            if mask & select.EPOLLIN:
                held[fd] = mask
                mask = _held_mask(mask)
            else:
                self._forget(fd)  # Twisted stopped reading it: nothing to hold
        self._poller.modify(fd, mask)

    def unregister(self, fd: int) -> None:
        """The epoll object's ``unregister``."""
        self._forget(fd)
        self._poller.unregister(fd)

    def held_until(self, fd: int) -> float | None:
        """When the hold of ``fd`` ends (`seconds`), or None if it is not held."""
        return self._until.get(fd)

    def seconds(self) -> float:
        """The reactor's clock, which the holds' ends are counted in."""
        now: float = self._seconds()
        return now

    def _forget(self, fd: int) -> None:
        if self._held.pop(fd, None) is not None:
            del self._until[fd]

    def hold(self, fd: int) -> None:
        """
        Take ``EPOLLIN`` off the mask of ``fd``, which Twisted reads, for a while.

        Each call holds it `_HOLD_AT_MOST` seconds from now. A reactor's
        thread asleep for longer is woken (once) to sleep less.
        """
        until = self._seconds() + _HOLD_AT_MOST
        if fd not in self._held:
            mask = select.EPOLLIN | (select.EPOLLOUT if fd in self._writes else 0)
            self._poller.modify(fd, _held_mask(mask))
            self._held[fd] = mask
        self._until[fd] = until
        dispatcher = self._dispatcher
        sleeping_until = dispatcher._sleeping_until
        if sleeping_until is not None and sleeping_until > until + _GRAIN:
            dispatcher._sleeping_until = None  # one wake-up is enough
            dispatcher._reactor.wakeUp()

    def release(self, fd: int) -> None:
        """Give ``fd`` its mask back, if it is held."""
        mask = self._held.pop(fd, None)
        if mask is not None:
            del self._until[fd]
            self._poller.modify(fd, mask)

    def _release_due(self) -> None:
        """Release every hold whose time is up."""
        now = self._seconds()
        for fd, until in list(self._until.items()):
            if until <= now + _GRAIN:
                self.release(fd)

    def poll(self, timeout: float = -1, maxevents: int = -1) -> list[tuple[int, int]]:
        """The epoll object's ``poll``, without the dispatch lock while it sleeps."""
        dispatcher = self._dispatcher
        lock = dispatcher._lock
        now = self._seconds()
        if self._until:
            left = max(0.0, min(self._until.values()) - now)
            if timeout < 0 or timeout > left:
                timeout = left
        dispatcher._sleeping_until = math.inf if timeout < 0 else now + timeout
        lock.release()
        try:
            events: list[tuple[int, int]] = self._poller.poll(timeout, maxevents)
        finally:
            lock.acquire()
            dispatcher._sleeping_until = None
        held = self._held
        if held:
            for index, (fd, event) in enumerate(events):
                if fd in held:  # the peer's closing, or an error: Twisted reads it
                    self.release(fd)
                    events[index] = (fd, event | select.EPOLLIN)
            self._release_due()
        return events


def _held_mask(mask: int) -> int:
    """The kernel's epoll mask of a held socket whose Twisted mask is ``mask``."""
    return (mask & ~select.EPOLLIN) | select.EPOLLRDHUP


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
