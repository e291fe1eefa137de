"""``twisted_client.compat.threaded`` (the classic thread) under a short name."""

from twisted_client.compat.threaded import (
    NO_TLS,
    ClientCommand,
    ClientReply,
    SocketClientThread,
)

__all__ = ["NO_TLS", "ClientCommand", "ClientReply", "SocketClientThread"]
