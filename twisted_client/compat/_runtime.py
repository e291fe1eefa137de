"""
Where the adapters' reactor runs: in Qt's GUI thread, or in one shared thread.

Every `compat.SocketClientThread` of a process shares one `Runtime` per
reactor. It is chosen once, when the first client starts:

* **already running** (the program or a test runner runs it, in any thread):
  the clients use it where it is.
* **GUI mode** (a `QCoreApplication` exists and the reactor runs inside Qt;
  with no reactor installed yet, `twisted_client.qt.install_reactor` installs
  one): the reactor runs in the GUI thread. If the program calls
  ``reactor.run()`` itself, that is it; if it only calls ``app.exec_()``, as
  the classic thread's demo does, a zero-delay Qt timer notices once Qt's
  loop runs and calls ``reactor.runReturn()``. Quitting the application ends the
  reactor (`twisted_client.qt` sees to that).
* **script mode** (anything else): the reactor runs in one daemon thread,
  ``compat-reactor``, shared by every client. An ``atexit`` hook stops it,
  so the program exits normally when its main thread ends. Work that
  needs no waiting is done in the putting thread, under the lock the
  reactor's thread holds while it is not asleep (`compat._inline`).
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from twisted.python import threadable

from twisted_client._twisted_private import has_started
from twisted_client.qt._binding import binding, imported_api
from twisted_client.qt._install import kind_of

from ._inline import Dispatcher, Reader

__all__ = ["Runtime", "runtime_for"]

_lock = threading.Lock()
_runtimes: dict[int, Runtime] = {}


def runtime_for(reactor: Any | None) -> Runtime:
    """The shared `Runtime` of ``reactor`` (default: the global one), started."""
    with _lock:
        if reactor is None:
            reactor = _global_reactor()
        runtime = _runtimes.get(id(reactor))
        if runtime is None or runtime.reactor is not reactor:
            runtime = Runtime(reactor)
            _runtimes[id(reactor)] = runtime
        return runtime


def qt_application_exists() -> bool:
    """True when this process has a `QCoreApplication` (imports no Qt binding)."""
    if imported_api() is None:
        return False
    return binding().QtCore.QCoreApplication.instance() is not None


def _global_reactor() -> Any:
    """The installed reactor; with none, a Qt one in a Qt program, else the default."""
    if "twisted.internet.reactor" not in sys.modules and qt_application_exists():
        from twisted_client.qt import install_reactor

        return install_reactor()
    from twisted.internet import reactor

    return reactor


class Runtime:
    """One reactor, the thread it runs in, and how to get work onto that thread."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.mode = "running" if has_started(reactor) else "pending"
        self._thread: threading.Thread | None = None
        self._thread_ident: int | None = None  # the ident of _thread, once started
        self._dispatcher = Dispatcher(reactor)
        self.run_inline = self._dispatcher.run
        """
        ``run_inline(function, wait=0.0)``: run ``function`` in the calling
        thread on the reactor's behalf, if possible (`compat._inline`).

        Only in script mode, on an epoll reactor, and only if the reactor's
        thread lets go of its lock within ``wait`` seconds. Returns False,
        without running it, otherwise: the caller then hands it to the
        reactor's thread. (The dispatcher's own method, not a wrapper: it is
        called for every command.)
        """

    def reader(self, client: object) -> Reader | None:
        """What `Dispatcher.reader` gives for ``client``, in script mode only."""
        if self.mode != "thread":
            return None
        return self._dispatcher.reader(client)

    def __repr__(self) -> str:
        return f"<Runtime {type(self.reactor).__name__} {self.mode}>"

    def ensure_running(self) -> None:
        """Make sure the reactor runs, or will as soon as Qt's loop does."""
        with _lock:
            if self.mode != "pending":
                return
            if has_started(self.reactor):
                self.mode = "running"
            elif qt_application_exists() and kind_of(self.reactor) is not None:
                self.mode = "gui"
                binding().QtCore.QTimer.singleShot(0, self._run_return)
            else:
                self.mode = "thread"
                self._thread = threading.Thread(
                    target=self._run_in_thread, name="compat-reactor", daemon=True
                )
                self._thread.start()
                self._thread_ident = self._thread.ident
                atexit.register(self._stop_thread)

    @property
    def thread_ident(self) -> int | None:
        """The ident of the reactor's thread, or None if it is not known yet."""
        if self._thread is not None:
            return self._thread.ident
        if has_started(self.reactor):
            return threadable.ioThread
        if self.mode == "gui":
            return threading.main_thread().ident
        return None

    def in_reactor_thread(self) -> bool:
        """True when called on the thread that runs (or will run) the reactor."""
        ident = self._thread_ident  # script mode, the common case: one lookup
        if ident is not None:
            return threading.get_ident() == ident
        return threading.get_ident() == self.thread_ident

    def is_running(self) -> bool:
        """True while the reactor runs (or is about to, having been started)."""
        return has_started(self.reactor) or (
            self._thread is not None and self._thread.is_alive()
        )

    def call_soon(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the reactor's thread: now if already there."""
        if self.in_reactor_thread():
            function()
        else:
            self.reactor.callFromThread(function)

    def call_and_wait(
        self,
        function: Callable[[], None],
        timeout: float | None,
        *,
        inline: bool = False,
    ) -> bool:
        """
        Run ``function`` on the reactor's thread and wait for it to return.

        Runs it in the calling thread when the reactor is not running (nothing
        else touches the clients then), or, with ``inline``, on the reactor's
        behalf when `run_inline` can. Returns False if ``timeout`` ran out.
        """
        if self.in_reactor_thread() or not self.is_running():
            function()
            return True
        if inline:
            started = time.monotonic()
            if self.run_inline(function, timeout):
                return True
            if timeout is not None:
                timeout = max(0.0, timeout - (time.monotonic() - started))
        done = threading.Event()

        def run() -> None:
            try:
                function()
            finally:
                done.set()

        self.reactor.callFromThread(run)
        return done.wait(timeout)

    def _run_return(self) -> None:
        """Start the Qt reactor from Qt's loop, unless the program did already."""
        if not has_started(self.reactor):
            self.reactor.runReturn()

    def _run_in_thread(self) -> None:
        self._dispatcher.run_reactor()

    def _stop_thread(self) -> None:
        """At exit: stop the shared reactor thread, so that shutdown runs cleanly."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return

        def stop() -> None:
            if self.reactor.running:
                self.reactor.stop()

        self.reactor.callFromThread(stop)
        thread.join(2.0)
