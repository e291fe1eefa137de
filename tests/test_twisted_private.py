"""
The private members of Twisted that our Qt reactors rely on are still there,
with the parameters we expect; a Twisted upgrade that changes one fails here,
naming it. `has_started` and `ever_started` answer from Twisted's state.
"""

from __future__ import annotations

import importlib
import inspect
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.epollreactor import EPollReactor
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock

import twisted_client
from twisted_client._twisted_private import (
    IMPORTED,
    RELIED_ON,
    Private,
    ever_started,
    has_started,
)

PACKAGE = Path(twisted_client.__file__).parent
#: The modules that may use Twisted's private names (see RELIED_ON): the
#: object they reach them on (``self`` in a reactor subclass, else
#: ``reactor``), and the Twisted reactor whose names they are.
USERS = {
    **{path: ("self", "epoll") for path in sorted((PACKAGE / "qt").glob("_*.py"))},
    PACKAGE / "compat" / "_inline.py": ("reactor", "epoll"),
    PACKAGE / "_asyncio_guest.py": ("self", "asyncio"),
}
_QT5 = "qt5reactor:"


def _owner(entry: Private) -> type:
    module, _, name = entry.owner.partition(":")
    found: type = getattr(importlib.import_module(module), name)
    return found


@pytest.fixture(scope="module")
def epoll() -> Iterator[EPollReactor]:
    """A fresh, never started EPollReactor; its descriptors closed afterwards."""
    reactor = EPollReactor()
    yield reactor
    reactor.removeReader(reactor.waker)
    reactor.waker.connectionLost(None)
    reactor._poller.close()


@pytest.fixture(scope="module")
def reactors(epoll: EPollReactor) -> Iterator[dict[str, Any]]:
    """A new reactor of each class we subclass: epoll, and asyncio's on its
    own loop (neither installed nor started; closed afterwards)."""
    import asyncio

    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    loop = asyncio.new_event_loop()
    guest = AsyncioSelectorReactor(loop)
    yield {"epoll": epoll, "asyncio": guest}
    guest.removeReader(guest.waker)
    guest.waker.connectionLost(None)
    loop.close()


def _problem(entry: Private, owner: type, instance: object) -> str | None:
    """What is wrong with ``entry`` in the installed version, or None."""
    where = f"{entry.owner}.{entry.name} (relied on by {entry.used_by})"
    if entry.parameters is None:
        if not hasattr(instance, entry.name):
            return f"{where}: no such attribute on a {type(instance).__name__} any more"
        return None
    method = inspect.getattr_static(owner, entry.name, None)
    if method is None:
        return f"{where}: no such method any more"
    parameters = tuple(inspect.signature(method).parameters)[1:]  # after self
    if parameters != entry.parameters:
        return f"{where}: parameters are {parameters}, expected {entry.parameters}"
    return None


@pytest.mark.reactorless
@pytest.mark.parametrize(
    "entry",
    [entry for entry in RELIED_ON if not entry.owner.startswith(_QT5)],
    ids=lambda entry: f"{entry.owner}.{entry.name}",
)
def test_twisted_still_has_what_our_reactors_rely_on(
    entry: Private, reactors: dict[str, Any]
) -> None:
    """Each private method has the parameters expected; each attribute is set
    on a new reactor of the class (an EPollReactor is a PosixReactorBase and a
    ReactorBase)."""
    owner = _owner(entry)
    instance = next(each for each in reactors.values() if isinstance(each, owner))
    assert _problem(entry, owner, instance) is None


@pytest.mark.qt
@pytest.mark.parametrize("kind", ["qt5reactor"])
@pytest.mark.parametrize(
    "entry",
    [entry for entry in RELIED_ON if entry.owner.startswith(_QT5)],
    ids=lambda entry: f"{entry.owner}.{entry.name}",
)
def test_qt5reactor_still_has_what_our_reactor_relies_on(
    entry: Private, kind: str, reactor: Any
) -> None:
    """The same for qt5reactor's QtReactor, in the qt5reactor pass (PyQt5),
    on the reactor that pass installed (our `Qt5Reactor`)."""
    owner = _owner(entry)
    assert isinstance(reactor, owner), kind
    assert _problem(entry, owner, reactor) is None


def _private_names_used_in(path: Path, on: str) -> set[str]:
    """Each ``_name`` that ``path`` reads, calls, sets or overrides on ``on``."""
    uses = rf"\b{on}\.(_[A-Za-z]\w*)"  # self._name, reactor._name
    if on == "self":
        uses += (
            r"|\bsuper\(\)\.(_[A-Za-z]\w*)"  # super()._name
            r"|\bdef (_[A-Za-z]\w*)\("  # an override
            r"|getattr\(self, \"(_[A-Za-z]\w*)\""  # getattr(self, "_name", ...)
        )
    found = re.findall(uses, path.read_text())
    groups = [group if isinstance(group, tuple) else (group,) for group in found]
    return {name for group in groups for name in group if name}


@pytest.mark.reactorless
def test_every_private_twisted_name_our_reactors_use_is_listed(
    reactors: dict[str, Any],
) -> None:
    """A private name that a module of twisted_client.qt, the drop-in's
    inline dispatch or the asyncio guest reactor uses, and that Twisted's
    reactor has too, is in `RELIED_ON`, so the test above covers it."""
    listed = {entry.name for entry in RELIED_ON}
    unlisted = {}
    for path, (on, base) in USERS.items():
        for name in _private_names_used_in(path, on):
            if hasattr(reactors[base], name) and name not in listed:
                unlisted.setdefault(path.name, []).append(name)
    assert unlisted == {}


#: How to make an instance of a class in `IMPORTED`, to see its attributes.
def _tcp_connection(cls: type[Any]) -> Any:
    """A TCP transport whose socket is closed: only its members are looked at."""
    connection = cls(socket.socket(), Protocol(), MemoryReactorClock())
    connection.socket.close()
    return connection


SAMPLES = {
    "twisted.internet.endpoints:_WrappingProtocol": lambda cls: cls(
        Deferred(), Protocol()
    ),
    "twisted.internet.tcp:Connection": _tcp_connection,
}


@pytest.mark.reactorless
@pytest.mark.parametrize(
    "entry", IMPORTED, ids=lambda entry: f"{entry.owner}.{entry.name}"
)
def test_twisted_still_has_the_private_names_we_import(entry: Private) -> None:
    """Each module-level name is still there, and each attribute is still set
    on a new instance of its class."""
    module, _, name = entry.owner.partition(":")
    found = importlib.import_module(module)
    if name:
        owner = _owner(entry)
        assert _problem(entry, owner, SAMPLES[entry.owner](owner)) is None
    else:
        assert _problem(entry, type(found), found) is None


_IMPORTS = re.compile(
    r"^\s*from (twisted[\w.]*) import (?:\(([^)]*)\)|([^\n]+))", re.MULTILINE
)


@pytest.mark.reactorless
def test_every_private_name_imported_from_twisted_is_listed() -> None:
    """A ``from twisted... import _name`` anywhere in the library is in
    `IMPORTED`, so the test above covers it."""
    imported = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for module, grouped, inline in _IMPORTS.findall(path.read_text()):
            for each in (grouped or inline).split(","):
                name = each.split("#")[0].split(" as ")[0].strip()
                if name.startswith("_"):
                    imported.add((module, name))
    listed = {(entry.owner, entry.name) for entry in IMPORTED}
    assert imported - listed == set()
    assert ("twisted.internet.endpoints", "_WrappingProtocol") in imported


@pytest.mark.reactorless
def test_a_broken_member_is_reported_by_name() -> None:
    """The message of a failure names the class, the member and the change."""
    entry = Private(
        "twisted.internet.epollreactor:EPollReactor", "_add", ("xer",), "a test"
    )
    problem = _problem(entry, EPollReactor, object())
    assert problem is not None
    assert problem.startswith("twisted.internet.epollreactor:EPollReactor._add")
    assert "expected ('xer',)" in problem
    gone = Private(entry.owner, "_gone", None, "a test")
    assert "no such attribute" in str(_problem(gone, EPollReactor, object()))


def test_has_started_follows_the_reactor() -> None:
    """False before ``run``, true while it runs, false again once it stopped,
    on a reactor that has ``running`` only (`MemoryReactorClock`)."""
    reactor = MemoryReactorClock()
    seen = []
    reactor.callWhenRunning(lambda: seen.append(has_started(reactor)))
    assert not has_started(reactor)
    assert not ever_started(reactor)
    reactor.run()  # runs the callWhenRunning hooks, then stops
    assert seen == [True]
    assert not has_started(reactor)


@pytest.mark.reactorless
def test_has_started_sees_a_reactor_still_starting() -> None:
    """While a "before startup" trigger waits, ``running`` is false but the
    reactor has started (starting it again would raise); once crashed it has
    stopped, and it ran once (it cannot run again)."""
    reactor = EPollReactor()
    try:
        reactor.addSystemEventTrigger("before", "startup", Deferred)
        assert not ever_started(reactor)
        reactor.startRunning(installSignalHandlers=False)
        assert not reactor.running
        assert has_started(reactor)
        assert ever_started(reactor)
        reactor.stop()
        reactor.crash()
        assert not has_started(reactor)
        assert ever_started(reactor)
    finally:
        reactor.removeReader(reactor.waker)
        reactor.waker.connectionLost(None)
        reactor._poller.close()
