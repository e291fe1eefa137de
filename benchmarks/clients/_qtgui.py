"""
The Qt side of the Qt clients: the binding, the application, and the ``gui``
scenario's 16 ms timer whose ticks are recorded.

Every Qt class comes from `twisted_client.qt.binding`: the worker's parent
sets ``QT_API`` (``--qt-api``), and nothing here names a binding.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .._measure import gap_metrics, now_ns
from . import Unavailable

__all__ = ["TickRecorder", "qt_application", "qt_binding"]


def qt_binding() -> Any:
    """
    The process's `twisted_client.qt.QtBinding`.

    Raises:
        Unavailable: no usable Qt binding (the text says why).
    """
    from twisted_client.qt import QtBindingError, binding

    try:
        return binding()
    except QtBindingError as error:
        raise Unavailable(str(error)) from None


def qt_application() -> Any:
    """The process's QApplication, made (offscreen when there is no display)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    widgets = qt_binding().module("QtWidgets")
    app = widgets.QApplication.instance()
    if app is None:
        app = widgets.QApplication(sys.argv[:1])
    return app


class TickRecorder:
    """A precise ``interval_ms`` QTimer in the GUI thread; records when it fires."""

    def __init__(self, interval_ms: int) -> None:
        core = qt_binding().QtCore
        self.ticks: list[float] = []
        self.timer = core.QTimer()
        self.timer.setTimerType(core.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(now_ns() / 1e9)

    def start(self) -> None:
        """Start ticking."""
        self.timer.start()

    def stop(self) -> dict[str, float]:
        """Stop; return the gap metrics."""
        self.timer.stop()
        return gap_metrics(self.ticks)
