"""
Calls that ``mypy --strict`` must accept: each public function that takes a
reactor, given the reactors users pass (checked by tests/test_typing.py,
never run).
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.epollreactor import EPollReactor
from twisted.internet.selectreactor import SelectReactor
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock

from twisted_client import (
    ReconnectingClient,
    connect,
    connect_endpoint,
    connect_tls,
    tls_endpoint,
)
from twisted_client.qt import QtEPollReactor, QtNotifierReactor
from twisted_client.server import listen


def the_global_reactor() -> None:
    """``from twisted.internet import reactor``, as most programs get it."""
    connect(reactor, "example.com", 50007)
    connect_tls(reactor, "example.com", 50007)
    tls_endpoint(reactor, "example.com", 50007)
    connect_endpoint(reactor, "tcp:example.com:50007")
    ReconnectingClient(reactor, "tcp:example.com:50007")
    listen(reactor, 0)


def real_reactors(epoll: EPollReactor, select: SelectReactor) -> None:
    """Twisted's own reactors, created or passed in."""
    for each in (epoll, select, EPollReactor()):
        connect(each, "127.0.0.1", 50007, timeout=5)
        connect_tls(each, "127.0.0.1", 50007)
        connect_endpoint(each, "tcp:127.0.0.1:50007")
        ReconnectingClient(each, "tcp:127.0.0.1:50007")
        listen(each, 0)


def qt_reactors(qt: QtEPollReactor, notifier: QtNotifierReactor) -> None:
    """Our Qt reactors are reactors like any other."""
    for each in (qt, notifier):
        connect(each, "127.0.0.1", 50007)
        connect_endpoint(each, "tcp:127.0.0.1:50007")
        ReconnectingClient(each, "tcp:127.0.0.1:50007")
        listen(each, 0)


def doubles() -> None:
    """`MemoryReactorClock` everywhere; a bare `Clock` where only time is needed."""
    memory = MemoryReactorClock()
    connect(memory, "127.0.0.1", 50007)
    connect_tls(memory, "127.0.0.1", 50007)
    connect_endpoint(memory, "tcp:127.0.0.1:50007")
    ReconnectingClient(memory, "tcp:127.0.0.1:50007")
    listen(memory, 0, delay=0.5)
    ReconnectingClient(Clock(), "tcp:127.0.0.1:50007")
