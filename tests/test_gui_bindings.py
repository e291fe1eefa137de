"""
``python -m gui`` on each Qt binding, headless, in a subprocess.

``--qt-api`` (or ``QT_API``) must choose the binding before anything imports
one: the run names it, and no other binding is loaded into the process.
Every run ends by itself and is bounded by a timeout.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from twisted_client.qt import APIS

from .gui_helpers import BINDING_NAMES, headless_environment, skip_unless_installed
from .helpers import ROOT, run_python

pytestmark = pytest.mark.qt

TIMEOUT = 60
"""Seconds before a run that does not end counts as a hang (the test fails)."""

# Runs the demo's main, then prints which bindings the process had loaded.
_PROGRAM = """
import sys
from gui.__main__ import main
status = main(sys.argv[1:])
print("LOADED", *sorted(m for m in ("PyQt5", "PyQt6", "PySide6") if m in sys.modules))
sys.exit(status)
"""


def run_demo(
    *arguments: str, qt_api: str | None = None, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the demo headless (``QT_API=qt_api`` if given); fail if it hangs."""
    env = headless_environment(qt_api)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(ROOT)])
    return run_python("-c", _PROGRAM, *arguments, env=env, timeout=TIMEOUT)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("how", ["--qt-api", "QT_API"])
def test_the_demo_runs_on_the_binding_asked_for(
    tmp_path: Path, api: str, how: str
) -> None:
    """The run logs the binding asked for, loads no other, and saves its PNG."""
    skip_unless_installed(api)
    shot = tmp_path / "demo.png"
    options = ["--delay", "0.1", "--duration", "0.8", "--screenshot", str(shot)]
    if how == "--qt-api":
        done = run_demo("--qt-api", api, *options)
    else:
        done = run_demo(*options, qt_api=api)
    assert done.returncode == 0, done.stdout + done.stderr
    name = BINDING_NAMES[api]
    assert f"Qt binding: {name} " in done.stdout
    assert f"(QT_API={api});" in done.stdout
    assert done.stdout.splitlines()[-1] == f"LOADED {name}"
    assert done.stdout.splitlines()[-2].startswith("OK: 4/4 replies")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Traceback" not in done.stderr


def test_a_binding_that_cannot_be_imported_is_status_2(tmp_path: Path) -> None:
    """--qt-api naming a binding whose import fails: status 2, the reason, no trace."""
    broken = tmp_path / "PyQt6"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    done = run_demo("--qt-api", "pyqt6", pythonpath=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PyQt6 was chosen (QT_API=pyqt6) but cannot be imported" in done.stderr
    assert "broken on purpose" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_qt_api_is_status_2() -> None:
    """QT_API naming no supported binding: status 2 and the supported names."""
    done = run_demo(qt_api="pyqt4")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not a supported Qt binding" in done.stderr
    assert "pyqt5, pyqt6, pyside6" in done.stderr
    assert done.stdout.splitlines() == ["LOADED"]
