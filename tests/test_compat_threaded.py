"""
`compat.threaded.SocketClientThread` keeps the seed's flaws, on purpose: it is
the faithful baseline. These tests pin two of them down, so that nobody
"fixes" the baseline by accident (the drop-in's tests show the fixes).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from twisted_client.compat import ClientCommand, ClientReply
from twisted_client.compat.threaded import SocketClientThread

from .compat_programs.peers import RawServer, frame


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest_twisted.ensureDeferred
async def test_send_before_connect_kills_the_thread(reactor: Any) -> None:
    """A SEND before CONNECT raises AttributeError in the thread, which dies:
    neither that command nor the next one is ever answered."""

    def run() -> tuple[bool, bool]:
        client = SocketClientThread()
        client.daemon = True
        client.start()
        client.cmd_q.put(ClientCommand(ClientCommand.SEND, b"early"))
        client.cmd_q.put(ClientCommand(ClientCommand.CLOSE))
        client.join(5)
        return client.is_alive(), client.reply_q.empty()

    assert await deferToThread(run) == (False, True)


@pytest_twisted.ensureDeferred
async def test_join_waits_while_a_receive_blocks(reactor: Any) -> None:
    """join() cannot stop a thread blocked in recv: it is still alive after a
    join with a timeout, and ends only once data arrives."""
    release = threading.Event()

    def script(connection: socket.socket) -> None:
        release.wait(10)
        connection.sendall(frame(b"late"))

    def run() -> tuple[bool, bool, Any]:
        client = SocketClientThread()
        client.daemon = True
        client.start()
        client.cmd_q.put(ClientCommand(ClientCommand.CONNECT, ("127.0.0.1", port)))
        assert client.reply_q.get(timeout=10).type == ClientReply.SUCCESS
        client.cmd_q.put(ClientCommand(ClientCommand.RECEIVE))
        client.join(0.3)
        stuck = client.is_alive()
        release.set()
        client.join(5)
        return stuck, client.is_alive(), client.reply_q.get(timeout=1).data

    with RawServer(script) as server:
        port = server.port
        assert await deferToThread(run) == (True, False, b"late")
