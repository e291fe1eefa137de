"""
`ReconnectingClient`: keep one `Client` connected, reconnecting with backoff.

Built on Twisted's `ClientService`, which owns the retry loop; this module adds
what an application needs to show and use it: the state of the connection as
a `ConnectionState`, listeners told of every change, the reason the last connection or
attempt ended, and the connected `Client` itself.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ._checks import check_backoff, check_seconds
from ._client import Client, ClientProtocol, client_factory, set_up
from ._connect import endpoint_from
from ._errors import ClientClosed, ClientError, ConnectError, ConnectTimeout, UsageError
from ._framing import DEFAULT_MAX_LENGTH
from ._state import ConnectionState

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocol, IReactorTime

__all__ = ["ReconnectingClient", "StateListener"]

STOPPED = ConnectionState.STOPPED
CONNECTING = ConnectionState.CONNECTING
CONNECTED = ConnectionState.CONNECTED
WAITING = ConnectionState.WAITING

StateListener = Callable[[ConnectionState], object]
"""What `ReconnectingClient.add_listener` takes: called with each new state."""
_T = TypeVar("_T")
_log = Logger()


class ReconnectingClient:
    """
    A `Client` that comes back: reconnects with exponential backoff until stopped.

    Call `start`; `when_connected` gives the connected `Client` (now, or once
    the next attempt succeeds). When the connection ends for any reason other
    than `stop`, a new attempt is made after a delay that grows from
    ``initial_delay`` by ``factor`` per failed attempt up to ``max_delay``,
    plus up to ``jitter`` seconds at random (so that many clients do not
    reconnect in lockstep). Each connection is a new `Client`: messages that
    arrived on the old one are still read from the old one.

    The connection state (`state`, a `ConnectionState`: ``STOPPED``,
    ``CONNECTING``, ``CONNECTED``, ``WAITING``, each equal to its string
    value ``"stopped"``, ...) is reported to every listener added with
    `add_listener`, with `last_error` telling why the last connection or
    attempt ended and `retry_delay` how long the wait is. Listeners are called
    from the reactor loop on the turn after the change, in order, so they may
    call any method; `state` itself changes at once.

    Args:
        reactor: The reactor (it is also the clock for the delays).
        endpoint: Where to connect: an `IStreamClientEndpoint` or an endpoint
            string such as ``"tcp:host=example.com:port=5000"`` or
            ``"tls:example.com:5000"``.
        timeout: Seconds for each attempt, or None.
        max_length, max_buffered: As for `connect`, for every connection.
        initial_delay, max_delay, factor, jitter: The backoff: finite
            seconds >= 0, and a finite ``factor`` >= 1.

    Raises:
        UsageError: an argument is out of range, NaN or infinite (None, not
            an infinity, is how ``timeout`` says "no limit").
    """

    def __init__(
        self,
        reactor: IReactorTime,
        endpoint: IStreamClientEndpoint | str,
        *,
        timeout: float | None = 30.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        max_buffered: int | None = None,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        factor: float = 1.5,
        jitter: float = 1.0,
    ) -> None:
        check_seconds("timeout", timeout, allow_none=True, positive=True)
        check_backoff(initial_delay, max_delay, factor, jitter)
        factory = client_factory(reactor, max_length, max_buffered)
        self._reactor = reactor
        self._endpoint = _Watched(self, endpoint_from(reactor, endpoint), timeout)
        self._backoff = backoffPolicy(
            initial_delay, max_delay, factor, lambda: random.random() * jitter
        )
        self._service = ClientService(
            self._endpoint,
            factory,
            retryPolicy=self._retry_policy,
            clock=reactor,
            prepareConnection=self._connected,
        )
        self._state = STOPPED
        self._client: Client | None = None
        self._listeners: list[StateListener] = []
        self._announce: deque[ConnectionState] = deque()
        self._announcing = False
        self._stopping = False
        self.last_error: ClientError | None = None
        """Why the last connection or attempt ended (None before any did)."""
        self.failed_attempts = 0
        """Attempts that failed in a row since the last successful one."""
        self.retry_delay: float | None = None
        """Seconds waited before the next attempt, while `state` is ``"waiting"``."""

    def __repr__(self) -> str:
        return f"<ReconnectingClient {self._endpoint.description} {self._state}>"

    @property
    def state(self) -> ConnectionState:
        """``STOPPED``, ``CONNECTING``, ``CONNECTED`` or ``WAITING``."""
        return self._state

    @property
    def client(self) -> Client | None:
        """The connected `Client`, or None when not connected."""
        current = self._client
        return current if current is not None and current.is_open else None

    def add_listener(self, listener: StateListener) -> None:
        """Call ``listener(state)`` on every change of `state`."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StateListener) -> None:
        """Stop calling ``listener``; harmless if it was not added."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def start(self) -> None:
        """Start connecting (and reconnecting). Harmless while already started."""
        if self._service.running:
            return
        self._stopping = False
        self._service.startService()

    def stop(self) -> Deferred[None]:
        """
        Stop reconnecting and close the connection (after writing what it holds).

        Returns a Deferred that fires once the connection is closed and any
        attempt abandoned; `when_connected` waiters then fail with
        `ClientClosed`. `start` may be called again later.
        """
        if not self._service.running:
            return succeed(None)
        self._stopping = True
        if self._client is not None:
            # Close through the Client: it detaches its write monitor, without
            # which the transport's loseConnection would wait for ever.
            self._client.close()
        stopped: Deferred[None] = self._service.stopService()

        def done(result: object) -> None:
            self._client = None
            self._set_state(STOPPED)

        return stopped.addCallback(done)

    def when_connected(self, failures: int | None = None) -> Deferred[Client]:
        """
        The connected `Client`: now if connected, else once an attempt succeeds.

        Args:
            failures: Give up after this many failed attempts in a row
                (counted from now) and fail with their `ConnectError`; None
                waits for as long as it takes.

        The Deferred fails with `ClientClosed` if `stop` is called first, and
        can be cancelled.
        """
        if failures is not None and (
            isinstance(failures, bool) or not isinstance(failures, int) or failures < 1
        ):
            raise UsageError(f"failures must be an int >= 1 or None, not {failures!r}")
        current = self._client
        if current is not None and current.is_open:
            return succeed(current)
        if not self._service.running:
            return succeed(None).addCallback(_not_running)
        if current is not None or self._state == CONNECTED:
            # The connection is ending and the service has not noticed yet:
            # ask again once it has, so as not to be handed the old client.
            ended: Deferred[object] = (
                current.when_closed() if current is not None else succeed(None)  # type: ignore[assignment]
            )
            return ended.addCallback(
                lambda _: deferLater(self._reactor, 0, self.when_connected, failures)
            )
        waiting: Deferred[IProtocol] = self._service.whenConnected(failures)
        # It fires inside ClientService's state machine: hop out of it first.
        waiting.addBoth(self._next_turn)
        return waiting.addCallbacks(_client_of, self._translate)

    # -- what the service and the endpoint report -------------------------------

    def _retry_policy(self, failed_attempts: int) -> float:
        delay: float = self._backoff(failed_attempts)
        self.retry_delay = delay
        self._set_state(WAITING)
        return delay

    def _connected(self, protocol: IProtocol) -> None:
        client: Client = protocol.client  # type: ignore[attr-defined]
        self._client = client
        self.failed_attempts = 0
        self.retry_delay = None
        client.when_closed().addCallback(self._lost, client)
        self._set_state(CONNECTED)

    def _lost(self, reason: ClientError, client: Client) -> None:
        if self._client is client:
            self._client = None
        if not self._stopping:
            self.last_error = reason

    def _attempt_started(self) -> None:
        self._set_state(CONNECTING)

    def _attempt_failed(self, error: ClientError) -> None:
        if self._stopping:
            return
        self.failed_attempts += 1
        self.last_error = error

    def _translate(self, failure: Failure) -> Failure:
        if failure.check(CancelledError):
            return Failure(ClientClosed("the reconnecting client was stopped"))
        if failure.check(ClientError):
            return failure
        return Failure(ConnectError(self._endpoint.description, failure.value))

    def _set_state(self, state: ConnectionState) -> None:
        if state == self._state:
            return
        self._state = state
        # Changes happen inside ClientService's state machine, which must not
        # be re-entered: listeners hear of them on the next reactor turn, in
        # order, free to call start, stop or when_connected.
        self._announce.append(state)
        if not self._announcing:
            self._announcing = True
            self._reactor.callLater(0, self._tell_listeners)

    def _tell_listeners(self) -> None:
        try:
            while self._announce:
                state = self._announce.popleft()
                for listener in list(self._listeners):
                    try:
                        listener(state)
                    except Exception:
                        _log.failure(
                            "state listener {listener!r} failed", listener=listener
                        )
        finally:
            self._announcing = False

    def _next_turn(self, result: _T) -> Deferred[_T]:
        """``result`` (value or Failure), delivered from the reactor loop."""
        return deferLater(self._reactor, 0, lambda: result)


@implementer(IStreamClientEndpoint)
class _Watched:
    """An endpoint that tells the `ReconnectingClient` about every attempt."""

    def __init__(
        self,
        owner: ReconnectingClient,
        endpoint: tuple[IStreamClientEndpoint, str],
        timeout: float | None,
    ) -> None:
        self._owner = owner
        self._endpoint, self.description = endpoint
        self._timeout = timeout

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Make one attempt, with the timeout, reporting its start and failure.

        ``factory`` is the `ReconnectingClient`'s, so the attempt connects a
        `ClientProtocol`; one whose setup failed fails the attempt.
        """
        self._owner._attempt_started()
        attempt: Deferred[IProtocol] = cast(
            "Deferred[ClientProtocol]", self._endpoint.connect(factory)
        ).addCallback(set_up)
        if self._timeout is not None:
            attempt.addTimeout(
                self._timeout, self._owner._reactor, onTimeoutCancel=self._timed_out
            )
        return attempt.addErrback(self._failed)

    def _timed_out(self, result: Any, timeout: float) -> Any:
        if isinstance(result, Failure) and result.check(CancelledError):
            raise ConnectTimeout(self.description, timeout)
        return result

    def _failed(self, failure: Failure) -> Failure:
        if not failure.check(CancelledError):
            error = failure.value
            if not isinstance(error, ClientError):
                error = ConnectError(self.description, error)
            self._owner._attempt_failed(error)
            return Failure(error)
        return failure


def _client_of(protocol: IProtocol) -> Client:
    client: Client = protocol.client  # type: ignore[attr-defined]
    return client


def _not_running(_: object) -> Client:
    raise ClientClosed("the reconnecting client is not started")
