"""
Qt programs that careless code and bad luck break, each proven to end well.

Each case runs a program of tests/qt_programs/reliability.py in its own
process, on every Qt binding installed (``QT_API``) and on both Qt reactors
(``qt5reactor`` runs on PyQt5 only), under a timeout: a hang fails the test
instead of blocking the suite. Times are compared with what the program is
waiting for (a 30 s thread-pool job), never with tight figures.

Before the fixes: a QtClient made without install_reactor() stayed
"connecting" under app.exec() until the program's watchdog fired; a busy
thread-pool job held quit, SIGINT and SIGTERM for its whole 30 s and a second
signal was ignored; a flood of messages in one segment was emitted in one
reactor turn; and there was no log_slot_errors().
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import finish

pytestmark = pytest.mark.qt

PROGRAM = Path(__file__).parent / "qt_programs" / "reliability.py"
TIMEOUT = 90.0
"""Seconds a program gets before it counts as hung (it needs one or two)."""

JOB_SECONDS = 30.0
"""The length of the busy-* programs' thread-pool job (as in the program)."""

_PACKAGES = {"pyqt5": "PyQt5", "pyqt6": "PyQt6", "pyside6": "PySide6"}
INSTALLED = [api for api, name in _PACKAGES.items() if importlib.util.find_spec(name)]
COMBINATIONS = [(api, "qt") for api in INSTALLED] + (
    [("pyqt5", "qt5reactor")] if "pyqt5" in INSTALLED else []
)
IDS = [f"{api}-{kind}" for api, kind in COMBINATIONS]
REACTOR_CLASS = {"qt": "QtEPollReactor", "qt5reactor": "Qt5Reactor"}
SHUTDOWN = ["shutdown before", "shutdown during", "shutdown after"]


def _start(api: str, kind: str, *arguments: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        QT_API=api,
        TWISTED_CLIENT_QT_REACTOR=kind,
    )
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    return subprocess.Popen(
        [sys.executable, str(PROGRAM), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, list[str], str]:
    """Wait for ``process`` (killing it if it hangs); its status, lines, stderr."""
    out, err = finish(process, TIMEOUT)
    return process.returncode, out.splitlines(), err


def _run(api: str, kind: str, *arguments: str) -> tuple[int, list[str], str]:
    return _finish(_start(api, kind, *arguments))


def _read_until(process: subprocess.Popen[str], wanted: str, seen: list[str]) -> None:
    """Read lines of ``process`` into ``seen`` until one equals ``wanted``."""
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line.rstrip("\n"))
        if seen[-1] == wanted:
            return
    pytest.fail(f"the program ended without printing {wanted!r}: {seen}")


# -- QtClient without install_reactor() ----------------------------------------


@pytest.mark.parametrize(("api", "kind"), COMBINATIONS, ids=IDS)
def test_qt_client_without_install_reactor_runs_under_app_exec(
    api: str, kind: str
) -> None:
    """QApplication, a QtClient made with no reactor, then only app.exec(): the
    Qt reactor is installed and started, the client connects and gets its echo,
    and quitting the application stops the reactor with its shutdown."""
    status, lines, err = _run(api, kind, "auto-reactor")
    assert status == 0, (lines, err)
    assert lines[:5] == [
        f"binding {_PACKAGES[api]}",
        f"reactor {REACTOR_CLASS[kind]}",
        "connected",
        "received hi",
        "shutdown before",
    ], err
    assert "shutdown after" in lines
    assert lines[-2:] == ["exec returned 0 reactor running False", "end of main"]


def test_qt_client_with_a_plain_reactor_installed_says_what_to_call() -> None:
    """twisted.internet.reactor imported before anything else, then a QtClient
    with no reactor: WrongReactorError, naming install_reactor(), instead of a
    client that never connects."""
    api, kind = COMBINATIONS[0]
    status, lines, err = _run(api, kind, "wrong-reactor")
    assert status == 0, (lines, err)
    assert lines[1].startswith("WrongReactorError"), lines
    assert "EPollReactor is installed already" in lines[1]
    assert "install_reactor()" in lines[1]


# -- a flood of small messages ---------------------------------------------------


@pytest.mark.parametrize(("api", "kind"), COMBINATIONS, ids=IDS)
def test_qt_timers_run_while_a_flood_is_delivered(api: str, kind: str) -> None:
    """2000 messages in one TCP segment, the delivery budget spent after each:
    a zero-interval QTimer fires before the last message is emitted, and the
    messages arrive in order."""
    status, lines, err = _run(api, kind, "flood")
    assert status == 0, (lines, err)
    assert "in order True" in lines, lines
    assert "timer fired during the flood True" in lines, lines


# -- a busy thread-pool job at shutdown ------------------------------------------


@pytest.mark.parametrize(("api", "kind"), COMBINATIONS, ids=IDS)
def test_quit_does_not_wait_for_a_busy_thread_pool_job(api: str, kind: str) -> None:
    """app.quit() while a 30 s thread-pool job runs: the shutdown triggers fire,
    exec() returns 0 and the process ends long before the job would."""
    started = time.monotonic()
    status, lines, err = _run(api, kind, "busy-quit")
    elapsed = time.monotonic() - started
    assert status == 0, (lines, err)
    assert lines[2:] == [
        "job started",
        *SHUTDOWN,
        "exec returned 0",
        "end of main",
    ], err
    assert elapsed < JOB_SECONDS / 2, elapsed


@pytest.mark.parametrize(("api", "kind"), COMBINATIONS, ids=IDS)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_signal_does_not_wait_for_a_busy_thread_pool_job(
    api: str, kind: str, signum: int
) -> None:
    """SIGINT or SIGTERM while a 30 s thread-pool job runs: the shutdown
    triggers fire, exec() returns 128 + the signal, and the process ends long
    before the job would."""
    process = _start(api, kind, "busy-signal")
    seen: list[str] = []
    _read_until(process, "ready", seen)
    signalled = time.monotonic()
    process.send_signal(signum)
    status, rest, err = _finish(process)
    elapsed = time.monotonic() - signalled
    code = 128 + signum
    assert (status, rest) == (
        code,
        [*SHUTDOWN, f"exec returned {code}", "end of main"],
    ), err
    assert elapsed < JOB_SECONDS / 2, elapsed


@pytest.mark.parametrize("kind", [kind for api, kind in COMBINATIONS if api == "pyqt5"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
@pytest.mark.parametrize(
    ("phase", "waiting"),
    [("before", "stalled in a before trigger"), ("during", "shutdown during")],
    ids=["in-a-before-trigger", "for-the-pool"],
)
def test_a_second_signal_ends_the_process_at_once(
    kind: str, signum: int, phase: str, waiting: str
) -> None:
    """A shutdown told to wait a minute, in a "before" trigger whose Deferred
    never fires or for a busy 30 s job: a second signal ends the process at
    once, killed by that signal, the shutdown triggers so far having run."""
    process = _start("pyqt5", kind, "busy-second-signal", phase)
    seen: list[str] = []
    _read_until(process, "ready", seen)
    signalled = time.monotonic()
    process.send_signal(signum)
    _read_until(process, waiting, seen)
    process.send_signal(signum)
    status, rest, err = _finish(process)
    elapsed = time.monotonic() - signalled
    assert status == -signum, (seen, rest, err)
    assert seen[4] == "shutdown before"
    assert "job ended" not in rest
    assert elapsed < JOB_SECONDS / 2, elapsed


# -- a slot that raises ------------------------------------------------------------


@pytest.mark.parametrize("api", INSTALLED)
def test_log_slot_errors_keeps_the_program_alive(api: str) -> None:
    """With log_slot_errors() (called twice), a slot connected to
    message_received that raises is logged through Twisted's log with its
    traceback, the next slot still runs, and the program exits 0 (PyQt5 and
    PyQt6 abort the process without it)."""
    status, lines, err = _run(api, "qt", "slot-raises", "helper")
    assert status == 0, (lines, err)
    assert "still running after one" in lines
    assert err.count("Unhandled exception in a Qt slot") == 1, err
    assert "RuntimeError: boom in a slot, given b'one'" in err
