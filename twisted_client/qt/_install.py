"""`install_reactor`: choose, create and install the Qt-driven reactor."""

from __future__ import annotations

import os
import select
import sys
from typing import Any

from .._errors import UsageError, WrongReactorError
from .._twisted_private import ever_started
from ._binding import binding

__all__ = [
    "REACTOR_ENV_VAR",
    "REACTOR_KINDS",
    "WrongReactorError",
    "default_reactor_kind",
    "install_reactor",
    "kind_of",
    "qt_reactor",
]

#: The environment variable that chooses the reactor when no kind is given.
REACTOR_ENV_VAR = "TWISTED_CLIENT_QT_REACTOR"

#: The kinds `install_reactor` knows: ``"qt"`` (one epoll descriptor watched
#: by Qt; Linux; every binding), ``"notifier"`` (one QSocketNotifier per
#: socket; every platform and binding) and ``"qt5reactor"`` (stock
#: qt5reactor, fixed; PyQt5 only).
REACTOR_KINDS = ("qt", "notifier", "qt5reactor")

# Keeps the QApplication we create alive (PyQt destroys it with its wrapper).
_made_apps: list[Any] = []


def default_reactor_kind() -> str:
    """
    The kind used when none is asked for.

    The ``TWISTED_CLIENT_QT_REACTOR`` environment variable when it is set;
    otherwise ``"qt"`` where epoll exists (Linux) and ``"notifier"``
    elsewhere, whatever the binding.
    """
    chosen = os.environ.get(REACTOR_ENV_VAR, "").strip()
    if chosen:
        _check_kind(chosen, f"${REACTOR_ENV_VAR}")
        return chosen
    return "qt" if hasattr(select, "epoll") else "notifier"


def install_reactor(kind: str | None = None) -> Any:
    """
    Make the Twisted reactor run inside Qt's event loop, and return it.

    Creates the QApplication first when there is none (a QApplication, so
    widgets work), then installs the reactor of the given kind as the global
    reactor. Calling it again returns the reactor already installed.

    Args:
        kind: ``"qt"`` for `QtEPollReactor` (Twisted's epoll reactor driven
            by one QSocketNotifier and one QTimer; needs Linux),
            ``"notifier"`` for `QtNotifierReactor` (one QSocketNotifier per
            socket and direction; any platform), ``"qt5reactor"`` for
            `Qt5Reactor` (stock qt5reactor with the lifecycle fixes; PyQt5
            only), or None for `default_reactor_kind`. With None,
            any Qt reactor already installed is accepted, unless the
            environment variable asks for a particular kind.

    A stock ``qt5reactor.QtReactor`` installed by someone else counts as
    kind ``"qt5reactor"`` and is returned as it is, without our fixes.

    Raises:
        WrongReactorError: a reactor of another kind is installed already
            (install the Qt reactor before anything imports
            ``twisted.internet.reactor``).
        UsageError: unknown kind, ``"qt"`` on a platform without epoll, or
            ``"qt5reactor"`` in a process whose binding is not PyQt5.
    """
    explicit = kind is not None or bool(os.environ.get(REACTOR_ENV_VAR, "").strip())
    if kind is None:
        kind = default_reactor_kind()
    else:
        _check_kind(kind, "kind")
    if kind == "qt" and not hasattr(select, "epoll"):
        raise UsageError(
            "the 'qt' reactor needs epoll (Linux); use kind='notifier' here"
        )
    if kind == "qt5reactor" and binding().api != "pyqt5":
        alternative = "'qt'" if hasattr(select, "epoll") else "'notifier'"
        raise UsageError(
            "the 'qt5reactor' reactor runs on PyQt5 only, and this process uses "
            f"{binding().describe()}; use kind={alternative} here"
        )
    _ensure_application()
    if "twisted.internet.reactor" not in sys.modules:
        return _install_kind(kind)
    from twisted.internet import reactor

    installed = kind_of(reactor)
    if installed is None or (explicit and installed != kind):
        wanted = f"a {kind!r} Qt reactor" if explicit else "a Qt reactor"
        raise WrongReactorError(
            f"{wanted} was asked for, but a {type(reactor).__module__}."
            f"{type(reactor).__name__} is installed already; call install_reactor "
            "before anything imports twisted.internet.reactor"
        )
    return reactor


def _install_kind(kind: str) -> Any:
    """Create the reactor of ``kind`` and install it as the global reactor."""
    if kind == "qt":
        from ._qtreactor import install as install_epoll

        return install_epoll()
    if kind == "notifier":
        from ._notifierreactor import install as install_notifier

        return install_notifier()
    from ._qt5reactor import install as install_qt5reactor

    return install_qt5reactor()


def qt_reactor() -> Any:
    """
    The global reactor, made sure to run inside Qt: for code whose reactor defaults.

    * No reactor installed yet: `install_reactor` installs the default kind
      (creating the QApplication if there is none).
    * A Qt reactor installed already (ours or stock qt5reactor): that one.
    * Either way, if the reactor has not been started, a zero-delay QTimer
      starts it with ``runReturn()`` once Qt's loop runs, unless the program
      started it by then (``reactor.run()``, ``runReturn()``, `run_app`). So
      a program that only calls ``app.exec()`` works, and quitting the
      application stops the reactor.

    Raises:
        WrongReactorError: another reactor is installed already (something
            imported ``twisted.internet.reactor`` before the Qt reactor was
            installed), which would never run under Qt's loop. The message
            says to call `install_reactor` first, or to pass a reactor.
    """
    if "twisted.internet.reactor" not in sys.modules:
        reactor = install_reactor()
    else:
        from twisted.internet import reactor

        if kind_of(reactor) is None:
            raise WrongReactorError(
                "this needs the Twisted reactor to run inside Qt's event loop, "
                f"but a {type(reactor).__module__}.{type(reactor).__name__} is "
                "installed already, which Qt's loop never runs; call "
                "twisted_client.qt.install_reactor() before anything imports "
                "twisted.internet.reactor, or pass the reactor to use"
            )
    if not ever_started(reactor):
        _start_once_qt_runs(reactor)
    return reactor


def _start_once_qt_runs(reactor: Any) -> None:
    """Have a zero-delay QTimer start ``reactor`` (once) unless it runs by then."""
    if reactor not in _start_pending:
        _start_pending.append(reactor)
        binding().QtCore.QTimer.singleShot(0, lambda: _start_if_idle(reactor))


# Reactors that a zero-delay QTimer will start unless the program does first.
_start_pending: list[Any] = []


def _start_if_idle(reactor: Any) -> None:
    """Qt's loop runs: start the reactor inside it, unless it runs already."""
    _start_pending.remove(reactor)
    if ever_started(reactor):
        return
    try:
        reactor.runReturn()
    except Exception:  # nothing may escape into Qt (PyQt aborts)
        from twisted.logger import Logger

        Logger().failure("while starting the reactor inside Qt's loop")


def _check_kind(kind: str, where: str) -> None:
    if kind not in REACTOR_KINDS:
        raise UsageError(
            f"{where} must be one of {', '.join(map(repr, REACTOR_KINDS))}, "
            f"not {kind!r}"
        )


def kind_of(reactor: object) -> str | None:
    """
    Whether ``reactor`` runs inside Qt's event loop, and which kind it is.

    ``"qt"``, ``"notifier"`` or ``"qt5reactor"`` (ours, or stock qt5reactor's
    `QtReactor`), or None for a reactor that Qt's loop does not drive. The one
    answer to "is this a Qt reactor?" (`install_reactor`, `qt_reactor` and
    the drop-in's runtime ask it); imports nothing that is not loaded yet,
    so no Qt binding either.
    """
    if "twisted_client.qt._qtreactor" in sys.modules:
        from ._qtreactor import QtEPollReactor

        if isinstance(reactor, QtEPollReactor):
            return "qt"
    if "twisted_client.qt._notifierreactor" in sys.modules:
        from ._notifierreactor import QtNotifierReactor

        if isinstance(reactor, QtNotifierReactor):
            return "notifier"
    if "qt5reactor" in sys.modules:
        import qt5reactor

        if isinstance(reactor, qt5reactor.QtReactor):
            return "qt5reactor"
    return None


def _ensure_application() -> None:
    """Create the QApplication unless there is one already."""
    qt = binding()
    if qt.QtCore.QCoreApplication.instance() is None:
        app_class = qt.module("QtWidgets").QApplication
        _made_apps.append(app_class(sys.argv[:1]))
