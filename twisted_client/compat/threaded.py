"""
The classic socket client thread, ported to Python 3 and otherwise unchanged.

This is the baseline the benchmarks compare against, so it is kept faithful:
the 100 ms ``cmd_q.get`` poll, the handler table, ``sendall``, the ``recv``
loop and the reply texts are the classic thread's. The only changes are what Python 3
needs: messages are bytes, ``Queue`` is the ``queue`` module, and each
instance gets a queue of its own. Do not improve it; use
`compat.SocketClientThread` (the same interface on the Twisted reactor).
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
from typing import Any

from twisted_client import UsageError

from ._messages import ClientCommand, ClientReply

__all__ = ["NO_TLS", "ClientCommand", "ClientReply", "SocketClientThread"]

NO_TLS = (
    "compat.threaded.SocketClientThread, the classic thread kept as the "
    "benchmarks' baseline, has no TLS: use twisted_client.compat."
    "SocketClientThread(tls=...), the drop-in, for TLS"
)
"""Why the classic thread refuses ``tls=``: it speaks plain TCP only."""


class SocketClientThread(threading.Thread):
    """
    Implements the threading.Thread interface (start, join, etc.) and
    can be controlled via the cmd_q Queue attribute. Replies are
    placed in the reply_q Queue attribute.

    Known flaws, kept on purpose (the contract lists them; the drop-in
    `compat.SocketClientThread` fixes each one):

    * A SEND, RECEIVE or CLOSE before CONNECT raises ``AttributeError`` in the
      thread, which ends it silently: later commands are never answered. So
      does any other unexpected exception: an unknown command type
      (``KeyError``), ``str`` data for SEND (``TypeError``), bad CONNECT data.
    * ``join()`` takes up to 100 ms, and hangs for ever while a RECEIVE waits
      for data that never comes (the thread is blocked in ``recv``).
    * The thread wakes up ten times a second while idle.
    * RECEIVE trusts the length prefix: a peer that announces 4 GiB makes it
      try to collect 4 GiB.
    * Messages the server sends unasked wait in the kernel until a RECEIVE
      happens to read them; nothing tells the program they arrived.
    * A CONNECT while connected opens a second socket and leaks the first.
    * Every client is one more thread: a thousand connections are a thousand
      threads.
    * No TLS: ``tls=`` (the only addition to the constructor) raises
      `UsageError` saying so, rather than quietly connecting in clear.
    """

    def __init__(
        self,
        cmd_q: queue.Queue[Any] | None = None,
        reply_q: queue.Queue[Any] | None = None,
        *,
        tls: object = None,
    ) -> None:
        if tls is not None and tls is not False:
            raise UsageError(NO_TLS)
        super().__init__()
        self.cmd_q: queue.Queue[Any] = cmd_q or queue.Queue()
        self.reply_q: queue.Queue[Any] = reply_q or queue.Queue()
        self.alive = threading.Event()
        self.alive.set()
        self.socket: socket.socket | None = None

        self.handlers = {
            ClientCommand.CONNECT: self._handle_CONNECT,
            ClientCommand.CLOSE: self._handle_CLOSE,
            ClientCommand.SEND: self._handle_SEND,
            ClientCommand.RECEIVE: self._handle_RECEIVE,
        }

    def run(self) -> None:
        """Take commands from ``cmd_q`` and handle them until ``alive`` is cleared."""
        while self.alive.is_set():
            try:
                # Queue.get with timeout to allow checking self.alive
                cmd = self.cmd_q.get(True, 0.1)
                self.handlers[cmd.type](cmd)
            except queue.Empty:
                continue

    def join(self, timeout: float | None = None) -> None:
        """Clear ``alive``, then wait for the thread to notice and end."""
        self.alive.clear()
        threading.Thread.join(self, timeout)

    def _handle_CONNECT(self, cmd: ClientCommand) -> None:
        try:
            self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.socket.connect((cmd.data[0], cmd.data[1]))
            self.reply_q.put(self._success_reply())
        except OSError as e:
            self.reply_q.put(self._error_reply(str(e)))

    def _handle_CLOSE(self, cmd: ClientCommand) -> None:
        self.socket.close()  # type: ignore[union-attr]  # the classic thread's crash
        reply = ClientReply(ClientReply.SUCCESS)
        self.reply_q.put(reply)

    def _handle_SEND(self, cmd: ClientCommand) -> None:
        header = struct.pack("<L", len(cmd.data))
        try:
            self.socket.sendall(header + cmd.data)  # type: ignore[union-attr]
            self.reply_q.put(self._success_reply())
        except OSError as e:
            self.reply_q.put(self._error_reply(str(e)))

    def _handle_RECEIVE(self, cmd: ClientCommand) -> None:
        try:
            header_data = self._recv_n_bytes(4)
            if len(header_data) == 4:
                msg_len = struct.unpack("<L", header_data)[0]
                data = self._recv_n_bytes(msg_len)
                if len(data) == msg_len:
                    self.reply_q.put(self._success_reply(data))
                    return
            self.reply_q.put(self._error_reply("Socket closed prematurely"))
        except OSError as e:
            self.reply_q.put(self._error_reply(str(e)))

    def _recv_n_bytes(self, n: int) -> bytes:
        """Convenience method for receiving exactly n bytes from
        self.socket (assuming it's open and connected).
        """
        data = b""
        while len(data) < n:
            chunk = self.socket.recv(n - len(data))  # type: ignore[union-attr]
            if chunk == b"":
                break
            data += chunk
        return data

    def _error_reply(self, errstr: str) -> ClientReply:
        return ClientReply(ClientReply.ERROR, errstr)

    def _success_reply(self, data: bytes | None = None) -> ClientReply:
        return ClientReply(ClientReply.SUCCESS, data)
