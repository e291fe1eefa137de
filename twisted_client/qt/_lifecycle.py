"""
What both of our Qt reactors share: how they start, stop and end with Qt.

`QtLifecycleMixin` goes first in the bases of a reactor that Qt's event loop
drives. It removes the lifecycle traps of stock qt5reactor:

* ``stop()`` takes effect at once, wherever it is called from (a Qt slot
  included): the shutdown starts on the next turn of Qt's loop instead of
  waiting for the next Twisted event.
* ``run()`` blocks in a `QEventLoop` until the reactor stops. If the
  application quits first (``app.quit()``), the reactor is stopped properly.
* ``runReturn()`` then ``app.exec()``: when the application quits, the reactor
  is stopped and its shutdown triggers fire (before, during, after), with
  `shutdown_timeout` seconds for triggers that return Deferreds.
* The process never hangs at exit: whatever is still running when Python
  exits (the thread pool, a reactor nobody stopped) is stopped before Python
  waits for non-daemon threads, and SIGINT/SIGTERM get their default
  behaviour back once the reactor is gone. A thread-pool job still busy (a
  hung name lookup) is waited for at most `thread_pool_timeout` seconds;
  the pool's threads are daemon threads, so the process then ends without it.
* SIGINT and SIGTERM stop the reactor; with ``runReturn()`` they also quit
  the application (``app.exec()`` returns ``128 + signal number``). A second
  one while the shutdown is still going on ends the process at once, killed
  by that signal.
* Calls from other threads (``callFromThread``) run exactly once even when a
  callback opens a nested Qt event loop (a modal dialog) that runs the reactor
  again: each call is taken off the queue before it runs.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from ._binding import binding

if TYPE_CHECKING:
    from twisted.internet.posixbase import PosixReactorBase

    _Base = PosixReactorBase
else:
    _Base = object

__all__ = ["QtLifecycleMixin"]

_log = Logger()

_ThreadCall = tuple[Callable[..., Any], tuple[object, ...], dict[str, object]]

# Reactors started in this process that may still need stopping at exit.
_live: weakref.WeakSet[QtLifecycleMixin] = weakref.WeakSet()
_exit_hook: list[Callable[[], None]] = []  # holds the hook once registered


def _stop_live_reactors_at_exit() -> None:
    """Stop every reactor still running, before Python joins non-daemon threads."""
    for reactor in list(_live):
        try:
            reactor._end_at_exit()
        except Exception:
            _log.failure("while stopping the reactor at exit")


def _register_exit_hook() -> None:
    """Run `_stop_live_reactors_at_exit` at exit, early enough to matter."""
    if _exit_hook:
        return
    _exit_hook.append(_stop_live_reactors_at_exit)
    # threading's exit hooks run before the interpreter waits for non-daemon
    # threads (the thread pool's workers); atexit hooks run after, too late.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(_stop_live_reactors_at_exit)
    else:  # pragma: no cover - every supported Python has it
        import atexit

        atexit.register(_stop_live_reactors_at_exit)


def _outermost_application() -> Any:
    """The application, when this is its thread and no Qt event loop runs yet."""
    qtcore = binding().QtCore
    app = qtcore.QCoreApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        return None
    return app if qtcore.QThread.currentThread().loopLevel() == 0 else None


class _DaemonThread(threading.Thread):
    """A thread the interpreter does not wait for at exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.daemon = True


class _ReactorThreadPool(ThreadPool):
    """
    The reactor's thread pool: daemon workers, and a stop that waits a bounded time.

    `stop` waits for busy jobs at most ``timeout()`` seconds, then returns,
    leaving them running in their daemon threads (they die with the process).
    """

    threadFactory = _DaemonThread

    def __init__(self, timeout: Callable[[], float]) -> None:
        super().__init__(0, 10, "twisted.internet.reactor")
        self._timeout = timeout

    def stop(self) -> None:
        """Stop the workers; wait for those still busy for a bounded time only."""
        stopper = _DaemonThread(target=super().stop, name="thread pool stopper")
        stopper.start()
        timeout = self._timeout()
        stopper.join(timeout)
        if stopper.is_alive():
            _log.warn(
                "{busy} thread-pool job(s) still running after {timeout} s at "
                "shutdown; not waiting for them any longer",
                busy=len(self.working),
                timeout=timeout,
            )


class QtLifecycleMixin(_Base):
    """
    Start, stop and end a Qt-driven reactor without the usual traps.

    A subclass provides the way Qt drives it: ``_start_driving`` (start
    delivering events through Qt), ``_stop_driving`` (stop doing so) and
    ``_wake`` (run a reactor iteration on the next turn of Qt's loop).
    """

    #: Seconds that shutdown triggers returning Deferreds get to finish when
    #: the reactor is stopped because the application quit or Python exits.
    shutdown_timeout: float = 5.0

    #: Seconds the shutdown waits for thread-pool jobs still running (a hung
    #: name lookup, a blocking call) before it goes on without them; the
    #: pool's threads are daemon threads, so they do not hold the process.
    thread_pool_timeout: float = 1.0

    _mode: str | None = None
    _blocking_loop: Any = None
    _app_exit_code: int | None = None
    _quit_hooked_app: Any = None
    _ending = False  # a shutdown is going on: signals end the process at once

    def __init__(self) -> None:
        self._thread_calls: deque[_ThreadCall] = deque()
        super().__init__()

    # -- what Qt drives (the subclass says how) ------------------------------

    def _start_driving(self) -> None:
        raise NotImplementedError

    def _stop_driving(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        raise NotImplementedError

    # -- IReactorCore ---------------------------------------------------------

    def run(self, installSignalHandlers: bool = True) -> None:  # noqa: N803
        """
        Run the reactor inside a Qt event loop until it stops.

        Blocks in the application's own loop, ``app.exec()``, when no Qt
        loop runs yet (Qt 6 ignores ``app.quit()`` outside it), else in a
        `QEventLoop` (the QApplication must exist). So, as under
        ``app.exec()``, closing the last window quits the application unless
        ``app.setQuitOnLastWindowClosed(False)``. Returns once the reactor
        stopped, or once the application quit and the reactor was stopped
        because of it.
        """
        self._start(installSignalHandlers, "run")  # raises if running already
        loop = _outermost_application() or binding().QtCore.QEventLoop()
        self._blocking_loop = loop
        try:
            if self._started:
                loop.exec()
            if self._started:
                # The loop ended without the reactor stopping: the
                # application quit (QCoreApplication.exit ends every loop).
                self._finish_shutdown()
        finally:
            self._blocking_loop = None
            self._mode = None
            self._signals.uninstall()

    def runReturn(self, installSignalHandlers: bool = True) -> None:  # noqa: N803
        """
        Start the reactor and return: Qt's own loop (``app.exec()``) drives it.

        When the application quits, the reactor is stopped and its shutdown
        triggers fire before ``app.exec()`` returns.
        """
        self._start(installSignalHandlers, "runReturn")

    def stop(self) -> None:
        """Stop the reactor; the shutdown starts on the next turn of Qt's loop."""
        super().stop()
        if self._started:
            self._end_at_once_on_signal()
            self._wake()

    def crash(self) -> None:
        """
        Stop at once, without shutdown triggers; `run` returns.

        Called by the reactor itself at the end of a normal shutdown too.
        """
        super().crash()
        self._stop_driving()
        self._unhook_quit()
        _live.discard(self)
        if self._mode == "runReturn":
            self._signals.uninstall()  # what run() does when its loop ends
        if self._blocking_loop is not None:
            self._blocking_loop.exit(0)  # QEventLoop.exit or QCoreApplication.exit
        if self._app_exit_code is not None:
            code, self._app_exit_code = self._app_exit_code, None
            app = binding().QtCore.QCoreApplication.instance()
            if app is not None:
                app.exit(code)
        self._restore_signal_defaults()

    def callFromThread(
        self, f: Callable[..., Any], *args: object, **kwargs: object
    ) -> None:
        """Run ``f(*args, **kwargs)`` on the reactor thread, exactly once."""
        assert callable(f), f"{f} is not callable"
        self._thread_calls.append((f, args, kwargs))
        self.wakeUp()

    def runUntilCurrent(self) -> None:
        """
        Run the calls from threads, then the timed calls that are due.

        Each call from a thread is taken off the queue before it runs, so a
        nested event loop that runs the reactor again cannot run it twice.
        """
        calls = self._thread_calls
        for _ in range(len(calls)):
            try:
                f, args, kwargs = calls.popleft()
            except IndexError:  # a nested loop took it already
                break
            try:
                f(*args, **kwargs)
            except BaseException:
                _log.failure("while calling from thread")
        if calls:
            self.wakeUp()
        super().runUntilCurrent()

    # -- signals ----------------------------------------------------------------

    def sigInt(self, number: int, frame: FrameType | None = None) -> None:
        """Stop the reactor on SIGINT (and quit the app after ``runReturn``)."""
        super().sigInt(number, frame)
        self._quit_app_after_shutdown(number)

    def sigTerm(self, number: int, frame: FrameType | None = None) -> None:
        """Stop the reactor on SIGTERM (and quit the app after ``runReturn``)."""
        super().sigTerm(number, frame)
        self._quit_app_after_shutdown(number)

    def sigBreak(self, number: int, frame: FrameType | None = None) -> None:
        """Stop the reactor on SIGBREAK (and quit the app after ``runReturn``)."""
        super().sigBreak(number, frame)
        self._quit_app_after_shutdown(number)

    def _end_at_once_on_signal(self) -> None:
        """The shutdown has begun: SIGINT or SIGTERM from now on end the process."""
        if threading.current_thread() is not threading.main_thread():
            return
        if not getattr(self, "_installSignalHandlers", False):
            return  # the program handles signals itself
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, self._end_now)
        if not self._ending:
            self._ending = True  # until the last "after shutdown" trigger
            self.addSystemEventTrigger("after", "shutdown", self._shutdown_over)

    def _shutdown_over(self) -> None:
        """The shutdown's last trigger: signals get their defaults back."""
        self._ending = False
        self._restore_signal_defaults()

    def _end_now(self, number: int, frame: FrameType | None = None) -> None:
        """
        A signal while the shutdown is going on: end the process at once.

        The signal's default action (termination) is restored and the signal
        raised again, so the process ends as killed by it.
        """
        _log.warn("signal {number} during the shutdown: ending now", number=number)
        signal.signal(number, signal.SIG_DFL)
        signal.raise_signal(number)

    def _quit_app_after_shutdown(self, number: int) -> None:
        if self._mode == "runReturn":
            self._app_exit_code = 128 + number

    def _restore_signal_defaults(self) -> None:
        """
        Give SIGINT and SIGTERM back their defaults if ours are still set.

        Not while a shutdown is going on (crash() runs during it): until its
        end, a signal ends the process at once.
        """
        if self._ending or threading.current_thread() is not threading.main_thread():
            return
        defaults: dict[int, Any] = {
            signal.SIGINT: signal.default_int_handler,
            signal.SIGTERM: signal.SIG_DFL,
        }
        ours = (self.sigInt, self.sigTerm, self._end_now)
        for number, default in defaults.items():
            if signal.getsignal(number) in ours:
                signal.signal(number, default)

    # -- the thread pool -----------------------------------------------------------

    def _initThreadPool(self) -> None:
        """Create the thread pool as Twisted does: daemon threads, bounded stop."""
        self.threadpool = _ReactorThreadPool(lambda: self.thread_pool_timeout)
        self._threadpoolStartupID = self.callWhenRunning(self.threadpool.start)
        self.threadpoolShutdownID = self.addSystemEventTrigger(
            "during", "shutdown", self._stopThreadPool
        )

    # -- starting and ending ------------------------------------------------------

    def _start(self, install_signal_handlers: bool, mode: str) -> None:
        self.startRunning(installSignalHandlers=install_signal_handlers)
        self._mode = mode
        _live.add(self)
        _register_exit_hook()
        self._hook_quit()
        self._start_driving()

    def _hook_quit(self) -> None:
        app = binding().QtCore.QCoreApplication.instance()
        if app is not None and self._quit_hooked_app is None:
            app.aboutToQuit.connect(self._application_quits)
            self._quit_hooked_app = app

    def _unhook_quit(self) -> None:
        app, self._quit_hooked_app = self._quit_hooked_app, None
        if app is not None:
            with contextlib.suppress(TypeError, RuntimeError):  # already gone
                app.aboutToQuit.disconnect(self._application_quits)

    def _application_quits(self) -> None:
        """``app.exec()`` is returning: stop the reactor properly first."""
        try:
            self._finish_shutdown()
        except BaseException:
            _log.failure("while stopping the reactor as the application quits")

    def _end_at_exit(self) -> None:
        """Python is exiting: stop the reactor, or at least its thread pool."""
        self._ending = False
        if self._started:
            self._finish_shutdown()
        if getattr(self, "threadpool", None) is not None:
            self._stopThreadPool()
        self._restore_signal_defaults()

    def _finish_shutdown(self) -> None:
        """
        Stop the reactor and drive it until its shutdown is over.

        Shutdown triggers that return Deferreds get `shutdown_timeout`
        seconds; after that the reactor is crashed, its connections dropped
        and its thread pool stopped.
        """
        if not self._started:
            return
        if not self._stopped:
            self.stop()
        deadline = time.monotonic() + self.shutdown_timeout
        while self._started:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._drive_once(remaining)
        if self._started:
            _log.warn(
                "the reactor's shutdown did not finish within {timeout} s; "
                "stopping it now",
                timeout=self.shutdown_timeout,
            )
            self._force_stop()

    def _drive_once(self, longest: float) -> None:
        """Process events once, waiting at most ``longest`` seconds for one."""
        qtcore = binding().QtCore
        QCoreApplication = qtcore.QCoreApplication  # noqa: N806

        if QCoreApplication.instance() is None:
            self.runUntilCurrent()
            self.doIteration(0.01)
            return
        # Processing events is allowed even after QCoreApplication.exit(),
        # when a new QEventLoop.exec() would return at once.
        timer = qtcore.QTimer()
        timer.setSingleShot(True)
        timer.start(max(1, math.ceil(longest * 1000)))
        # AllEvents is 0: this processes every kind of event, waiting for one.
        QCoreApplication.processEvents(
            qtcore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents
        )
        timer.stop()

    def _force_stop(self) -> None:
        self._ending = False
        self.crash()
        try:
            self.disconnectAll()
        except Exception:
            _log.failure("while dropping the connections")
        if getattr(self, "threadpool", None) is not None:
            self._stopThreadPool()
