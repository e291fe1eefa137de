"""Small things users tripped on: ``async with``, TLS without its libraries,
endpoint names in errors, `ConnectTimeout`'s arguments."""

from __future__ import annotations

import importlib
import pickle
import sys

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

from .helpers import assert_no_result, failure_of, success_of


def _connected(server: MemoryServer) -> Client:
    connecting = connect_endpoint(server.reactor, server.endpoint)
    server.accept()
    return success_of(connecting)


@pytest.mark.reactorless
def test_async_with_gives_the_client_and_closes_it_on_exit() -> None:
    server = MemoryServer(echo)
    client = _connected(server)
    seen: list[bytes] = []

    async def talk() -> None:
        async with client as entered:
            assert entered is client
            await entered.send(b"ping")
            seen.append(await entered.receive())
        assert not client.is_open

    done = Deferred.fromCoroutine(talk())
    while server.flush():
        pass
    success_of(done)
    assert seen == [b"ping"]
    assert isinstance(success_of(client.when_closed()), ClientClosed)


@pytest.mark.reactorless
def test_async_with_closes_on_an_error_and_lets_it_through() -> None:
    server = MemoryServer(echo)
    client = _connected(server)

    async def fail_inside() -> None:
        async with client:
            raise KeyError("from the block")

    done = Deferred.fromCoroutine(fail_inside())
    server.flush()
    failure = failure_of(done, KeyError)
    assert failure.value.args == ("from the block",)
    assert not client.is_open


@pytest.mark.reactorless
def test_async_with_waits_until_the_connection_is_gone() -> None:
    server = MemoryServer(echo)
    client = _connected(server)

    async def block() -> None:
        async with client:
            pass

    done = Deferred.fromCoroutine(block())
    assert_no_result(done)  # the close is not through the memory transport yet
    server.flush()
    success_of(done)


@pytest.mark.reactorless
@pytest.mark.parametrize("kind", ["tls", "ssl", " TLS"])
def test_a_tls_description_without_tls_support_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Without pyOpenSSL Twisted's parser fails with a NameError; we say what to do."""
    monkeypatch.setitem(sys.modules, "twisted.internet.ssl", None)
    with pytest.raises(UsageError, match=r"pip install twisted\[tls\]"):
        connect_endpoint(MemoryReactorClock(), f"{kind}:example.com:443")


@pytest.mark.reactorless
def test_connect_tls_without_tls_support_says_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "service_identity", None)
    with pytest.raises(UsageError, match=r"pip install twisted\[tls\]"):
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
