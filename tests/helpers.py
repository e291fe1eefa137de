"""
Helpers shared by the test modules (fixtures live in `tests/conftest.py`).

* The compat drop-in's reply kinds and command kinds under short names, and
  `Adapter`: a started `compat.SocketClientThread` whose replies arrive in a
  `DeferredQueue`, so a test awaits them instead of polling.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import DeferredQueue

from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread

SUCCESS, ERROR = ClientReply.SUCCESS, ClientReply.ERROR
CONNECT, SEND, RECEIVE, CLOSE = (
    ClientCommand.CONNECT,
    ClientCommand.SEND,
    ClientCommand.RECEIVE,
    ClientCommand.CLOSE,
)


class Adapter:
    """A started drop-in whose replies arrive in a DeferredQueue (no polling)."""

    def __init__(self, reactor: Any, **options: Any) -> None:
        self.replies: DeferredQueue[ClientReply] = DeferredQueue()
        self.thread = SocketClientThread(
            reactor=reactor, on_reply=self.replies.put, **options
        )
        self.thread.start()

    def put(self, kind: int, data: Any = None) -> None:
        """Queue one command, as the classic thread's callers do."""
        self.thread.cmd_q.put(ClientCommand(kind, data))

    async def reply(self) -> tuple[int, Any]:
        """The next reply as ``(type, data)``."""
        got = await self.replies.get()
        return got.type, got.data

    async def exchange(self, *commands: tuple[Any, ...]) -> list[tuple[int, Any]]:
        """Queue every command at once; await one reply per command."""
        for each in commands:
            self.put(*each)
        return [await self.reply() for _ in commands]

    def native(self) -> Any:
        """The Twisted `Client` under it (to look at its transport and buffers)."""
        return self.thread._session._client  # type: ignore[union-attr]
