"""``python -m gui`` headless, in a subprocess: it must finish by itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gui._backends import backend_available
from gui._options import BACKENDS

from .gui_helpers import headless_environment
from .helpers import ROOT, run_python

pytestmark = pytest.mark.qt

TIMEOUT = 60
"""Seconds before a run that does not end counts as a hang (the test fails)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_demo(
    *arguments: str, display: str | None = None
) -> subprocess.CompletedProcess[str]:
    """
    Run ``python -m gui``; fail the test if it does not end by itself.

    With no ``display``: no DISPLAY, and the offscreen platform. With one:
    that DISPLAY, and Qt left to choose its platform. Either way on this
    run's binding (its ``QT_API``).
    """
    env = headless_environment(os.environ.get("QT_API"))
    if display is not None:
        env.pop("QT_QPA_PLATFORM")
        env["DISPLAY"] = display
    return run_python("-m", "gui", *arguments, env=env, timeout=TIMEOUT)


def skip_unavailable(backend: str) -> None:
    """Skip when the backend's module has not landed yet."""
    if not backend_available(backend):
        pytest.skip(f"the {backend} backend is not available yet")


@pytest.mark.parametrize("backend", BACKENDS)
def test_headless_run_succeeds_and_saves_a_png(tmp_path: Path, backend: str) -> None:
    """With no display the demo runs headless, saves the PNG and exits 0."""
    skip_unavailable(backend)
    shot = tmp_path / "demo.png"
    done = run_demo(
        "--backend",
        backend,
        "--delay",
        "0.2",
        "--duration",
        "1",
        "--screenshot",
        str(shot),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    assert "Client reply SUCCESS: tuxy" in done.stdout
    summary = done.stdout.splitlines()[-1]
    assert summary.startswith("OK: 4/4 replies (4 SUCCESS, 0 ERROR)")
    assert "frames drawn" in summary
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_ending_mid_exchange_exits_at_once(backend: str) -> None:
    """A run that ends while RECEIVE still waits exits by itself, status 1."""
    skip_unavailable(backend)
    done = run_demo("--backend", backend, "--delay", "30", "--duration", "0.8")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("FAILED: 2/4 replies")
    assert "Traceback" not in done.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_refused_connection_is_an_error_line_and_status_1() -> None:
    """A server that is not there gives a 'Client reply ERROR' line and status 1."""
    done = run_demo("--server", f"127.0.0.1:{_closed_port()}", "--duration", "0.5")
    assert done.returncode == 1
    assert "Client reply ERROR: could not connect" in done.stdout
    assert "Traceback" not in done.stderr


def test_usage_error_is_status_2() -> None:
    """A bad --server value is a usage error, not a traceback."""
    done = run_demo("--server", "localhost:99999")
    assert done.returncode == 2
    assert "bad port" in done.stderr


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_run_at_once(signal_number: int) -> None:
    """Ctrl-C or SIGTERM while RECEIVE waits ends the run: log, summary, exit."""
    env = headless_environment(os.environ.get("QT_API"))
    command = [sys.executable, "-m", "gui", "--delay", "60", "--duration", "60"]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            assert process.stdout is not None
            successes = 0
            while successes < 2:  # CONNECT and SEND answered: RECEIVE waits
                line = process.stdout.readline()
                assert line, "the demo ended before RECEIVE was pending"
                successes += b"Client reply SUCCESS" in line
            process.send_signal(signal_number)
            out, err = process.communicate(timeout=TIMEOUT / 2)
        finally:
            process.kill()
    assert process.returncode == 1
    assert out.decode().splitlines()[-1].startswith("FAILED: 2/4 replies")
    assert b"Traceback" not in err


@pytest.mark.parametrize("backend", BACKENDS)
def test_ending_mid_stream_exits_at_once(backend: str) -> None:
    """A run that ends while the stress action streams exits by itself, status 1."""
    skip_unavailable(backend)
    done = run_demo(
        "--backend",
        backend,
        "--delay",
        "0.1",
        "--stress",
        "--stress-mb",
        "1000000",
        "--duration",
        "1.5",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Stress [" in done.stdout
    assert "Stress done" not in done.stdout
    assert done.stdout.splitlines()[-1].endswith("stress FAILED")
    assert "Traceback" not in done.stderr


def test_an_unusable_display_means_a_headless_run() -> None:
    """A DISPLAY nobody serves (or missing X libraries): a headless run, no abort."""
    done = run_demo("--delay", "0.1", "--duration", "0.5", display=":987")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no usable display" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("OK: 4/4 replies")
