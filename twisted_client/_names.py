"""How error texts name what was connected to: ``host:port``, ``tls:host:port``, ..."""

from __future__ import annotations

from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    UNIXClientEndpoint,
)

__all__ = ["address", "endpoint_name"]


def address(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets (``[::1]:443``)."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def endpoint_name(endpoint: object) -> str:
    """
    ``tcp:host:port``, ``tls:host:port`` or ``unix:path`` for Twisted's client
    endpoints and ours (`tls_endpoint`, ``wrapClientTLS``); ``repr`` otherwise.

    Reads the endpoints' private attributes, since Twisted gives them no
    public name; an endpoint without them falls back to its ``repr``.
    """
    from ._tls import _AfterHandshake

    if isinstance(endpoint, _AfterHandshake):
        return f"tls:{endpoint.address}"
    if isinstance(endpoint, TCP4ClientEndpoint | TCP6ClientEndpoint):
        return _or_repr(endpoint, "tcp", "_host", "_port")
    if isinstance(endpoint, HostnameEndpoint):
        return _or_repr(endpoint, "tcp", "_hostText", "_port")
    if isinstance(endpoint, UNIXClientEndpoint):
        path = getattr(endpoint, "_path", None)
        return f"unix:{path}" if isinstance(path, str) else repr(endpoint)
    wrapped = getattr(endpoint, "_wrappedEndpoint", None)  # wrapClientTLS's
    if wrapped is not None:
        inner = endpoint_name(wrapped)
        if inner.startswith("tcp:"):
            return f"tls:{inner.removeprefix('tcp:')}"
    return repr(endpoint)


def _or_repr(
    endpoint: object, kind: str, host_attribute: str, port_attribute: str
) -> str:
    host = getattr(endpoint, host_attribute, None)
    port = getattr(endpoint, port_attribute, None)
    if isinstance(host, str) and isinstance(port, int):
        return f"{kind}:{address(host, port)}"
    return repr(endpoint)
