"""
A Twisted client for 4-byte little-endian length-prefixed messages.

Connect with `connect` (or `connect_endpoint` for TLS, IPv6, UNIX sockets and
any other Twisted endpoint); the `Client` it gives sends and receives whole
messages through Deferreds that can be awaited, cancelled and timed out. The
reactor is always passed in. `twisted_client.qt` runs it inside a Qt
application; `asyncio_reactor` and `as_future` use it from an asyncio program;
`twisted_client.server` is a server that speaks the same format.
"""

from ._asyncio import as_future, asyncio_reactor
from ._checks import default_max_buffered
from ._client import MESSAGE_OVERHEAD, Client, ClientProtocol
from ._connect import connect, connect_endpoint
from ._errors import (
    AsyncioReactorError,
    ClientClosed,
    ClientError,
    ClientTimeout,
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    MessageTooLong,
    ReactorShutdown,
    ReceiveTimeout,
    RemoteProtocolError,
    SignalTimeout,
    UsageError,
    WrongThreadError,
)
from ._framing import (
    DEFAULT_MAX_LENGTH,
    HEADER_SIZE,
    MAX_PREFIX_LENGTH,
    LengthPrefixedProtocol,
    frame,
)
from ._public import publish
from ._reconnect import ReconnectingClient
from ._state import ConnectionState
from ._tls import connect_tls, tls_endpoint

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "HEADER_SIZE",
    "MAX_PREFIX_LENGTH",
    "MESSAGE_OVERHEAD",
    "AsyncioReactorError",
    "Client",
    "ClientClosed",
    "ClientError",
    "ClientProtocol",
    "ClientTimeout",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionClosed",
    "ConnectionState",
    "LengthPrefixedProtocol",
    "MessageTooLong",
    "ReactorShutdown",
    "ReceiveTimeout",
    "ReconnectingClient",
    "RemoteProtocolError",
    "SignalTimeout",
    "UsageError",
    "WrongThreadError",
    "as_future",
    "asyncio_reactor",
    "connect",
    "connect_endpoint",
    "connect_tls",
    "default_max_buffered",
    "frame",
    "tls_endpoint",
]

publish(__name__, globals(), __all__)
