"""
The demo's Qt: the binding `twisted_client.qt.binding` chose, and its modules.

Importing this module chooses the binding (already imported, else
``QT_API``, else the first installed) and imports ``QtCore``, ``QtGui`` and
``QtWidgets`` from it; nothing in the demo names a binding. ``--qt-api``
takes effect before (`gui._options.use_qt_api`). The Qt classes the
demo's widgets use are named here once, from whichever module holds them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from twisted_client.qt import QtBinding, binding

__all__ = [
    "QColor",
    "QComboBox",
    "QFont",
    "QFontDatabase",
    "QHBoxLayout",
    "QLabel",
    "QPainter",
    "QPen",
    "QPlainTextEdit",
    "QPointF",
    "QPushButton",
    "QSize",
    "QSizePolicy",
    "QTimer",
    "QVBoxLayout",
    "QWidget",
    "Qt",
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

Qt: Any = QtCore.Qt
QPointF: Any = QtCore.QPointF
QSize: Any = QtCore.QSize
QTimer: Any = QtCore.QTimer
QColor: Any = QtGui.QColor
QFont: Any = QtGui.QFont
QFontDatabase: Any = QtGui.QFontDatabase
QPainter: Any = QtGui.QPainter
QPen: Any = QtGui.QPen
QComboBox: Any = QtWidgets.QComboBox
QHBoxLayout: Any = QtWidgets.QHBoxLayout
QLabel: Any = QtWidgets.QLabel
QPlainTextEdit: Any = QtWidgets.QPlainTextEdit
QPushButton: Any = QtWidgets.QPushButton
QSizePolicy: Any = QtWidgets.QSizePolicy
QVBoxLayout: Any = QtWidgets.QVBoxLayout
QWidget: Any = QtWidgets.QWidget
