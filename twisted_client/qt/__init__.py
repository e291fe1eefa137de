"""
Run Twisted inside a Qt application, on PyQt5, PyQt6 or PySide6.

`install_reactor` creates the QApplication and installs a Twisted reactor
that Qt's event loop drives: `QtEPollReactor` (kind ``"qt"``, the default on
Linux), `QtNotifierReactor` (kind ``"notifier"``, one QSocketNotifier per
socket, the default elsewhere) or `Qt5Reactor` (kind ``"qt5reactor"``, stock
qt5reactor with its lifecycle traps removed; PyQt5 only). All three have the
same lifecycle guarantees (`QtLifecycleMixin`); the first two run on every
binding. `QtClient` is a connection with Qt signals. `async_slot` runs an
``async def`` from a signal and reports its failure; `signal_once` awaits a
signal. `binding` says which Qt binding the process uses and why.

Importing this package imports no Qt binding: the binding is chosen (see
`binding`) the first time something needs Qt, such as `install_reactor` or
the first use of `QtClient`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .._errors import SignalTimeout
from .._public import publish
from ._async import async_slot, signal_once
from ._binding import API_ENV_VAR, APIS, QtBinding, QtBindingError, binding
from ._excepthook import log_slot_errors, report_slot_failure
from ._install import (
    REACTOR_ENV_VAR,
    REACTOR_KINDS,
    WrongReactorError,
    default_reactor_kind,
    install_reactor,
)
from ._lifecycle import QtLifecycleMixin
from ._notifierreactor import QtNotifierReactor
from ._run import run_app

with contextlib.suppress(ImportError):  # no epoll: "notifier" (or "qt5reactor")
    from ._qtreactor import QtEPollReactor

if TYPE_CHECKING:
    from ._client import QtClient
    from ._qt5reactor import Qt5Reactor

__all__ = [
    "APIS",
    "API_ENV_VAR",
    "REACTOR_ENV_VAR",
    "REACTOR_KINDS",
    "Qt5Reactor",
    "QtBinding",
    "QtBindingError",
    "QtClient",
    "QtEPollReactor",
    "QtLifecycleMixin",
    "QtNotifierReactor",
    "SignalTimeout",
    "WrongReactorError",
    "async_slot",
    "binding",
    "default_reactor_kind",
    "install_reactor",
    "log_slot_errors",
    "report_slot_failure",
    "run_app",
    "signal_once",
]


def __getattr__(name: str) -> Any:
    """Import what needs the Qt binding only when it is first used."""
    if name == "QtClient":
        from ._client import QtClient

        publish(__name__, {name: QtClient}, [name])
        return QtClient
    if name == "Qt5Reactor":
        from ._qt5reactor import Qt5Reactor

        publish(__name__, {name: Qt5Reactor}, [name])
        return Qt5Reactor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


publish(__name__, globals(), __all__)
