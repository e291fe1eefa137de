"""`install_reactor`: which Qt reactor, made how, and refusing the wrong one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.qt_kinds import binding_name, skip_unless_runs_here
from twisted_client import UsageError

from .helpers import run_python

pytestmark = pytest.mark.qt

PROGRAM = Path(__file__).parent / "qt_programs" / "install.py"
TIMEOUT = 60.0


def run_program(case: str, **env: str) -> list[str]:
    """Run install.py ``case`` in a fresh process; the lines it printed."""
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    environment.pop("TWISTED_CLIENT_QT_REACTOR", None)
    environment.update(env)
    done = run_python(str(PROGRAM), case, env=environment, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def kind_of(reactor: Any) -> str:
    """The kind of the Qt reactor installed in this process."""
    from twisted_client.qt import Qt5Reactor, QtEPollReactor, QtNotifierReactor

    kinds = {
        Qt5Reactor: "qt5reactor",
        QtEPollReactor: "qt",
        QtNotifierReactor: "notifier",
    }
    return kinds[type(reactor)]


def other_kind(reactor: Any) -> str:
    """A kind of Qt reactor, valid on this binding, other than the one installed."""
    return "notifier" if kind_of(reactor) == "qt" else "qt"


def test_again_returns_the_installed_reactor(reactor: Any) -> None:
    """Asking for the installed kind, or for no kind, returns the reactor."""
    from twisted_client.qt import install_reactor

    kind = kind_of(reactor)
    assert install_reactor(kind) is reactor
    assert install_reactor() is reactor


def test_another_kind_is_refused(reactor: Any) -> None:
    """Asking for the other Qt kind raises WrongReactorError (a UsageError)
    naming the reactor installed and saying to install earlier."""
    from twisted_client.qt import WrongReactorError, install_reactor

    kind = other_kind(reactor)
    with pytest.raises(WrongReactorError, match=type(reactor).__name__) as caught:
        install_reactor(kind)
    assert isinstance(caught.value, UsageError)
    assert f"{kind!r}" in str(caught.value)
    assert "before anything imports twisted.internet.reactor" in str(caught.value)


def test_environment_variable_chooses(
    reactor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TWISTED_CLIENT_QT_REACTOR is the kind when none is given: asking for
    the other kind through it is refused like asking directly."""
    from twisted_client.qt import (
        REACTOR_ENV_VAR,
        WrongReactorError,
        default_reactor_kind,
        install_reactor,
    )

    kind = other_kind(reactor)
    monkeypatch.setenv(REACTOR_ENV_VAR, kind)
    assert default_reactor_kind() == kind
    with pytest.raises(WrongReactorError):
        install_reactor()


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_unknown_kind_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """An unknown kind, given or in the environment, is a UsageError listing
    the kinds."""
    from twisted_client.qt import REACTOR_ENV_VAR, install_reactor

    if where == "argument":
        kind: str | None = "gtk"
    else:
        kind = None
        monkeypatch.setenv(REACTOR_ENV_VAR, "gtk")
    with pytest.raises(UsageError, match=r"'qt', 'notifier', 'qt5reactor'.*'gtk'"):
        install_reactor(kind)


def test_fresh_process_gets_the_epoll_qt_reactor_and_a_qapplication() -> None:
    """In a fresh process on Linux, install_reactor() makes a QApplication of
    this pass's binding (so widgets work), installs QtEPollReactor, an
    EPollReactor, globally, and imports no other binding."""
    name = binding_name()
    assert run_program("fresh") == [
        "reactor QtEPollReactor",
        f"application {name}.QtWidgets QApplication",
        "widget shown",
        "same again True",
        "installed globally True",
        "is EPollReactor True",
        "is qt5reactor.QtReactor False",
        f"bindings imported {name}",
    ]


def test_environment_variable_selects_the_notifier_reactor_in_a_fresh_process() -> None:
    """TWISTED_CLIENT_QT_REACTOR=notifier installs QtNotifierReactor, which is
    neither an EPollReactor nor a qt5reactor, on this pass's binding."""
    lines = run_program("fresh", TWISTED_CLIENT_QT_REACTOR="notifier")
    assert lines[0] == "reactor QtNotifierReactor"
    assert lines[-3:] == [
        "is EPollReactor False",
        "is qt5reactor.QtReactor False",
        f"bindings imported {binding_name()}",
    ]


def test_environment_variable_selects_qt5reactor_in_a_fresh_process() -> None:
    """TWISTED_CLIENT_QT_REACTOR=qt5reactor installs Qt5Reactor, a
    qt5reactor.QtReactor (what pytest-twisted's --reactor=qt5reactor wants)."""
    skip_unless_runs_here("qt5reactor")
    lines = run_program("fresh", TWISTED_CLIENT_QT_REACTOR="qt5reactor")
    assert lines[0] == "reactor Qt5Reactor"
    assert lines[-3:] == [
        "is EPollReactor False",
        "is qt5reactor.QtReactor True",
        "bindings imported PyQt5",
    ]


def test_plain_reactor_installed_first_is_refused() -> None:
    """With Twisted's default reactor installed already, install_reactor()
    raises WrongReactorError naming it."""
    (line,) = run_program("after-default")
    assert line.startswith("WrongReactorError a Qt reactor was asked for")
    assert "EPollReactor is installed already" in line


def test_without_epoll_the_default_is_the_notifier_reactor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where select has no epoll (macOS, Windows), the default kind is
    "notifier", whatever the binding, and asking for "qt" is a UsageError
    pointing to it."""
    import select

    from twisted_client.qt import REACTOR_ENV_VAR, default_reactor_kind, install_reactor

    monkeypatch.delenv(REACTOR_ENV_VAR, raising=False)
    monkeypatch.delattr(select, "epoll", raising=False)
    assert default_reactor_kind() == "notifier"
    with pytest.raises(UsageError, match=r"needs epoll.*kind='notifier'"):
        install_reactor("qt")
