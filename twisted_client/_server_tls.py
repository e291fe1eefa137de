"""The demo server's TLS: its certificate and key, as ``listenSSL`` takes them."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from ._checks import check_tls_available
from ._errors import UsageError

__all__ = ["Pem", "ServerTLS", "server_tls_options"]

Pem = bytes | str | PathLike[str]
"""PEM bytes, or the path of a PEM file."""

ServerTLS = tuple[Pem, Pem] | Any
"""A ``(certificate, key)`` pair of `Pem`, or a Twisted server TLS context factory."""


def server_tls_options(tls: ServerTLS) -> Any:
    """
    The context factory ``reactor.listenSSL`` takes, from what `listen` was given.

    A ``(certificate, key)`` pair (PEM bytes or paths; the two may be the same
    file) gives the options of that `PrivateCertificate`; anything else is
    taken to be a context factory already (`CertificateOptions`, ...).

    Raises:
        UsageError: a file that cannot be read, a PEM without a certificate
            or a key, a key that does not match the certificate, or TLS
            support missing.
    """
    check_tls_available()
    if not isinstance(tls, tuple):
        return tls
    if len(tls) != 2:
        raise UsageError(f"tls must be a (certificate, key) pair, not {tls!r}")
    from OpenSSL.crypto import Error as CryptoError
    from OpenSSL.SSL import Error as SSLError
    from twisted.internet.ssl import PrivateCertificate

    certificate, key = (_read("certificate", pem) for pem in tls)
    try:
        return PrivateCertificate.loadPEM(key + b"\n" + certificate).options()
    except (CryptoError, SSLError, ValueError) as error:
        raise UsageError(
            f"tls: cannot use this certificate and key (a PEM certificate and "
            f"its private key are needed): {error}"
        ) from error


def _read(what: str, pem: Pem) -> bytes:
    if isinstance(pem, bytes):
        return pem
    if not isinstance(pem, str | PathLike):
        raise UsageError(f"tls: the {what} must be PEM bytes or a path, not {pem!r}")
    try:
        return Path(pem).read_bytes()
    except OSError as error:
        raise UsageError(f"tls: cannot read {pem}: {error}") from error
