"""How error texts name endpoints: tcp:host:port, tls:host:port, unix:path."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    UNIXClientEndpoint,
    wrapClientTLS,
)
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.testing import MemoryReactorClock
from zope.interface import implementer

from twisted_client import ConnectTimeout, connect_endpoint, tls_endpoint
from twisted_client._names import address, endpoint_name

from .helpers import failure_of

REACTOR = MemoryReactorClock()


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("host", "port", "shown"),
    [("example.com", 80, "example.com:80"), ("::1", 443, "[::1]:443")],
)
def test_an_address_puts_ipv6_in_brackets(host: str, port: int, shown: str) -> None:
    assert address(host, port) == shown


def _tls_of(endpoint: Any) -> Any:
    from twisted.internet.ssl import optionsForClientTLS

    return wrapClientTLS(optionsForClientTLS("example.com"), endpoint)


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: TCP4ClientEndpoint(REACTOR, "10.0.0.1", 80), "tcp:10.0.0.1:80"),
        (lambda: TCP6ClientEndpoint(REACTOR, "::1", 80), "tcp:[::1]:80"),
        (lambda: HostnameEndpoint(REACTOR, b"example.com", 80), "tcp:example.com:80"),
        (lambda: UNIXClientEndpoint(REACTOR, "/run/app.sock"), "unix:/run/app.sock"),
        (lambda: tls_endpoint(REACTOR, "::1", 443), "tls:[::1]:443"),
        (
            lambda: _tls_of(TCP4ClientEndpoint(REACTOR, "10.0.0.1", 443)),
            "tls:10.0.0.1:443",
        ),
    ],
    ids=["tcp4", "tcp6", "hostname", "unix", "tls_endpoint", "wrapClientTLS"],
)
def test_twisted_and_our_endpoints_are_named_by_kind_and_address(
    build: Any, name: str
) -> None:
    assert endpoint_name(build()) == name


@implementer(IStreamClientEndpoint)
class _Custom:
    def __repr__(self) -> str:
        return "<my endpoint>"

    def connect(self, factory: Any) -> Any:  # pragma: no cover - never called
        raise NotImplementedError


@pytest.mark.reactorless
def test_another_endpoint_is_named_by_its_repr() -> None:
    assert endpoint_name(_Custom()) == "<my endpoint>"


def test_connect_endpoint_errors_name_the_endpoint() -> None:
    """An endpoint object's timeout says where, not ``<... object at 0x...>``."""
    reactor = MemoryReactorClock()
    attempt = connect_endpoint(
        reactor, TCP4ClientEndpoint(reactor, "10.0.0.1", 80), timeout=1
    )
    reactor.advance(1)
    error = failure_of(attempt, ConnectTimeout).value
    assert str(error) == "connecting to tcp:10.0.0.1:80 timed out after 1 s"
