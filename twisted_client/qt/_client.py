"""`QtClient`: a `Client` for signal/slot code."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet.defer import CancelledError, DebugInfo, Deferred, fail, succeed
from twisted.python.failure import Failure

from .._client import Client
from .._connect import connect, connect_endpoint
from .._errors import ClientClosed, ClientError, ConnectionClosed, UsageError
from .._framing import DEFAULT_MAX_LENGTH
from .._state import ConnectionState
from ._binding import binding
from ._install import qt_reactor

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IStreamClientEndpoint

__all__ = ["QtClient"]

_T = TypeVar("_T")

_qt = binding()
QObject: Any = _qt.QtCore.QObject
Signal: Any = _qt.Signal


class QtClient(QObject):  # type: ignore[misc]  # the binding is typed Any
    """
    One connection to a length-prefixed message server, with Qt signals.

    A QObject over `twisted_client.Client` for signal/slot code. While
    connected it keeps receiving, and emits `message_received` for every
    message, pushed by the server or not. Every method returns at once; the
    Deferreds they return fire when the operation completes, and failures are
    also emitted as `error_occurred`, so a slot may ignore the Deferreds:
    a failure that was emitted, or that a local `close` caused, is not
    logged again as "Unhandled error in Deferred" (a caller who adds an
    errback still gets it). Nothing raises into Qt: misuse (sending str,
    sending while not connected, connecting twice) is a failed Deferred and
    an `error_occurred` too.

    However many messages arrive at once, delivering them never holds Qt's
    event loop for much more than `turn_budget` seconds: once that is spent
    the rest is delivered on the next turns of the loop (timers and repaints
    run in between), in order, and the end of the connection is reported
    after the last of them.

    A slot that raises: PyQt5 and PyQt6 abort the whole process (``qFatal``)
    when a Python slot raises under the default `sys.excepthook`, before
    anything here can catch it. Call `twisted_client.qt.log_slot_errors`
    once at start-up: slot exceptions are then logged through Twisted's log
    and the program goes on.

    Signals:
        connected(): the connection is up.
        message_received(bytes): one whole message arrived.
        error_occurred(str): something failed: connecting, sending, or the
            connection broke (reset, cut in the middle of a message, a message
            over ``max_length``). The text says what and why.
        disconnected(): a connection that was up is gone, whoever ended it.
            After an abnormal end `error_occurred` comes first. A peer closing
            cleanly between messages is no error, and neither is a local end
            (`close`, or the reactor shutting down as the application quits).
            `close_reason` tells why.
        state_changed(str): `state` became ``"connecting"``, ``"connected"``
            or ``"unconnected"``; emitted once per change, after the signal
            of the event that caused it.

    Args:
        reactor: The reactor. By default the global one, which must run
            inside Qt: with none installed yet, the Qt reactor is installed,
            and started once Qt's loop runs if the program does not start
            it (`twisted_client.qt._install.qt_reactor`); another reactor
            installed already raises `WrongReactorError`.
        parent: The QObject parent.
        timeout: Seconds a connection attempt may take, or None.
        max_length: The longest message accepted from the server.
    """

    #: Seconds of emitting ``message_received`` in one turn of Qt's loop
    #: before the rest waits for the next turn.
    turn_budget: float = 0.004

    connected = Signal()
    message_received = Signal(bytes)
    error_occurred = Signal(str)
    disconnected = Signal()
    state_changed = Signal(str)

    def __init__(
        self,
        reactor: Any = None,
        parent: Any = None,
        *,
        timeout: float | None = 30.0,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        super().__init__(parent)
        if reactor is None:
            reactor = qt_reactor()
        self.reactor = reactor
        self.timeout = timeout
        self.max_length = max_length
        self._client: Client | None = None
        self._attempt: Deferred[Client] | None = None
        self._reported: object = None
        self._close_reason: ClientError | None = None
        self._shown_state = ConnectionState.UNCONNECTED
        self._window = 0.0  # when the current delivery budget started
        self._continuation: IDelayedCall | None = None
        self._end_pending: ClientError | None = None

    # -- state ---------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The `Client` while connected (and until the next connection), else None."""
        return self._client

    @property
    def state(self) -> ConnectionState:
        """``CONNECTING``, ``CONNECTED`` or ``UNCONNECTED`` (equal to their strings)."""
        if self._attempt is not None:
            return ConnectionState.CONNECTING
        if self._client is not None and self._client.is_open:
            return ConnectionState.CONNECTED
        return ConnectionState.UNCONNECTED

    @property
    def close_reason(self) -> ClientError | None:
        """
        Why the last connection ended, or None.

        A `ClientClosed` when it ended on this side (`close`, or the reactor
        shutting down); a `ConnectionClosed` or a `RemoteProtocolError` when
        the peer or the network ended it.
        """
        return self._close_reason

    def is_connected(self) -> bool:
        """True while the connection is up and `close` was not called."""
        return self.state is ConnectionState.CONNECTED

    # -- operations ------------------------------------------------------------

    def connect_to_host(self, host: str, port: int) -> Deferred[Client]:
        """
        Connect over TCP to ``host``:``port`` (a name or an IP address).

        Returns a Deferred that fires with the `Client` once `connected` was
        emitted, or fails (`ConnectError`, `ConnectTimeout`, `UsageError`)
        after `error_occurred` was emitted. Cancelling it abandons the
        attempt, with no signal.
        """
        return self._connect(
            lambda: connect(
                self.reactor,
                host,
                port,
                timeout=self.timeout,
                max_length=self.max_length,
            )
        )

    def connect_to_endpoint(
        self, endpoint: IStreamClientEndpoint | str
    ) -> Deferred[Client]:
        """
        Connect through a Twisted client endpoint or endpoint string.

        Such as ``"tls:example.com:50007"`` or ``"unix:path=/run/app.sock"``;
        otherwise the same as `connect_to_host`.
        """
        return self._connect(
            lambda: connect_endpoint(
                self.reactor,
                endpoint,
                timeout=self.timeout,
                max_length=self.max_length,
            )
        )

    def send(self, data: bytes) -> Deferred[None]:
        """
        Send ``data`` as one message.

        Returns a Deferred that fires once the bytes are handed to the kernel,
        or fails (after `error_occurred`): not connected, ``data`` not bytes,
        too long for the prefix, or the connection ended.
        """
        client = self._client
        if client is None or self._attempt is not None:
            return self._failed(UsageError("not connected: connect first"))
        try:
            sending = client.send(data)
        except (TypeError, ClientError) as error:
            return self._failed(error)
        if sending.called:  # failed at once: the connection had ended
            return self._quiet(sending.addErrback(self._report))
        return self._quiet(sending.addErrback(self._send_failed))

    def close(self) -> Deferred[None]:
        """
        Close the connection after writing what is still buffered.

        A connection attempt in progress is abandoned. Returns a Deferred that
        fires once the connection is gone (after `disconnected`); harmless when
        not connected.
        """
        if self._attempt is not None:
            self._attempt.cancel()
        if self._client is None:
            return succeed(None)
        self._stop_delivering()
        closing = self._client.close()
        self._state_may_have_changed()
        return closing

    # -- internals ---------------------------------------------------------------

    def _connect(self, start: Any) -> Deferred[Client]:
        if self.state is not ConnectionState.UNCONNECTED:
            return self._failed(
                UsageError(f"already {self.state}: close() before connecting again")
            )
        try:
            attempt: Deferred[Client] = start()
        except ClientError as error:
            return self._failed(error)
        self._stop_delivering()
        self._attempt = attempt
        result: Deferred[Client] = Deferred(lambda _: attempt.cancel())
        attempt.addCallbacks(self._connected, self._not_connected)
        attempt.chainDeferred(result)
        self._state_may_have_changed()
        return self._quiet(result)

    def _connected(self, client: Client) -> Client:
        self._attempt = None
        self._client = client
        self._close_reason = None
        self._reported = None
        client.when_closed().addCallback(self._gone, client)
        self._emit(self.connected)
        self._state_may_have_changed()
        self._receive_next(client)
        return client

    def _not_connected(self, failure: Failure) -> Failure:
        self._attempt = None
        if not failure.check(CancelledError):
            self._report(failure)
        self._state_may_have_changed()
        return failure

    def _receive_next(self, client: Client) -> None:
        """
        Keep one receive pending; deliver what arrived already in a loop.

        Once `turn_budget` is spent, the rest waits in the client (whose
        ``max_buffered`` pauses reading if it piles up) for a zero-delay
        call: Qt's loop runs in between.
        """
        while client is self._client:
            waiting = client.receive()
            if not waiting.called:
                waiting.addCallbacks(
                    self._message, self._receive_failed, callbackArgs=(client,)
                )
                return
            result: list[Any] = []
            waiting.addBoth(result.append)
            if isinstance(result[0], Failure):
                self._receive_failed(result[0])
                return
            self._emit(self.message_received, result[0])
            if self._budget_spent(client):
                return

    def _budget_spent(self, client: Client) -> bool:
        """After a message: if this turn's budget is spent, continue on the next."""
        if time.monotonic() - self._window < self.turn_budget:
            return False
        if client is self._client:
            self._continuation = self.reactor.callLater(0, self._continue, client)
        return True

    def _continue(self, client: Client) -> None:
        """A new turn of Qt's loop: a new budget, and delivery goes on."""
        self._continuation = None
        self._window = time.monotonic()
        self._receive_next(client)
        self._end_if_delivered(client)

    def _end_if_delivered(self, client: Client) -> None:
        """Report the end that waited for the last messages, once they are out."""
        if self._continuation is None and self._end_pending is not None:
            ended, self._end_pending = self._end_pending, None
            self._gone(ended, client)

    def _stop_delivering(self) -> None:
        """Forget the messages still to deliver, reporting a pending end first."""
        if self._continuation is not None:
            self._continuation.cancel()
            self._continuation = None
        ended, self._end_pending = self._end_pending, None
        if ended is not None and self._client is not None:
            self._gone(ended, self._client)

    def _message(self, message: bytes, client: Client) -> None:
        self._emit(self.message_received, message)
        if not self._budget_spent(client):
            self._receive_next(client)

    def _receive_failed(self, failure: Failure) -> None:
        error = failure.value
        if _closed_here(error):
            return
        if isinstance(error, ConnectionClosed) and error.clean:
            return
        self._report(failure)

    def _send_failed(self, failure: Failure) -> Failure:
        """A send that was pending failed: emit it, unless this side closed."""
        if not _closed_here(failure.value):
            self._report(failure)
        return failure

    def _gone(self, reason: ClientError, client: Client) -> None:
        if client is not self._client:
            return
        if self._continuation is not None:  # messages still to deliver first
            self._end_pending = reason
            return
        self._close_reason = reason
        self._emit(self.disconnected)
        self._state_may_have_changed()

    def _state_may_have_changed(self) -> None:
        """Emit ``state_changed`` if `state` differs from the last one emitted."""
        state = self.state
        if state != self._shown_state:
            self._shown_state = state
            self._emit(self.state_changed, state)

    def _failed(self, error: BaseException) -> Deferred[Any]:
        failure = Failure(error)
        self._report(failure)
        return self._quiet(fail(failure))

    def _quiet(self, deferred: Deferred[_T]) -> Deferred[_T]:
        """
        ``deferred``, made silent at garbage collection about expected failures.

        Those emitted as ``error_occurred``, and those a local close causes
        (`ClientClosed`, the `CancelledError` of an abandoned attempt): the
        caller may ignore the Deferred. Whoever adds an errback still gets
        the failure, and a failure their callbacks produce is logged as usual.
        """
        _hush_expected(deferred)
        return deferred.addBoth(self._mark_expected, deferred)

    def _mark_expected(self, result: object, deferred: Deferred[Any]) -> object:
        if isinstance(result, Failure) and (
            result.value is self._reported
            or _closed_here(result.value)
            or result.check(CancelledError)
        ):
            info = deferred._debugInfo
            if isinstance(info, _ExpectedFailure):
                info.expected = result
        return result

    def _report(self, failure: Failure) -> Failure:
        """Emit ``error_occurred`` once per error; give the failure back."""
        if failure.value is not self._reported:
            self._reported = failure.value
            self._emit(self.error_occurred, str(failure.value))
        return failure

    def _emit(self, signal: Any, *args: object) -> None:
        """Emit ``signal``; whatever a slot raises stays out of Twisted's chain."""
        try:
            signal.emit(*args)
        except Exception:
            from twisted.python import log

            log.err(None, "in a slot connected to a QtClient signal")


def _closed_here(error: BaseException | None) -> bool:
    """True when ``error`` says this side ended the connection (no error to emit)."""
    return isinstance(error, ClientClosed)


class _ExpectedFailure(DebugInfo):
    """
    Twisted's record of a Deferred's unhandled failure, silent about one failure.

    Twisted keeps the failure a Deferred's callbacks ended with in the
    Deferred's ``_debugInfo`` (a `DebugInfo`) and logs it as "Unhandled
    error in Deferred" when that is collected. This one stays silent when
    that failure is ``expected``, the one `QtClient` emitted already.
    """

    expected: Failure | None = None

    def __del__(self) -> None:
        if self.failResult is not None and self.failResult is self.expected:
            return
        super().__del__()


def _hush_expected(deferred: Deferred[Any]) -> None:
    """Give ``deferred`` an `_ExpectedFailure` record, keeping what it had."""
    info = _ExpectedFailure()
    old = deferred._debugInfo
    if old is not None:
        info.creator, info.invoker = old.creator, old.invoker
        info.failResult, old.failResult = old.failResult, None
    deferred._debugInfo = info
