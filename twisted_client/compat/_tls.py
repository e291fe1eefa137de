"""
TLS for the drop-in: ``SocketClientThread(tls=True)`` or ``tls=TLSOptions(...)``.

A CONNECT then connects with `twisted_client.connect_tls`: the same
verification as there (the server's certificate must be valid, trusted and
issued for the host name; it cannot be turned off), and the reply comes
after the TLS handshake. A handshake that fails is an ERROR reply saying why
in words (not trusted, wrong name), not OpenSSL's error list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict, cast

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from twisted_client import Client, ConnectError, UsageError, connect, connect_tls
from twisted_client._checks import check_tls_available
from twisted_client._tls import Trust

__all__ = ["Opener", "TLSOptions", "opener_for", "tls_options"]


class TLSOptions(TypedDict, total=False):
    """
    How the drop-in checks the server's certificate (every key may be left out).

    Keys:
        hostname: The name the certificate must carry (default: the host of
            each CONNECT).
        trust: The certificate authorities to trust: PEM bytes, the path of a
            PEM file (a private CA, or a self-signed server certificate), a
            `twisted.internet.ssl.Certificate` or any ``IOpenSSLTrustRoot``;
            default: the system's.
    """

    hostname: str
    trust: Trust


_KEYS = frozenset(TLSOptions.__annotations__)

Opener = Callable[..., Deferred[Client]]
"""``opener(reactor, host, port, *, timeout, max_length)``: a Deferred `Client`."""


def tls_options(tls: object) -> TLSOptions | None:
    """
    ``tls`` as the constructor takes it, checked: None when TLS is not wanted.

    Raises:
        UsageError: ``tls`` is not a bool, None or a mapping of the
            `TLSOptions` keys, a key is unknown, the hostname is not a
            non-empty str, or TLS support (pyOpenSSL, service-identity) is
            not installed.
    """
    if tls is None or tls is False:
        return None
    if tls is True:
        options: TLSOptions = {}
    elif isinstance(tls, Mapping):
        unknown = sorted(str(key) for key in tls if key not in _KEYS)
        if unknown:
            raise UsageError(
                f"tls: unknown option {', '.join(unknown)}; the options are "
                f"{', '.join(sorted(_KEYS))}"
            )
        options = cast(TLSOptions, dict(tls))
    else:
        raise UsageError(
            f"tls must be True, False, None or a dict of TLS options, not {tls!r}"
        )
    hostname = options.get("hostname")
    if "hostname" in options and (not isinstance(hostname, str) or not hostname):
        raise UsageError(f"tls: hostname must be a non-empty str, not {hostname!r}")
    check_tls_available()
    return options


def opener_for(tls: TLSOptions | None) -> Opener:
    """`connect`, or a `connect_tls` with ``tls``'s options and clear failures."""
    if tls is None:
        return connect

    def open_tls(
        reactor: Any, host: str, port: int, **options: Any
    ) -> Deferred[Client]:
        hostname = tls.get("hostname", host)
        attempt = connect_tls(
            reactor, host, port, hostname=hostname, trust=tls.get("trust"), **options
        )
        return attempt.addErrback(_explain_handshake, hostname)

    return open_tls


class HandshakeFailed(Exception):
    """The TLS handshake failed; the text says why, in words."""


def _explain_handshake(failure: Failure, hostname: str) -> Failure:
    """A `ConnectError` whose reason is a TLS failure gets a readable reason."""
    error = failure.value
    if isinstance(error, ConnectError):
        text = handshake_error_text(error.reason, hostname)
        if text is not None:
            return Failure(ConnectError(error.destination, HandshakeFailed(text)))
    return failure


def handshake_error_text(reason: object, hostname: str) -> str | None:
    """What went wrong in the TLS handshake, or None if ``reason`` is not TLS's."""
    from OpenSSL.SSL import Error as OpenSSLError
    from service_identity import VerificationError

    if isinstance(reason, VerificationError):
        return (
            f"TLS: the server's certificate is not issued for {hostname!r}; "
            "connect by a name it carries, or name it with tls={'hostname': ...}"
        )
    if not isinstance(reason, OpenSSLError):
        return None
    details = _openssl_reasons(reason)
    if "certificate verify failed" in details:
        return (
            "TLS: the server's certificate is not trusted (certificate verify "
            "failed); trust the CA that issued it with tls={'trust': 'ca.pem'}"
        )
    return f"TLS handshake failed: {'; '.join(details) or reason!r}"


def _openssl_reasons(error: BaseException) -> list[str]:
    """The reason texts of an OpenSSL error (its args: [(lib, function, reason)])."""
    found = error.args[0] if error.args else []
    if not isinstance(found, list):
        return [str(found)]
    return [str(item[-1]) if isinstance(item, tuple) else str(item) for item in found]
