"""Small things users tripped on: ``async with``, TLS without its libraries,
endpoint names in errors, `ConnectTimeout`'s arguments."""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Awaitable, Callable

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock

from twisted_client import (
    Client,
    ClientClosed,
    ConnectTimeout,
    UsageError,
    connect_endpoint,
    connect_tls,
    tls_endpoint,
)
from twisted_client.testing import MemoryServer, echo

from .helpers import assert_no_result, connected, failure_of, success_of, tls_missing


def in_async_with(
    block: Callable[[Client], Awaitable[object]],
) -> tuple[MemoryServer, Client, Deferred[None]]:
    """A client connected to an echo `MemoryServer`, and ``async with client``
    running ``block(client)`` inside: the server, the client, and a Deferred
    firing once the ``async with`` statement is done."""
    server = MemoryServer(echo)
    client, _ = connected(server)

    async def run() -> None:
        async with client as entered:
            assert entered is client
            await block(client)

    return server, client, Deferred.fromCoroutine(run())


@pytest.mark.reactorless
def test_async_with_gives_the_client_and_closes_it_on_exit() -> None:
    seen: list[bytes] = []

    async def talk(client: Client) -> None:
        await client.send(b"ping")
        seen.append(await client.receive())

    server, client, done = in_async_with(talk)
    while server.flush():
        pass
    success_of(done)
    assert not client.is_open
    assert seen == [b"ping"]
    assert isinstance(success_of(client.when_closed()), ClientClosed)


@pytest.mark.reactorless
def test_async_with_closes_on_an_error_and_lets_it_through() -> None:
    async def fail_inside(client: Client) -> None:
        raise KeyError("from the block")

    server, client, done = in_async_with(fail_inside)
    server.flush()
    failure = failure_of(done, KeyError)
    assert failure.value.args == ("from the block",)
    assert not client.is_open


@pytest.mark.reactorless
def test_async_with_waits_until_the_connection_is_gone() -> None:
    async def nothing(client: Client) -> None:
        pass

    server, _, done = in_async_with(nothing)
    assert_no_result(done)  # the close is not through the memory transport yet
    server.flush()
    success_of(done)


@pytest.mark.reactorless
@pytest.mark.parametrize("kind", ["tls", "ssl", " TLS"])
def test_a_tls_description_without_tls_support_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Without pyOpenSSL Twisted's parser fails with a NameError; we say what to do."""
    with tls_missing(monkeypatch, "twisted.internet.ssl"):
        connect_endpoint(MemoryReactorClock(), f"{kind}:example.com:443")


@pytest.mark.reactorless
def test_connect_tls_without_tls_support_says_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tls_missing(monkeypatch):
        connect_tls(MemoryReactorClock(), "example.com", 443)


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("host", "shown"), [("example.com", "example.com:443"), ("::1", "[::1]:443")]
)
def test_a_tls_endpoint_is_named_by_host_and_port(host: str, shown: str) -> None:
    endpoint = tls_endpoint(MemoryReactorClock(), host, 443)
    assert repr(endpoint) == f"<TLS endpoint {shown} (connected after the handshake)>"


def test_connect_tls_errors_name_host_and_port() -> None:
    reactor = MemoryReactorClock()
    attempt = connect_tls(reactor, "::1", 443, timeout=1)
    reactor.advance(1)
    error = failure_of(attempt, ConnectTimeout).value
    assert error.destination == "tls:[::1]:443"
    assert str(error) == "connecting to tls:[::1]:443 timed out after 1 s"


@pytest.mark.parametrize(
    "package",
    [
        "twisted_client",
        pytest.param("twisted_client.qt", marks=pytest.mark.qt),
        "twisted_client.compat",
        "compat",
    ],
)
def test_public_classes_name_the_public_package(package: str) -> None:
    """Tracebacks show ``twisted_client.ConnectError``, not its private module."""
    module = importlib.import_module(package)
    private = [
        f"{name}: {value.__module__}"
        for name in module.__all__
        if isinstance(value := getattr(module, name), type)
        and value.__module__.startswith(f"{package}._")
    ]
    assert private == []


@pytest.mark.reactorless
def test_a_published_exception_still_pickles() -> None:
    error = pickle.loads(pickle.dumps(UsageError("bad")))
    assert type(error) is UsageError
    assert error.args == ("bad",)
    assert UsageError.__module__ == "twisted_client"
