"""`QtClient`: a connection with Qt signals, over loopback sockets."""

from __future__ import annotations

import gc
import struct
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.protocol import Protocol

from twisted_client import (
    ClientClosed,
    ConnectError,
    ConnectionClosed,
    UsageError,
    frame,
)

from .compat_programs.peers import free_port
from .helpers import observing

pytestmark = pytest.mark.qt

WAIT = 10.0
"""Seconds before a wait for a signal fails the test instead of hanging it."""


class Recorder:
    """Records every signal of a QtClient in order; waits for the next one."""

    def __init__(self, reactor: Any, client: Any) -> None:
        self.reactor = reactor
        self.events: list[tuple[Any, ...]] = []
        self._waiters: list[tuple[Callable[[], bool], Deferred[None]]] = []
        for name in ("connected", "message_received", "error_occurred", "disconnected"):
            getattr(client, name).connect(
                lambda *args, name=name: self._record(name, *args)
            )

    def _record(self, *event: Any) -> None:
        self.events.append(event)
        for waiter in list(self._waiters):
            condition, fired = waiter
            if condition():
                self._waiters.remove(waiter)
                fired.callback(None)

    def names(self) -> list[str]:
        """The names of the signals emitted so far."""
        return [event[0] for event in self.events]

    def until(self, condition: Callable[[], bool]) -> Deferred[None]:
        """A Deferred that fires once ``condition()`` holds after a signal."""
        fired: Deferred[None] = Deferred()
        if condition():
            fired.callback(None)
        else:
            self._waiters.append((condition, fired))
        return fired.addTimeout(WAIT, self.reactor)

    def emitted(self, name: str, count: int = 1) -> Deferred[None]:
        """A Deferred that fires once ``name`` was emitted ``count`` times."""
        return self.until(lambda: self.names().count(name) >= count)


class _Peer(Protocol):
    """Gives its transport to ``on_connect`` once connected."""

    def __init__(self, on_connect: Callable[[Any], None]) -> None:
        self._on_connect = on_connect

    def connectionMade(self) -> None:
        self._on_connect(self.transport)


@pytest.fixture
def serve(listening: Any) -> Callable[[Callable[[Any], None]], int]:
    """``serve(on_connect)``: the port of a loopback server that gives each
    accepted transport to ``on_connect``; it is stopped after the test."""
    return lambda on_connect: int(
        listening.tcp(partial(_Peer, on_connect)).getHost().port
    )


@pytest.fixture
def served_client(
    make_client: Callable[..., tuple[Any, Recorder]],
    serve: Callable[[Callable[[Any], None]], int],
) -> Callable[..., Awaitable[tuple[Any, Recorder]]]:
    """``await served_client(on_connect, **options)``: ``make_client(**options)``
    connected to ``serve(on_connect)``."""

    async def connect(
        on_connect: Callable[[Any], None], **options: Any
    ) -> tuple[Any, Recorder]:
        client, recorder = make_client(**options)
        await client.connect_to_host("127.0.0.1", serve(on_connect))
        return client, recorder

    return connect


def write_and_close(data: bytes) -> Callable[[Any], None]:
    """An ``on_connect`` that writes ``data`` and closes the connection."""

    def on_connect(transport: Any) -> None:
        transport.write(data)
        transport.loseConnection()

    return on_connect


@pytest.fixture
def make_client(qapp: Any, reactor: Any) -> Iterator[Callable[..., Any]]:
    """Build QtClients with a Recorder; every one is aborted at the end."""
    from twisted_client.qt import QtClient

    made: list[Any] = []

    def make(**options: Any) -> tuple[Any, Recorder]:
        client = QtClient(reactor, **options)
        made.append(client)
        return client, Recorder(reactor, client)

    yield make
    for client in made:
        if client.client is not None:
            client.client.abort()


@pytest_twisted.ensureDeferred
async def test_connect_send_receive_close(
    reactor: Any, make_client: Any, echo_port: int
) -> None:
    """Connecting emits connected; each echoed message is message_received with
    the bytes; close() emits disconnected before its Deferred fires."""
    client, recorder = make_client()
    assert client.state == "unconnected"
    connecting = client.connect_to_host("127.0.0.1", echo_port)
    assert client.state == "connecting"
    native = await connecting
    assert native is client.client
    assert client.is_connected()
    assert recorder.names() == ["connected"]
    await client.send(b"one")
    await client.send(b"")
    await recorder.emitted("message_received", 2)
    closing = client.close()
    assert not client.is_connected()
    await closing
    assert recorder.events == [
        ("connected",),
        ("message_received", b"one"),
        ("message_received", b""),
        ("disconnected",),
    ]
    assert isinstance(client.close_reason, ClientClosed)
    await client.close()  # harmless again


@pytest_twisted.ensureDeferred
async def test_server_push_is_emitted_in_order(served_client: Any) -> None:
    """Messages the server sends unasked, several in one segment, are each
    emitted as message_received, in order."""
    segment = frame(b"a")[0] + b"".join(b"".join(frame(m)) for m in (b"bb", b"ccc"))
    _, recorder = await served_client(lambda transport: transport.write(segment))
    await recorder.emitted("message_received", 3)
    assert recorder.events[1:] == [
        ("message_received", b"a"),
        ("message_received", b"bb"),
        ("message_received", b"ccc"),
    ]


@pytest_twisted.ensureDeferred
async def test_refused_connection_is_an_error_and_no_disconnect(
    make_client: Any,
) -> None:
    """A refused connection fails the Deferred with ConnectError and emits
    error_occurred naming the destination and the refusal; nothing else."""
    number = free_port()
    client, recorder = make_client()
    with pytest.raises(ConnectError):
        await client.connect_to_host("127.0.0.1", number)
    assert recorder.names() == ["error_occurred"]
    text = recorder.events[0][1]
    assert f"127.0.0.1:{number}" in text
    assert "refused" in text.lower()
    assert client.state == "unconnected"


@pytest_twisted.ensureDeferred
async def test_peer_closing_cleanly_is_a_disconnect_without_error(
    served_client: Any,
) -> None:
    """The server sending one message then closing: the message, then
    disconnected, no error; close_reason says the peer closed cleanly."""
    client, recorder = await served_client(write_and_close(b"".join(frame(b"bye"))))
    await recorder.emitted("disconnected")
    assert recorder.events == [
        ("connected",),
        ("message_received", b"bye"),
        ("disconnected",),
    ]
    assert isinstance(client.close_reason, ConnectionClosed)
    assert client.close_reason.clean


@pytest_twisted.ensureDeferred
async def test_connection_cut_mid_message_is_an_error_then_disconnect(
    served_client: Any,
) -> None:
    """The server closing in the middle of a message: error_occurred saying so,
    then disconnected; a later send fails without a second error signal."""
    half = struct.pack("<L", 10) + b"abc"
    client, recorder = await served_client(write_and_close(half))
    await recorder.emitted("disconnected")
    assert recorder.names() == ["connected", "error_occurred", "disconnected"]
    assert "middle of a message" in recorder.events[1][1]
    with pytest.raises(ConnectionClosed):
        await client.send(b"late")
    assert recorder.names()[-1] == "disconnected"


@pytest_twisted.ensureDeferred
async def test_message_over_max_length_is_an_error_then_disconnect(
    served_client: Any,
) -> None:
    """A message announced longer than max_length: error_occurred naming the
    length and the limit, then disconnected."""
    _, recorder = await served_client(
        lambda transport: transport.write(struct.pack("<L", 100)), max_length=10
    )
    await recorder.emitted("disconnected")
    assert recorder.names() == ["connected", "error_occurred", "disconnected"]
    assert "100" in recorder.events[1][1]
    assert "max_length=10" in recorder.events[1][1]


@pytest_twisted.ensureDeferred
async def test_misuse_is_a_failed_deferred_and_an_error_signal(
    reactor: Any, make_client: Any, echo_port: int
) -> None:
    """Sending before connecting, sending str, connecting twice and a bad port
    raise nothing: each is a failed Deferred and an error_occurred."""
    client, recorder = make_client()
    with pytest.raises(UsageError, match="not connected"):
        await client.send(b"early")
    with pytest.raises(UsageError, match="port"):
        await client.connect_to_host("127.0.0.1", 0)
    await client.connect_to_host("127.0.0.1", echo_port)
    with pytest.raises(TypeError):
        await client.send("text")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="already connected"):
        await client.connect_to_host("127.0.0.1", echo_port)
    assert recorder.names() == [
        "error_occurred",
        "error_occurred",
        "connected",
        "error_occurred",
        "error_occurred",
    ]
    assert "bytes" in recorder.events[3][1]
    await client.send(b"still fine")
    await recorder.emitted("message_received")
    await client.close()


@pytest_twisted.ensureDeferred
async def test_close_while_connecting_abandons_quietly(
    reactor: Any, make_client: Any
) -> None:
    """close() during a connection attempt cancels it: the attempt's Deferred
    fails with CancelledError and no signal is emitted."""
    from twisted.internet.endpoints import TCP4ClientEndpoint

    never: Deferred[Any] = Deferred()

    class Stalled(TCP4ClientEndpoint):
        def connect(self, factory: Any) -> Deferred[Any]:
            return never

    client, recorder = make_client()
    attempt = client.connect_to_endpoint(Stalled(reactor, "127.0.0.1", 1))
    assert client.state == "connecting"
    await client.close()
    with pytest.raises(CancelledError):
        await attempt
    assert recorder.events == []
    assert client.state == "unconnected"


@pytest_twisted.ensureDeferred
async def test_connect_to_endpoint_string_and_reconnect(
    reactor: Any, make_client: Any, echo_port: int
) -> None:
    """An endpoint string works like host and port; after close() the same
    QtClient connects again and the old connection's end is not reported."""
    client, recorder = make_client()
    await client.connect_to_endpoint(f"tcp:host=127.0.0.1:port={echo_port}")
    first = client.client
    await client.close()
    await client.connect_to_host("127.0.0.1", echo_port)
    assert client.client is not first
    await client.send(b"again")
    await recorder.emitted("message_received")
    assert recorder.names() == [
        "connected",
        "disconnected",
        "connected",
        "message_received",
    ]
    await client.close()


@pytest_twisted.ensureDeferred
async def test_state_changed_follows_the_connection(
    make_client: Any, echo_port: int
) -> None:
    """state_changed emits each new state once: connecting, connected, unconnected;
    a refused attempt goes back from connecting to unconnected."""
    client, recorder = make_client()
    states: list[str] = []
    client.state_changed.connect(states.append)
    await client.connect_to_host("127.0.0.1", echo_port)
    assert states == ["connecting", "connected"]
    await client.close()
    assert states == ["connecting", "connected", "unconnected"]
    assert client.state == "unconnected"

    refused_port = free_port()
    states.clear()
    with pytest.raises(ConnectError):
        await client.connect_to_host("127.0.0.1", refused_port)
    assert states == ["connecting", "unconnected"]
    assert recorder.names()[-1] == "error_occurred"


@pytest_twisted.ensureDeferred
async def test_state_changed_when_the_peer_closes(
    reactor: Any, make_client: Any, serve: Any
) -> None:
    """A peer closing the connection makes the state unconnected, after disconnected."""
    port = serve(lambda transport: transport.loseConnection())
    client, _ = make_client()
    order: list[str] = []
    gone: Deferred[None] = Deferred()

    def state_changed(state: str) -> None:
        order.append(state)
        if state == "unconnected":
            gone.callback(None)

    client.disconnected.connect(lambda: order.append("disconnected"))
    client.state_changed.connect(state_changed)
    await client.connect_to_host("127.0.0.1", port)
    await gone.addTimeout(WAIT, reactor)
    assert order == ["connecting", "connected", "disconnected", "unconnected"]


def _flood(count: int) -> bytes:
    return b"".join(frame(b"%d" % n)[0] for n in range(count))


@pytest_twisted.ensureDeferred
async def test_qt_loop_runs_while_a_flood_is_delivered(
    make_client: Any, serve: Any
) -> None:
    """2000 messages arriving in one segment, the delivery budget spent at once:
    a zero-interval QTimer fires between them (before, all were emitted in one
    reactor turn and Qt's timers waited), and they arrive in order."""
    from twisted_client.qt import binding

    count = 2000
    port = serve(lambda transport: transport.write(_flood(count)))
    ticks: list[int] = []
    timer = binding().QtCore.QTimer()
    try:
        client, recorder = make_client()
        client.turn_budget = 0.0
        timer.timeout.connect(
            lambda: ticks.append(recorder.names().count("message_received"))
        )
        client.connected.connect(lambda: timer.start(0))
        await client.connect_to_host("127.0.0.1", port)
        await recorder.emitted("message_received", count)
        assert [event[1] for event in recorder.events[1:]] == [
            b"%d" % n for n in range(count)
        ]
        assert any(0 < seen < count for seen in ticks), ticks[:5]
    finally:
        timer.stop()


@pytest_twisted.ensureDeferred
async def test_end_is_reported_after_the_held_back_messages(
    make_client: Any, serve: Any
) -> None:
    """A flood then a cut in the middle of a message, delivered over many turns:
    every whole message is emitted before error_occurred, then disconnected;
    close_reason says how it ended."""
    port = serve(write_and_close(_flood(300) + struct.pack("<L", 10) + b"abc"))
    client, recorder = make_client()
    client.turn_budget = 0.0
    await client.connect_to_host("127.0.0.1", port)
    await recorder.emitted("disconnected")
    assert recorder.names() == [
        "connected",
        *["message_received"] * 300,
        "error_occurred",
        "disconnected",
    ]
    assert recorder.events[300][1] == b"299"
    assert "middle of a message" in recorder.events[301][1]
    assert isinstance(client.close_reason, ConnectionClosed)
    assert client.close_reason.partial == 7


@pytest_twisted.ensureDeferred
async def test_close_while_a_flood_is_delivered_stops_it(
    make_client: Any, serve: Any
) -> None:
    """close() from a message_received slot in the middle of a held-back flood:
    no further message, no error, one disconnected."""
    port = serve(lambda transport: transport.write(_flood(500)))
    client, recorder = make_client()
    client.turn_budget = 0.0
    closing: list[Deferred[None]] = []

    def close_at_ten(message: bytes) -> None:
        if message == b"9":
            closing.append(client.close())

    client.message_received.connect(close_at_ten)
    await client.connect_to_host("127.0.0.1", port)
    await recorder.emitted("disconnected")
    await closing[0]
    assert recorder.names() == [
        "connected",
        *["message_received"] * 10,
        "disconnected",
    ]
    assert isinstance(client.close_reason, ClientClosed)


@pytest.fixture
def unhandled() -> Iterator[Callable[[], list[str]]]:
    """A function that collects garbage and returns the "Unhandled error in
    Deferred" lines Twisted logged since the test began."""
    from twisted.logger import LogEvent

    seen: list[str] = []

    def observe(event: LogEvent) -> None:
        # DebugInfo logs the line, then the failure, from twisted.internet.defer.
        if event.get("log_namespace") != "twisted.internet.defer":
            return
        if "Unhandled error in Deferred" in (event.get("log_format") or ""):
            seen.append("Unhandled error in Deferred")
        elif event.get("log_failure") is not None:
            seen.append(repr(event["log_failure"].value))

    def collect() -> list[str]:
        gc.collect()
        return seen

    with observing(observe):
        yield collect


@pytest_twisted.ensureDeferred
async def test_ignored_failed_deferreds_are_not_logged_as_unhandled(
    make_client: Any, unhandled: Callable[[], list[str]]
) -> None:
    """send() before connecting and a refused connect, their Deferreds ignored:
    each failure is emitted once as error_occurred, and nothing is logged as
    "Unhandled error in Deferred" when the Deferreds are collected."""
    refused = free_port()
    client, recorder = make_client()
    client.send(b"early")
    client.connect_to_endpoint("not an endpoint string")
    connecting = client.connect_to_host("127.0.0.1", refused)
    await recorder.emitted("error_occurred", 3)
    del connecting
    assert unhandled() == []
    assert recorder.names() == ["error_occurred"] * 3


@pytest_twisted.ensureDeferred
async def test_an_errback_still_gets_the_failure(
    reactor: Any, make_client: Any, unhandled: Callable[[], list[str]]
) -> None:
    """A caller who adds an errback (or awaits) gets the failure, after it was
    emitted; an errback that fails in turn is logged as unhandled, as usual."""
    client, recorder = make_client()
    failures: list[Any] = []
    client.send(b"early").addErrback(failures.append)
    assert [f.type for f in failures] == [UsageError]
    with pytest.raises(UsageError):
        await client.send(b"again")

    def fail_again(_: object) -> None:
        raise RuntimeError("the caller's own bug")

    client.send(b"third").addErrback(fail_again)
    assert [line for line in unhandled() if "caller's own bug" in line] != []
    assert recorder.names() == ["error_occurred"] * 3


@pytest_twisted.ensureDeferred
async def test_pending_send_at_peer_reset_is_not_logged_as_unhandled(
    served_client: Any, unhandled: Callable[[], list[str]]
) -> None:
    """A send the peer does not read, its Deferred ignored, then the peer resets
    the connection: one error_occurred, then disconnected, nothing unhandled."""
    peers: list[Any] = []
    client, recorder = await served_client(peers.append)
    peers[0].pauseProducing()
    sending = client.send(b"x" * (64 * 1024 * 1024))
    assert not sending.called
    del sending
    peers[0].abortConnection()
    await recorder.emitted("disconnected")
    assert recorder.names() == ["connected", "error_occurred", "disconnected"]
    assert unhandled() == []


@pytest_twisted.ensureDeferred
async def test_local_close_is_no_error_and_not_logged(
    reactor: Any, served_client: Any, unhandled: Callable[[], list[str]]
) -> None:
    """A send pending when the connection is dropped on this side (abort),
    and a connect abandoned by close(), their Deferreds ignored: no
    error_occurred, nothing unhandled; close_reason says it was closed here;
    an errback on the pending send gets ClientClosed."""
    peers: list[Any] = []
    client, recorder = await served_client(peers.append)
    peers[0].pauseProducing()
    ignored = client.send(b"x" * (64 * 1024 * 1024))
    watched = client.send(b"y")
    failures: list[Any] = []
    watched.addErrback(failures.append)
    assert not ignored.called
    del ignored
    client.client.abort()
    await recorder.emitted("disconnected")
    assert [f.type for f in failures] == [ClientClosed]
    assert isinstance(client.close_reason, ClientClosed)
    assert "own side" in str(client.close_reason)
    from twisted.internet.endpoints import TCP4ClientEndpoint

    class Stalled(TCP4ClientEndpoint):
        def connect(self, factory: Any) -> Deferred[Any]:
            return Deferred()

    client.connect_to_endpoint(Stalled(reactor, "127.0.0.1", 1))
    await client.close()
    assert recorder.names() == ["connected", "disconnected"]
    assert unhandled() == []
