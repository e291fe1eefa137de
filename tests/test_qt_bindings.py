"""
Every Qt binding: the seam's choice, applications written for one binding, and
the Qt 6 differences the library copes with.

* The seam (`twisted_client.qt.binding`), in fresh ``python -c`` processes
  with a controlled environment: the order of choice (a binding imported
  already, else ``QT_API``, else the first installed), the reason it gives,
  its errors, and that it never imports a second binding. A binding is made
  "not installed" by a ``None`` entry in ``sys.modules``, Python's own way of
  blocking an import.
* tests/qt_programs/binding_app.py, an application that imports this pass's
  binding itself: the native client (``install_reactor`` + `QtClient`) and the
  seed's pattern on the drop-in (``app.exec()`` only), on each reactor kind
  the binding runs, each ending by itself under a timeout.
* In this process, on this pass's binding and reactor: scoped enums,
  ``exec()`` (PyQt6 has no ``exec_``), the argument ``QSocketNotifier``'s
  ``activated`` passes (a ``QSocketDescriptor`` and the type on PySide6, an
  int on the PyQt bindings), and ownership: a `QtClient` or `ReplySignal`
  whose C++ object is deleted emits nothing afterwards and crashes nothing.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from tests.qt_kinds import REACTOR_CLASS, binding_name, kinds_here
from twisted_client import ClientClosed

from .helpers import run_python

ROOT = Path(__file__).resolve().parent.parent
APP = Path("tests") / "qt_programs" / "binding_app.py"
TIMEOUT = 60.0
"""Seconds a subprocess gets before it counts as hung (it needs about one)."""
WAIT = 10.0
BINDINGS = ("PyQt5", "PyQt6", "PySide6")

# -- the seam, in fresh processes ----------------------------------------------

SEAM = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None  # not installed, as far as imports can tell
{before}
import twisted_client, twisted_client.qt as qt
loaded = [n for n in {bindings!r} if sys.modules.get(n) is not None]
try:
    chosen = qt.binding()
    result = {{"api": chosen.api, "reason": chosen.reason}}
except qt.QtBindingError as error:
    result = {{"error": str(error), "import": isinstance(error, ImportError),
               "usage": isinstance(error, twisted_client.UsageError)}}
result["before_binding"] = loaded
result["bindings"] = [n for n in {bindings!r} if sys.modules.get(n) is not None]
print(json.dumps(result))
"""


def seam(
    qt_api: str | None = None, blocked: tuple[str, ...] = (), before: str = ""
) -> dict[str, Any]:
    """What `binding()` chose (or its error) in a fresh process; what it imported."""
    env = {k: v for k, v in os.environ.items() if k != "QT_API"}
    if qt_api is not None:
        env["QT_API"] = qt_api
    code = SEAM.format(blocked=blocked, before=before, bindings=BINDINGS)
    done = run_python("-c", code, env=env, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_importing_the_package_imports_no_binding() -> None:
    """``import twisted_client.qt`` imports no Qt binding; the first binding()
    imports exactly one."""
    result = seam()
    assert result["before_binding"] == []
    assert result["bindings"] == ["PyQt5"]


@pytest.mark.parametrize(
    ("blocked", "api"),
    [((), "pyqt5"), (("PyQt5",), "pyqt6"), (("PyQt5", "PyQt6"), "pyside6")],
    ids=["all", "no-PyQt5", "PySide6-only"],
)
def test_without_qt_api_the_first_installed_is_chosen(
    blocked: tuple[str, ...], api: str
) -> None:
    """With no QT_API and nothing imported, the first installed of PyQt5,
    PyQt6, PySide6 is chosen, the reason says so, and it alone is imported."""
    result = seam(blocked=blocked)
    assert result["api"] == api
    assert result["reason"] == "the first installed of PyQt5, PyQt6, PySide6"
    assert len(result["bindings"]) == 1


@pytest.mark.parametrize("api", ["pyqt5", "pyqt6", "pyside6"])
def test_qt_api_chooses_when_nothing_is_imported(api: str) -> None:
    """QT_API (any case, qtpy's values) picks the binding, the reason names it,
    and no other binding is imported."""
    result = seam(qt_api=api.upper())
    assert result["api"] == api
    assert result["reason"] == f"QT_API={api}"
    assert [name.lower() for name in result["bindings"]] == [api]


def test_a_binding_imported_already_wins_over_qt_api() -> None:
    """A program that imported PySide6 gets PySide6 even with QT_API=pyqt6; the
    reason says QT_API was ignored, and PyQt6 is never imported."""
    result = seam(qt_api="pyqt6", before="import PySide6.QtCore")
    assert result["api"] == "pyside6"
    assert result["reason"] == (
        "PySide6 was imported already; QT_API=pyqt6 is ignored: one binding per process"
    )
    assert result["bindings"] == ["PySide6"]


def test_qt_api_naming_a_missing_binding_is_an_error() -> None:
    """QT_API naming a binding that is not installed raises QtBindingError (a
    UsageError and an ImportError) saying which extra to install, and imports
    no other binding instead."""
    result = seam(qt_api="pyqt6", blocked=("PyQt6",))
    assert result["error"] == (
        "QT_API=pyqt6 asks for PyQt6, which is not installed: "
        "pip install 'twisted-qt-client[pyqt6]'"
    )
    assert result["usage"] is True
    assert result["import"] is True
    assert result["bindings"] == []


def test_qt_api_naming_an_unknown_binding_is_an_error() -> None:
    """QT_API=pyside2 (not supported) raises QtBindingError listing the values."""
    result = seam(qt_api="pyside2")
    assert result["error"] == (
        "QT_API='pyside2' is not a supported Qt binding; "
        "use one of pyqt5, pyqt6, pyside6"
    )
    assert result["bindings"] == []


def test_no_binding_installed_is_an_error_naming_the_extras() -> None:
    """With no binding installed, QtBindingError says what to pip install."""
    result = seam(blocked=BINDINGS)
    assert result["error"] == (
        "no Qt binding is installed: pip install 'twisted-qt-client[pyqt5]' "
        "(or [pyqt6], or [pyside6])"
    )


def test_qt5reactor_is_refused_off_pyqt5_without_importing_pyqt5() -> None:
    """install_reactor('qt5reactor') in a PySide6 program raises a UsageError
    naming the binding and the kind to use instead; PyQt5 stays unimported."""
    code = (
        "import sys, PySide6.QtWidgets as w\n"
        "app = w.QApplication([])\n"
        "from twisted_client.qt import install_reactor\n"
        "try:\n"
        "    install_reactor('qt5reactor')\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
        "print('PyQt5' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_API"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = run_python("-c", code, env=env, timeout=TIMEOUT)
    error, pyqt5_imported = done.stdout.splitlines()
    assert error.startswith(
        "UsageError the 'qt5reactor' reactor runs on PyQt5 only, "
        "and this process uses PySide6 "
    )
    assert error.endswith("(PySide6 was imported already); use kind='qt' here")
    assert pyqt5_imported == "False"


# -- applications written for one binding ------------------------------------------


def run_app_program(mode: str, kind: str, port: int) -> Deferred[Any]:
    """Run binding_app.py for this pass's binding in a worker thread; a
    Deferred firing with its CompletedProcess. QT_API is left unset."""
    env = {k: v for k, v in os.environ.items() if k != "QT_API"}
    env.update(QT_QPA_PLATFORM="offscreen", TWISTED_CLIENT_QT_REACTOR=kind)
    return deferToThread(
        run_python, str(APP), binding_name(), mode, str(port), env=env, timeout=TIMEOUT
    )


def report_of(done: subprocess.CompletedProcess[str]) -> Any:
    """The program's JSON report, after checking it exited with 0."""
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def expect_own_binding(report: dict[str, Any], kind: str) -> None:
    """The seam found the program's binding by itself, alone, on ``kind``."""
    name = binding_name()
    assert report["api"] == name.lower()
    assert report["reason"] == f"{name} was imported already"
    assert report["bindings"] == [name]
    assert report["reactor"] == REACTOR_CLASS[kind]
    assert report["reactor_running"] is False
    assert report["in_gui_thread"] is True
    assert report["status"] == 0


@pytest.mark.qt
@pytest_twisted.ensureDeferred
async def test_native_application_on_its_own_binding(echo_port: int) -> None:
    """A program importing this binding itself, with install_reactor() and a
    QtClient (no parent): connected, the echo by message_received in the GUI
    thread, disconnected after close(); run_app() returns 0 once it quits, the
    reactor stopped, and no other binding was imported. On every reactor kind
    the binding runs."""
    for kind in kinds_here():
        report = report_of(await run_app_program("native", kind, echo_port))
        assert report["events"] == ["connected", "message hello", "disconnected"]
        expect_own_binding(report, kind)


@pytest.mark.qt
@pytest_twisted.ensureDeferred
async def test_seed_pattern_on_the_drop_in_on_its_own_binding(echo_port: int) -> None:
    """The seed's pattern in a program importing this binding itself: only
    app.exec(), a QTimer polling reply_q, no install_reactor call. The drop-in
    runs in the GUI thread on the Qt reactor it installed, gives the seed's
    four replies, makes no thread of its own, and the program ends by itself.
    On every reactor kind the binding runs."""
    for kind in kinds_here():
        report = report_of(await run_app_program("compat", kind, echo_port))
        assert report["replies"] == [[1, None], [1, None], [1, "hello"], [1, None]]
        assert "compat-reactor" not in report["threads"]
        expect_own_binding(report, kind)


# -- the Qt 6 differences, in this process ------------------------------------------


@pytest.mark.qt
def test_scoped_enums(qt: Any, reactor: Any) -> None:
    """The library reaches enums by their scoped names, which every binding
    has; PyQt6 has no other (QSocketNotifier.Read is gone), so a library using
    the old names would fail there. Our reactors' timers are precise."""
    core = qt.QtCore
    assert core.QSocketNotifier.Type.Read != core.QSocketNotifier.Type.Write
    assert core.QEventLoop.ProcessEventsFlag.WaitForMoreEvents is not None
    if qt.api == "pyqt6":
        assert not hasattr(core.QSocketNotifier, "Read")
        assert not hasattr(core.Qt, "PreciseTimer")
    from twisted_client.qt import Qt5Reactor

    if not isinstance(reactor, Qt5Reactor):  # qt5reactor's own timer is coarse
        assert reactor._timer.timerType() == core.Qt.TimerType.PreciseTimer


@pytest.mark.qt
def test_exec_is_the_spelling_every_binding_has(qt: Any, qapp: Any) -> None:
    """Every binding's application and event loops have exec(); PyQt6 has no
    exec_, so the library and these tests use exec() only (the PyQt6 passes
    run run_app, reactor.run and compat's GUI mode through it)."""
    assert callable(qapp.exec)
    assert callable(qt.QtCore.QEventLoop().exec)
    if qt.api == "pyqt6":
        assert not hasattr(qapp, "exec_")
        assert not hasattr(qt.QtCore.QEventLoop, "exec_")


class _Pipe:
    """A readable descriptor for the reactor: one end of a pipe."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        self.reads = 0

    def fileno(self) -> int:
        return self.read_end

    def logPrefix(self) -> str:
        return "pipe"

    def doRead(self) -> None:
        os.read(self.read_end, 1)
        self.reads += 1

    def connectionLost(self, reason: Any) -> None:
        pass

    def close(self) -> None:
        os.close(self.read_end)
        os.close(self.write_end)


def _reactor_slot(reactor: Any, pipe: _Pipe) -> Any:
    """What the reactor connected to ``activated`` for ``pipe``, as a callable."""
    from twisted_client.qt import QtEPollReactor, QtNotifierReactor

    if isinstance(reactor, QtEPollReactor):
        return reactor._on_ready  # the epoll descriptor's slot
    if isinstance(reactor, QtNotifierReactor):
        return partial(reactor._on_ready, pipe, True)
    return reactor._reads[pipe].read  # qt5reactor's TwistedSocketNotifier


@pytest.mark.qt
@pytest_twisted.ensureDeferred
async def test_activated_argument_is_accepted(qt: Any, reactor: Any) -> None:
    """QSocketNotifier.activated passes a QSocketDescriptor and the notifier
    type on PySide6, an int on the PyQt bindings; the slot of this pass's
    reactor, called with exactly what the binding passed, reads the
    descriptor."""
    core = qt.QtCore
    probe = _Pipe()
    passed: Deferred[tuple[Any, ...]] = Deferred()
    notifier = core.QSocketNotifier(probe.read_end, core.QSocketNotifier.Type.Read)

    def record(*args: Any) -> None:
        notifier.setEnabled(False)
        if not passed.called:
            passed.callback(args)

    notifier.activated.connect(record)
    os.write(probe.write_end, b"x")
    try:
        args = await passed.addTimeout(WAIT, reactor)
    finally:
        notifier.setEnabled(False)
        probe.close()
    if qt.api == "pyside6":
        assert [type(arg).__name__ for arg in args] == ["QSocketDescriptor", "Type"]
        assert args[1] == core.QSocketNotifier.Type.Read
    else:
        assert args == (probe.read_end,)
    pipe = _Pipe()
    reactor.addReader(pipe)
    try:
        os.write(pipe.write_end, b"x")
        _reactor_slot(reactor, pipe)(*args)  # no Qt event in between
    finally:
        reactor.removeReader(pipe)
        pipe.close()
    assert pipe.reads == 1


def _delete(qt: Any, qobject: Any) -> None:
    """Delete ``qobject``'s C++ object now, as a parent's destruction does."""
    if qt.api == "pyside6":
        import shiboken6

        shiboken6.delete(qobject)
    else:
        sip = __import__(f"{qt.name}.sip", fromlist=["sip"])
        sip.delete(qobject)


class _Owner:
    """A case's owner: a parent QObject (``"parent"``) or none (``"no-parent"``)."""

    def __init__(self, qt: Any, owner: str) -> None:
        self._qt = qt
        self.parent = qt.QtCore.QObject() if owner == "parent" else None

    def delete(self, child: Any) -> None:
        """Delete ``child``'s C++ object: through its parent's deletion, or its
        own; this drops the reference to the parent."""
        _delete(self._qt, self.parent if self.parent is not None else child)
        self.parent = None


@pytest.fixture(params=["parent", "no-parent"])
def owned(qt: Any, request: pytest.FixtureRequest) -> _Owner:
    """Each case once with a parent QObject and once without."""
    return _Owner(qt, str(request.param))


@pytest.mark.qt
@pytest_twisted.ensureDeferred
async def test_deleted_qt_client_emits_nothing_and_crashes_nothing(
    reactor: Any, owned: _Owner, listening: Any
) -> None:
    """A connected QtClient whose C++ object is deleted (its parent deleted, or
    itself), then dropped and collected: the connection is closed on this side,
    the server's pushes and the close reach no slot, and the reactor goes on
    (a later echo works)."""
    from twisted_client import connect
    from twisted_client.qt import QtClient

    number = listening.echo(push_every=0.01).getHost().port
    client = QtClient(reactor, owned.parent)
    heard: list[str] = []
    client.message_received.connect(lambda message: heard.append("message"))
    client.disconnected.connect(lambda: heard.append("disconnected"))
    await client.connect_to_host("127.0.0.1", number)
    inner = client.client
    assert inner is not None
    owned.delete(client)
    heard.clear()
    del client
    gc.collect()
    reason = await inner.when_closed().addTimeout(WAIT, reactor)
    assert isinstance(reason, ClientClosed)  # closed here, quietly
    other = await connect(reactor, "127.0.0.1", number)
    await other.receive(timeout=WAIT)
    await other.close()
    assert heard == []


@pytest.mark.qt
@pytest_twisted.ensureDeferred
async def test_deleted_reply_signal_emits_nothing_and_crashes_nothing(
    reactor: Any, owned: _Owner, echo_port: int
) -> None:
    """A ReplySignal, with or without a parent, connected to a slot: replies
    arrive by signal in the GUI thread; once its C++ object is deleted and the
    wrapper collected, the client's next two replies reach no slot: each
    emission fails with RuntimeError, which the drop-in logs (as it does for
    any on_reply error), and the client and the reactor go on working."""
    from twisted.python import log

    from twisted_client.compat import ClientCommand, SocketClientThread
    from twisted_client.compat.qt import ReplySignal

    signal = ReplySignal(owned.parent)
    heard: list[int] = []
    first: Deferred[None] = Deferred()

    def show(reply: Any) -> None:
        heard.append(threading.get_ident())
        if not first.called:
            first.callback(None)

    signal.replied.connect(show)
    client = SocketClientThread(on_reply=signal)
    client.start()
    try:
        client.cmd_q.put(ClientCommand(ClientCommand.CONNECT, ("127.0.0.1", echo_port)))
        await first.addTimeout(WAIT, reactor)
        assert heard == [threading.get_ident()]
        owned.delete(signal)
        heard.clear()
        del signal
        gc.collect()
        errors: list[Any] = []
        both_failed: Deferred[None] = Deferred()

        def observe(event: dict[str, Any]) -> None:
            if event.get("isError") and event.get("failure") is not None:
                errors.append(event["failure"])
                if len(errors) == 2:
                    both_failed.callback(None)

        log.addObserver(observe)
        try:
            client.cmd_q.put(ClientCommand(ClientCommand.SEND, b"after"))
            client.cmd_q.put(ClientCommand(ClientCommand.CLOSE))
            await both_failed.addTimeout(WAIT, reactor)
        finally:
            log.removeObserver(observe)
    finally:
        client.join()
    assert heard == []
    assert [failure.check(RuntimeError) for failure in errors] == [RuntimeError] * 2
