"""
A small window that talks to a server through `QtClient`: signals and slots,
no threads, no polling. It runs on PyQt5, PyQt6 or PySide6 (``QT_API`` or
the first installed).

    python -m twisted_client.server --port 50007 --push-every 2 &
    python examples/qt_chat.py [HOST] [PORT]
    QT_API=pyside6 python examples/qt_chat.py

Type a line and press Enter to send it; every message from the server (its
echoes and its pushes) appears as it arrives. Closing the window ends the
program, whatever is pending.
"""

from __future__ import annotations

import sys
import time

from twisted_client.qt import QtClient, binding, install_reactor, run_app


def main(host: str = "127.0.0.1", port: str = "50007") -> int:
    """Open the window, connect, and run until it is closed."""
    install_reactor()  # creates the QApplication and the Qt reactor
    widgets = binding().module("QtWidgets")  # PyQt5's, PyQt6's or PySide6's

    window = widgets.QWidget()
    window.setWindowTitle(f"QtClient to {host}:{port} ({binding().name})")
    log = widgets.QPlainTextEdit()
    log.setReadOnly(True)
    line = widgets.QLineEdit()
    line.setPlaceholderText("type a message, then Enter")
    layout = widgets.QVBoxLayout(window)
    layout.addWidget(log)
    layout.addWidget(line)

    def show(text: str) -> None:
        log.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {text}")

    client = QtClient()
    client.state_changed.connect(lambda state: show(f"({state})"))
    client.message_received.connect(lambda data: show(f"<- {data!r}"))
    client.error_occurred.connect(lambda text: show(f"error: {text}"))

    def send() -> None:
        data = line.text().encode()
        line.clear()
        show(f"-> {data!r}")
        client.send(data)  # a failure is also emitted as error_occurred

    line.returnPressed.connect(send)
    client.connect_to_host(host, int(port))
    window.resize(520, 360)
    window.show()
    return run_app()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
