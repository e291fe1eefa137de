"""
The lifecycle traps of qt5reactor, each proven fixed on each of our Qt reactors.

Each case runs a small program (tests/qt_programs/lifecycle.py) in its own
process, because what is tested is how a process starts, stops and exits.
Every program runs under a timeout: a regression (a hang at exit, a stop that
never happens) fails the test instead of blocking the suite. The programs of
this module are started all at once and collected one by one, to keep the
module fast. They run on this pass's binding (they inherit ``QT_API``), for
every reactor kind it supports: ``qt`` and ``notifier`` everywhere,
``qt5reactor`` on PyQt5 only.

Run against stock qt5reactor (``lifecycle.py stock SCENARIO``), the same
programs hang in stop-from-slot-*, quit-app, hostname-endpoint and
signal-exec, and run a thread call twice in nested-loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qt_kinds import KINDS, REACTOR_CLASS, kinds_here, skip_unless_runs_here

from .helpers import finish, stop_all

pytestmark = pytest.mark.qt

PROGRAM = Path(__file__).parent / "qt_programs" / "lifecycle.py"
TIMEOUT = 60.0
"""Seconds a program gets before it counts as hung (it needs well under one)."""

SHUTDOWN = ["shutdown before", "shutdown during", "shutdown after"]

EXPECTED: dict[str, list[str]] = {
    "stop-from-slot-run": [*SHUTDOWN, "run returned", "end of main"],
    "stop-from-slot-exec": [*SHUTDOWN, "exec returned 0", "end of main"],
    "quit-app": [
        "resolved 127.0.0.1",
        "thread pool used",
        "shutdown before",
        "shutdown before (slow) started",
        "shutdown before (slow) finished",
        "shutdown during",
        "shutdown after",
        "exec returned 0",
        "reactor running False",
        "end of main",
    ],
    "quit-app-in-run": [
        "resolved 127.0.0.1",
        "thread pool used",
        *SHUTDOWN,
        "run returned",
        "end of main",
    ],
    "hostname-endpoint": ["echoed hi", "exec returned 0", "end of main"],
    "run-app-helper": [
        "resolved 127.0.0.1",
        "thread pool used",
        *SHUTDOWN,
        "run_app returned 0",
        "end of main",
    ],
    "exit-without-quit": [
        "resolved 127.0.0.1",
        "thread pool used",
        "end of main",
        *SHUTDOWN,
    ],
    "crash-and-rerun": [
        "first run returned",
        "timed call in the second run",
        *SHUTDOWN,
        "second run returned",
        "end of main",
    ],
}


def _environment() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("TWISTED_CLIENT_QT_REACTOR", None)
    return env


def _start(kind: str, scenario: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROGRAM), kind, scenario],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, list[str], str]:
    """Wait for ``process`` (killing it if it hangs); its status, lines, stderr."""
    out, err = finish(process, TIMEOUT)
    return process.returncode, out.splitlines(), err


@pytest.fixture(scope="module")
def started() -> Iterator[dict[tuple[str, str], subprocess.Popen[str]]]:
    """Every non-interactive program of this module, started at once."""
    programs = {
        (kind, scenario): _start(kind, scenario)
        for scenario in [*EXPECTED, "nested-loop", "nested-in-data-received"]
        for kind in kinds_here()
    }
    yield programs
    stop_all(programs.values())


def result(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str, scenario: str
) -> list[str]:
    """The lines a program printed after its reactor line; it must exit with 0."""
    skip_unless_runs_here(kind)
    status, lines, err = _finish(started[kind, scenario])
    assert status == 0, f"exit status {status}; stdout {lines}; stderr:\n{err}"
    assert lines[0] == f"reactor {REACTOR_CLASS[kind]}"
    return lines[1:]


@pytest.mark.parametrize("kind", KINDS)
def test_stop_from_a_qt_slot_takes_effect_at_once_in_run(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """reactor.stop() from a Qt slot, the next Twisted event an hour away, ends
    run() with every shutdown phase (stock qt5reactor waits for that event)."""
    assert result(started, kind, "stop-from-slot-run") == EXPECTED["stop-from-slot-run"]


@pytest.mark.parametrize("kind", KINDS)
def test_stop_from_a_qt_slot_takes_effect_at_once_under_exec(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """With runReturn() + app.exec(), stop() from a Qt slot fires the shutdown
    triggers at once, while the application keeps running."""
    lines = result(started, kind, "stop-from-slot-exec")
    assert lines == EXPECTED["stop-from-slot-exec"]


@pytest.mark.parametrize("kind", KINDS)
def test_quitting_the_application_stops_the_reactor(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """runReturn() + app.exec(), thread pool used: app.quit() stops the reactor,
    fires before/during/after (waiting for a trigger's Deferred), and the
    process exits instead of hanging on the pool's threads."""
    assert result(started, kind, "quit-app") == EXPECTED["quit-app"]


@pytest.mark.parametrize("kind", KINDS)
def test_quitting_the_application_during_run_stops_the_reactor(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """app.quit() while reactor.run() blocks: run() returns after a full
    shutdown, and the process exits although the thread pool was used."""
    assert result(started, kind, "quit-app-in-run") == EXPECTED["quit-app-in-run"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_hang_at_exit_after_a_hostname_connection(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """Connecting to 'localhost' by name (a lookup in the thread pool), then
    quitting the application, lets the process exit."""
    assert result(started, kind, "hostname-endpoint") == EXPECTED["hostname-endpoint"]


@pytest.mark.parametrize("kind", KINDS)
def test_run_app_runs_until_the_application_quits(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """run_app() starts the reactor, runs the application, and returns exec's
    status once the application quit and the reactor's shutdown is over."""
    assert result(started, kind, "run-app-helper") == EXPECTED["run-app-helper"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_hang_when_python_exits_with_the_reactor_running(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """Python exiting while the reactor runs (never stopped, the application
    never run): the reactor is stopped at exit, shutdown triggers fire, the
    pool's threads end, and the process exits."""
    assert result(started, kind, "exit-without-quit") == EXPECTED["exit-without-quit"]


@pytest.mark.parametrize("kind", KINDS)
def test_crash_ends_run_without_shutdown_and_run_works_again(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """crash() from a Qt slot ends run() without shutdown triggers; a second
    run() runs timed calls and stops normally."""
    assert result(started, kind, "crash-and-rerun") == EXPECTED["crash-and-rerun"]


@pytest.mark.parametrize("kind", KINDS)
def test_nested_loop_runs_each_thread_call_once(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """A modal dialog opened by a call from a thread, with 50 more calls queued
    behind it: each runs exactly once (stock qt5reactor runs the dialog's call
    again inside the dialog), and timed calls and a TCP exchange work inside
    the dialog."""
    lines = result(started, kind, "nested-loop")
    assert "the dialog call ran again" not in lines
    assert set(lines[:2]) == {
        "timed call inside the dialog",
        "echoed inside the dialog inside",
    }
    assert lines[2:] == [
        "dialog result 1",
        "thread calls ran 50 distinct 50",
        "run returned",
        "end of main",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_nested_loop_in_data_received_does_not_reenter_the_protocol(
    started: dict[tuple[str, str], subprocess.Popen[str]], kind: str
) -> None:
    """A dialog opened by dataReceived: data arriving meanwhile on that socket
    waits until the callback returns, while other sockets keep working."""
    assert result(started, kind, "nested-in-data-received") == [
        "other sockets worked inside the dialog",
        "dialog result 1",
        "data after the dialog second",
        "run returned",
        "end of main",
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["run", "exec"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_signals_end_the_program(kind: str, mode: str, signum: int) -> None:
    """SIGINT and SIGTERM, once the thread pool was used, stop the reactor with
    its shutdown triggers and end the program: run() returns; under
    runReturn() + exec() the application quits with 128 + the signal."""
    skip_unless_runs_here(kind)
    process = _start(kind, f"signal-{mode}")
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line.rstrip("\n"))
        if line.startswith("ready"):
            process.send_signal(signum)
            break
    status, rest, err = _finish(process)
    lines = seen + rest
    assert "ready" in lines, f"never ready: {lines}\n{err}"
    after = lines[lines.index("ready") + 1 :]
    if mode == "run":
        assert (status, after) == (0, [*SHUTDOWN, "run returned", "end of main"])
    else:
        code = 128 + signum
        assert (status, after) == (code, [*SHUTDOWN, f"exec returned {code}"])
