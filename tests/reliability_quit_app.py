"""
An application that quits while operations are pending (run as a subprocess
by `tests/test_reliability_quit.py`).

    python -m tests.reliability_quit_app plain|qt5reactor|qt|notifier [stop|app-quit]

It connects to an in-process peer that neither reads nor answers, leaves a
receive, an 8 MiB send, a close and a connect attempt pending, prints
``pending``, then quits: ``stop`` calls ``reactor.stop()``; ``app-quit`` runs
the reactor with ``runReturn()`` + ``app.exec()`` and calls ``app.quit()``.
Each pending operation reports how it ended with one ``answered:`` line; the
last line is ``exited``. The test checks the exit status, those lines, and
that nothing was written to stderr.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, ClassVar

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import Factory, Protocol


class Silent(Protocol):
    """A peer that stops reading at once and never answers."""

    held: ClassVar[list[Silent]] = []
    """
    Every connection made. A transport that neither reads nor writes is in
    none of the reactor's sets: without this, the garbage collector may
    collect it with its protocol and close the socket under the client.
    """

    def connectionMade(self) -> None:
        Silent.held.append(self)
        self.transport.pauseProducing()  # type: ignore[union-attr]


def report(what: str) -> Any:
    """Callbacks that print how a pending operation ended."""

    def ended(result: Any) -> None:
        how = type(result.value).__name__ if hasattr(result, "value") else "ok"
        print(f"answered: {what}: {how}", flush=True)

    return ended


async def application(reactor: Any, quit_now: Any) -> None:
    """Leave operations pending on a connection, then quit."""
    from twisted_client import ClientError, connect

    port = reactor.listenTCP(0, Factory.forProtocol(Silent), interface="127.0.0.1")
    client = await connect(reactor, "127.0.0.1", port.getHost().port)
    handle = client._protocol.transport.getHandle()
    handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    client.send(b"x" * (8 * 1024 * 1024)).addBoth(report("send"))
    client.receive().addBoth(report("receive"))
    other = await connect(reactor, "127.0.0.1", port.getHost().port)
    other.send(b"y" * (8 * 1024 * 1024)).addBoth(report("send before close"))
    other.close().addBoth(report("close"))
    # A connection attempt that has not finished yet when the app quits.
    connect(reactor, "127.0.0.1", port.getHost().port).addBoth(report("connect"))

    async def waiting_coroutine() -> None:
        try:
            await client.receive()
        except ClientError as error:
            print(f"answered: awaited receive: {type(error).__name__}", flush=True)

    ensureDeferred(waiting_coroutine())
    print("pending", flush=True)
    reactor.callLater(0, quit_now)


def main(argv: list[str]) -> int:
    """Run the application on the chosen reactor; return the exit status."""
    kind = argv[0]
    how = argv[1] if len(argv) > 1 else "stop"
    app = None
    if kind != "plain":
        from twisted_client.qt import binding, install_reactor

        install_reactor(kind)
        app = binding().QtCore.QCoreApplication.instance()
    from twisted.internet import reactor

    def failed(failure: Any) -> None:
        print(f"application failed: {failure.getTraceback()}", file=sys.stderr)

    if how == "app-quit":
        assert app is not None
        started: Deferred[None] = ensureDeferred(application(reactor, app.quit))
        started.addErrback(failed)
        reactor.runReturn()
        app.exec()
    else:
        started = ensureDeferred(application(reactor, reactor.stop))
        started.addErrback(failed)
        reactor.run()
    print("exited", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
