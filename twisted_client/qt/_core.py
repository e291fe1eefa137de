"""
What a `QtClient` does, in plain Python: it outlives the QObject safely.

Deferred callbacks and the `Client`'s subscription hold this object, never
the QObject: it reaches the QObject through a `QtLink`, which emits only
while the QObject's C++ side is alive. When Qt deletes the QObject (its
parent deleted, ``deleteLater``, ``sip.delete``), the link calls `destroyed`,
which closes the connection quietly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.python import log
from twisted.python.failure import Failure

from .._client import Client
from .._connect import connect, connect_endpoint, tcp_endpoint
from .._errors import ClientClosed, ClientError, ConnectionClosed, UsageError
from .._hush import handled, hush
from .._reconnect import ReconnectingClient
from .._state import ConnectionState

if TYPE_CHECKING:
    from twisted.internet.interfaces import IStreamClientEndpoint

    from ._link import QtLink

__all__ = ["Backoff", "QtClientCore"]


class Backoff(TypedDict):
    """The reconnect delays, as `ReconnectingClient` takes them."""

    initial_delay: float
    max_delay: float
    factor: float
    jitter: float


_T = TypeVar("_T")


class QtClientCore:
    """
    The connection of one `QtClient`, and the signals it emits through `link`.

    Without ``backoff`` each connect is one attempt (`connect`,
    `connect_endpoint`). With ``backoff`` (the keyword arguments of
    `ReconnectingClient`: ``initial_delay``, ``max_delay``, ``factor``,
    ``jitter``) a connect starts a `ReconnectingClient`, which reconnects
    after every failed attempt or lost connection until `close`.
    """

    def __init__(
        self,
        reactor: Any,
        *,
        timeout: float | None,
        max_length: int,
        backoff: Backoff | None,
    ) -> None:
        self.reactor = reactor
        self.timeout = timeout
        self.max_length = max_length
        self.turn_budget = 0.004
        self.link: QtLink | None = None
        self._backoff = backoff
        self._client: Client | None = None
        self._attempt: Deferred[Client] | None = None
        self._reconnecting: ReconnectingClient | None = None
        self._first: Deferred[Client] | None = None  # reconnect: the connect's result
        self._reported: object = None
        self._last_error: BaseException | None = None
        self._close_reason: ClientError | None = None
        self._shown_state = ConnectionState.UNCONNECTED

    # -- state -----------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The `Client` while connected (and until the next connection), else None."""
        return self._client

    @property
    def close_reason(self) -> ClientError | None:
        """Why the last connection ended, or None."""
        return self._close_reason

    @property
    def last_error(self) -> BaseException | None:
        """The last error emitted; None again once a connection is made."""
        return self._last_error

    @property
    def retry_delay(self) -> float | None:
        """Seconds waited before the next attempt while ``WAITING``, else None."""
        reconnecting = self._reconnecting
        if reconnecting is None or self.state is not ConnectionState.WAITING:
            return None
        return reconnecting.retry_delay

    @property
    def state(self) -> ConnectionState:
        """Where the connection stands (see `QtClient.state`)."""
        client = self._client
        if client is not None and client.is_open:
            return ConnectionState.CONNECTED
        reconnecting = self._reconnecting
        if reconnecting is not None:
            return _reconnecting_state(reconnecting)
        if self._attempt is not None:
            return ConnectionState.CONNECTING
        return ConnectionState.UNCONNECTED

    # -- operations ---------------------------------------------------------------

    def connect_to_host(self, host: str, port: int) -> Deferred[Client]:
        """See `QtClient.connect_to_host`."""
        if self._backoff is not None:
            return self._start_reconnecting(
                lambda: tcp_endpoint(self.reactor, host, port)
            )
        return self._connect_once(
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
        """See `QtClient.connect_to_endpoint`."""
        if self._backoff is not None:
            return self._start_reconnecting(lambda: endpoint)
        return self._connect_once(
            lambda: connect_endpoint(
                self.reactor,
                endpoint,
                timeout=self.timeout,
                max_length=self.max_length,
            )
        )

    def send(self, data: bytes) -> Deferred[None]:
        """See `QtClient.send`."""
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
        """See `QtClient.close`."""
        if self._attempt is not None:
            self._attempt.cancel()
        stopping: Deferred[None] | None = None
        reconnecting, self._reconnecting = self._reconnecting, None
        if reconnecting is not None:
            reconnecting.remove_listener(self._reconnect_state)
            first, self._first = self._first, None
            if first is not None:
                first.errback(CancelledError("the connection attempts were abandoned"))
            stopping = reconnecting.stop()
        closing = self._client.close() if self._client is not None else succeed(None)
        self._state_may_have_changed()
        if stopping is None:
            return closing
        return stopping.addCallback(lambda _: closing)

    def destroyed(self) -> None:
        """The QObject is gone: close the connection; nothing is emitted any more."""
        self.close().addErrback(lambda _: None)

    # -- one attempt ------------------------------------------------------------

    def _connect_once(self, start: Callable[[], Deferred[Client]]) -> Deferred[Client]:
        refused = self._refuse_if_busy()
        if refused is not None:
            return refused
        try:
            attempt = start()
        except ClientError as error:
            return self._failed(error)
        self._attempt = attempt
        result: Deferred[Client] = Deferred(lambda _: attempt.cancel())
        attempt.addCallbacks(self._attempt_succeeded, self._attempt_failed)
        attempt.chainDeferred(result)
        self._state_may_have_changed()
        return self._quiet(result)

    def _attempt_succeeded(self, client: Client) -> Client:
        self._attempt = None
        self._connected(client)
        return client

    def _attempt_failed(self, failure: Failure) -> Failure:
        self._attempt = None
        if not failure.check(CancelledError):
            self._report(failure)
        self._state_may_have_changed()
        return failure

    # -- reconnecting -------------------------------------------------------------

    def _start_reconnecting(
        self, endpoint: Callable[[], IStreamClientEndpoint | str]
    ) -> Deferred[Client]:
        refused = self._refuse_if_busy()
        if refused is not None:
            return refused
        assert self._backoff is not None
        try:
            reconnecting = ReconnectingClient(
                self.reactor,
                endpoint(),
                timeout=self.timeout,
                max_length=self.max_length,
                **self._backoff,
            )
        except ClientError as error:
            return self._failed(error)
        self._reconnecting = reconnecting
        first: Deferred[Client] = Deferred(self._abandon)
        self._first = first
        reconnecting.add_listener(self._reconnect_state)
        reconnecting.start()
        self._next_connection(reconnecting)
        self._state_may_have_changed()
        return self._quiet(first)

    def _abandon(self, _: Deferred[Client]) -> None:
        """The connect's Deferred was cancelled: stop, as `close` does."""
        self.close()

    def _next_connection(self, reconnecting: ReconnectingClient) -> None:
        """Take the next connection the `ReconnectingClient` makes."""
        waiting = reconnecting.when_connected()
        waiting.addCallbacks(
            self._reconnected,
            lambda _: None,  # stopped: close() answered the connect already
            callbackArgs=(reconnecting,),
        )

    def _reconnected(self, client: Client, reconnecting: ReconnectingClient) -> None:
        if reconnecting is not self._reconnecting:
            return
        self._connected(client)
        first, self._first = self._first, None
        if first is not None:
            first.callback(client)

    def _reconnect_state(self, state: ConnectionState) -> None:
        """A `ReconnectingClient` listener: report failed attempts, follow the state."""
        reconnecting = self._reconnecting
        if reconnecting is None:
            return
        error = reconnecting.last_error
        if (
            state is ConnectionState.WAITING
            and reconnecting.failed_attempts
            and error is not None
        ):
            self._report(Failure(error))
        self._state_may_have_changed()

    # -- a connection -------------------------------------------------------------

    def _refuse_if_busy(self) -> Deferred[Client] | None:
        state = self.state
        if state is ConnectionState.UNCONNECTED:
            return None
        return self._failed(
            UsageError(f"already {state}: close() before connecting again")
        )

    def _connected(self, client: Client) -> None:
        self._client = client
        self._close_reason = None
        self._reported = None
        self._last_error = None
        client.turn_budget = self.turn_budget
        client.when_closed().addCallback(self._gone, client)
        self._emit("connected")
        self._state_may_have_changed()
        try:
            client.subscribe(self._message)  # the waiting messages come now
        except UsageError as error:  # a slot of `connected` called receive()
            self._report(Failure(error))

    def _message(self, message: bytes) -> None:
        self._emit("message_received", message)

    def _gone(self, reason: ClientError, client: Client) -> None:
        if client is not self._client:
            return
        self._close_reason = reason
        if not _closed_here(reason) and not (
            isinstance(reason, ConnectionClosed) and reason.clean
        ):
            self._report(Failure(reason))
        self._emit("disconnected")
        self._state_may_have_changed()
        if self._reconnecting is not None:
            self._next_connection(self._reconnecting)

    def _send_failed(self, failure: Failure) -> Failure:
        """A send that was pending failed: emit it, unless this side closed."""
        if not _closed_here(failure.value):
            self._report(failure)
        return failure

    # -- signals ---------------------------------------------------------------------

    def _state_may_have_changed(self) -> None:
        """Emit ``state_changed`` if `state` differs from the last one emitted."""
        state = self.state
        if state is not self._shown_state:
            self._shown_state = state
            self._emit("state_changed", str(state))

    def _report(self, failure: Failure) -> Failure:
        """Emit ``error_occurred`` and ``failed`` once per error; give it back."""
        error = failure.value
        if error is not self._reported:
            self._reported = error
            self._last_error = error
            self._emit("error_occurred", str(error))
            self._emit("failed", error)
        return failure

    def _emit(self, signal: str, *args: object) -> None:
        """Emit ``signal`` if the QObject lives; a slot's exception is logged."""
        link = self.link
        if link is None:
            return
        try:
            link.emit(signal, *args)
        except Exception:
            log.err(None, "in a slot connected to a QtClient signal")

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
        hush(deferred)
        return deferred.addBoth(self._mark_expected, deferred)

    def _mark_expected(self, result: object, deferred: Deferred[Any]) -> object:
        if isinstance(result, Failure) and (
            result.value is self._reported
            or _closed_here(result.value)
            or result.check(CancelledError)
        ):
            handled(deferred, result)
        return result


def _reconnecting_state(reconnecting: ReconnectingClient) -> ConnectionState:
    """A started `ReconnectingClient`'s state, as its `QtClient` shows it."""
    state = reconnecting.state
    if state is ConnectionState.CONNECTED:
        # Connected anew and not handed over yet, or ended and the service
        # has not noticed yet.
        if reconnecting.client is not None:
            return ConnectionState.CONNECTING
        return ConnectionState.WAITING
    if state is ConnectionState.STOPPED:
        return ConnectionState.UNCONNECTED
    return state


def _closed_here(error: BaseException | None) -> bool:
    """True when ``error`` says this side ended the connection (no error to emit)."""
    return isinstance(error, ClientClosed)
