"""`CirclesWidget`: the classic demo's pulsing circles, one frame every 25 ms."""

from __future__ import annotations

import math
from typing import Any

from ._meter import FrameMeter
from ._qt import (
    QColor,
    QPainter,
    QPen,
    QPointF,
    QSize,
    QSizePolicy,
    Qt,
    QTimer,
    QWidget,
    Signal,
)

__all__ = ["FRAME_INTERVAL_MS", "CirclesWidget"]

FRAME_INTERVAL_MS = 25
"""The animation's period: 40 frames per second when the GUI thread is free."""


class CirclesWidget(QWidget):  # type: ignore[misc]  # the binding is typed Any
    """
    Rings that pulse outwards, advanced by a QTimer every `FRAME_INTERVAL_MS`.

    Each timer tick advances the frame counter, records the frame in `meter`
    and asks for a repaint. If the GUI thread is blocked the ticks stop, the
    rings freeze and the meter's worst gap grows: the point of the demo.
    """

    frame_advanced = Signal(int)
    """Emitted with the frame number on every tick."""

    RINGS = 6

    def __init__(self, meter: FrameMeter | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.meter = meter if meter is not None else FrameMeter()
        self.extra_meters: list[FrameMeter] = []
        """More meters fed by every frame (one per stress run, say)."""
        self.frame = 0
        self.painted = 0
        """Paint events handled: frames actually drawn."""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_INTERVAL_MS)
        self._timer.timeout.connect(self._advance)
        self._timer.start()

    def sizeHint(self) -> Any:
        """A square big enough to see the rings move."""
        return QSize(260, 260)

    def stop(self) -> None:
        """Stop the animation timer."""
        self._timer.stop()

    def _advance(self) -> None:
        self.frame += 1
        self.meter.tick()
        for meter in self.extra_meters:
            meter.tick()
        self.update()
        self.frame_advanced.emit(self.frame)

    def paintEvent(self, event: Any) -> None:
        """Draw the rings for the current frame."""
        self.painted += 1
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.fillRect(self.rect(), QColor("#10151f"))
            center = QPointF(self.width() / 2, self.height() / 2)
            largest = min(self.width(), self.height()) / 2 - 4
            phase = (self.frame % 80) / 80  # one pulse every 2 s at 40 fps
            for ring in range(self.RINGS):
                position = (ring + phase) / self.RINGS
                radius = largest * position
                fade = 1.0 - position
                hue = int(200 + 120 * position) % 360
                color = QColor.fromHsv(hue, 200, 255, int(255 * fade))
                painter.setPen(QPen(color, 2 + 6 * fade))
                painter.drawEllipse(center, radius, radius)
            beat = 0.5 + 0.5 * math.sin(self.frame * 2 * math.pi / 40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor.fromHsv(40, 220, 255))
            core = largest * (0.06 + 0.04 * beat)
            painter.drawEllipse(center, core, core)
        finally:
            painter.end()
