"""
Whole programs on the drop-in, each in its own process (a reactor is per
process, and exiting by itself is part of what is tested): the seed's
``__main__`` as a script, the seed's demo under Qt with only ``app.exec()``
or with ``reactor.run()``, and a thousand clients at once. The server runs
in the test process; every subprocess has a timeout, so a hang fails the
test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.qt_kinds import KINDS, REACTOR_CLASS, skip_unless_runs_here
from twisted_client import MESSAGE_OVERHEAD
from twisted_client._framing import READ_SIZE
from twisted_client.compat._texts import CLOSED_LOCALLY

from .helpers import run_python

ROOT = Path(__file__).resolve().parent.parent
SUCCESS, ERROR = 1, 0


def run_program(name: str, *args: object, env: dict[str, str] | None = None) -> Any:
    """Run ``python -m tests.compat_programs.NAME ARGS`` in a worker thread;
    a Deferred firing with the CompletedProcess (60 s timeout)."""
    environment = dict(os.environ, **(env or {}))
    return deferToThread(
        run_python,
        "-m",
        f"tests.compat_programs.{name}",
        *map(str, args),
        env=environment,
    )


def report_of(done: subprocess.CompletedProcess[str]) -> Any:
    """The program's JSON report, after checking that it exited with 0."""
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest_twisted.ensureDeferred
async def test_script_mode(listening: Any) -> None:
    """With no GUI, the seed's __main__ runs unchanged on the drop-in: blocking
    reply_q.get() in the main thread, the seed's replies, one shared reactor
    thread for all the clients, no Qt imported; and the process exits by
    itself although one client was never joined and waits in a RECEIVE."""
    port = listening.echo(delay=0.02, reply=b"tuxy")
    done = await run_program("script_mode", port.getHost().port)
    report = report_of(done)
    exchange = [[SUCCESS, None], [SUCCESS, None], [SUCCESS, "tuxy"], [SUCCESS, None]]
    assert report["replies"] == exchange * 3 + [[SUCCESS, "forgotten"]]
    assert report["threads"].count("compat-reactor") == 1
    assert [name for name in report["threads"] if "Pool" not in name] == [
        "MainThread",
        "compat-reactor",
    ]
    assert report["qt_imported"] is False


@pytest.mark.qt
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["exec", "run"])
@pytest_twisted.ensureDeferred
async def test_gui_program(listening: Any, kind: str, mode: str) -> None:
    """The seed's demo (a QTimer polling reply_q.get(block=False), a 25 ms
    animation) against a server that answers late: with only app.exec() the
    drop-in installs and starts the Qt reactor itself; with reactor.run() it
    uses the program's. Either way it runs in the GUI thread, the animation
    ticks while the reply is awaited, a blocking reply_q.get() in the GUI thread
    raises BlockingCallError, and quitting ends the process although another
    client still waits in a RECEIVE; that RECEIVE gets an ERROR saying the
    client was closed locally, not a reset by the peer. On this pass's
    binding (QT_API)."""
    skip_unless_runs_here(kind)
    port = listening.echo(delay=0.2, reply=b"tuxy")
    done = await run_program(
        "gui_app",
        port.getHost().port,
        mode,
        env={"QT_QPA_PLATFORM": "offscreen", "TWISTED_CLIENT_QT_REACTOR": kind},
    )
    report = report_of(done)
    assert report["replies"] == [
        [SUCCESS, None],
        [SUCCESS, None],
        [SUCCESS, "tuxy"],
        [SUCCESS, None],
    ]
    assert report["ticks_while_waiting"] > 0
    assert report["blocking_get"] == "BlockingCallError"
    assert report["reactor_in_main_thread"] is True
    assert report["reactor"] == REACTOR_CLASS[kind]
    assert "compat-reactor" not in report["threads"]
    assert report["idle_replies"] == [[SUCCESS, None], [ERROR, CLOSED_LOCALLY]]


@pytest_twisted.ensureDeferred
async def test_a_thousand_clients_on_a_handful_of_threads(echo_port: int) -> None:
    """A thousand drop-in clients at once all complete CONNECT, SEND, RECEIVE,
    CLOSE, while the process never has more than a handful of threads (the
    seed's class would run a thousand)."""
    done = await run_program("many_clients", echo_port, 1000)
    report = report_of(done)
    assert report["errors"] == []
    assert report["succeeded"] == 1000
    assert report["peak_threads"] <= 4


@pytest.mark.parametrize("size", [0, 1])
@pytest_twisted.ensureDeferred
async def test_script_mode_flood_of_tiny_messages_stays_bounded(size: int) -> None:
    """
    In script mode, a drop-in client connected and sent no RECEIVE while its
    server floods 300,000 empty or 1-byte messages: it stops reading once they
    count for more than ``max_buffered`` (1 MiB for ``max_length`` 64 KiB),
    and what it holds and the traced memory stay within ``max_length +
    max_buffered`` plus one socket read (`READ_SIZE`, 256 KiB). (Counting
    payload bytes only, it read all 300,000: 13 MB traced for the 1-byte
    ones.)
    """
    done = await run_program("flood", size, 300_000)
    report = report_of(done)
    assert report["mode"] == "thread"
    assert report["paused"] is True
    assert report["closed"] is False
    one_read = READ_SIZE // (4 + size) * (size + MESSAGE_OVERHEAD)
    bound = report["max_buffered"] + one_read
    assert report["buffered_bytes"] + MESSAGE_OVERHEAD * report["buffered"] <= bound
    assert report["traced_growth"] <= report["max_length"] + bound
