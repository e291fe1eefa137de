"""
Twisted's own reactor conformance tests pass on each of our Qt reactors.

tests/qt_programs/conformance.py points the `ReactorBuilder` test builders of
``twisted.internet.test`` (run/stop/crash and system events, time, threads,
TCP over IPv4 and IPv6, UNIX sockets, UDP, descriptor sets, processes) at
`QtEPollReactor`, `QtNotifierReactor` and `Qt5Reactor` (PyQt5 only), on this
pass's binding (the subprocesses inherit ``QT_API``). Each test there builds
and runs its own reactor, so they run under trial in a subprocess per
reactor, all at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qt_kinds import KINDS, kinds_here, skip_unless_runs_here

from .helpers import finish, stop_all

pytestmark = pytest.mark.qt

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = Path("tests") / "qt_programs" / "conformance.py"
TIMEOUT = 300.0
"""Seconds before the whole run counts as hung (it takes a few seconds)."""


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """The trial run of every kind this binding runs, started at once."""
    started = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "twisted.trial", str(PROGRAM)],
            cwd=ROOT,
            env=dict(os.environ, QT_CONFORMANCE_KIND=kind, QT_QPA_PLATFORM="offscreen"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for kind in kinds_here()
    }
    yield started
    stop_all(started.values())


@pytest.mark.parametrize("kind", KINDS)
def test_twisted_reactor_tests_pass(
    runs: dict[str, subprocess.Popen[str]], kind: str
) -> None:
    """Every selected Twisted reactor test passes (a few skips, each with its
    reason in conformance.py), and more than 200 of them ran."""
    skip_unless_runs_here(kind)
    process = runs[kind]
    output, _ = finish(process, TIMEOUT, "trial")
    assert process.returncode == 0, output[-5000:]
    ran = re.search(r"^Ran (\d+) tests", output, re.MULTILINE)
    assert ran is not None, output[-3000:]
    assert int(ran.group(1)) > 200
    assert re.search(r"^PASSED \(skips=\d, successes=\d+\)$", output, re.MULTILINE)
