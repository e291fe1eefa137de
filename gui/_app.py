"""
Running the demo: the Qt binding, Qt, the reactor, the embedded server, the
window, headless mode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from ._commands import RECEIVE, Reply
from ._options import Options, ServerAddress, use_qt_api

if TYPE_CHECKING:  # imported in `run`, once the binding is chosen
    from ._window import DemoWindow

__all__ = ["EmbeddedServers", "Outcome", "run", "start_embedded_servers"]

SEED_REPLY = b"tuxy"
"""What the classic demo's test server answers."""


class EmbeddedServers:
    """
    The demo servers, in-process on the reactor, on free loopback ports.

    ``seed`` answers every message with ``tuxy`` after ``delay`` seconds,
    like the classic demo's test server; ``echo`` sends every message straight back
    (what the stress action streams through).
    """

    def __init__(self, seed: Any, echo: Any) -> None:
        self.seed = seed
        self.echo = echo

    @property
    def seed_address(self) -> ServerAddress:
        """Where the classic demo's server listens."""
        return _address_of(self.seed)

    @property
    def echo_address(self) -> ServerAddress:
        """Where the echo server listens."""
        return _address_of(self.echo)

    def stop(self) -> None:
        """Stop listening (connections still open are closed with the reactor)."""
        for port in (self.seed, self.echo):
            port.stopListening()


def _address_of(port: Any) -> ServerAddress:
    host = port.getHost()
    return ServerAddress(host.host, host.port)


def start_embedded_servers(reactor: Any, delay: float) -> EmbeddedServers:
    """Start the classic demo's server and the echo server on free ports."""
    from twisted_client.server import listen

    seed = listen(reactor, 0, delay=delay, reply=SEED_REPLY)
    echo = listen(reactor, 0)
    return EmbeddedServers(seed, echo)


class Outcome:
    """How a run went: the replies of the first exchange, the stress result."""

    def __init__(self, window: DemoWindow, want_stress: bool) -> None:
        self.window = window
        self.want_stress = want_stress
        self.screenshot_error: str | None = None

    @property
    def replies(self) -> list[Reply]:
        """The replies of the first exchange (fewer than four if it did not finish)."""
        exchanges = self.window.exchanges
        return exchanges[0] if exchanges else []

    @property
    def ok(self) -> bool:
        """True when the exchange got four SUCCESS replies, RECEIVE's with data."""
        replies = self.replies
        exchange_ok = (
            len(replies) == 4
            and all(reply.ok for reply in replies)
            and bool(replies[RECEIVE].data)
        )
        stress_ok = not self.want_stress or any(
            result.ok for result in self.window.stress_results
        )
        return exchange_ok and stress_ok and self.screenshot_error is None

    def summary(self, seconds: float) -> str:
        """One line: outcome, replies, frames drawn, worst gap between frames."""
        replies = self.replies
        good = sum(reply.ok for reply in replies)
        meter = self.window.circles.meter
        stress = ""
        if self.want_stress:
            results = self.window.stress_results
            stress = f"; stress {'ok' if results and results[-1].ok else 'FAILED'}"
        screenshot = (
            f"; screenshot FAILED: {self.screenshot_error}"
            if self.screenshot_error
            else ""
        )
        return (
            f"{'OK' if self.ok else 'FAILED'}: {len(replies)}/4 replies "
            f"({good} SUCCESS, {len(replies) - good} ERROR) with backend "
            f"{self.window.backend_name}; {self.window.circles.painted} frames drawn "
            f"in {seconds:.1f} s, worst frame gap {meter.worst_gap_ever * 1000:.0f} ms"
            f"{stress}{screenshot}"
        )


_HARMLESS_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",  # offscreen platform
    "QStandardPaths: XDG_RUNTIME_DIR not set",  # root on a bare machine
)


def _quiet_qt_messages() -> None:
    """Drop Qt's known-harmless warnings; print every other message as Qt would."""
    from ._qt import QtCore

    def handler(mode: Any, context: Any, message: str | None) -> None:
        if message and not message.startswith(_HARMLESS_QT_MESSAGES):
            print(message, file=sys.stderr)

    QtCore.qInstallMessageHandler(handler)


def _make_app(headless: bool) -> Any:
    """
    The QApplication: offscreen when headless.

    Otherwise on Linux, unless the user chose a platform, offscreen is the
    fallback (Qt 5.15 and Qt 6 try a ``;``-separated list in order): a display whose
    platform plugin cannot load (X11 libraries missing) gives a headless run
    instead of Qt aborting the process.
    """
    from ._qt import QtWidgets

    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        wanted = "wayland;xcb" if os.environ.get("WAYLAND_DISPLAY") else "xcb"
        os.environ["QT_QPA_PLATFORM"] = f"{wanted};offscreen"
    _quiet_qt_messages()
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


def _stop_reactor(reactor: Any) -> None:
    """Stop the reactor once Qt's loop has returned; fire its shutdown triggers."""
    from twisted.internet.error import ReactorNotRunning

    try:
        reactor.stop()
    except ReactorNotRunning:
        return
    reactor.runUntilCurrent()  # fires "shutdown": connections close, threads end


def save_screenshot(window: DemoWindow, path: str) -> str | None:
    """Save a PNG of ``window`` to ``path``; return None, or what went wrong."""
    if not window.grab().save(path, "PNG"):
        return f"could not write {path}"
    return None


def run(options: Options, out: TextIO = sys.stdout) -> int:
    """
    Run the demo as ``options`` say; return the process's exit status.

    Status 2, with the reason on stderr, when the Qt binding or the reactor
    asked for cannot be used.
    """
    from twisted_client.qt import QtBindingError

    try:
        qt = use_qt_api(options.qt_api)
    except QtBindingError as error:
        print(f"python -m gui: {error}", file=sys.stderr)
        return 2
    from ._window import DemoWindow

    app = _make_app(options.headless)
    if not options.headless and app.platformName() in ("offscreen", "minimal"):
        print(
            "python -m gui: no usable display (see Qt's message above); "
            "running headless",
            file=sys.stderr,
        )
        options = dataclasses.replace(options, headless=True)
    from twisted_client import ClientError
    from twisted_client.qt import install_reactor, log_slot_errors

    try:
        reactor = install_reactor(options.reactor)
    except ClientError as error:  # an unknown kind, or "qt" without epoll
        print(f"python -m gui: {error}", file=sys.stderr)
        return 2
    log_slot_errors()  # a slot that raises is logged; PyQt would abort
    servers: EmbeddedServers | None = None
    if options.server is None:
        servers = start_embedded_servers(reactor, options.delay)
        address, stress_address = servers.seed_address, servers.echo_address
    else:
        address = stress_address = options.server
    window = DemoWindow(
        reactor,
        address,
        stress_address=stress_address,
        backend=options.backend,
        stress_mb=options.stress_mb,
    )
    window.log(
        f"Qt binding: {qt.describe()}; reactor: {type(reactor).__name__}, "
        "inside Qt's event loop"
    )
    if servers is not None:
        window.log(
            f"Embedded server on {address} (answers tuxy after {options.delay:g} s); "
            f"echo server for the stress action on {stress_address}"
        )
    outcome = Outcome(window, want_stress=options.headless and options.stress)
    ended = _wire_ending(app, reactor, window, servers)
    if options.screenshot and not options.headless:

        def grab_on_close() -> None:
            assert options.screenshot is not None
            outcome.screenshot_error = save_screenshot(window, options.screenshot)

        window.closing.connect(grab_on_close)
    window.show()
    started = reactor.seconds()
    if options.headless:
        for line in window.log_lines:
            _print(line, out)
        window.logged.connect(lambda line: _print(line, out))
        _drive_headless(reactor, window, options, outcome)
    reactor.runReturn()
    with _signals_close(window):
        app.exec()
    ended()
    _stop_reactor(reactor)
    if not options.headless:
        return 0 if outcome.screenshot_error is None else 1
    seconds = reactor.seconds() - started
    _print(outcome.summary(seconds), out)
    return 0 if outcome.ok else 1


def _print(line: str, out: TextIO) -> None:
    """Print ``line`` now; a reader that went away (``| head``) is no error."""
    try:
        print(line, file=out, flush=True)
    except BrokenPipeError:
        if out is sys.stdout:  # so that Python's exit does not complain either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


@contextlib.contextmanager
def _signals_close(window: DemoWindow) -> Iterator[None]:
    """
    While Qt's loop runs, Ctrl-C and SIGTERM close the window (ending the run).

    Python runs its signal handlers between bytecodes, and the animation
    timer runs Python code every 25 ms, so the window closes at once. The
    previous handlers come back afterwards.
    """

    def close(signum: int, frame: Any) -> None:
        # The handler may run in the middle of any slot: close from the loop.
        QtCore.QTimer.singleShot(0, close_window)

    def close_window() -> None:
        window.close()

    from ._qt import QtCore

    wanted = [signal.SIGINT, signal.SIGTERM]
    previous = {number: signal.signal(number, close) for number in wanted}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _wire_ending(
    app: Any, reactor: Any, window: DemoWindow, servers: EmbeddedServers | None
) -> Callable[[], None]:
    """Make closing the window end the program; return the clean-up to run after."""
    done = False

    def end() -> None:
        nonlocal done
        if done:
            return
        done = True
        window.shutdown()
        if servers is not None:
            servers.stop()
        app.quit()

    window.closed.connect(end)
    # Ctrl-C / SIGTERM stop the reactor: close the window, which ends Qt's loop.
    reactor.addSystemEventTrigger("before", "shutdown", window.close)
    return end


def _drive_headless(
    reactor: Any, window: DemoWindow, options: Options, outcome: Outcome
) -> None:
    """
    Press "Do it!", and "Stress" after it if asked; close after ``duration``.

    With ``--stress`` the run ends half a second after the stress does (time
    for the meter to show it), or at ``duration`` if that comes first.
    """

    def finish() -> None:
        if limit.active():
            limit.cancel()
        if window.isVisible():
            if options.screenshot:
                error = save_screenshot(window, options.screenshot)
                outcome.screenshot_error = error
            window.close()

    if options.stress:

        def stress_if_ok(replies: list[Reply]) -> None:
            if all(reply.ok for reply in replies):
                window.stress_button.click()
            else:
                reactor.callLater(0, finish)

        window.exchange_finished.connect(stress_if_ok)
        window.stress_finished.connect(lambda _: reactor.callLater(0.5, finish))
    reactor.callLater(0, window.do_it_button.click)
    limit = reactor.callLater(options.duration, finish)
