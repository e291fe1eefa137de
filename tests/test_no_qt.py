"""The core runs without Qt: the pass without a Qt reactor imports no binding."""

from __future__ import annotations

import sys

import pytest

BINDINGS = ("PyQt5", "PyQt6", "PySide6")


def test_no_qt_binding_was_imported(pytestconfig: pytest.Config) -> None:
    """Nothing in the run, plugins included, imported a Qt binding."""
    if pytestconfig.getoption("qt_reactor") != "none":
        pytest.skip("only the pass without Qt can tell")
    assert [name for name in BINDINGS if name in sys.modules] == []
