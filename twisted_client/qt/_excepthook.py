"""
`log_slot_errors`: an exception escaping a Qt slot is logged, not fatal.

PyQt5 (5.5 and later) and PyQt6 abort the whole process (``qFatal``) when a
Python slot raises while `sys.excepthook` is Python's default; with any other
hook installed they call it and go on. PySide6 prints the traceback through
`sys.excepthook` and goes on by itself. So a program that connects its own
slots to `QtClient` signals installs a hook once, at start-up, and a bug in
one slot is then a logged traceback instead of a dead application.

`report_slot_failure` is where a coroutine run by an `async_slot` reports
the exception that ended it: Qt never sees that one, so nothing else would.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import cast

from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = ["log_slot_errors", "report_slot_failure"]

_log = Logger(namespace="twisted_client.qt")


def log_slot_errors() -> None:
    """
    Install a `sys.excepthook` that logs through Twisted's log and keeps Qt running.

    An exception that reaches the hook (one escaping a Qt slot, under every
    binding) is logged as a failure with Twisted's `twisted.logger`
    (``"Unhandled exception in a Qt slot"``; before any log observer is
    set up, Twisted prints it on stderr), and the program goes on.
    `KeyboardInterrupt` and `SystemExit` keep their meaning: after being
    logged they make the Qt application exit (with 130, or the exit code).

    Calling it again does nothing. It replaces any hook installed before.
    """
    if sys.excepthook is not _log_exception:
        sys.excepthook = _log_exception


def report_slot_failure(failure: Failure) -> None:
    """
    Report the failure of a coroutine an `async_slot` ran: never drop it.

    The failure is logged with its traceback through Twisted's
    `twisted.logger` (``"Unhandled exception in an async Qt slot"``) and
    handed to `sys.excepthook`, where an application's crash reporter or
    error dialog gets it. Two hooks are not called, because they would only
    say it again: Python's default one (it prints what the log printed), and
    the one `log_slot_errors` installs, which logs it itself instead (and, for
    `KeyboardInterrupt` or `SystemExit`, ends the Qt application). A hook
    that raises is logged too; nothing is raised from here.
    """
    hook = sys.excepthook
    error = cast(BaseException, failure.value)  # a Failure holds an exception
    traceback = failure.getTracebackObject()
    if hook is _log_exception:
        hook(type(error), error, traceback)
        return
    _log.failure("Unhandled exception in an async Qt slot", failure)
    if hook is sys.__excepthook__:
        return
    try:
        hook(type(error), error, traceback)
    except Exception:
        _log.failure("sys.excepthook raised while reporting an async slot's failure")


def _log_exception(
    kind: type[BaseException],
    value: BaseException,
    traceback: TracebackType | None,
) -> None:
    """The hook: log the exception; end the application for Ctrl-C and exit()."""
    try:
        _log.failure(
            "Unhandled exception in a Qt slot",
            Failure(value, kind, traceback),
        )
    except Exception:  # a hook that raises would make PyQt abort after all
        sys.__excepthook__(kind, value, traceback)
    if issubclass(kind, KeyboardInterrupt | SystemExit):
        _exit_application(value)


def _exit_application(value: BaseException) -> None:
    """Ask the Qt application to exit, as Ctrl-C or ``sys.exit()`` meant."""
    code = 130
    if isinstance(value, SystemExit):
        code = value.code if isinstance(value.code, int) else 1 if value.code else 0
    from ._binding import binding, imported_api

    if imported_api() is None:
        return
    app = binding().QtCore.QCoreApplication.instance()
    if app is not None:
        app.exit(code)
