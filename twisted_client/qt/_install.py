"""Installing a Qt-driven Twisted reactor."""

from __future__ import annotations

import sys
from typing import Any

from .._errors import UsageError

__all__ = ["WrongReactorError", "install_reactor"]


class WrongReactorError(UsageError):
    """A reactor that does not run inside Qt is installed already."""


def install_reactor(kind: str | None = None) -> Any:
    """
    Install a reactor that runs inside Qt's event loop, and return it.

    Creates the QApplication first when there is none. Calling it again
    returns the installed reactor.

    Raises:
        WrongReactorError: another kind of reactor is installed already.
    """
    from PyQt5.QtWidgets import QApplication

    import qt5reactor

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
    if "twisted.internet.reactor" not in sys.modules:
        qt5reactor.install()
    from twisted.internet import reactor

    if not isinstance(reactor, qt5reactor.QtReactor):
        raise WrongReactorError(
            f"a {type(reactor).__name__} is installed already; install the Qt "
            "reactor before anything imports twisted.internet.reactor"
        )
    return reactor
