"""
Run Twisted inside a Qt application.

`install_reactor` creates the QApplication and installs a Twisted reactor
that Qt's event loop drives: `QtEPollReactor` (kind ``"qt"``, the default on
Linux) or `Qt5Reactor` (kind ``"qt5reactor"``, stock qt5reactor with its
lifecycle traps removed). `QtClient` is a connection with Qt signals.
"""

import contextlib

from ._client import QtClient
from ._install import (
    REACTOR_ENV_VAR,
    REACTOR_KINDS,
    WrongReactorError,
    default_reactor_kind,
    install_reactor,
)
from ._lifecycle import QtLifecycleMixin
from ._qt5reactor import Qt5Reactor
from ._run import run_app

with contextlib.suppress(ImportError):  # no epoll: only "qt5reactor" here
    from ._qtreactor import QtEPollReactor

__all__ = [
    "REACTOR_ENV_VAR",
    "REACTOR_KINDS",
    "Qt5Reactor",
    "QtClient",
    "QtEPollReactor",
    "QtLifecycleMixin",
    "WrongReactorError",
    "default_reactor_kind",
    "install_reactor",
    "run_app",
]
