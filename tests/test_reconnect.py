"""
`ReconnectingClient`: reconnect with backoff on `ClientService`, state visible.

Most tests drive it with a `Clock` and an endpoint whose attempts the test
completes or fails by hand; one runs it over loopback against a server that
goes away and comes back.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_client import (
    Client,
    ClientClosed,
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    ReconnectingClient,
    UsageError,
)

from .helpers import error_of, observing, success_of
from .reliability_peers import PeerServer, frame


@implementer(IStreamClientEndpoint)
class ManualEndpoint:
    """An endpoint whose connection attempts the test finishes by hand."""

    def __init__(self) -> None:
        self.attempts: list[tuple[IProtocolFactory, Deferred[Any]]] = []

    def connect(self, factory: IProtocolFactory) -> Deferred[Any]:
        attempt: Deferred[Any] = Deferred()
        self.attempts.append((factory, attempt))
        return attempt

    def succeed(self) -> tuple[Any, StringTransport]:
        """Complete the last attempt; return the protocol and its transport."""
        factory, attempt = self.attempts[-1]
        protocol = factory.buildProtocol(None)  # type: ignore[arg-type]
        transport = StringTransport()
        protocol.makeConnection(transport)
        attempt.callback(protocol)
        return protocol, transport

    def fail(self) -> None:
        """Fail the last attempt as a refused connection."""
        self.attempts[-1][1].errback(ConnectionRefusedError())


def make(
    clock: Clock, **options: Any
) -> tuple[ReconnectingClient, ManualEndpoint, list[str]]:
    """A started client on a manual endpoint, and the states it reported."""
    endpoint = ManualEndpoint()
    options = {"initial_delay": 1.0, "factor": 2.0, "jitter": 0.0, **options}
    reconnecting = ReconnectingClient(clock, endpoint, **options)
    states: list[str] = []
    reconnecting.add_listener(states.append)
    reconnecting.start()
    return reconnecting, endpoint, states


def fired(deferred: Deferred[Any]) -> bool:
    """Whether ``deferred`` has a result (not merely waiting on another one)."""
    found: list[Any] = []
    deferred.addBoth(lambda r: found.append(r) or r)
    return bool(found)


@pytest.mark.reactorless
def test_states_through_failures_connection_loss_and_stop() -> None:
    """
    The state follows every step (connecting, waiting after a refusal,
    connected, waiting after the connection is lost, stopped), with the
    reason and the delay visible, and a new `Client` for each connection.
    """
    clock = Clock()
    reconnecting, endpoint, states = make(clock)
    assert reconnecting.state == "connecting"
    waiting = reconnecting.when_connected()
    endpoint.fail()
    assert reconnecting.state == "waiting"
    assert reconnecting.failed_attempts == 1
    assert isinstance(reconnecting.last_error, ConnectError)
    assert isinstance(reconnecting.last_error.reason, ConnectionRefusedError)
    assert reconnecting.retry_delay == 2.0
    assert reconnecting.client is None
    clock.advance(1.9)
    assert len(endpoint.attempts) == 1
    clock.advance(0.1)
    assert len(endpoint.attempts) == 2
    protocol, _ = endpoint.succeed()
    clock.advance(0)  # waiters and listeners hear of it on the next turn
    first = success_of(waiting)
    assert isinstance(first, Client)
    assert reconnecting.client is first
    assert reconnecting.state == "connected"
    assert reconnecting.failed_attempts == 0

    protocol.connectionLost(Failure(ConnectionLost()))
    assert reconnecting.state == "waiting"
    assert reconnecting.client is None
    assert isinstance(reconnecting.last_error, ConnectionClosed)
    clock.advance(reconnecting.retry_delay or 0)
    protocol, _ = endpoint.succeed()
    second = success_of(reconnecting.when_connected())
    assert second is not first
    assert second.is_open

    stopping = reconnecting.stop()
    assert not second.is_open  # stop closes the connection through the Client
    protocol.connectionLost(Failure(ConnectionLost()))
    assert success_of(stopping) is None
    assert reconnecting.state == "stopped"
    clock.advance(0)
    assert isinstance(error_of(reconnecting.when_connected()), ClientClosed)
    assert states == [
        "connecting",
        "waiting",
        "connecting",
        "connected",
        "waiting",
        "connecting",
        "connected",
        "stopped",
    ]


@pytest.mark.reactorless
def test_backoff_grows_by_factor_up_to_max_delay() -> None:
    """Each failure in a row multiplies the delay by ``factor``, up to ``max_delay``."""
    clock = Clock()
    reconnecting, endpoint, _ = make(clock, initial_delay=0.5, max_delay=5.0)
    delays = []
    for _ in range(6):
        endpoint.fail()
        delays.append(reconnecting.retry_delay)
        clock.advance(reconnecting.retry_delay or 0)
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert reconnecting.failed_attempts == 6
    assert len(endpoint.attempts) == 7


@pytest.mark.reactorless
def test_jitter_adds_at_most_its_value() -> None:
    """The random jitter adds between 0 and ``jitter`` seconds to each delay."""
    clock = Clock()
    reconnecting, endpoint, _ = make(clock, initial_delay=1.0, factor=1.0, jitter=0.5)
    for _ in range(20):
        endpoint.fail()
        assert 1.0 <= (reconnecting.retry_delay or 0) <= 1.5
        clock.advance(2)


@pytest.mark.reactorless
def test_when_connected_can_give_up_after_some_failures() -> None:
    """``when_connected(failures=2)`` fails with the second failure's `ConnectError`."""
    clock = Clock()
    reconnecting, endpoint, _ = make(clock)
    giving_up = reconnecting.when_connected(failures=2)
    patient = reconnecting.when_connected()
    endpoint.fail()
    assert not giving_up.called
    clock.advance(10)
    endpoint.fail()
    clock.advance(0)
    error = error_of(giving_up)
    assert isinstance(error, ConnectError)
    assert not fired(patient)
    clock.advance(10)
    endpoint.succeed()
    clock.advance(0)
    assert isinstance(success_of(patient), Client)


@pytest.mark.reactorless
def test_a_client_that_cannot_be_set_up_is_a_failed_attempt(
    setup_fails: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    An error while setting the client up fails that attempt: a retry follows.

    The connection is aborted, and the error is the attempt's `ConnectError`,
    counted like a refused connection.
    """
    clock = Clock()
    reconnecting, endpoint, _ = make(clock)
    giving_up = reconnecting.when_connected(failures=1)
    _, transport = endpoint.succeed()
    clock.advance(0)
    error = error_of(giving_up)
    assert isinstance(error, ConnectError)
    assert isinstance(error.reason, RuntimeError)
    assert transport.disconnected
    assert reconnecting.failed_attempts == 1
    assert reconnecting.state == "waiting"
    monkeypatch.undo()
    clock.advance(reconnecting.retry_delay or 0)
    endpoint.succeed()
    assert isinstance(reconnecting.client, Client)


@pytest.mark.reactorless
def test_each_attempt_has_a_timeout() -> None:
    """A hanging attempt is cancelled after ``timeout``: `ConnectTimeout`, a retry."""
    clock = Clock()
    reconnecting, endpoint, _ = make(clock, timeout=5.0)
    clock.advance(5)
    assert isinstance(reconnecting.last_error, ConnectTimeout)
    assert reconnecting.state == "waiting"
    clock.advance(reconnecting.retry_delay or 0)
    assert len(endpoint.attempts) == 2


@pytest.mark.reactorless
def test_stop_while_connecting_or_waiting_makes_no_more_attempts() -> None:
    """Stop cancels the attempt or the scheduled one; waiters get `ClientClosed`."""
    clock = Clock()
    reconnecting, endpoint, states = make(clock)
    waiting = reconnecting.when_connected()
    stopped = reconnecting.stop()
    assert success_of(stopped) is None
    clock.advance(0)
    assert isinstance(error_of(waiting), ClientClosed)
    assert reconnecting.state == "stopped"

    reconnecting.start()
    endpoint.fail()
    assert reconnecting.state == "waiting"
    assert success_of(reconnecting.stop()) is None
    clock.advance(1000)
    assert len(endpoint.attempts) == 2
    assert states == ["connecting", "stopped", "connecting", "waiting", "stopped"]


@pytest.mark.reactorless
def test_a_client_closed_by_the_application_is_replaced() -> None:
    """
    Closing the current `Client` by hand ends that connection only: a new one
    is made, and `when_connected` asked meanwhile gives the new client, never
    the closing one.
    """
    clock = Clock()
    reconnecting, endpoint, _ = make(clock)
    protocol, _ = endpoint.succeed()
    old = reconnecting.client
    assert old is not None
    old.close()
    assert reconnecting.client is None
    asked = reconnecting.when_connected()
    protocol.connectionLost(Failure(ConnectionLost()))
    clock.advance(0)
    assert not fired(asked)
    clock.advance(reconnecting.retry_delay or 0)
    endpoint.succeed()
    clock.advance(0)
    new = success_of(asked)
    assert new is not old
    assert new.is_open


@pytest.mark.reactorless
def test_a_listener_may_stop_the_client_and_a_failing_one_is_logged() -> None:
    """
    Listeners run outside ClientService's state machine, so one may call
    `stop` on the state it is told of; one that raises does not stop the
    others from hearing.
    """
    clock = Clock()
    endpoint = ManualEndpoint()
    reconnecting = ReconnectingClient(clock, endpoint, jitter=0.0)
    heard: list[str] = []

    def broken(state: str) -> None:
        raise RuntimeError("listener bug")

    def stop_when_waiting(state: str) -> None:
        if state == "waiting":
            reconnecting.stop()

    reconnecting.add_listener(broken)
    reconnecting.add_listener(stop_when_waiting)
    reconnecting.add_listener(heard.append)
    logged: list[dict[str, Any]] = []
    with observing(logged.append):
        reconnecting.start()
        endpoint.fail()
        clock.advance(0)
    assert heard == ["connecting", "waiting", "stopped"]
    clock.advance(1000)
    assert len(endpoint.attempts) == 1
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert len(failures) == 3  # one per state the broken listener was told of
    assert all(f.check(RuntimeError) for f in failures)


@pytest.mark.reactorless
def test_listeners_can_be_removed() -> None:
    """A removed listener hears nothing more; removing twice is harmless."""
    clock = Clock()
    reconnecting, endpoint, states = make(clock)
    heard: list[str] = []
    reconnecting.add_listener(heard.append)
    endpoint.fail()
    clock.advance(0)
    reconnecting.remove_listener(heard.append)
    reconnecting.remove_listener(heard.append)
    clock.advance(10)
    assert heard == ["connecting", "waiting"]
    assert states[-1] == "connecting"


@pytest.mark.reactorless
@pytest.mark.parametrize(
    "options",
    [
        {"endpoint": 42},
        {"endpoint": "nonsense:1"},
        {"timeout": 0},
        {"timeout": float("inf")},
        {"initial_delay": -1},
        {"initial_delay": float("nan")},
        {"max_delay": "1"},
        {"max_delay": float("inf")},
        {"factor": 0.5},
        {"factor": float("nan")},
        {"factor": float("inf")},
        {"jitter": None},
        {"jitter": float("inf")},
        {"max_length": -1},
        {"max_buffered": -1},
    ],
)
def test_bad_arguments_raise_usage_error(options: dict[str, Any]) -> None:
    """Every bad argument is refused at construction with `UsageError`."""
    arguments: dict[str, Any] = {"endpoint": ManualEndpoint(), **options}
    endpoint = arguments.pop("endpoint")
    with pytest.raises(UsageError):
        ReconnectingClient(Clock(), endpoint, **arguments)


@pytest.mark.reactorless
def test_when_connected_refuses_a_bad_failure_count() -> None:
    """``failures`` must be a positive int or None."""
    reconnecting, _, _ = make(Clock())
    for bad in [0, -1, 1.5, True]:
        with pytest.raises(UsageError):
            reconnecting.when_connected(failures=bad)  # type: ignore[arg-type]


@pytest_twisted.ensureDeferred
async def test_reconnects_over_loopback_when_the_server_comes_back(
    reactor: Any,
) -> None:
    """
    Over loopback: the peer drops the connection, the client reconnects; the
    server goes away (attempts are refused, the delay grows) and comes back on
    the same port, and the client is connected again and works.
    """
    server = PeerServer(reactor)
    number = server.number
    reconnecting = ReconnectingClient(
        reactor,
        f"tcp:127.0.0.1:{number}",
        initial_delay=0.01,
        factor=2.0,
        max_delay=0.2,
        jitter=0.0,
    )
    seen: list[str] = []
    refusals: Deferred[None] = Deferred()

    def listen(state: str) -> None:
        seen.append(state)
        if reconnecting.failed_attempts >= 3 and not refusals.called:
            refusals.callback(None)

    reconnecting.add_listener(listen)
    reconnecting.start()
    try:
        first = await reconnecting.when_connected()
        peer = await server.accept()
        peer.transport.write(frame(b"hello"))
        assert await first.receive() == b"hello"
        peer.transport.loseConnection()
        await first.when_closed()
        second = await reconnecting.when_connected()
        assert second is not first
        with pytest.raises(ConnectionClosed):
            await first.receive()
        peer = await server.accept()

        await server.stop()
        peer.transport.loseConnection()
        await refusals
        assert isinstance(reconnecting.last_error, ConnectError)
        assert isinstance(reconnecting.last_error.reason, ConnectionRefusedError)
        server = PeerServer(reactor, port=number)
        third = await reconnecting.when_connected()
        peer = await server.accept()
        await third.send(b"back")
        assert third.is_open
        assert seen.count("connected") == 3
    finally:
        await reconnecting.stop()
        await server.stop()
    assert reconnecting.state == "stopped"


@pytest.mark.reactorless
def test_calls_in_the_wrong_order_are_answered_clearly() -> None:
    """
    Before `start`, `when_connected` fails with `ClientClosed` saying so and
    `stop` is a no-op; `start` twice makes one attempt; `stop` twice is
    harmless; after `stop`, `start` connects again.
    """
    clock = Clock()
    endpoint = ManualEndpoint()
    reconnecting = ReconnectingClient(clock, endpoint, jitter=0.0)
    early = error_of(reconnecting.when_connected())
    assert isinstance(early, ClientClosed)
    assert "not started" in str(early)
    assert success_of(reconnecting.stop()) is None
    reconnecting.start()
    reconnecting.start()
    assert len(endpoint.attempts) == 1
    first = reconnecting.stop()
    second = reconnecting.stop()
    assert success_of(first) is None
    assert success_of(second) is None
    assert reconnecting.state == "stopped"
    reconnecting.start()
    assert len(endpoint.attempts) == 2
    endpoint.succeed()
    assert reconnecting.state == "connected"
    assert repr(reconnecting).endswith("connected>")
