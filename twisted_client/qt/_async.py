"""
Coroutines in Qt code: `async_slot` runs one from a signal, `signal_once` awaits one.

A signal connected to an ``async def`` only creates the coroutine and drops
it: nothing runs, and nothing is said. `async_slot` runs it through
`Deferred.fromCoroutine`, so it awaits Deferreds (a `QtClient`'s, a
`Client`'s, `signal_once`'s) while Qt's loop and the reactor go on, and an
exception ending it is reported (`report_slot_failure`), never dropped.
qasync's ``@asyncSlot`` is the model, on the Twisted reactor instead of an
asyncio loop. Qt classes come from `binding`; no binding is named here.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar, overload

from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.python.failure import Failure

from .._errors import SignalTimeout, UsageError
from .._hush import handled, hush
from . import _excepthook
from ._binding import binding

__all__ = ["async_slot", "signal_once"]

_T = TypeVar("_T")
_CoroutineFunction = Callable[..., Coroutine[Any, Any, _T]]
_Slot = Callable[..., Deferred[_T]]


@overload
def async_slot(function: _CoroutineFunction[_T], /) -> _Slot[_T]: ...


@overload
def async_slot(
    *types: Any, **options: Any
) -> Callable[[_CoroutineFunction[_T]], _Slot[_T]]: ...


def async_slot(*types: Any, **options: Any) -> Any:
    """
    Make an ``async def`` a Qt slot: each call runs it on the Twisted reactor.

    ``@async_slot`` (bare) gives a plain callable for ``signal.connect``;
    ``@async_slot(int, str, name=...)`` also declares it to Qt with the
    binding's ``Slot``/``pyqtSlot`` and those arguments, as qasync's
    ``@asyncSlot(...)`` does (``@async_slot()`` declares a slot that takes
    no arguments). As with Qt slots, arguments the function cannot take are
    dropped from the end (``clicked`` gives ``checked``); a call it cannot
    take at all fails (and is reported) like an exception in the coroutine.

    Each call starts the coroutine at once with `Deferred.fromCoroutine` and
    returns its Deferred: it fires with what the coroutine returns, fails with
    what it raises, and ``cancel()`` cancels what it awaits. A failure is
    also reported through `report_slot_failure` (logged, and given to
    `sys.excepthook`), so a caller that ignores the Deferred, as Qt does,
    loses nothing, and is not logged a second time as "Unhandled error in
    Deferred". A cancelled coroutine is not a failure: nothing is reported.

    Raises:
        UsageError: the decorated function is not an ``async def``.
    """
    bare = len(types) == 1 and not options and not isinstance(types[0], type)
    if bare and callable(types[0]):  # @async_slot, not @async_slot(int)
        if inspect.iscoroutinefunction(types[0]):
            return _runner(types[0])
        _refuse(types[0])

    def decorate(function: _CoroutineFunction[_T]) -> _Slot[_T]:
        if not inspect.iscoroutinefunction(function):
            _refuse(function)
        return binding().Slot(*types, **options)(_runner(function))  # type: ignore[no-any-return]

    return decorate


def _refuse(function: object) -> NoReturn:
    raise UsageError(
        f"async_slot decorates an 'async def' function, not {function!r}; a "
        "plain function is a Qt slot as it is"
    )


def _runner(function: _CoroutineFunction[_T]) -> _Slot[_T]:
    """The callable that starts ``function``'s coroutine and watches its end."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Deferred[_T]:
        running: Deferred[_T]
        try:
            coroutine = function(*_fitting(signature, args, kwargs), **kwargs)
        except Exception:  # arguments it cannot take: reported, not raised into Qt
            running = fail()
        else:
            running = Deferred.fromCoroutine(coroutine)
        hush(running)
        return running.addErrback(_report, running)

    return run


def _fitting(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """``args`` without the trailing ones the function cannot take (Qt's rule)."""
    for count in range(len(args), -1, -1):
        try:
            signature.bind(*args[:count], **kwargs)
        except TypeError:
            continue
        return args[:count]
    return args  # none fits: the call raises the function's own TypeError


def _report(failure: Failure, running: Deferred[Any]) -> Failure:
    """Report ``failure`` (unless it is a cancellation) and pass it on, hushed."""
    if not failure.check(CancelledError):
        _excepthook.report_slot_failure(failure)
    handled(running, failure)
    return failure


def signal_once(
    signal: Any, timeout: float | None = None, reactor: Any = None
) -> Deferred[Any]:
    """
    A Deferred that fires the first time ``signal`` is emitted, with its arguments.

    ``message = await signal_once(client.message_received, timeout=5)``: it
    fires with None for a signal without arguments, the argument itself for
    one, and a tuple for several. The slot it connects is disconnected when
    it fires, when the Deferred is cancelled (``cancel()``: it fails with
    `CancelledError`), and when the timeout runs out: it then fails with
    `SignalTimeout` (a `TimeoutError`).

    Args:
        signal: A bound signal (``obj.clicked``, ``client.connected``).
        timeout: Seconds to wait at most, or None to wait as long as it takes.
        reactor: Measures the timeout (``callLater``); by default the Qt
            reactor (installed if need be). Only used with a timeout.

    Raises:
        UsageError: ``signal`` is not a signal (it has no ``connect``), or
            ``timeout`` is negative.
    """
    if not callable(getattr(signal, "connect", None)):
        raise UsageError(f"signal_once needs a bound Qt signal, not {signal!r}")
    if timeout is not None and timeout < 0:
        raise UsageError(f"timeout must be at least 0 seconds, not {timeout!r}")
    timer: list[Any] = []

    def disconnect(_: object = None) -> None:
        # Gone already when the signal's QObject was deleted.
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect(emitted)
        while timer:
            call = timer.pop()
            if call.active():
                call.cancel()

    def emitted(*args: Any) -> None:
        disconnect()
        waiting.callback(args[0] if len(args) == 1 else args or None)

    def timed_out() -> None:
        timer.clear()
        disconnect()
        waiting.errback(SignalTimeout(_signal_name(signal), timeout or 0))

    waiting: Deferred[Any] = Deferred(disconnect)
    signal.connect(emitted)
    if timeout is not None:
        if reactor is None:
            from ._install import qt_reactor

            reactor = qt_reactor()
        timer.append(reactor.callLater(timeout, timed_out))
    return waiting


def _signal_name(signal: Any) -> str:
    """``"the signal clicked(bool)"``: the bound signal's name and types."""
    text = getattr(signal, "signal", None)  # PyQt: "2clicked(bool)"
    if not isinstance(text, str):  # PySide6: <...SignalInstance clicked(bool) at 0x...>
        match = re.search(r"SignalInstance (\S+)", repr(signal))
        text = match.group(1) if match else repr(signal)
    return f"the signal {text.lstrip('0123456789')}"
