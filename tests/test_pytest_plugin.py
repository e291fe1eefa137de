"""
The pytest plugin: ``pytest --reactor=qt`` runs a user's tests on our Qt reactor.

Each test writes a small user test module into a temporary directory and
runs pytest on it in a subprocess (one reactor per process), on this pass's
binding (``QT_API`` is inherited), with a timeout so a hang fails.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from .helpers import run_python

pytestmark = pytest.mark.qt

TIMEOUT = 120.0

USER_TESTS = """
import pytest_twisted
from twisted.internet import task


def test_reactor_is_ours_and_widgets_work():
    from twisted.internet import reactor
    from twisted_client.qt import QtLifecycleMixin, binding

    assert isinstance(reactor, QtLifecycleMixin), type(reactor)
    widgets = binding().module("QtWidgets")
    assert isinstance(widgets.QApplication.instance(), widgets.QApplication)
    window = widgets.QWidget()
    window.show()
    window.close()  # the last window closed: the run goes on
    print("RAN ON", binding().api, type(reactor).__name__)


@pytest_twisted.ensureDeferred
async def test_reactor_runs_timers():
    from twisted.internet import reactor

    assert await task.deferLater(reactor, 0.01, lambda: 42) == 42


def test_qtbot_waits_for_a_qtclient_signal(qtbot):
    from twisted.internet import reactor
    from twisted_client.qt import QtClient
    from twisted_client.testing import LoopbackServer

    server = LoopbackServer(reactor)
    port = server.start()
    client = QtClient(reactor)
    with qtbot.waitSignal(client.connected, timeout=10000):
        client.connect_to_host("127.0.0.1", port)
    with qtbot.waitSignal(client.message_received, timeout=10000) as blocker:
        client.send(b"ping")
    assert blocker.args == [b"ping"]
    client.close()
    server.stop()
"""

QT5REACTOR_TESTS = """
def test_widget_on_qt5reactor():
    from PyQt5.QtWidgets import QApplication, QWidget

    assert isinstance(QApplication.instance(), QApplication)
    QWidget().show()
"""


def run_pytest(tmp_path: Path, source: str, *options: str) -> tuple[int, str]:
    """Run pytest with ``options`` on ``source`` as a user's test module."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(source))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the user's own rootdir
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = run_python(
        *("-m", "pytest", "-p", "no:cacheprovider", "-s", *options),
        env=env,
        timeout=TIMEOUT,
        cwd=tmp_path,
    )
    return done.returncode, done.stdout + done.stderr


def test_reactor_qt_runs_widgets_deferreds_and_qtbot(tmp_path: Path) -> None:
    """``--reactor=qt``: a QApplication, our reactor, Deferred tests and qtbot."""
    pytest.importorskip("pytestqt", reason="pytest-qt is part of the test extra")
    status, output = run_pytest(tmp_path, USER_TESTS, "--reactor=qt")
    assert status == 0, output
    assert "3 passed" in output, output
    from twisted_client.qt import binding

    assert f"RAN ON {binding().api} " in output, output


def test_reactor_qt5reactor_gets_a_qapplication(tmp_path: Path) -> None:
    """``--reactor=qt5reactor`` (pytest-twisted's) gets a QApplication first."""
    from twisted_client.qt import binding

    if binding().api != "pyqt5":
        pytest.skip("qt5reactor runs on PyQt5 only")
    status, output = run_pytest(tmp_path, QT5REACTOR_TESTS, "--reactor=qt5reactor")
    assert status == 0, output
    assert "1 passed" in output, output


def test_without_the_plugin_qt_is_not_a_choice(tmp_path: Path) -> None:
    """The choice comes from the plugin: disabled, pytest-twisted refuses ``qt``."""
    status, output = run_pytest(
        tmp_path, USER_TESTS, "-p", "no:twisted_qt_client", "--reactor=qt"
    )
    assert status != 0
    assert "invalid choice: 'qt'" in output, output
