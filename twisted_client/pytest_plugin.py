"""
A pytest plugin: ``pytest --reactor=qt`` runs tests on our Qt reactor.

Installed with the package (a ``pytest11`` entry point), it teaches
pytest-twisted's ``--reactor`` option one more choice, ``qt``: the process
gets a real ``QApplication`` (so widgets work, and pytest-qt's ``qtbot``
uses the same application) and the reactor `twisted_client.qt.install_reactor`
chooses (``TWISTED_CLIENT_QT_REACTOR`` picks the kind; ``QT_API`` the
binding). pytest-twisted then runs that reactor for the whole session, as it
runs its own, and ``@pytest_twisted.ensureDeferred`` tests, Deferred-returning
fixtures and Qt signals all work in one run.

With ``--reactor=qt5reactor`` (pytest-twisted's own choice) the plugin only
creates the ``QApplication`` first: stock qt5reactor would otherwise create
a ``QCoreApplication``, and the first widget would abort the process.

The plugin does nothing unless one of those two reactors is asked for.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

__all__ = ["QT_REACTOR_CHOICE"]

#: The ``--reactor`` value this plugin adds.
QT_REACTOR_CHOICE = "qt"

_apps: list[Any] = []  # the QApplication, alive for the whole run


def _make_application() -> None:
    """Create the QApplication (offscreen without a display) unless one exists."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from twisted_client.qt import binding

    qt = binding()
    if qt.QtCore.QCoreApplication.instance() is None:
        _apps.append(qt.module("QtWidgets").QApplication(sys.argv[:1]))


def _install_qt_reactor() -> None:
    """pytest-twisted's installer for ``--reactor=qt``."""
    import pytest_twisted

    from twisted_client.qt import QtLifecycleMixin, install_reactor

    _make_application()
    pytest_twisted._install_reactor(
        reactor_installer=install_reactor, reactor_type=QtLifecycleMixin
    )


def _register() -> None:
    """Add ``qt`` to pytest-twisted's reactors (it reads them when configuring)."""
    try:
        import pytest_twisted
    except ImportError:  # pragma: no cover - pytest-twisted is not installed
        return
    pytest_twisted.reactor_installers.setdefault(QT_REACTOR_CHOICE, _install_qt_reactor)


_register()


def pytest_addoption(parser: pytest.Parser) -> None:
    """
    Let ``--reactor`` accept ``qt`` even if pytest-twisted registered first.

    pytest-twisted reads its choices when it registers; entry-point plugins
    register in no fixed order. pytest keeps the argparse action (pytest 9)
    or its keyword arguments (before) on the option; the plugin's own test
    fails loudly if that changes.
    """
    for group in parser._groups:
        for option in group.options:
            if option.dest != "reactor":
                continue
            action = getattr(option, "_action", None)
            if action is not None:
                choices = tuple(action.choices or ())
                if choices and QT_REACTOR_CHOICE not in choices:
                    action.choices = (*choices, QT_REACTOR_CHOICE)
            else:  # pytest < 9
                attrs: dict[str, Any] = getattr(option, "_attrs", {})
                choices = tuple(attrs.get("choices") or ())
                if choices and QT_REACTOR_CHOICE not in choices:
                    attrs["choices"] = (*choices, QT_REACTOR_CHOICE)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before pytest-twisted installs qt5reactor, give it a QApplication."""
    try:
        chosen = config.getoption("reactor")
    except ValueError:  # pytest-twisted is not active
        return
    if chosen == "qt5reactor":
        _make_application()
