"""
Reading a connection's socket in `Client.receive`, before it waits.

When the peer answers within microseconds (on the same CPU, say), the reply
to a request is often in the kernel by the time the application asks for
it: ``send`` hands the bytes to the kernel, the peer runs and answers, and
the application's ``receive()`` follows. Waiting for it then costs a loop
turn (a poll, Qt's dispatch, the reactor's) and a Deferred's callback
chain; reading the socket at once costs one ``recv``. `ReadAhead` does that
read, as the reactor's thread would have (Twisted's ``_doReadOrWrite``: the
peer's closing or an error ends the connection just as it would have).

It keeps reading ahead only while that pays: after a read that brought
nothing it skips the next 1, 3, 7, ... receives (at most 63), and after one
that did it reads ahead again every time. A peer far away thus costs one
``recv`` that finds nothing per 64 receives, at most.

Nor does it let a conversation run past the event loop: a coroutine whose
every ``await receive()`` finds its reply read ahead never yields, so after
reads ahead that paid for `_STREAK_AT_MOST` (1 ms) in a row, the next
receive waits for its message as before, and the loop (Qt's, in a GUI)
gets its turn. (1 ms, not the framing's 4 ms turn budget: the two add up
when a read ahead runs from a message's delivery.)

The drop-in (`twisted_client.compat`) turns it off (`Client.reads_ahead`):
its RECEIVE reads for itself in script mode, and in a GUI each message
keeps a loop turn of its own, as with the classic thread.

On Twisted's epoll reactor and its subclasses (the Qt reactor
`QtEPollReactor`), it reads through their ``_doReadOrWrite``, ``_reads``,
``_selectables`` and ``_POLL_IN`` (`ReactorRead`); on `QtNotifierReactor`
(the Qt reactor where there is no epoll: macOS, Windows) through its
``read_now``, which keeps its rules for nested event loops. Elsewhere
`ReadAhead.for_client` gives None.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sized
from functools import partial
from typing import Any

__all__ = ["ReactorRead", "ReadAhead", "descriptor_of"]

_MOST_SKIPPED = 63
"""The most receives skipped after reads ahead that found nothing."""

_STREAK_AT_MOST = 0.001
"""Seconds of reads ahead that paid in a row before one receive waits."""


class ReactorRead:
    """
    One descriptor's read, done outside the reactor's poll as the poll's would be.

    `read` is what the reactor does when its poll reports the socket
    readable (Twisted's ``_doReadOrWrite``, so the peer's closing or an
    error found there ends the connection as it would have), and only
    while the reactor reads the socket (`still_read`).
    """

    __slots__ = (
        "_event",
        "_fd",
        "_read_or_write",
        "_reads",
        "_selectable",
        "_selectables",
    )

    def __init__(self, reactor: Any, fd: int, selectable: Any) -> None:
        self._fd = fd
        self._selectable = selectable
        self._selectables = reactor._selectables
        self._reads = reactor._reads
        self._read_or_write = reactor._doReadOrWrite
        self._event = reactor._POLL_IN

    def still_read(self) -> bool:
        """True while the reactor reads this socket (not closed, not paused)."""
        fd = self._fd
        return fd in self._reads and self._selectables.get(fd) is self._selectable

    def read(self) -> bool:
        """Read what has arrived, if the reactor still reads it; say whether it did."""
        if not self.still_read():
            return False
        # Without the reactor's log context (callWithLogger): it only names
        # the connection in what a failing read logs, and costs more than
        # the read.
        self._read_or_write(self._selectable, self._fd, self._event)
        return True


class ReadAhead:
    """Reads one client's socket once, before a receive waits (see the module)."""

    __slots__ = ("_misses", "_protocol", "_read", "_skip", "_streak_since")

    def __init__(self, read: Callable[[], bool], protocol: Any) -> None:
        """``read()`` reads the socket as the reactor would, and says whether
        it could (False: the reactor does not read it now)."""
        self._read = read
        self._protocol = protocol
        self._misses = 0
        self._skip = 0
        self._streak_since: float | None = None  # the first of the reads that paid

    @classmethod
    def for_client(cls, reactor: object, client: object) -> ReadAhead | None:
        """
        A `ReadAhead` for ``client``'s socket, or None where there can be none.

        None unless ``reactor`` is an epoll reactor whose descriptors include
        ``client``'s transport (or the TCP transport under its TLS), or a
        `QtNotifierReactor` that reads it.
        """
        protocol = getattr(client, "_protocol", None)
        epollreactor = sys.modules.get("twisted.internet.epollreactor")
        if epollreactor is not None and isinstance(reactor, epollreactor.EPollReactor):
            found = descriptor_of(reactor, client)
            if found is None:
                return None
            return cls(ReactorRead(reactor, *found).read, protocol)
        notifier = sys.modules.get("twisted_client.qt._notifierreactor")
        if notifier is not None and isinstance(reactor, notifier.QtNotifierReactor):
            for transport in _transports(client):
                if reactor.reads(transport):
                    return cls(partial(reactor.read_now, transport), protocol)
        return None

    def __call__(self, messages: Sized) -> None:
        """
        Read what has arrived, unless the last reads ahead did not pay.

        ``messages`` are the client's received messages. A read paid if it
        added one, or bytes to the protocol's (the start of a message, or
        one that is delivered once the delivery up the stack returns).
        Nothing is read while the reactor does not read the socket (paused,
        or closed).
        """
        if self._skip:
            self._skip -= 1
            return
        since = self._streak_since
        if since is not None and time.monotonic() - since > _STREAK_AT_MOST:
            self._streak_since = None  # this receive waits: the loop's turn
            return
        protocol = self._protocol
        before = protocol.partial_bytes
        if not self._read():
            return
        if len(messages) or protocol.partial_bytes != before:
            self._misses = 0
            if since is None:
                self._streak_since = time.monotonic()
        else:
            self._streak_since = None  # this receive waits
            self._misses = min(self._misses + 1, 6)
            self._skip = min((1 << self._misses) - 1, _MOST_SKIPPED)


def descriptor_of(reactor: Any, client: object) -> tuple[int, Any] | None:
    """
    ``(fd, selectable)``: the epoll reactor's descriptor under ``client``'s transport.

    The transport itself for TCP; for TLS, the TCP transport under the TLS
    layer (each wrapper's ``transport``).
    """
    selectables = reactor._selectables
    for transport in _transports(client):
        fileno = getattr(transport, "fileno", None)
        if fileno is not None:
            try:
                fd = fileno()
            except Exception:
                return None
            if isinstance(fd, int) and selectables.get(fd) is transport:
                return fd, transport
    return None


def _transports(client: object) -> Iterator[Any]:
    """``client``'s transport, then what each wrapper wraps (TLS: TCP), four at most."""
    transport = getattr(getattr(client, "_protocol", None), "transport", None)
    for _ in range(4):  # a wrapper or two at most
        if transport is None:
            return
        yield transport
        transport = getattr(transport, "transport", None)
