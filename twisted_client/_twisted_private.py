"""
Twisted's private names: the questions that need them, and the list of those
that our reactors rely on.

Twisted's public API answers most questions about a reactor (``running``,
``callWhenRunning``, ``addSystemEventTrigger``), and the library asks it
wherever it can. Two questions it cannot answer are answered here, and
nowhere else:

* `has_started`: ``running`` only turns true once the "startup" triggers
  have run, so a reactor between ``startRunning()`` and then (a "before
  startup" trigger still waiting on a Deferred) would look idle, and starting
  it again would raise ``ReactorAlreadyRunning``. Twisted's ``_started`` says
  it.
* `ever_started`: a reactor cannot be started twice, even once stopped
  (``ReactorNotRestartable``); Twisted's ``_startedBefore`` says it was.

Our Qt reactors (`twisted_client.qt`) are subclasses of Twisted's, and a
subclass cannot help overriding and calling some private methods (``_add``,
``_remove``, ``_doReadOrWrite``, ...); the drop-in's inline dispatch
(`twisted_client.compat._inline`) wraps the epoll reactor's poller, and the
asyncio guest reactor (`twisted_client._asyncio_guest`) cancels the asyncio
reactor's timer. Those
modules use the names themselves (a subclass's override has to be spelled
as Twisted spells it), and `RELIED_ON` lists each of them with
the parameters it is expected to have; ``tests/test_twisted_private.py``
checks the list against the installed Twisted and fails naming the member
that changed, so that a Twisted upgrade that breaks a reactor breaks the
tests, not a program. `IMPORTED` does the same for the few private names
that the per-message path takes from Twisted's modules rather than from a
reactor (each one saves a Python call per message, measured).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IMPORTED", "RELIED_ON", "Private", "ever_started", "has_started"]


def has_started(reactor: object) -> bool:
    """
    True once ``reactor`` was started (``run``, ``runReturn``), until it stops.

    ``reactor.running`` when it is true; else Twisted's private ``_started``,
    which turns true in ``startRunning()``, before ``running`` does.
    """
    return bool(
        getattr(reactor, "running", False) or getattr(reactor, "_started", False)
    )


def ever_started(reactor: object) -> bool:
    """True when ``reactor`` runs, is starting, or ran once (it cannot run again)."""
    return has_started(reactor) or bool(getattr(reactor, "_startedBefore", False))


@dataclass(frozen=True)
class Private:
    """One private member of a Twisted (or qt5reactor) class that we rely on."""

    #: Where it is defined or first set: ``module:Class``, or ``module`` for
    #: a name of a module.
    owner: str
    #: Its name, such as ``"_doReadOrWrite"``.
    name: str
    #: The parameters of a method, ``self`` left out, in order; None for an
    #: attribute (read, or set, on an instance).
    parameters: tuple[str, ...] | None
    #: Which of our modules relies on it, and how.
    used_by: str


_BASE = "twisted.internet.base:ReactorBase"
_POSIX = "twisted.internet.posixbase:PosixReactorBase"
_POLL_LIKE = "twisted.internet.posixbase:_PollLikeMixin"
_EPOLL = "twisted.internet.epollreactor:EPollReactor"
_ASYNCIO = "twisted.internet.asyncioreactor:AsyncioSelectorReactor"
_QT5 = "qt5reactor:QtReactor"

#: Every private member of Twisted's reactors (and of qt5reactor's) that
#: the modules of `twisted_client.qt`, `twisted_client.compat._inline` and
#: `twisted_client._asyncio_guest` override, call, read or set.
RELIED_ON: tuple[Private, ...] = (
    # ReactorBase: the lifecycle (qt._lifecycle, qt._timer, qt._qt5reactor).
    Private(_BASE, "_started", None, "has_started; the Qt reactors' turns"),
    Private(_BASE, "_startedBefore", None, "ever_started"),
    Private(_BASE, "_stopped", None, "qt._lifecycle: stop() once"),
    Private(_BASE, "_justStopped", None, "qt._timer, qt._notifierreactor"),
    Private(_BASE, "_installSignalHandlers", None, "qt._lifecycle: signals"),
    Private(_BASE, "_signals", None, "qt._lifecycle: uninstalls them"),
    Private(_BASE, "_moveCallLaterSooner", ("delayedCall",), "qt._timer override"),
    Private(_BASE, "_initThreadPool", (), "qt._lifecycle override"),
    Private(_BASE, "_stopThreadPool", (), "qt._lifecycle calls it"),
    Private(_BASE, "_threadpoolStartupID", None, "qt._lifecycle sets it"),
    Private(_BASE, "_newTimedCalls", None, "compat._inline, qt._timer: added"),
    Private(_BASE, "_pendingTimedCalls", None, "qt._timer: the earliest call"),
    # PosixReactorBase: dispatching (qt._qtreactor, qt._notifierreactor).
    Private(
        _POLL_LIKE,
        "_doReadOrWrite",
        ("selectable", "fd", "event"),
        "qt._qtreactor, compat._inline call it",
    ),
    Private(
        _POSIX,
        "_disconnectSelectable",
        ("selectable", "why", "isRead", "faildict"),
        "qt._notifierreactor calls it",
    ),
    Private(
        _POSIX, "_removeAll", ("readers", "writers"), "qt._notifierreactor calls it"
    ),
    # EPollReactor: the epoll set (qt._qtreactor).
    Private(
        _EPOLL,
        "_add",
        ("xer", "primary", "other", "selectables", "event", "antievent"),
        "qt._qtreactor override",
    ),
    Private(
        _EPOLL,
        "_remove",
        ("xer", "primary", "other", "selectables", "event", "antievent"),
        "qt._qtreactor override",
    ),
    Private(_EPOLL, "_poller", None, "qt._qtreactor polls it; compat._inline wraps it"),
    Private(_EPOLL, "_selectables", None, "qt._qtreactor, compat._inline: fd to it"),
    Private(_EPOLL, "_reads", None, "qt._qtreactor, compat._inline: who reads"),
    Private(_EPOLL, "_writes", None, "qt._qtreactor: resumes a descriptor"),
    Private(_EPOLL, "_POLL_IN", None, "compat._inline: a read event for a Reader"),
    # AsyncioSelectorReactor: the guest reactor (twisted_client._asyncio_guest).
    Private(_ASYNCIO, "_timerHandle", None, "_asyncio_guest cancels it"),
    # qt5reactor's QtReactor (qt._qt5reactor; PyQt5 only).
    Private(_QT5, "_iterate", ("delay", "fromqt"), "qt._qt5reactor override"),
    Private(_QT5, "_timer", None, "qt._qt5reactor stops it"),
    Private(_QT5, "_blockApp", None, "qt._qt5reactor sets it"),
)


_ENDPOINTS = "twisted.internet.endpoints"
_WRAPPING = f"{_ENDPOINTS}:_WrappingProtocol"

#: Private names that our modules import from Twisted's, and the private
#: attributes of those (non-reactor) classes that they read.
IMPORTED: tuple[Private, ...] = (
    # qt._qtreactor: why a closed descriptor is dropped (as _doReadOrWrite).
    Private("twisted.internet.posixbase", "_NO_FILEDESC", None, "qt._qtreactor"),
    # _client: the endpoint's forwarding wrapper, taken out of the read path.
    Private(_ENDPOINTS, "_WrappingProtocol", None, "_client: a read's path"),
    Private(_WRAPPING, "_wrappedProtocol", None, "_client: what it wraps"),
    # _reads: a read after startTLS goes where Twisted's doRead sends it.
    Private("twisted.internet.tcp:Connection", "_dataReceived", ("data",), "_reads"),
)
