"""The GUI side of the ``gui`` scenario: a 16 ms Qt timer whose ticks are recorded."""

from __future__ import annotations

import os
import sys
from typing import Any

from .._measure import gap_metrics, now_ns

__all__ = ["TickRecorder", "qt_application"]


def qt_application() -> Any:
    """The process's QApplication, made (offscreen when there is no display)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    return app


class TickRecorder:
    """A precise ``interval_ms`` QTimer in the GUI thread; records when it fires."""

    def __init__(self, interval_ms: int) -> None:
        from PyQt5.QtCore import Qt, QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
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
