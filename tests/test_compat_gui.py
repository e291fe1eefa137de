"""
The drop-in in GUI mode, inside this process's Qt reactor: driven exactly as
the seed's demo drives its thread (a QTimer polling ``reply_q.get(block=False)``
every 100 ms), and through `compat.qt.ReplySignal` with no polling at all.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from twisted_client.compat import ClientReply, SocketClientThread
from twisted_client.server import listen

from .compat_programs.seed import seed_commands
from .compat_programs.seed_gui import start_seed_timers

pytestmark = pytest.mark.qt

SUCCESS = ClientReply.SUCCESS
SEED_REPLIES = [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"tuxy"), (SUCCESS, None)]


def do_it(client: SocketClientThread, port: int) -> None:
    """The demo's "Do it!" button: the seed's four commands, queued at once."""
    for command in seed_commands(port):
        client.cmd_q.put(command)


@pytest_twisted.ensureDeferred
async def test_seed_demo_polling_with_a_qtimer(reactor: Any, qapp: Any) -> None:
    """A QTimer polling reply_q.get(block=False), as the seed's demo does, gets
    the seed's four replies from a server that answers late, while a 25 ms
    animation timer keeps firing in the same (GUI) thread; the client made no
    thread of its own."""
    port = listen(reactor, 0, delay=0.3, reply=b"tuxy")
    client = SocketClientThread()  # the installed reactor: the Qt one, running
    client.start()
    ticks = 0
    log: list[tuple[int, Any, int]] = []
    finished: Deferred[None] = Deferred()

    def animate() -> None:
        nonlocal ticks
        ticks += 1

    def on_client_reply_timer() -> None:
        try:
            reply = client.reply_q.get(block=False)
        except queue.Empty:
            return
        log.append((reply.type, reply.data, ticks))
        if len(log) == 4:
            finished.callback(None)

    animation, poller = start_seed_timers(animate, on_client_reply_timer)
    try:
        do_it(client, port.getHost().port)
        await finished.addTimeout(10, reactor)
    finally:
        poller.stop()
        animation.stop()
        client.join()
        await port.stopListening()
    assert [(kind, data) for kind, data, _ in log] == SEED_REPLIES
    sent_at, received_at = log[1][2], log[2][2]
    assert received_at > sent_at  # the animation ran while the reply was awaited
    assert "compat-reactor" not in [thread.name for thread in threading.enumerate()]


@pytest_twisted.ensureDeferred
async def test_reply_signal(reactor: Any, qapp: Any) -> None:
    """With on_reply=ReplySignal(), each reply is emitted as the replied(object)
    signal, in order, in the GUI thread, and nothing is left in reply_q."""
    from twisted_client.compat.qt import ReplySignal

    port = listen(reactor, 0, delay=0.05, reply=b"tuxy")
    signal = ReplySignal()
    got: list[tuple[int, Any]] = []
    threads: set[int] = set()
    finished: Deferred[None] = Deferred()

    def show(reply: ClientReply) -> None:
        got.append((reply.type, reply.data))
        threads.add(threading.get_ident())
        if len(got) == 4:
            finished.callback(None)

    signal.replied.connect(show)
    client = SocketClientThread(on_reply=signal)
    client.start()
    try:
        do_it(client, port.getHost().port)
        await finished.addTimeout(10, reactor)
    finally:
        client.join()
        await port.stopListening()
    assert got == SEED_REPLIES
    assert threads == {threading.main_thread().ident}
    assert client.reply_q.empty()
