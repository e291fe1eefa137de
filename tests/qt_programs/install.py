"""
install_reactor in a fresh process, run by tests/test_qt_install.py.

    python tests/qt_programs/install.py CASE

Prints one fact per line: what was installed and what the application is.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def fresh() -> None:
    """install_reactor() with nothing installed: the app and the reactor."""
    from twisted_client.qt import binding, install_reactor

    reactor = install_reactor()
    print("reactor", type(reactor).__name__)
    widgets = binding().module("QtWidgets")
    app = widgets.QApplication.instance()
    print("application", type(app).__module__, type(app).__name__)
    widgets.QWidget().show()
    print("widget shown")
    print("same again", install_reactor() is reactor)
    from twisted.internet import reactor as installed

    print("installed globally", installed is reactor)
    from twisted.internet.epollreactor import EPollReactor

    print("is EPollReactor", isinstance(reactor, EPollReactor))
    qt5reactor = sys.modules.get("qt5reactor")  # imported only with PyQt5
    is_qt5reactor = qt5reactor is not None and isinstance(reactor, qt5reactor.QtReactor)
    print("is qt5reactor.QtReactor", is_qt5reactor)
    bindings = [name for name in ("PyQt5", "PyQt6", "PySide6") if name in sys.modules]
    print("bindings imported", *bindings)


def after_default() -> None:
    """install_reactor() after Twisted's default reactor was installed."""
    from twisted.internet import reactor  # noqa: F401

    from twisted_client.qt import WrongReactorError, install_reactor

    try:
        install_reactor()
    except WrongReactorError as error:
        print("WrongReactorError", error)


if __name__ == "__main__":
    {"fresh": fresh, "after-default": after_default}[sys.argv[1]]()
