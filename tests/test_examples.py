"""
The runnable examples, run for real in subprocesses (each bounded by a timeout).

``examples/qt_chat.py`` runs on each installed Qt binding, driven by a small
program that types a line and closes the window once the echo is shown;
``examples/echo_client.py`` talks to ``python -m twisted_client.server``, and
so does ``examples/asyncio_client.py``, which also runs alone (``--embedded``).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from twisted_client.qt import APIS

from .gui_helpers import BINDING_NAMES, headless_environment, skip_unless_installed
from .helpers import ROOT, run_python

TIMEOUT = 60
"""Seconds before a run that does not end counts as a hang (the test fails)."""

# Serves echoes on the example's reactor; once the example's client is
# connected, types a line into its window; closes the window (ending the
# example) once the echo is shown, or after 20 s. Prints the window's title,
# its log pane, the bindings the process loaded and the exit status.
_DRIVER = """
import importlib.util, sys
from twisted_client.qt import QtClient, binding, install_reactor
from twisted_client.server import listen

reactor = install_reactor()
widgets = binding().module("QtWidgets")
port = listen(reactor, 0).getHost().port
spec = importlib.util.spec_from_file_location("qt_chat", "examples/qt_chat.py")
chat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chat)


def window():
    return next(w for w in widgets.QApplication.topLevelWidgets() if w.isVisible())


def type_line():
    log = window().findChild(widgets.QPlainTextEdit)
    log.textChanged.connect(lambda: echoed(log))
    line = window().findChild(widgets.QLineEdit)
    line.setText("hello from the test")
    line.returnPressed.emit()


def echoed(log):
    if "<- b'hello from the test'" in log.toPlainText() and limit.active():
        limit.cancel()
        reactor.callLater(0, finish)


def finish():
    print(window().windowTitle())
    print(window().findChild(widgets.QPlainTextEdit).toPlainText())
    window().close()


class WatchedClient(QtClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connected.connect(lambda: reactor.callLater(0, type_line))


chat.QtClient = WatchedClient
limit = reactor.callLater(20, finish)
status = chat.main("127.0.0.1", str(port))
loaded = [m for m in ("PyQt5", "PyQt6", "PySide6") if m in sys.modules]
print("LOADED", *loaded, "STATUS", status)
sys.exit(status)
"""


@pytest.mark.qt
@pytest.mark.parametrize("api", APIS)
def test_qt_chat_echoes_a_line_on_each_binding(api: str) -> None:
    """The chat window sends a typed line and shows its echo; closing it ends it."""
    skip_unless_installed(api)
    done = run_python("-c", _DRIVER, env=headless_environment(api), timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(f"({BINDING_NAMES[api]})")
    assert any(line.endswith("(connected)") for line in lines)
    assert any(line.endswith("-> b'hello from the test'") for line in lines)
    assert any(line.endswith("<- b'hello from the test'") for line in lines)
    assert lines[-1] == f"LOADED {BINDING_NAMES[api]} STATUS 0"
    assert "Traceback" not in done.stderr


def _run_example(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGUMENTS`` in the repository, bounded by `TIMEOUT`."""
    return run_python(*arguments, env=headless_environment(), timeout=TIMEOUT)


def _against_the_server(example: str) -> subprocess.CompletedProcess[str]:
    """Run ``example HOST PORT`` against ``python -m twisted_client.server``."""
    server_command = [sys.executable, "-m", "twisted_client.server", "--port", "0"]
    with subprocess.Popen(
        server_command, cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            address = server.stdout.readline().split()[-1]  # listening on HOST:PORT
            host, port = address.rsplit(":", 1)
            return _run_example(example, host, port)
        finally:
            server.kill()


def test_echo_client_gets_its_answers() -> None:
    """echo_client.py sends three messages and prints the three echoes."""
    done = _against_the_server("examples/echo_client.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "answer: b'hello'",
        "answer: b'twisted'",
        "answer: b'qt'",
    ]


ASYNCIO_ANSWERS = ["answer: b'hello'", "answer: b'asyncio'", "answer: b'twisted'"]


def test_asyncio_client_gets_its_answers_from_the_server() -> None:
    """asyncio_client.py, under asyncio.run, prints the server's three echoes."""
    done = _against_the_server("examples/asyncio_client.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ASYNCIO_ANSWERS
    assert "Traceback" not in done.stderr


def test_asyncio_client_runs_alone_with_its_own_server() -> None:
    """With --embedded it serves on its own reactor and prints the same echoes."""
    done = _run_example("-X", "dev", "examples/asyncio_client.py", "--embedded")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ASYNCIO_ANSWERS
    assert "Traceback" not in done.stderr


def test_asyncio_client_says_when_it_cannot_connect() -> None:
    """A refused connection is one line of error and exit status 1, no traceback."""
    with socket.socket() as bound:  # bound, not listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        port = str(bound.getsockname()[1])
        done = _run_example("examples/asyncio_client.py", "127.0.0.1", port)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(f"error: could not connect to 127.0.0.1:{port}")
    assert "Traceback" not in done.stderr
