"""
Small Qt programs that must end by themselves, run by tests/test_qt_lifecycle.py.

    python tests/qt_programs/lifecycle.py KIND SCENARIO

KIND is an `install_reactor` kind (``qt``, ``notifier``, ``qt5reactor``) or
``stock`` (plain qt5reactor, to see the traps this project removes; PyQt5
only). The Qt binding is the seam's choice (``QT_API``). Each scenario prints
what happened, one fact per line, and the process exits on its own; the test
runs it with a timeout, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from twisted_client.qt import binding

_qt = binding()
QTimer: Any = _qt.QtCore.QTimer
QApplication: Any = _qt.module("QtWidgets").QApplication
QDialog: Any = _qt.module("QtWidgets").QDialog
QWidget: Any = _qt.module("QtWidgets").QWidget


def say(*words: object) -> None:
    """Print one fact and flush, so the test sees it even if the process hangs."""
    print(*words, flush=True)


def install(kind: str) -> Any:
    """Install the reactor of ``kind`` (``stock``: unpatched qt5reactor)."""
    if kind == "stock":
        if _qt.api != "pyqt5":
            sys.exit(f"stock qt5reactor runs on PyQt5 only, not {_qt.name}")
        app = QApplication(sys.argv[:1])
        install.app = app  # type: ignore[attr-defined]
        import qt5reactor

        qt5reactor.install()
        from twisted.internet import reactor

        return reactor
    from twisted_client.qt import install_reactor

    return install_reactor(kind)


def app() -> Any:
    """The QApplication."""
    return QApplication.instance()


def main_window() -> Any:
    """A window that stays open, as an application's main window does: closing
    a dialog, the last window otherwise, would quit the application."""
    if not _windows:
        _windows.append(QWidget())
        _windows[0].show()
    return _windows[0]


_windows: list[Any] = []


def print_shutdown_phases(reactor: Any) -> None:
    """Print each phase of the shutdown event as it runs."""
    for phase in ("before", "during", "after"):
        reactor.addSystemEventTrigger(phase, "shutdown", say, "shutdown", phase)


def use_thread_pool(reactor: Any) -> Any:
    """Look up a host name (the thread pool does it) and run a thread call."""
    from twisted.internet.threads import deferToThread

    looked_up = reactor.resolve("localhost")
    looked_up.addCallback(lambda address: say("resolved", address))
    looked_up.addCallback(lambda _: deferToThread(threading.get_ident))
    return looked_up.addCallback(lambda _: say("thread pool used"))


def echo_server(reactor: Any) -> int:
    """The port of a demo echo server on loopback."""
    from twisted_client.server import listen

    return int(listen(reactor, 0).getHost().port)


async def echo_once(reactor: Any, host: str, port: int, message: bytes) -> str:
    """Connect to the echo server at ``host:port``, send ``message``, close;
    the echo, decoded."""
    from twisted_client import connect

    client = await connect(reactor, host, port)
    await client.send(message)
    echoed = await client.receive(timeout=10)
    await client.close()
    return echoed.decode()


def in_qt(function: Callable[[], object]) -> None:
    """Call ``function`` from a pure Qt slot (a zero-delay QTimer), not Twisted."""
    QTimer.singleShot(0, function)


def in_qt_when_idle(reactor: Any, function: Callable[[], object]) -> None:
    """Call ``function`` from a Qt slot once the reactor has settled, idle."""
    reactor.callWhenRunning(reactor.callLater, 0, in_qt, function)


# -- scenarios -------------------------------------------------------------------


def stop_from_slot_run(reactor: Any) -> None:
    """run(); a Qt slot calls stop() while the next Twisted event is an hour away."""
    print_shutdown_phases(reactor)
    reactor.callLater(3600, say, "the hour passed")
    in_qt_when_idle(reactor, reactor.stop)
    reactor.run()
    say("run returned")


def stop_from_slot_exec(reactor: Any) -> None:
    """runReturn() + exec(); a Qt slot calls stop(); the app quits after."""
    print_shutdown_phases(reactor)
    reactor.addSystemEventTrigger("after", "shutdown", lambda: in_qt(app().quit))
    reactor.callLater(3600, say, "the hour passed")
    in_qt_when_idle(reactor, reactor.stop)
    reactor.runReturn()
    say("exec returned", app().exec())


def quit_app(reactor: Any) -> None:
    """runReturn() + exec(); thread pool used; the app quits; Deferred trigger."""
    from twisted.internet.defer import Deferred

    def slow_trigger() -> Deferred[None]:
        say("shutdown before (slow) started")
        done: Deferred[None] = Deferred()
        reactor.callLater(0.05, done.callback, None)
        return done.addCallback(lambda _: say("shutdown before (slow) finished"))

    print_shutdown_phases(reactor)
    reactor.addSystemEventTrigger("before", "shutdown", slow_trigger)
    reactor.runReturn()
    used = use_thread_pool(reactor)
    used.addCallback(lambda _: in_qt(app().quit))
    say("exec returned", app().exec())
    say("reactor running", reactor.running)


def quit_app_in_run(reactor: Any) -> None:
    """run(); thread pool used; the application quits instead of the reactor."""
    print_shutdown_phases(reactor)
    reactor.callWhenRunning(
        lambda: use_thread_pool(reactor).addCallback(lambda _: in_qt(app().quit))
    )
    reactor.run()
    say("run returned")


def hostname_endpoint(reactor: Any) -> None:
    """runReturn() + exec(); connect to 'localhost' by name; quit; no hang."""
    port = echo_server(reactor)

    async def talk() -> None:
        say("echoed", await echo_once(reactor, "localhost", port, b"hi"))

    from twisted.internet.defer import ensureDeferred

    reactor.runReturn()
    done = ensureDeferred(talk())
    done.addErrback(lambda failure: say("error", failure.getErrorMessage()))
    done.addBoth(lambda _: in_qt(app().quit))
    say("exec returned", app().exec())


def signal_run(reactor: Any) -> None:
    """run(); thread pool used; waits for SIGINT or SIGTERM from the test."""
    print_shutdown_phases(reactor)
    reactor.callWhenRunning(
        lambda: use_thread_pool(reactor).addCallback(lambda _: say("ready"))
    )
    reactor.run()
    say("run returned")


def signal_exec(reactor: Any) -> None:
    """runReturn() + exec(); thread pool used; waits for a signal from the test."""
    print_shutdown_phases(reactor)
    reactor.runReturn()
    use_thread_pool(reactor).addCallback(lambda _: say("ready"))
    code = app().exec()
    say("exec returned", code)
    sys.exit(code)


def nested_loop(reactor: Any) -> None:
    """A modal dialog opened by a thread call; Twisted inside it; calls run once."""
    from twisted.internet.defer import ensureDeferred

    calls = 50
    ran: list[int] = []
    dialogs: list[Any] = []
    port = echo_server(reactor)

    async def echo_inside() -> None:
        echoed = await echo_once(reactor, "127.0.0.1", port, b"inside")
        say("echoed inside the dialog", echoed)

    def open_dialog() -> None:
        if dialogs:
            say("the dialog call ran again")
            return
        dialog = QDialog(main_window())
        dialogs.append(dialog)
        reactor.callLater(0.01, say, "timed call inside the dialog")
        work = ensureDeferred(echo_inside())
        work.addErrback(lambda failure: say("error", failure.getErrorMessage()))
        work.addBoth(lambda _: reactor.callLater(0.01, dialog.accept))
        say("dialog result", dialog.exec())
        reactor.callLater(0, report)

    def flood() -> None:
        # Queue the dialog and many more calls at once, while the reactor
        # thread waits for us: they run in one batch, the dialog first.
        worker = threading.Thread(
            target=lambda: [
                reactor.callFromThread(open_dialog),
                *(reactor.callFromThread(ran.append, n) for n in range(calls)),
            ]
        )
        worker.start()
        worker.join()

    def report() -> None:
        say("thread calls ran", len(ran), "distinct", len(set(ran)))
        reactor.stop()

    reactor.callWhenRunning(flood)
    reactor.run()
    say("run returned")


def nested_in_data_received(reactor: Any) -> None:
    """A dialog opened by dataReceived: that protocol is not re-entered meanwhile."""
    from twisted.internet.defer import ensureDeferred
    from twisted.internet.protocol import Factory, Protocol

    from twisted_client import connect

    echo = echo_server(reactor)
    pushers: list[Protocol] = []

    class Pusher(Protocol):
        def connectionMade(self) -> None:
            pushers.append(self)
            assert self.transport is not None
            self.transport.write(b"first")

    class Opener(Protocol):
        depth = 0
        chunks: ClassVar[list[bytes]] = []

        def dataReceived(self, data: bytes) -> None:
            if Opener.depth:
                say("dataReceived re-entered")
            Opener.depth += 1
            Opener.chunks.append(data)
            if len(Opener.chunks) == 1:
                open_dialog()
            else:
                say("data after the dialog", b"".join(Opener.chunks[1:]).decode())
                reactor.stop()
            Opener.depth -= 1

    async def inside(dialog: Any) -> None:
        assert pushers[0].transport is not None
        pushers[0].transport.write(b"second")  # pending for the busy protocol
        client = await connect(reactor, "127.0.0.1", echo)
        for _ in range(3):
            await client.send(b"x")
            await client.receive(timeout=10)
        say("other sockets worked inside the dialog")
        await client.close()
        dialog.accept()

    def open_dialog() -> None:
        dialog = QDialog(main_window())
        work = ensureDeferred(inside(dialog))
        work.addErrback(lambda failure: say("error", failure.getErrorMessage()))
        say("dialog result", dialog.exec())

    listening = reactor.listenTCP(0, Factory.forProtocol(Pusher), interface="127.0.0.1")
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", listening.getHost().port)
    reactor.callWhenRunning(lambda: connectProtocol(endpoint, Opener()))
    reactor.run()
    say("run returned")


def exit_without_quit(reactor: Any) -> None:
    """runReturn(); thread pool used; main returns without exec() or stop()."""
    print_shutdown_phases(reactor)
    reactor.runReturn()
    loop = _qt.QtCore.QEventLoop()
    use_thread_pool(reactor).addCallback(lambda _: loop.quit())
    loop.exec()
    # Python exits now, with the reactor running and its pool's threads alive.


def run_app_helper(reactor: Any) -> None:
    """twisted_client.qt.run_app(); thread pool used; the application quits."""
    from twisted_client.qt import run_app

    print_shutdown_phases(reactor)
    reactor.callWhenRunning(
        lambda: use_thread_pool(reactor).addCallback(lambda _: in_qt(app().quit))
    )
    say("run_app returned", run_app(reactor))


def crash_and_rerun(reactor: Any) -> None:
    """crash() ends run() without shutdown triggers; run() works again after."""
    print_shutdown_phases(reactor)
    reactor.callWhenRunning(lambda: in_qt(reactor.crash))
    reactor.run()
    say("first run returned")
    reactor.callLater(0, say, "timed call in the second run")
    reactor.callLater(0.01, reactor.stop)
    reactor.run()
    say("second run returned")


_HELPERS = {
    "say",
    "install",
    "app",
    "main_window",
    "print_shutdown_phases",
    "use_thread_pool",
    "echo_server",
    "echo_once",
    "in_qt",
    "in_qt_when_idle",
}
"""The functions above that are not scenarios."""

SCENARIOS: dict[str, Callable[[Any], None]] = {
    name.replace("_", "-"): function
    for name, function in list(globals().items())
    if callable(function)
    and getattr(function, "__module__", None) == __name__
    and function.__doc__
    and name not in _HELPERS
}


def main() -> None:
    """Run the scenario named on the command line with the reactor named there."""
    kind, scenario = sys.argv[1:3]
    reactor = install(kind)
    say("reactor", type(reactor).__name__)
    SCENARIOS[scenario](reactor)
    say("end of main")


if __name__ == "__main__":
    main()
