"""
An application written against one Qt binding alone, run by tests/test_qt_bindings.py.

    python tests/qt_programs/binding_app.py PACKAGE native PORT
    python tests/qt_programs/binding_app.py PACKAGE compat PORT

PACKAGE (``PyQt5``, ``PyQt6`` or ``PySide6``) is imported by name first, as a
program written for that binding does; `twisted_client` comes after and must
find it (the test leaves ``QT_API`` unset). ``TWISTED_CLIENT_QT_REACTOR``
chooses the reactor kind.

* ``native``: ``install_reactor()`` and a `QtClient` (no parent) against the
  echo server at PORT: connect, send ``hello``, the echo by signal, close,
  then ``app.quit()``; the application runs under ``run_app()``.
* ``compat``: the seed's pattern: ``app.exec()`` only, no ``install_reactor``,
  a `compat.SocketClientThread`, a QTimer polling ``reply_q`` every 20 ms;
  CONNECT, SEND ``hello``, RECEIVE, CLOSE, then ``app.quit()``.

A 10 s Qt timer quits the application if the exchange stalls, so the program
always ends by itself. It prints one JSON line (what happened, the binding the
seam chose and why, the reactor, whether it ran in the GUI thread, the
bindings in ``sys.modules``), and finally asserts that PACKAGE is the only
binding imported.
"""

from __future__ import annotations

import importlib
import json
import queue
import sys
import threading
from typing import Any

BINDINGS = ("PyQt5", "PyQt6", "PySide6")
STALL_MS = 10_000

package, mode, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
QtCore: Any = importlib.import_module(f"{package}.QtCore")
QtWidgets: Any = importlib.import_module(f"{package}.QtWidgets")


def native(app: Any, report: dict[str, Any]) -> int:
    """install_reactor + QtClient; returns what run_app returned."""
    from twisted_client.qt import QtClient, install_reactor, run_app

    reactor = install_reactor()
    client = QtClient(reactor)
    events: list[str] = report.setdefault("events", [])

    def on_connected() -> None:
        events.append("connected")
        client.send(b"hello")

    def on_message(message: bytes) -> None:
        events.append(f"message {message.decode()}")
        report["in_gui_thread"] = threading.current_thread() is threading.main_thread()
        client.close()

    def on_disconnected() -> None:
        events.append("disconnected")
        app.quit()

    client.connected.connect(on_connected)
    client.message_received.connect(on_message)
    client.error_occurred.connect(lambda text: events.append(f"error {text}"))
    client.disconnected.connect(on_disconnected)
    QtCore.QTimer.singleShot(0, lambda: client.connect_to_host("127.0.0.1", port))
    return run_app(reactor)


def compat(app: Any, report: dict[str, Any]) -> int:
    """The seed's pattern on the drop-in; returns what app.exec() returned."""
    from twisted_client.compat import ClientCommand, SocketClientThread

    client = SocketClientThread()
    client.start()
    replies: list[list[Any]] = report.setdefault("replies", [])

    def poll() -> None:
        try:
            reply = client.reply_q.get(block=False)
        except queue.Empty:
            return
        data = reply.data.decode() if isinstance(reply.data, bytes) else reply.data
        replies.append([reply.type, data])
        if len(replies) == 4:
            report["in_gui_thread"] = client._runtime.in_reactor_thread()  # type: ignore[union-attr]
            app.quit()

    poller = QtCore.QTimer()
    poller.timeout.connect(poll)
    poller.start(20)
    for command in (
        ClientCommand(ClientCommand.CONNECT, ("127.0.0.1", port)),
        ClientCommand(ClientCommand.SEND, b"hello"),
        ClientCommand(ClientCommand.RECEIVE),
        ClientCommand(ClientCommand.CLOSE),
    ):
        client.cmd_q.put(command)
    status: int = app.exec()
    client.join()
    return status


def main() -> None:
    app = QtWidgets.QApplication(sys.argv[:1])
    QtCore.QTimer.singleShot(STALL_MS, app.quit)  # a stalled exchange still ends
    report: dict[str, Any] = {}
    report["status"] = {"native": native, "compat": compat}[mode](app, report)
    from twisted.internet import reactor

    from twisted_client.qt import binding

    report["reactor"] = type(reactor).__name__
    report["reactor_running"] = reactor.running
    report["api"] = binding().api
    report["reason"] = binding().reason
    report["threads"] = sorted(thread.name for thread in threading.enumerate())
    imported = [name for name in BINDINGS if name in sys.modules]
    report["bindings"] = imported
    print(json.dumps(report), flush=True)
    assert imported == [package], f"other bindings imported: {imported}"


if __name__ == "__main__":
    main()
