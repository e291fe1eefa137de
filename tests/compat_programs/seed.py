"""
The seed demo's exchange, shared by the compat programs and tests: its four
commands, and a reply as the row a program prints in its JSON report.
"""

from __future__ import annotations

from typing import Any

from twisted_client.compat import ClientCommand, ClientReply


def seed_commands(
    port: int, host: str = "localhost", message: bytes = b"hello"
) -> list[ClientCommand]:
    """CONNECT to ``(host, port)``, SEND ``message``, RECEIVE, CLOSE: the
    seed demo's "Do it!" button."""
    return [
        ClientCommand(ClientCommand.CONNECT, (host, port)),
        ClientCommand(ClientCommand.SEND, message),
        ClientCommand(ClientCommand.RECEIVE),
        ClientCommand(ClientCommand.CLOSE),
    ]


def reply_row(reply: ClientReply) -> list[Any]:
    """``[type, data]`` for a JSON report, with bytes data decoded."""
    data = reply.data.decode() if isinstance(reply.data, bytes) else reply.data
    return [reply.type, data]
