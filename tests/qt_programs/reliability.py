"""
Qt programs that must end by themselves, run by tests/test_qt_reliability.py.

    QT_API=pyside6 TWISTED_CLIENT_QT_REACTOR=qt \
        python tests/qt_programs/reliability.py SCENARIO [ARG]

They take Qt from `twisted_client.qt.binding` (so ``QT_API`` chooses the
binding) and the reactor kind from ``TWISTED_CLIENT_QT_REACTOR``. Each
prints what happened, one fact per line, flushed; the test runs it with a
timeout, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from twisted_client.qt import binding

JOB_SECONDS = 30.0
"""How long the thread-pool job of the busy-* scenarios would run."""

qt = binding()
QtCore: Any = qt.QtCore
QtWidgets: Any = qt.module("QtWidgets")


def say(*words: object) -> None:
    """Print one fact and flush, so the test sees it even if the process hangs."""
    print(*words, flush=True)


def application() -> Any:
    """The QApplication, created by the program as a Qt program does."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    application.app = app  # type: ignore[attr-defined]  # keep it alive
    return app


def watchdog(app: Any, seconds: float = 20.0) -> None:
    """Exit with status 3 if the program is still running after ``seconds``."""
    QtCore.QTimer.singleShot(
        int(seconds * 1000), lambda: (say("watchdog fired"), app.exit(3))
    )


class Peer(threading.Thread):
    """A plain-socket server thread: echoes what it reads, or sends ``burst``."""

    def __init__(self, burst: bytes | None = None) -> None:
        super().__init__(daemon=True)
        self.burst = burst
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.start()

    def run(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            if self.burst is not None:
                connection.sendall(self.burst)
            while data := connection.recv(65536):
                connection.sendall(data)


def print_shutdown_phases(reactor: Any) -> None:
    """Print each phase of the shutdown event as it runs."""
    for phase in ("before", "during", "after"):
        reactor.addSystemEventTrigger(phase, "shutdown", say, "shutdown", phase)


def run(app: Any) -> None:
    """Run ``app.exec()``; print its status; exit with it."""
    code = app.exec()
    say("exec returned", code)
    sys.exit(code)


# -- scenarios -------------------------------------------------------------------


def auto_reactor(_: str) -> None:
    """QApplication, then a QtClient with no reactor, then only app.exec()."""
    from twisted_client.qt import QtClient

    app = application()
    peer = Peer()
    client = QtClient(timeout=5)
    say("reactor", type(client.reactor).__name__)
    print_shutdown_phases(client.reactor)

    def connected() -> None:
        say("connected")
        client.send(b"hi")

    def received(message: bytes) -> None:
        say("received", message.decode())
        app.quit()

    client.connected.connect(connected)
    client.message_received.connect(received)
    client.error_occurred.connect(lambda text: say("error", text))
    client.connect_to_host("127.0.0.1", peer.port)
    watchdog(app)
    code = app.exec()
    say("exec returned", code, "reactor running", client.reactor.running)


def wrong_reactor(_: str) -> None:
    """A plain reactor imported first: QtClient() says what to do instead."""
    from twisted.internet import reactor

    from twisted_client.qt import QtClient, WrongReactorError

    application()
    try:
        QtClient()
    except WrongReactorError as error:
        say("WrongReactorError", error)
    say("reactor", type(reactor).__name__)


def flood(_: str) -> None:
    """2000 messages in one segment: Qt's timers fire between their signals."""
    from twisted_client.qt import QtClient

    count = 2000
    burst = b"".join(struct.pack("<L", 1) + b"%d" % (n % 10) for n in range(count))
    app = application()
    peer = Peer(burst)
    client = QtClient(timeout=5)
    client.turn_budget = 0.0
    got: list[bytes] = []
    ticks: list[int] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(len(got)))

    def received(message: bytes) -> None:
        got.append(message)
        if len(got) == count:
            timer.stop()
            say("in order", got == [b"%d" % (n % 10) for n in range(count)])
            say("timer fired during the flood", any(0 < n < count for n in ticks))
            app.quit()

    client.connected.connect(lambda: timer.start(0))
    client.message_received.connect(received)
    client.error_occurred.connect(lambda text: (say("error", text), app.exit(1)))
    client.connect_to_host("127.0.0.1", peer.port)
    watchdog(app)
    run(app)


def _busy_pool(signal_mode: str, pool_timeout: float | None, stall: bool) -> None:
    """A thread-pool job runs for JOB_SECONDS; the program is asked to end.

    With ``stall``, a "before shutdown" trigger returns a Deferred that never
    fires (and the shutdown would wait a minute for it)."""
    from twisted.internet.defer import Deferred

    from twisted_client.qt import install_reactor

    app = application()
    reactor = install_reactor()
    say("reactor", type(reactor).__name__)
    print_shutdown_phases(reactor)  # before the pool's own trigger: printed first
    if pool_timeout is not None:
        reactor.thread_pool_timeout = pool_timeout
    if stall:
        reactor.shutdown_timeout = JOB_SECONDS * 2

        def stalled() -> Deferred[None]:
            say("stalled in a before trigger")
            return Deferred()

        reactor.addSystemEventTrigger("before", "shutdown", stalled)
    release = threading.Event()

    def job() -> None:
        say("job started")
        release.wait(JOB_SECONDS)
        say("job ended")

    def started() -> None:
        if signal_mode:
            say("ready")
        else:
            QtCore.QTimer.singleShot(0, app.quit)

    reactor.callInThread(job)
    reactor.callLater(0.05, started)
    reactor.runReturn()
    code = app.exec()
    say("exec returned", code)
    say("end of main")
    sys.exit(code)


def busy_quit(_: str) -> None:
    """app.quit() while a thread-pool job is busy."""
    _busy_pool("", None, stall=False)


def busy_signal(_: str) -> None:
    """SIGINT or SIGTERM (sent by the test) while a thread-pool job is busy."""
    _busy_pool("signal", None, stall=False)


def busy_second_signal(phase: str) -> None:
    """The shutdown waits, for a minute: in a "before" trigger (ARG before) or
    for the job (ARG during, a long pool timeout); the test signals twice."""
    _busy_pool("signal", JOB_SECONDS * 2, stall=phase == "before")


def slot_raises(helper: str) -> None:
    """A slot connected to a QtClient signal raises; with ARG 'helper',
    log_slot_errors() was called first."""
    from twisted_client.qt import QtClient, log_slot_errors

    app = application()
    if helper == "helper":
        log_slot_errors()
        log_slot_errors()  # idempotent
    peer = Peer(struct.pack("<L", 3) + b"one")
    client = QtClient(timeout=5)

    def bad_slot(message: bytes) -> None:
        raise RuntimeError(f"boom in a slot, given {message!r}")

    def after(message: bytes) -> None:
        say("still running after", message.decode())
        QtCore.QTimer.singleShot(0, app.quit)

    client.message_received.connect(bad_slot)
    client.message_received.connect(after)
    client.connect_to_host("127.0.0.1", peer.port)
    watchdog(app)
    run(app)


SCENARIOS: dict[str, Callable[[str], None]] = {
    "auto-reactor": auto_reactor,
    "wrong-reactor": wrong_reactor,
    "flood": flood,
    "busy-quit": busy_quit,
    "busy-signal": busy_signal,
    "busy-second-signal": busy_second_signal,
    "slot-raises": slot_raises,
}


def main() -> None:
    """Run the scenario named on the command line."""
    scenario, argument = sys.argv[1], (sys.argv[2:] or [""])[0]
    say("binding", qt.name)
    SCENARIOS[scenario](argument)
    say("end of main")


if __name__ == "__main__":
    main()
