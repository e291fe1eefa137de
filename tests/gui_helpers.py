"""
Helpers for the tests that run the demo, or an example, as a child process
with no display (`tests.helpers.run_python` runs it).

* `headless_environment`: the child's environment: no display, Qt's
  offscreen platform, and the Qt binding asked for.
* `BINDING_NAMES` and `skip_unless_installed`: a ``QT_API`` value's binding,
  and skipping a test whose binding is not installed here.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

BINDING_NAMES = {"pyqt5": "PyQt5", "pyqt6": "PyQt6", "pyside6": "PySide6"}
"""The binding (its package) each ``QT_API`` value chooses."""


def headless_environment(qt_api: str | None = None) -> dict[str, str]:
    """
    This process's environment for a child with no display: no ``DISPLAY``
    or ``WAYLAND_DISPLAY``, ``QT_QPA_PLATFORM=offscreen``, and
    ``QT_API=qt_api`` (no ``QT_API`` when None: the child takes the first
    installed binding).
    """
    env = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_API", None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    if qt_api is not None:
        env["QT_API"] = qt_api
    return env


def skip_unless_installed(qt_api: str) -> None:
    """Skip the test when the binding ``qt_api`` chooses is not installed here."""
    name = BINDING_NAMES[qt_api]
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install '.[{qt_api}]')")
