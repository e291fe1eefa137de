"""
`connect_tls`: a `Client` over TLS, the server's certificate verified.

Any Twisted TLS endpoint works with `connect_endpoint` (``"tls:host:port"``,
or ``wrapClientTLS(optionsForClientTLS(hostname, trust), endpoint)``), but
such an endpoint reports the connection as made before the TLS handshake: a
certificate that fails verification then shows up later, as the end of a
connection that seemed open. `connect_tls` waits for the handshake, so a bad
certificate or a wrong hostname is a `ConnectError` from the connect itself.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import (
    wrapClientTLS,
)
from twisted.internet.interfaces import (
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from ._checks import check_tls_available
from ._connect import _connect, tcp_endpoint
from ._errors import UsageError
from ._framing import DEFAULT_MAX_LENGTH
from ._names import address
from ._reactor_types import ConnectReactor, as_clock

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress, ITransport

    from ._client import Client

__all__ = ["connect_tls", "tls_endpoint"]

Trust = bytes | str | PathLike[str] | Any
"""PEM bytes, a path to a PEM file, a `Certificate` or an `IOpenSSLTrustRoot`."""

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


def connect_tls(
    reactor: ConnectReactor,
    host: str,
    port: int,
    *,
    hostname: str | None = None,
    trust: Trust | None = None,
    timeout: float | None = 30.0,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_buffered: int | None = None,
) -> Deferred[Client]:
    """
    Connect over TLS to ``host``:``port`` and return a Deferred `Client`.

    The server's certificate must be valid, trusted, and issued for
    ``hostname``; verification cannot be turned off here (build your own
    endpoint for that). The Deferred fires after the TLS handshake.

    Args:
        reactor: The reactor to run on.
        host: Name or IP address to connect to.
        hostname: The name the certificate must carry (default: ``host``).
        trust: The certificate authorities to trust: None for the system's
            (`platformTrust`), PEM bytes or the path of a PEM file holding
            one or more certificates (a private CA, or a self-signed server
            certificate), a `Certificate`, or any `IOpenSSLTrustRoot`.
        timeout: Seconds for the whole attempt, handshake included, or None.
        max_length, max_buffered: As for `connect`.

    Returns:
        A Deferred that fires with the `Client`, or fails with `ConnectError`
        (refused, unreachable, not found, or the TLS handshake failed: its
        ``reason`` is then the OpenSSL error) or `ConnectTimeout`.

    Raises:
        UsageError: bad arguments, or TLS support (pyOpenSSL and
            service-identity: ``pip install twisted[tls]``) is missing.
    """
    endpoint = tls_endpoint(reactor, host, port, hostname=hostname, trust=trust)
    return _connect(
        as_clock(reactor),
        endpoint,
        f"tls:{address(host, port)}",
        timeout=timeout,
        max_length=max_length,
        max_buffered=max_buffered,
    )


def tls_endpoint(
    reactor: ConnectReactor,
    host: str,
    port: int,
    *,
    hostname: str | None = None,
    trust: Trust | None = None,
) -> IStreamClientEndpoint:
    """
    A TLS client endpoint whose connections count as made after the handshake.

    For `connect_endpoint` and `ReconnectingClient` (`connect_tls` uses it):
    a certificate that fails verification fails the attempt itself. The
    arguments are those of `connect_tls`.

    Raises:
        UsageError: bad arguments, or TLS support is missing.
    """
    endpoint = tcp_endpoint(reactor, host, port)
    name = host if hostname is None else hostname
    if not isinstance(name, str) or not name:
        raise UsageError(f"hostname must be a non-empty str, not {hostname!r}")
    check_tls_available()
    from twisted.internet.ssl import optionsForClientTLS

    options = optionsForClientTLS(name, trustRoot=_trust_root(trust))
    return _AfterHandshake(wrapClientTLS(options, endpoint), address(host, port))


def _trust_root(trust: Trust | None) -> Any:
    """The trust root `optionsForClientTLS` takes, from what the caller gave."""
    from twisted.internet.ssl import (
        Certificate,
        platformTrust,
        trustRootFromCertificates,
    )

    if trust is None:
        return platformTrust()
    if isinstance(trust, str | PathLike):
        try:
            trust = Path(trust).read_bytes()
        except OSError as error:
            raise UsageError(
                f"cannot read the trusted certificates: {error}"
            ) from error
    if isinstance(trust, bytes):
        found = _PEM_CERTIFICATE.findall(trust)
        if not found:
            raise UsageError("trust holds no PEM certificate (BEGIN CERTIFICATE)")
        return trustRootFromCertificates([Certificate.loadPEM(pem) for pem in found])
    return trust


@implementer(IStreamClientEndpoint)
class _AfterHandshake:
    """A TLS endpoint whose connections count as made once the handshake is done."""

    def __init__(self, tls: IStreamClientEndpoint, address: str) -> None:
        self._tls = tls
        self.address = address
        """``host:port``, as error texts show it."""

    def __repr__(self) -> str:
        return f"<TLS endpoint {self.address} (connected after the handshake)>"

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect; after the handshake, fire with the protocol ``factory`` built
        (as endpoints do), or fail with why the handshake did not happen.
        """
        connected: Deferred[Any] = self._tls.connect(_HandshakeFactory(factory))
        ready: Deferred[IProtocol] = connected.addCallback(_handshake_of)
        return ready


def _handshake_of(protocol: Any) -> Deferred[IProtocol]:
    handshake: Deferred[IProtocol] = protocol.handshake
    return handshake


@implementer(IProtocolFactory)
class _HandshakeFactory:
    """Builds what ``factory`` builds, wrapped in `_UntilHandshake`."""

    def __init__(self, factory: IProtocolFactory) -> None:
        self._factory = factory

    def buildProtocol(self, addr: IAddress) -> IProtocol | None:
        """The wrapped factory's protocol, inside an `_UntilHandshake`."""
        built = self._factory.buildProtocol(addr)
        return _UntilHandshake(built) if built is not None else None

    def doStart(self) -> None:
        """Pass on to the wrapped factory."""
        self._factory.doStart()

    def doStop(self) -> None:
        """Pass on to the wrapped factory."""
        self._factory.doStop()


@implementer(IProtocol, IHandshakeListener)
class _UntilHandshake:
    """Passes everything to the protocol it wraps; tells when the handshake ends."""

    def __init__(self, wrapped: IProtocol) -> None:
        self.wrapped = wrapped
        self.transport: ITransport | None = None
        self.handshake: Deferred[IProtocol] = Deferred(self._abort)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def makeConnection(self, transport: ITransport) -> None:
        """
        Connect the wrapped protocol to the TLS transport.

        A `ClientProtocol` that could not be set up (its ``setup_failure``,
        the connection aborted) fails the wait at once, with that failure.
        """
        self.transport = transport
        self.wrapped.makeConnection(transport)
        failure: Failure | None = getattr(self.wrapped, "setup_failure", None)
        if failure is not None and not self.handshake.called:
            self.handshake.errback(failure)

    def connectionMade(self) -> None:
        """Nothing: `makeConnection` already told the wrapped protocol."""

    def dataReceived(self, data: bytes) -> None:
        """Hand decrypted bytes to the wrapped protocol."""
        self.wrapped.dataReceived(data)

    def handshakeCompleted(self) -> None:
        """The certificate was verified: the connection is ready."""
        if not self.handshake.called:
            self.handshake.callback(self.wrapped)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the wait if the handshake never completed, then pass it on."""
        if not self.handshake.called:
            self.handshake.errback(reason)
        self.wrapped.connectionLost(reason)

    def _abort(self, _: Deferred[IProtocol]) -> None:
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]
