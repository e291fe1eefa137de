"""`QtClient` in real applications: parent deletion, errors as data, reconnect.

In memory (`twisted_client.testing.MemoryServer`, time moved by the test):
no sockets, no sleeps.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionRefusedError
from twisted.logger import LogEvent

from twisted_client import (
    Client,
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    UsageError,
)
from twisted_client.testing import MemoryServer

from .helpers import failure_of, observing, success_of

pytestmark = pytest.mark.qt

_SIGNALS = (
    "connected",
    "message_received",
    "error_occurred",
    "failed",
    "disconnected",
    "state_changed",
)


class Signals:
    """Every signal of one QtClient, in order, as (name, *args)."""

    def __init__(self, client: Any) -> None:
        self.events: list[tuple[Any, ...]] = []
        for name in _SIGNALS:
            getattr(client, name).connect(
                lambda *args, name=name: self.events.append((name, *args))
            )

    def names(self) -> list[str]:
        """The names of the signals emitted so far (state_changed left out)."""
        return [event[0] for event in self.events if event[0] != "state_changed"]

    def states(self) -> list[str]:
        """The states state_changed gave, in order."""
        return [event[1] for event in self.events if event[0] == "state_changed"]

    def of(self, name: str) -> list[Any]:
        """The first argument of each emission of ``name``."""
        return [event[1] for event in self.events if event[0] == name]


@pytest.fixture
def logged_failures() -> Iterator[list[Any]]:
    """The failures Twisted logs during the test (unhandled Deferreds included)."""
    failures: list[Any] = []

    def observe(event: LogEvent) -> None:
        if event.get("log_failure") is not None:
            failures.append(event["log_failure"])
        elif "Unhandled error" in (event.get("log_format") or ""):
            failures.append(event["log_format"])

    with observing(observe):
        yield failures
        gc.collect()


def make(qapp: Any, server: MemoryServer, parent: Any = None, **options: Any) -> Any:
    from twisted_client.qt import QtClient

    return QtClient(server.reactor, parent, **options)


def delete_now(qobject: Any) -> None:
    """Delete the C++ object under ``qobject`` at once, as the binding does it."""
    from twisted_client.qt import binding

    qt = binding()
    if qt.api == "pyside6":
        importlib.import_module("shiboken6").delete(qobject)
    else:
        importlib.import_module(f"{qt.name}.sip").delete(qobject)


def delete_later(qobject: Any) -> None:
    """``deleteLater``, then run Qt's deferred deletions."""
    from twisted_client.qt import binding

    core = binding().QtCore
    qobject.deleteLater()
    core.QCoreApplication.sendPostedEvents(None, core.QEvent.Type.DeferredDelete)


@pytest.mark.parametrize("delete", [delete_later, delete_now])
def test_deleting_the_parent_closes_the_connection_quietly(
    qapp: Any, qt: Any, logged_failures: list[Any], delete: Any
) -> None:
    """The parent deleted (deleteLater, or sip/shiboken delete) under a live
    connection: the connection is closed, the peer's later message reaches no
    deleted object, and nothing is logged."""
    server = MemoryServer()
    parent = qt.QtCore.QObject()
    client = make(qapp, server, parent)
    signals = Signals(client)
    connecting = client.connect_to_endpoint(server.endpoint)
    peer = server.accept()
    native = success_of(connecting)
    peer.send(b"before")
    server.flush()
    assert signals.of("message_received") == [b"before"]
    delete(parent)
    assert not native.is_open
    peer.send(b"after")
    server.flush()
    assert peer.lost is not None  # the client side closed it
    assert signals.of("message_received") == [b"before"]
    assert logged_failures == []


def test_deleting_the_client_during_an_attempt_abandons_it(
    qapp: Any, qt: Any, logged_failures: list[Any]
) -> None:
    """A QtClient with a parent, itself deleted while connecting: the attempt
    is cancelled, nothing is emitted on the deleted object and nothing is
    logged."""
    server = MemoryServer()
    pending: Deferred[Any] = Deferred()

    class Stalled(TCP4ClientEndpoint):
        def connect(self, factory: Any) -> Deferred[Any]:
            return pending

    parent = qt.QtCore.QObject()
    client = make(qapp, server, parent)
    signals = Signals(client)
    attempt = client.connect_to_endpoint(Stalled(server.reactor, "127.0.0.1", 1))
    delete_now(client)
    assert isinstance(failure_of(attempt).value, CancelledError)
    assert signals.names() == []
    assert logged_failures == []


def test_a_deleted_parentless_client_closes_at_its_next_signal(
    qapp: Any, logged_failures: list[Any]
) -> None:
    """A QtClient without a parent, deleted under a live connection: the next
    message reaches no deleted object; the connection is closed then, quietly."""
    server = MemoryServer()
    client = make(qapp, server)
    connecting = client.connect_to_endpoint(server.endpoint)
    peer = server.accept()
    native = success_of(connecting)
    delete_now(client)
    peer.send(b"after")
    server.flush()
    assert not native.is_open
    assert peer.lost is not None
    assert logged_failures == []


def test_failed_carries_the_exception_refused_apart_from_timeout(qapp: Any) -> None:
    """failed(object) gives the exception after error_occurred gives its text:
    a refused connect is a ConnectError whose reason is the refusal, a silent
    server a ConnectTimeout; last_error is the same object."""
    server = MemoryServer()
    client = make(qapp, server, timeout=5.0)
    signals = Signals(client)
    refused = client.connect_to_endpoint(server.endpoint)
    server.refuse()
    failure_of(refused)
    [error] = signals.of("failed")
    assert isinstance(error, ConnectError)
    assert not isinstance(error, ConnectTimeout)
    assert isinstance(error.reason, ConnectionRefusedError)
    assert signals.of("error_occurred") == [str(error)]
    assert client.last_error is error

    timing_out = client.connect_to_endpoint(server.endpoint)
    server.advance(5.0)
    failure_of(timing_out)
    assert isinstance(signals.of("failed")[1], ConnectTimeout)
    assert signals.names() == ["error_occurred", "failed"] * 2
    assert client.last_error is signals.of("failed")[1]


def test_usage_errors_are_failed_too(qapp: Any) -> None:
    """Misuse is emitted as failed(UsageError) as well as error_occurred."""
    server = MemoryServer()
    client = make(qapp, server)
    signals = Signals(client)
    failure_of(client.send(b"early"))
    assert [type(error) for error in signals.of("failed")] == [UsageError]


def test_last_error_is_cleared_by_a_successful_connect(qapp: Any) -> None:
    """A refused connect sets last_error; the next successful one clears it."""
    server = MemoryServer()
    client = make(qapp, server)
    failure_of_refused = client.connect_to_endpoint(server.endpoint)
    server.refuse()
    failure_of(failure_of_refused)
    assert isinstance(client.last_error, ConnectError)
    connecting = client.connect_to_endpoint(server.endpoint)
    server.accept()
    success_of(connecting)
    assert client.last_error is None


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"timeout": 0}, "timeout"),
        ({"max_length": -1}, "max_length"),
        ({"reconnect": True, "initial_delay": -1}, "initial_delay"),
        ({"reconnect": True, "max_delay": float("nan")}, "max_delay"),
        ({"reconnect": True, "factor": 0.5}, "factor"),
        ({"reconnect": True, "jitter": "1"}, "jitter"),
    ],
)
def test_bad_settings_are_refused_when_the_client_is_made(
    qapp: Any, options: dict[str, Any], word: str
) -> None:
    """A bad setting is a `UsageError` from QtClient(...), before any connect."""
    with pytest.raises(UsageError, match=word):
        make(qapp, MemoryServer(), **options)


def test_the_backoff_is_not_checked_without_reconnect(qapp: Any) -> None:
    """Without reconnect the backoff settings are unused, so not refused."""
    client = make(qapp, MemoryServer(), factor=0.5)
    assert client.state == "unconnected"


def test_reconnects_across_a_server_restart(qapp: Any) -> None:
    """reconnect=True: a reset connection, a refused attempt, then a new
    connection, each visible as signals and states; messages flow on the new
    connection; last_error is cleared once connected; close() stops it."""
    server = MemoryServer()
    client = make(
        qapp,
        server,
        reconnect=True,
        initial_delay=1.0,
        max_delay=10.0,
        factor=2.0,
        jitter=0.0,
    )
    signals = Signals(client)
    connecting = client.connect_to_endpoint(server.endpoint)
    assert client.state == "connecting"
    first_peer = server.accept()
    server.advance(0)
    first = success_of(connecting)
    assert isinstance(first, Client)
    assert client.state == "connected"

    first_peer.reset()  # the server goes away
    server.advance(0)
    assert isinstance(client.close_reason, ConnectionClosed)
    assert client.state == "waiting"
    server.advance(client.retry_delay)  # the first retry: refused
    assert client.state == "connecting"
    server.refuse()
    server.advance(0)
    assert client.state == "waiting"
    assert isinstance(client.last_error, ConnectError)

    assert client.retry_delay > 0
    server.advance(client.retry_delay)  # the server is back
    second_peer = server.accept()
    server.advance(0)
    assert client.state == "connected"
    assert client.last_error is None
    assert client.client is not first
    client.send(b"hello again")
    second_peer.send(b"welcome back")
    server.flush()
    assert second_peer.received == [b"hello again"]
    assert signals.of("message_received") == [b"welcome back"]

    closing = client.close()
    assert client.state == "unconnected"
    server.flush()
    success_of(closing)
    server.advance(60.0)
    assert server.pending == 0  # no attempt after close
    assert signals.names() == [
        "connected",
        "error_occurred",  # the reset
        "failed",
        "disconnected",
        "error_occurred",  # the refused retry
        "failed",
        "connected",
        "message_received",
        "disconnected",
    ]
    assert signals.states() == [
        "connecting",
        "connected",
        "waiting",
        "connecting",
        "waiting",
        "connecting",
        "connected",
        "unconnected",
    ]


def test_close_before_the_first_connection_cancels_the_connect(qapp: Any) -> None:
    """reconnect=True, closed while the first attempt waits: the connect's
    Deferred fails with CancelledError, no signal but the states."""
    server = MemoryServer()
    client = make(qapp, server, reconnect=True, jitter=0.0)
    signals = Signals(client)
    connecting = client.connect_to_endpoint(server.endpoint)
    server.refuse()
    server.advance(0)
    success_of(client.close())
    assert isinstance(failure_of(connecting).value, CancelledError)
    assert client.state == "unconnected"
    assert signals.names() == ["error_occurred", "failed"]
