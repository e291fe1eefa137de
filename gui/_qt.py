"""
The demo's Qt: the binding `twisted_client.qt.binding` chose, and its modules.

Importing this module chooses the binding (already imported, else
``QT_API``, else the first installed) and imports ``QtCore``, ``QtGui`` and
``QtWidgets`` from it; nothing in the demo names a binding. ``--qt-api``
takes effect before (`gui._options.use_qt_api`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from twisted_client.qt import QtBinding, binding

__all__ = [
    "QtCore",
    "QtGui",
    "QtWidgets",
    "Signal",
    "describe_runtime",
    "qt",
]


def describe_runtime(reactor: Any) -> str:
    """One line: ``PySide6 6.8.1 on Qt 6.8.1 · QtEPollReactor``."""
    qt = binding()
    return f"{qt.name} {qt.version} on Qt {qt.qt_version} · {type(reactor).__name__}"


qt: QtBinding = binding()
QtCore: ModuleType = qt.QtCore
QtGui: ModuleType = qt.module("QtGui")
QtWidgets: ModuleType = qt.module("QtWidgets")
Signal: Any = qt.Signal
