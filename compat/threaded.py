"""``twisted_client.compat.threaded`` (the classic thread) under a short name."""

from twisted_client.compat.threaded import (
    ClientCommand,
    ClientReply,
    SocketClientThread,
)

__all__ = ["ClientCommand", "ClientReply", "SocketClientThread"]
