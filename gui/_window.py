"""`DemoWindow`: circles, frame meter, the buttons, the backend selector, the log."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from ._backends import backend_available, make_backend
from ._circles import CirclesWidget
from ._commands import Backend, BackendUnavailable, Reply, Stress
from ._meter import FrameMeter
from ._options import BACKENDS, ServerAddress
from ._qt import (
    QComboBox,
    QFont,
    QFontDatabase,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    describe_runtime,
)
from ._stress import StressPlan, StressResult

__all__ = ["BACKEND_HELP", "DemoWindow"]

BACKEND_HELP = {
    "twisted": "the native client on the reactor, as a signal/slot program: "
    "on QtClient.connected send, on message_received log and close; nothing polls",
    "compat": "the drop-in compat.SocketClientThread, no thread; a QTimer polls "
    "reply_q every 100 ms, as the classic demo does",
    "thread": "the classic thread itself, blocking sockets; a QTimer polls reply_q "
    "every 100 ms",
}

_GOOD_GAP, _BAD_GAP = 0.050, 0.150


class _Exchange:
    """The replies of one 'Do it!': four steps, four replies (or up to an ERROR)."""

    def __init__(self, ends_on_error: bool) -> None:
        self.replies: list[Reply] = []
        self._ends_on_error = ends_on_error

    @property
    def done(self) -> bool:
        if self._ends_on_error and self.replies and not self.replies[-1].ok:
            return True
        return len(self.replies) == 4


class DemoWindow(QWidget):  # type: ignore[misc]  # the binding is typed Any
    """
    The demo's window.

    Its status line (`status_label`) names the Qt binding and the reactor
    it runs on. "Do it!" queues the classic exchange (CONNECT, SEND ``hello``, RECEIVE,
    CLOSE) on the selected backend and logs each reply with a timestamp;
    "Stress" streams ``stress_mb`` MiB through the connection and back.
    Closing the window stops everything at once (`shutdown`).
    """

    reply_logged = Signal(object)
    """Emitted with each `Reply` of an exchange, after it is logged."""
    exchange_finished = Signal(object)
    """Emitted with the list of four `Reply` objects when an exchange completes."""
    stress_finished = Signal(object)
    """Emitted with the `StressResult` when a stress run ends."""
    logged = Signal(str)
    """Emitted with each line added to the log pane (timestamp included)."""
    closing = Signal()
    """Emitted when the window is about to close, before `shutdown`."""
    closed = Signal()
    """Emitted when the window has closed (after `shutdown`)."""

    def __init__(
        self,
        reactor: Any,
        address: ServerAddress,
        *,
        stress_address: ServerAddress | None = None,
        backend: str = "twisted",
        stress_mb: int = 256,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.reactor = reactor
        self.address = address
        self.stress_address = stress_address or address
        self.stress_mb = stress_mb
        self.log_lines: list[str] = []
        self.exchanges: list[list[Reply]] = []
        """The replies of every exchange started, in order (growing as they come)."""
        self.stress_results: list[StressResult] = []
        self._backend: Backend | None = None
        self._backend_name = backend
        self._exchanges: deque[_Exchange] = deque()
        self._stress: Stress | None = None
        self._stress_meter = FrameMeter()
        self._shut_down = False
        self.setWindowTitle("Twisted client demo: the classic GUI on the reactor")
        self._build(backend)
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(250)
        self._meter_timer.timeout.connect(self._show_meter)
        self._meter_timer.start()
        self.log(f"Backend {backend}: {BACKEND_HELP[backend]}")

    # -- layout ------------------------------------------------------------------

    def _build(self, backend: str) -> None:
        self.circles = CirclesWidget(FrameMeter(window=3.0))
        self.meter_label = QLabel("measuring frames...")
        self.meter_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.meter_label.setTextFormat(Qt.TextFormat.RichText)
        left = QVBoxLayout()
        left.addWidget(self.circles, 1)
        left.addWidget(self.meter_label)
        row = QHBoxLayout()
        row.addLayout(left, 2)
        row.addLayout(self._build_controls(backend), 0)
        row.addWidget(self._build_log(), 3)
        self.status_label = QLabel(describe_runtime(self.reactor))
        """The status line: the Qt binding and the reactor the demo runs on."""
        self.status_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        outer = QVBoxLayout(self)
        outer.addLayout(row, 1)
        outer.addWidget(self.status_label)
        self.resize(1000, 480)

    def _build_controls(self, backend: str) -> Any:
        self.backend_box = QComboBox()
        model: Any = self.backend_box.model()
        for index, name in enumerate(BACKENDS):
            self.backend_box.addItem(name)
            item = model.item(index)
            item.setToolTip(BACKEND_HELP[name])
            if not backend_available(name):
                item.setEnabled(False)
                item.setToolTip(f"{name}: not available in this installation")
        self.backend_box.setCurrentText(backend)
        self.backend_box.currentTextChanged.connect(self.set_backend)
        self.do_it_button = QPushButton("Do it!")
        self.do_it_button.setDefault(True)
        self.do_it_button.clicked.connect(self.do_it)
        self.stress_button = QPushButton(f"Stress ({self.stress_mb} MiB)")
        self.stress_button.clicked.connect(self.start_stress)
        self.progress_label = QLabel("")
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.server_label = QLabel(f"server\n{self.address}")
        self.server_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        middle = QVBoxLayout()
        middle.addWidget(QLabel("Backend:"))
        middle.addWidget(self.backend_box)
        middle.addSpacing(12)
        middle.addWidget(self.do_it_button)
        middle.addWidget(self.stress_button)
        middle.addWidget(self.progress_label)
        middle.addStretch(1)
        middle.addWidget(self.server_label)
        bold = QFont(self.do_it_button.font())
        bold.setBold(True)
        self.do_it_button.setFont(bold)
        return middle

    def _build_log(self) -> Any:
        self.log_pane = QPlainTextEdit()
        self.log_pane.setReadOnly(True)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setPointSize(9)
        self.log_pane.setFont(fixed)
        self.log_pane.setMinimumWidth(460)
        self.log_pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        return self.log_pane

    # -- actions -----------------------------------------------------------------

    @property
    def backend_name(self) -> str:
        """The selected backend."""
        return self._backend_name

    @property
    def busy(self) -> bool:
        """True while an exchange or a stress run waits for replies."""
        return bool(self._exchanges) or self._stress is not None

    def do_it(self) -> None:
        """Queue the classic exchange: CONNECT, SEND hello, RECEIVE, CLOSE."""
        backend = self._ensure_backend()
        if backend is None or self._stress is not None:
            return
        self.log(f"Do it! [{backend.name}]: {backend.describe_exchange(self.address)}")
        exchange = _Exchange(backend.ends_on_error)
        self._exchanges.append(exchange)
        self.exchanges.append(exchange.replies)
        self.stress_button.setEnabled(False)
        backend.exchange(self.address)

    def start_stress(self) -> None:
        """Stream ``stress_mb`` MiB of 1 MiB messages through the connection."""
        backend = self._ensure_backend()
        if backend is None or self.busy:
            return
        self.log(
            f"Stress [{backend.name}]: {self.stress_mb} x SEND 1 MiB + RECEIVE "
            f"via {self.stress_address}; watch the frame meter"
        )
        self._stress_meter = FrameMeter(window=self.circles.meter.window)
        self.circles.extra_meters.append(self._stress_meter)
        self.do_it_button.setEnabled(False)
        self.stress_button.setEnabled(False)
        self.backend_box.setEnabled(False)
        self._stress = backend.stress(
            StressPlan(self.stress_address, self.stress_mb, self._stress_done)
        )
        self._stress.start()

    def set_backend(self, name: str) -> None:
        """Use backend ``name`` from now on; what the old one had pending is dropped."""
        if name == self._backend_name and self._backend is not None:
            return
        if self.busy:
            self.log(f"Backend {self._backend_name} stopped: pending commands dropped")
        self._stop_backend()
        self._backend_name = name
        if self.backend_box.currentText() != name:
            self.backend_box.setCurrentText(name)
        self.log(f"Backend {name}: {BACKEND_HELP[name]}")

    def shutdown(self) -> None:
        """Stop the animation, the meter and the backend, at once; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self.circles.stop()
        self._meter_timer.stop()
        self._stop_backend()

    def log(self, text: str) -> None:
        """Append ``text`` to the log pane with a timestamp."""
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now))
        line = f"[{stamp}.{int(now % 1 * 1000):03d}] {text}"
        self.log_lines.append(line)
        self.log_pane.appendPlainText(line)
        self.logged.emit(line)

    def closeEvent(self, event: Any) -> None:
        """Closing the window ends everything pending, then reports `closed`."""
        if not self._shut_down:
            self.closing.emit()
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()

    # -- replies -----------------------------------------------------------------

    def _ensure_backend(self) -> Backend | None:
        if self._shut_down:
            return None
        if self._backend is None:
            try:
                self._backend = make_backend(
                    self._backend_name, self.reactor, self._on_reply
                )
            except BackendUnavailable as error:
                self.log(f"Client reply ERROR: {error}")
                return None
        return self._backend

    def _stop_backend(self) -> None:
        backend, self._backend = self._backend, None
        self._exchanges.clear()
        self._stress = None
        if backend is not None:
            backend.stop()
        self._enable_buttons()

    def _on_reply(self, reply: Reply) -> None:
        if self._stress is not None:
            self._stress.reply(reply)
            return
        if not self._exchanges:
            self.log(f"{reply} (unexpected)")
            return
        exchange = self._exchanges[0]
        exchange.replies.append(reply)
        self.log(str(reply))
        self.reply_logged.emit(reply)
        if exchange.done:
            self._exchanges.popleft()
            self._enable_buttons()
            self.exchange_finished.emit(exchange.replies)

    def _stress_done(self, result: StressResult) -> None:
        self._stress = None
        self.progress_label.setText(
            f"{result.received / 2**20:.0f} MiB back in {result.seconds:.1f} s"
        )
        meter = self._stress_meter
        if meter in self.circles.extra_meters:
            self.circles.extra_meters.remove(meter)
        self.log(
            f"{result}; frames during it: {meter.frames}, worst gap "
            f"{meter.worst_gap_ever * 1000:.0f} ms"
        )
        self.stress_results.append(result)
        self._enable_buttons()
        self.stress_finished.emit(result)

    def _enable_buttons(self) -> None:
        self.do_it_button.setEnabled(self._stress is None)
        self.stress_button.setEnabled(not self.busy)
        self.backend_box.setEnabled(self._stress is None)

    def _show_meter(self) -> None:
        stress = self._stress
        if stress is not None:
            self.progress_label.setText(
                f"{stress.received_mib:.0f} / {self.stress_mb} MiB back"
            )
        meter = self.circles.meter
        gap = meter.worst_gap()
        color = (
            "#1a7f37" if gap < _GOOD_GAP else "#b26b00" if gap < _BAD_GAP else "#c62828"
        )
        self.meter_label.setText(
            f"{meter.fps():.1f} frames/s &nbsp; worst gap "
            f"<b><span style='color:{color}'>{gap * 1000:.0f} ms</span></b>"
            f"<br><small>over the last {meter.window:g} s (a frame is due every 25 ms)"
            "</small>"
        )
