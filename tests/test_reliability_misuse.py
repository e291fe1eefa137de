"""
Misuse of the native API: wrong types, wrong values, wrong order, use after
close, double close. Each gets a clear error at the call, and a client that
lived through the mistake keeps working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from twisted_client import (
    ClientClosed,
    ClientProtocol,
    UsageError,
    WrongThreadError,
    connect,
    connect_endpoint,
)

from .helpers import success_of


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        (("",), {"port": 1}, "host"),
        ((b"127.0.0.1",), {"port": 1}, "host"),
        (("127.0.0.1",), {"port": 0}, "port"),
        (("127.0.0.1",), {"port": 65536}, "port"),
        (("127.0.0.1",), {"port": "80"}, "port"),
        (("127.0.0.1",), {"port": True}, "port"),
        (("127.0.0.1",), {"port": 1, "timeout": 0}, "timeout"),
        (("127.0.0.1",), {"port": 1, "timeout": "5"}, "timeout"),
        (("127.0.0.1",), {"port": 1, "max_length": -1}, "max_length"),
        (("127.0.0.1",), {"port": 1, "max_length": 2**32}, "max_length"),
        (("127.0.0.1",), {"port": 1, "max_length": 1.5}, "max_length"),
        (("127.0.0.1",), {"port": 1, "max_buffered": -1}, "max_buffered"),
        (("127.0.0.1",), {"port": 1, "max_buffered": "1"}, "max_buffered"),
    ],
)
def test_connect_refuses_bad_arguments_at_the_call(
    reactor: Any, args: tuple[Any, ...], kwargs: dict[str, Any], needle: str
) -> None:
    """Bad arguments to `connect` raise `UsageError` naming the argument, at once."""
    with pytest.raises(UsageError, match=needle):
        connect(reactor, *args, **kwargs)


@pytest.mark.parametrize("endpoint", [42, None, "nonsense-kind:1", "tcp:host"])
def test_connect_endpoint_refuses_what_is_not_an_endpoint(
    reactor: Any, endpoint: Any
) -> None:
    """`connect_endpoint` raises `UsageError` for a non-endpoint or a bad string."""
    with pytest.raises(UsageError, match="endpoint"):
        connect_endpoint(reactor, endpoint)


def make_client() -> Any:
    """A client on an in-memory transport."""
    protocol = ClientProtocol(Clock(), 1024, None)
    protocol.makeConnection(StringTransport())
    return protocol.client


@pytest.mark.reactorless
@pytest.mark.parametrize("data", ["text", 42, None, [b"a"], object()])
def test_send_refuses_what_is_not_bytes(data: Any) -> None:
    """`send` of a non-bytes object raises `TypeError` (hinting at str.encode)."""
    client = make_client()
    with pytest.raises(TypeError, match="bytes") as raised:
        client.send(data)
    if isinstance(data, str):
        assert "encode" in str(raised.value)
    assert client.is_open
    assert client.send(b"fine").called


@pytest.mark.reactorless
@pytest.mark.parametrize("timeout", [-1, "1", True, float("nan")])
def test_receive_refuses_a_bad_timeout(timeout: Any) -> None:
    """`receive` with a bad timeout raises `UsageError`; no receive is left waiting."""
    client = make_client()
    with pytest.raises(UsageError, match="timeout"):
        client.receive(timeout=timeout)
    client._protocol.dataReceived(b"\x02\x00\x00\x00ok")
    got: list[bytes] = []
    client.receive().addCallback(got.append)
    assert got == [b"ok"]


@pytest.mark.reactorless
def test_use_after_close_fails_with_client_closed_and_close_is_idempotent() -> None:
    """
    After `close`, send and receive fail with `ClientClosed` (your side closed
    it, not the peer); calling close and abort again is harmless and each
    close Deferred fires once the connection is gone.
    """
    client = make_client()
    protocol = client._protocol
    first = client.close()
    second = client.close()
    client.abort()
    results: list[Any] = []
    client.send(b"x").addErrback(lambda f: results.append(f.value))
    client.receive().addErrback(lambda f: results.append(f.value))
    assert len(results) == 2
    assert all(isinstance(r, ClientClosed) for r in results)
    assert not first.called
    assert not second.called
    protocol.connectionLost(Failure(ConnectionDone()))
    assert first.called
    assert second.called
    third = client.close()
    assert third.called
    assert isinstance(success_of(client.when_closed()), ClientClosed)


@pytest_twisted.ensureDeferred
async def test_mistakes_do_not_break_a_live_connection(
    reactor: Any, echo_port: int
) -> None:
    """After every kind of rejected call, the same connection still echoes."""
    client = await connect(reactor, "127.0.0.1", echo_port)
    for bad in ["text", 1, None]:
        with pytest.raises(TypeError):
            client.send(bad)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        client.receive(timeout=-5)
    cancelled = client.receive()
    cancelled.cancel()
    cancelled.addErrback(lambda _: None)
    await client.send(b"still here")
    assert await client.receive(timeout=10) == b"still here"
    await client.close()
    await client.close()
    with pytest.raises(ClientClosed):
        await client.send(b"too late")


def call_from_a_thread(function: Callable[[], object]) -> BaseException | None:
    """Run ``function`` in a new thread; what it raised, or None."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=run, name="not-the-reactor")
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return raised[0] if raised else None


@pytest_twisted.ensureDeferred
async def test_calls_from_another_thread_raise_wrong_thread_error(
    reactor: Any,
) -> None:
    """
    While the reactor runs (here in the main thread), `send`, `receive`,
    `close`, `abort` and `when_closed` called from another thread raise
    `WrongThreadError` (a `UsageError`) naming the method, the thread and
    what to use instead, and change nothing: the client still works from
    the reactor's thread.
    """
    assert reactor.running
    protocol = ClientProtocol(reactor, 1024, None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    client = protocol.client
    calls: dict[str, Callable[[], object]] = {
        "send": lambda: client.send(b"x"),
        "receive": client.receive,
        "close": client.close,
        "abort": client.abort,
        "when_closed": client.when_closed,
    }
    for name, call in calls.items():
        error = call_from_a_thread(call)
        assert isinstance(error, WrongThreadError), name
        assert isinstance(error, UsageError)
        text = str(error)
        assert f"Client.{name}()" in text
        assert "'not-the-reactor'" in text
        assert "reactor.callFromThread" in text
        assert "compat.SocketClientThread" in text
    assert transport.value() == b""
    assert client.is_open
    client.send(b"x")
    assert transport.value() == b"\x01\x00\x00\x00x"
    protocol.dataReceived(b"\x02\x00\x00\x00ok")
    assert await client.receive() == b"ok"


def test_calls_from_another_thread_are_not_refused_without_a_running_reactor() -> None:
    """With no running reactor (here a `Clock`; or a reactor that has stopped,
    as when the drop-in's ``join`` closes clients after it), nothing else
    touches the client, so another thread may use it."""
    client = make_client()
    assert call_from_a_thread(lambda: client.send(b"x")) is None
    assert call_from_a_thread(client.abort) is None
    assert not client.is_open
