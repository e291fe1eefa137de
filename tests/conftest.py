"""
Test configuration: which reactor this pytest process runs on.

One reactor per process. ``--reactor`` (pytest-twisted's option) and
``--qt-reactor`` (ours) choose it; `tests/__main__.py` runs every pass:

* ``--reactor=qt5reactor`` (the default, through ``addopts``): a QApplication
  and our qt5reactor-based reactor, installed before pytest-twisted looks
  (PyQt5 only).
* ``--reactor=default --qt-reactor=qt``: a QApplication and our
  `QtEPollReactor` (an EPollReactor driven by Qt), installed first too.
* ``--reactor=default --qt-reactor=notifier``: a QApplication and our
  `QtNotifierReactor` (a QSocketNotifier per socket), installed first too.
* ``--reactor=default --qt-reactor=none``: Twisted's default reactor and no
  Qt at all; tests marked ``qt`` are skipped. This proves the core does not
  depend on Qt.

A test marked ``reactorless`` touches no running reactor and no Qt (a
protocol in memory with `Clock`, text, option parsing, a program that picks
its own reactor): it gives the same result in every pass, so it runs only in
the plain pass (``--qt-reactor=none``) and is deselected in the Qt passes.

The Qt binding of a pass is the one the seam chooses
(`twisted_client.qt.binding`): ``QT_API`` in the environment, else the first
installed. Subprocesses inherit ``QT_API``, so they test the same binding.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_twisted

QT_REACTOR_KINDS = ("auto", "qt", "notifier", "qt5reactor", "none")
_KINDS = ("qt", "notifier", "qt5reactor")  # the Qt reactors a pass can run
_QT_KIND = pytest.StashKey[str | None]()
_APP = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--qt-reactor",
        default="auto",
        choices=QT_REACTOR_KINDS,
        help="with --reactor=default: install this Qt reactor first ('none': no Qt)",
    )


def _qt_kind(config: pytest.Config) -> str | None:
    """The Qt reactor this process installs, or None for a plain reactor."""
    base = config.getoption("reactor")
    chosen = config.getoption("qt_reactor")
    if base == "qt5reactor":
        return "qt5reactor"
    if base == "default" and chosen in ("qt", "notifier", "qt5reactor"):
        return str(chosen)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Install the chosen reactor before pytest-twisted installs its own."""
    kind = _qt_kind(config)
    config.stash[_QT_KIND] = kind
    if kind is None:
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "XDG_RUNTIME_DIR" not in os.environ:  # Qt warns without one
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="runtime-")
    from twisted_client.qt import binding, install_reactor

    qt = binding()
    # Every subprocess a test starts uses this pass's binding too.
    os.environ["QT_API"] = qt.api
    QApplication = qt.module("QtWidgets").QApplication  # noqa: N806
    # Hold the QApplication for the whole run: one that nobody references is
    # deleted at once, and widgets (the demo's tests) need a QApplication,
    # not the QCoreApplication a reactor would make in its place.
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # reactor.run() runs app.exec(): closing a test's last window must not
    # quit the application (and stop the reactor) for the rest of the run.
    app.setQuitOnLastWindowClosed(False)
    config.stash[_APP] = app
    installed = install_reactor(kind)
    _accept_in_pytest_twisted(config.getoption("reactor"), type(installed))


def _accept_in_pytest_twisted(name: str, reactor_type: type) -> None:
    """
    Make pytest-twisted's ``--reactor=NAME`` take the reactor installed here.

    It checks the installed reactor's class against the one it would install
    (EPollReactor for ``default``), which `QtNotifierReactor` is not.
    """
    import pytest_twisted

    def accept() -> None:
        pytest_twisted._install_reactor(
            reactor_installer=_already_installed, reactor_type=reactor_type
        )

    pytest_twisted.reactor_installers[name] = accept


def _already_installed() -> None:
    from twisted.internet.error import ReactorAlreadyInstalledError

    raise ReactorAlreadyInstalledError("installed by tests/conftest.py")


def pytest_report_header(config: pytest.Config) -> str:
    """Name the reactor and the Qt binding of this pass at the top of the run."""
    kind = config.stash.get(_QT_KIND, None)
    if kind is None:
        return "reactor: Twisted's default, no Qt"
    from twisted_client.qt import binding

    return f"reactor: {kind}; Qt binding: {binding().describe()}"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """
    Keep each case of the binding and kind matrices for its own pass, and
    the tests marked ``reactorless`` for the pass without Qt; skip the tests
    marked ``qt`` in a process without a Qt reactor.

    A test parametrized by ``kind`` (a reactor kind) or ``api`` (a binding),
    which starts programs of that kind or binding, runs only in the pass of
    that kind and binding (``api`` alone: in the binding's ``qt`` pass), so
    the eight passes cover the matrix once instead of eight times. The pass
    without Qt runs none of them.
    """
    kind = config.stash[_QT_KIND]
    api = _pass_api() if kind is not None else None
    kept, dropped = [], []
    for item in items:
        if "reactorless" in item.keywords:
            if "qt" in item.keywords:
                raise pytest.UsageError(f"{item.nodeid}: marked qt and reactorless")
            (dropped if kind is not None else kept).append(item)
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        # Only a reactor kind counts: test_compat_contract's ``kind`` names
        # a client ("threaded", "adapter") and runs in every pass.
        wants_kind = params.get("kind") if params.get("kind") in _KINDS else None
        here = _belongs_here(wants_kind, params.get("api"), kind, api)
        (kept if here else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if kind is not None:
        return
    skip = pytest.mark.skip(reason="needs a Qt reactor (this pass runs without Qt)")
    for item in items:
        if "qt" in item.keywords:
            item.add_marker(skip)


def _belongs_here(
    wants_kind: str | None, wants_api: str | None, kind: str | None, api: str | None
) -> bool:
    """Whether a case asking for ``wants_kind`` and ``wants_api`` runs in this pass."""
    if wants_kind is None and wants_api is None:
        return True
    if kind is None:  # the pass without Qt
        return False
    if wants_kind is not None and wants_kind != kind:
        return False
    if wants_api is None:
        return True
    return wants_api == api and (wants_kind is not None or kind == "qt")


def _pass_api() -> str:
    """The binding of this Qt pass (``"pyqt5"``, ...), imported by now."""
    from twisted_client.qt import binding

    return binding().api


@pytest.fixture
def reactor() -> Any:
    """The reactor this process runs (pytest-twisted installed and runs it)."""
    from twisted.internet import reactor as installed

    return installed


@pytest.fixture
def setup_fails(monkeypatch: pytest.MonkeyPatch) -> str:
    """
    Make setting a connected client up raise (its shutdown watch, the last
    step); return the error's text. Undone after the test, or by
    ``monkeypatch.undo()``.
    """
    import twisted_client._client

    text = "cannot watch the reactor"

    def broken(reactor: object, client: object) -> None:
        raise RuntimeError(text)

    monkeypatch.setattr(twisted_client._client, "watch", broken)
    return text


@pytest.fixture
def qapp() -> Any:
    """The process's QApplication; the test is skipped in a pass without Qt."""
    from twisted_client.qt._binding import binding, imported_api

    if imported_api() is None:
        pytest.skip("no QApplication in this pass (no Qt binding imported)")
    app = binding().QtCore.QCoreApplication.instance()
    if app is None:
        pytest.skip("no QApplication in this pass")
    return app


@pytest.fixture
def qt() -> Any:
    """The Qt binding of this pass (`twisted_client.qt.binding`); skipped without Qt."""
    from twisted_client.qt._binding import binding, imported_api

    if imported_api() is None:
        pytest.skip("no Qt binding in this pass")
    return binding()


@pytest_twisted.async_yield_fixture
async def listening(reactor: Any) -> AsyncIterator[Any]:
    """A `tests.helpers.Listening`: loopback servers (``listening.echo(...)``,
    ``listening.tcp(Protocol)``), every one stopped after the test."""
    from .helpers import Listening

    servers = Listening(reactor)
    yield servers
    await servers.stop()


@pytest.fixture
def echo_port(listening: Any) -> int:
    """The port of a demo echo server (`twisted_client.server.listen`) on loopback."""
    return int(listening.echo().getHost().port)


@pytest.fixture
def adapter(reactor: Any) -> Iterator[Callable[..., Any]]:
    """``adapter(**options)``: a started `tests.helpers.Adapter` with
    ``options``; every one made is joined after the test."""
    from .helpers import Adapter

    made: list[Adapter] = []

    def make(**options: Any) -> Adapter:
        made.append(Adapter(reactor, **options))
        return made[-1]

    yield make
    for each in made:
        each.thread.join()


@pytest_twisted.async_yield_fixture
async def peer_server(reactor: Any) -> AsyncIterator[Any]:
    """A `tests.reliability_peers.PeerServer` on loopback, stopped after the test."""
    from .reliability_peers import PeerServer

    server = PeerServer(reactor)
    yield server
    await server.stop()


@pytest.fixture
def connect_to_peer(
    reactor: Any, peer_server: Any
) -> Callable[..., Awaitable[tuple[Any, Any]]]:
    """``await connect_to_peer(**options)``: a `twisted_client.Client`
    connected to ``peer_server`` with ``options``, and the server's end of
    that connection (a `tests.reliability_peers.Peer`)."""
    from twisted_client import connect

    async def connect_and_accept(**options: Any) -> tuple[Any, Any]:
        client = await connect(reactor, "127.0.0.1", peer_server.number, **options)
        return client, await peer_server.accept()

    return connect_and_accept
