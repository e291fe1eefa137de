"""
Quitting with operations pending: the process exits by itself, every pending
operation is answered, and nothing (no traceback, no "Unhandled error") is
written to stderr. Each case runs `tests/reliability_quit_app.py` in a
subprocess with a timeout, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.qt_kinds import skip_unless_runs_here

from .helpers import run_python

ROOT = Path(__file__).resolve().parent.parent
ANSWERED = {  # the reactor's shutdown ended them: this side, not the peer
    "answered: send: ReactorShutdown",
    "answered: receive: ReactorShutdown",
    "answered: awaited receive: ReactorShutdown",
    "answered: send before close: ClientClosed",
    "answered: close: ok",
}
CONNECT = {"answered: connect: ConnectError", "answered: connect: ok"}  # a race


@pytest.mark.parametrize(
    "args",
    [
        ["plain"],
        ["qt5reactor", "stop"],
        ["qt5reactor", "app-quit"],
        ["qt", "stop"],
        ["qt", "app-quit"],
        ["notifier", "stop"],
        ["notifier", "app-quit"],
    ],
    ids="-".join,
)
def test_quitting_with_operations_pending(args: list[str], tmp_path: Path) -> None:
    """The app quits at once, answers every pending operation (those on the open
    connection with `ReactorShutdown`: closed locally), stderr stays empty."""
    skip_unless_runs_here(args[0])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    done = run_python("-m", "tests.reliability_quit_app", *args, env=env)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert lines[0] == "pending"
    answered = lines[1:-1]
    connect = [line for line in answered if line in CONNECT]
    assert len(connect) == 1
    others = [line for line in answered if line not in CONNECT]
    assert sorted(others) == sorted(ANSWERED)  # each answered exactly once
    assert lines[-1] == "exited"
