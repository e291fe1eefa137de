"""`connect` and `connect_endpoint`: from an address or endpoint to a `Client`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    clientFromString,
)
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.python.failure import Failure

from ._checks import check_seconds, check_tls_available
from ._client import Client, ClientProtocol, client_factory, set_up
from ._errors import ConnectError, ConnectTimeout, UsageError
from ._framing import DEFAULT_MAX_LENGTH
from ._names import address, endpoint_name
from ._reactor_types import ConnectReactor, as_clock

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

__all__ = ["connect", "connect_endpoint", "endpoint_from", "tcp_endpoint"]


def connect(
    reactor: ConnectReactor,
    host: str,
    port: int,
    *,
    timeout: float | None = 30.0,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_buffered: int | None = None,
) -> Deferred[Client]:
    """
    Connect over TCP to ``host``:``port`` and return a Deferred `Client`.

    ``host`` may be a name (resolved, IPv4 and IPv6 tried as in RFC 8305) or an
    IP address literal (connected to directly, with no lookup).

    Args:
        reactor: The reactor to run on.
        timeout: Seconds for the whole attempt (lookup included), or None.
        max_length: The longest message accepted from the peer (default 16 MiB,
            at most 4 GiB - 1); a longer announced length is `MessageTooLong`.
        max_buffered: Unread bytes at which reading pauses, each unread
            message counted for its length plus `MESSAGE_OVERHEAD` (default:
            four times ``max_length``, at least 1 MiB).

    Returns:
        A Deferred that fires with the connected `Client`, or fails with
        `ConnectError` (refused, unreachable, name not found) or
        `ConnectTimeout`. Cancelling it abandons the attempt.
    """
    endpoint = tcp_endpoint(reactor, host, port)
    return _connect(
        as_clock(reactor),
        endpoint,
        address(host, port),
        timeout=timeout,
        max_length=max_length,
        max_buffered=max_buffered,
    )


def tcp_endpoint(
    reactor: ConnectReactor, host: str, port: int
) -> IStreamClientEndpoint:
    """
    The TCP endpoint for ``host``:``port``, after checking both.

    An IP address literal is dialled directly, with no lookup; a name goes
    through `HostnameEndpoint` (IPv4 and IPv6 tried as in RFC 8305). The
    endpoint sets no timer of its own: the caller's timeout (`connect`'s,
    `connect_endpoint`'s, `ReconnectingClient`'s) covers the whole attempt,
    so that one timer runs per attempt rather than two.
    """
    if not isinstance(host, str) or not host:
        raise UsageError(f"host must be a non-empty str, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise UsageError(f"port must be an int from 1 to 65535, not {port!r}")
    # timeout=None: Twisted's connectors then schedule no timer (the stubs
    # say float, the code checks for None).
    if isIPAddress(host):
        return TCP4ClientEndpoint(reactor, host, port, timeout=None)  # type: ignore[arg-type]
    if isIPv6Address(host):
        return TCP6ClientEndpoint(reactor, host, port, timeout=None)
    return HostnameEndpoint(reactor, host, port, timeout=None)  # type: ignore[arg-type]


def connect_endpoint(
    reactor: IReactorTime,
    endpoint: IStreamClientEndpoint | str,
    *,
    timeout: float | None = 30.0,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_buffered: int | None = None,
) -> Deferred[Client]:
    """
    Connect through any Twisted client endpoint and return a Deferred `Client`.

    ``endpoint`` is an `IStreamClientEndpoint` or an endpoint description
    string for `twisted.internet.endpoints.clientFromString`, such as
    ``"tcp:host=example.com:port=50007"``, ``"tls:example.com:50007"`` or
    ``"unix:path=/run/app.sock"``: TLS, IPv6 and UNIX sockets come from
    Twisted. The other arguments are those of `connect`.
    """
    chosen, description = endpoint_from(reactor, endpoint)
    return _connect(
        reactor,
        chosen,
        description,
        timeout=timeout,
        max_length=max_length,
        max_buffered=max_buffered,
    )


_TLS_PREFIXES = ("tls", "ssl")
"""The `clientFromString` endpoint types that need Twisted's TLS support."""


def endpoint_from(
    reactor: IReactorTime, endpoint: IStreamClientEndpoint | str
) -> tuple[IStreamClientEndpoint, str]:
    """
    The endpoint to connect through, and how errors name it.

    A string is parsed by `clientFromString`; anything else must provide
    `IStreamClientEndpoint`. Either mistake is a `UsageError`, and so is a
    ``tls:`` or ``ssl:`` description where TLS support is not installed.
    """
    if isinstance(endpoint, str):
        if endpoint.partition(":")[0].strip().lower() in _TLS_PREFIXES:
            check_tls_available()
        try:
            return clientFromString(reactor, endpoint), endpoint
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(
                f"bad endpoint description {endpoint!r}: {error}"
            ) from error
    if IStreamClientEndpoint.providedBy(endpoint):
        return endpoint, endpoint_name(endpoint)
    raise UsageError(
        f"endpoint must be an IStreamClientEndpoint or str, not {endpoint!r}"
    )


def _connect(
    reactor: IReactorTime,
    endpoint: IStreamClientEndpoint,
    destination: str,
    *,
    timeout: float | None,
    max_length: int,
    max_buffered: int | None,
) -> Deferred[Client]:
    check_seconds("timeout", timeout, allow_none=True, positive=True)
    factory = client_factory(reactor, max_length, max_buffered)
    attempt = cast("Deferred[ClientProtocol]", endpoint.connect(factory))
    # One timer and one plain callback: with Deferred.addTimeout and a closure
    # per step, an attempt in flight held 45 GC-tracked objects (now 21), and
    # with a thousand simultaneous attempts the collector kept walking them.
    timer = None if timeout is None else reactor.callLater(timeout, attempt.cancel)
    return attempt.addBoth(_settle, timer, destination, timeout)


def _settle(
    result: ClientProtocol | Failure,
    timer: IDelayedCall | None,
    destination: str,
    timeout: float | None,
) -> Client | Failure:
    """
    The `Client` of a finished attempt, or its failure as a `ClientError`.

    Stops the attempt's ``timer``. A cancellation is `ConnectTimeout` if the
    timer made it, `CancelledError` if the caller did; any other failure is
    a `ConnectError` naming ``destination``.
    """
    # Only this function cancels the timer: if it is no longer active, it ran.
    timed_out = timer is not None and not timer.active()
    if timer is not None and not timed_out:
        timer.cancel()
    if not isinstance(result, Failure):
        result = set_up(result)
        if not isinstance(result, Failure):
            return result.client
    if result.check(CancelledError, ConnectingCancelledError):
        if timed_out:
            assert timeout is not None
            return Failure(ConnectTimeout(destination, timeout))
        # Twisted's endpoints report a cancelled attempt as
        # ConnectingCancelledError; callers expect CancelledError.
        return Failure(CancelledError(f"connecting to {destination} was cancelled"))
    if result.check(ConnectError):
        return result
    return Failure(ConnectError(destination, result.value))
