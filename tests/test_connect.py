"""`connect` and `connect_endpoint` against a `MemoryReactorClock`: no sockets."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_client import (
    Client,
    ConnectError,
    ConnectTimeout,
    UsageError,
    connect,
    connect_endpoint,
)

from .helpers import error_of, failure_of, success_of


def accept(reactor: MemoryReactorClock, index: int = 0) -> StringTransport:
    """Complete the ``index``-th TCP attempt made on ``reactor``."""
    _, _, factory, _, _ = reactor.tcpClients[index]
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 50007))
    transport = StringTransport()
    protocol.makeConnection(transport)
    return transport


def test_connect_to_an_address_gives_a_client() -> None:
    """Connecting to an IPv4 literal dials it directly and fires with a `Client`."""
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007)
    host, port, _, _, _ = reactor.tcpClients[0]
    assert (host, port) == ("127.0.0.1", 50007)
    assert not d.called
    transport = accept(reactor)
    client = success_of(d)
    assert isinstance(client, Client)
    client.send(b"hi")
    assert transport.value() == b"\x02\x00\x00\x00hi"


def test_a_client_that_cannot_be_set_up_fails_the_attempt_at_once(
    setup_fails: str,
) -> None:
    """
    An error while setting the client up, once connected, fails `connect` at once.

    It is a `ConnectError` naming the error, the connection is aborted, and
    the attempt's timer is gone: nothing waits for the 30 s timeout.
    """
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007)
    transport = accept(reactor)
    error = error_of(d)
    assert isinstance(error, ConnectError)
    assert isinstance(error.reason, RuntimeError)
    assert setup_fails in str(error)
    assert transport.disconnected
    assert reactor.getDelayedCalls() == []


def test_connect_passes_max_length_on() -> None:
    """The client made by `connect` enforces the ``max_length`` it was given."""
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007, max_length=7, max_buffered=99)
    accept(reactor)
    client = success_of(d)
    assert (client.max_length, client.max_buffered) == (7, 99)


def test_connect_ipv6_literal() -> None:
    """An IPv6 literal is dialled directly too."""
    reactor = MemoryReactorClock()
    connect(reactor, "::1", 50007)
    assert reactor.tcpClients[0][:2] == ("::1", 50007)


def test_refused_connection_is_a_connect_error() -> None:
    """A refused connection fails with `ConnectError`, keeping Twisted's reason."""
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 1)
    _, _, factory, _, _ = reactor.tcpClients[0]
    connector = reactor.connectors[0]
    factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
    failure = failure_of(d)
    assert isinstance(failure, Failure)
    error = failure.value
    assert isinstance(error, ConnectError)
    assert isinstance(error.reason, ConnectionRefusedError)
    assert error.destination == "127.0.0.1:1"
    assert "127.0.0.1:1" in str(error)


def test_connect_timeout() -> None:
    """
    No connection within ``timeout`` fails with `ConnectTimeout`.

    It is a `ConnectError` and a `TimeoutError`, and the attempt is abandoned.
    """
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007, timeout=3)
    reactor.advance(2.9)
    assert not d.called
    reactor.advance(0.1)
    failure = failure_of(d)
    assert isinstance(failure, Failure)
    assert isinstance(failure.value, ConnectTimeout)
    assert isinstance(failure.value, ConnectError)
    assert isinstance(failure.value, TimeoutError)
    assert "3 s" in str(failure.value)
    assert reactor.connectors[0].stoppedConnecting


def test_connect_without_timeout_waits() -> None:
    """``timeout=None`` leaves no timer: the attempt waits as long as it takes."""
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007, timeout=None)
    assert reactor.getDelayedCalls() == []
    reactor.advance(3600)
    assert not d.called


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_one_timer_per_attempt(host: str) -> None:
    """
    The attempt's timeout is its only timer, gone once connected.

    Twisted's connector is given no timeout of its own (it would add a second
    timer per attempt, and with ``timeout=None`` a 30 s limit nobody asked for).
    """
    reactor = MemoryReactorClock()
    d = connect(reactor, host, 50007, timeout=5)
    assert reactor.tcpClients[0][3] is None
    assert [call.getTime() for call in reactor.getDelayedCalls()] == [5]
    accept(reactor)
    assert isinstance(success_of(d), Client)
    assert reactor.getDelayedCalls() == []


def test_cancel_connect() -> None:
    """Cancelling the attempt fails it with CancelledError and stops dialling."""
    reactor = MemoryReactorClock()
    d = connect(reactor, "127.0.0.1", 50007)
    d.cancel()
    failure = failure_of(d)
    assert isinstance(failure, Failure)
    assert failure.check(CancelledError)
    assert reactor.connectors[0].stoppedConnecting
    assert reactor.getDelayedCalls() == []


@pytest.mark.parametrize(
    ("host", "port", "options", "word"),
    [
        ("", 1, {}, "host"),
        (b"127.0.0.1", 1, {}, "host"),
        ("127.0.0.1", 0, {}, "port"),
        ("127.0.0.1", 70000, {}, "port"),
        ("127.0.0.1", "80", {}, "port"),
        ("127.0.0.1", 1, {"timeout": 0}, "timeout"),
        ("127.0.0.1", 1, {"timeout": float("nan")}, "timeout"),
        ("127.0.0.1", 1, {"timeout": float("inf")}, "finite.*None means no limit"),
        ("127.0.0.1", 1, {"max_length": -1}, "max_length"),
        ("127.0.0.1", 1, {"max_buffered": -1}, "max_buffered"),
    ],
)
def test_bad_arguments_raise_at_once(
    host: Any, port: Any, options: dict[str, Any], word: str
) -> None:
    """Bad arguments raise `UsageError` naming them, before anything is dialled."""
    reactor = MemoryReactorClock()
    with pytest.raises(UsageError, match=word):
        connect(reactor, host, port, **options)
    assert reactor.tcpClients == []


def test_connect_endpoint_with_an_endpoint_object() -> None:
    """Any `IStreamClientEndpoint` works."""
    reactor = MemoryReactorClock()
    d = connect_endpoint(reactor, TCP4ClientEndpoint(reactor, "10.1.2.3", 7))
    assert reactor.tcpClients[0][:2] == ("10.1.2.3", 7)
    accept(reactor)
    assert isinstance(success_of(d), Client)


def test_connect_endpoint_with_a_description_string() -> None:
    """An endpoint description string is parsed by Twisted."""
    reactor = MemoryReactorClock()
    connect_endpoint(reactor, "tcp:host=10.9.8.7:port=1234")
    assert reactor.tcpClients[0][:2] == ("10.9.8.7", 1234)


@pytest.mark.reactorless
def test_connect_endpoint_with_a_bad_string() -> None:
    """A description Twisted cannot parse is a `UsageError` that quotes it."""
    with pytest.raises(UsageError, match="nonsense"):
        connect_endpoint(MemoryReactorClock(), "nonsense:x")


@pytest.mark.reactorless
def test_connect_endpoint_with_something_else() -> None:
    """Anything that is neither an endpoint nor a string is refused."""
    with pytest.raises(UsageError, match="IStreamClientEndpoint"):
        connect_endpoint(MemoryReactorClock(), object())  # type: ignore[arg-type]


def test_connect_endpoint_timeout() -> None:
    """The timeout covers endpoint connections as well."""
    reactor = MemoryReactorClock()
    d = connect_endpoint(reactor, "tcp:host=10.9.8.7:port=1234", timeout=1)
    reactor.advance(1)
    failure = failure_of(d)
    assert isinstance(failure, Failure)
    assert failure.check(ConnectTimeout)
