"""`run_app`: run a Qt application with the reactor inside it, start to end."""

from __future__ import annotations

from typing import Any

from ._binding import binding
from ._install import install_reactor
from ._lifecycle import finish_shutdown

__all__ = ["run_app"]


def run_app(reactor: Any = None, *, install_signal_handlers: bool = True) -> int:
    """
    Run the Qt application with the Twisted reactor inside it, until it quits.

    Installs the reactor first when none is (`install_reactor`, which also
    creates the QApplication), starts it (``reactor.runReturn()``) unless it
    runs already, and runs ``app.exec()``. When the application quits
    (``app.quit()``, the last window closed) or the reactor is stopped by
    SIGINT or SIGTERM, the reactor's shutdown triggers have fired and its
    thread pool has stopped by the time this returns.

    Returns:
        The status ``app.exec()`` returned: 0 after ``app.quit()``, 128 plus
        the signal number after SIGINT or SIGTERM. Pass it to `sys.exit`.
    """
    if reactor is None:
        reactor = install_reactor()
    app = binding().QtCore.QCoreApplication.instance()
    if app is None:  # pragma: no cover - install_reactor made one
        raise RuntimeError("no QApplication: create it before installing the reactor")
    if not reactor.running:
        reactor.runReturn(installSignalHandlers=install_signal_handlers)
    status: int = app.exec()
    finish_shutdown(reactor)  # nothing to do when quitting stopped it already
    return status
