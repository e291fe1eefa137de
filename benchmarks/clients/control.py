"""``control``: the ``gui`` scenario's timer with no client at all (not a client kind).

What the 16 ms Qt timer does on this machine when nothing else runs in the
process: the floor the ``gui`` gaps are read against. A busy machine (other
processes on the same CPUs) shows up here first.
"""

from __future__ import annotations

from typing import Any

from ._qtgui import TickRecorder, qt_application, qt_binding


class Bench:
    """An idle Qt event loop with the recording timer."""

    def setup(self) -> str:
        """Make the QApplication."""
        qt_application()
        qt = qt_binding()
        return f"a 16 ms Qt timer alone in an idle Qt event loop ({qt.describe()})"

    def gui(
        self, port: int, size: int, duration: float, interval_ms: int, window: int
    ) -> dict[str, Any]:
        """Record the timer for ``duration`` seconds with nothing else running."""
        app = qt_application()
        recorder = TickRecorder(interval_ms)
        recorder.start()
        qt_binding().QtCore.QTimer.singleShot(int(duration * 1000), app.quit)
        app.exec()
        metrics = recorder.stop()
        metrics["mb_per_s"] = 0.0
        return metrics
