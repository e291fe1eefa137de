"""`QtClient`: a `Client` for signal/slot code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._checks import check_backoff, check_seconds
from .._framing import DEFAULT_MAX_LENGTH, check_max_length
from .._state import ConnectionState
from ._binding import binding
from ._core import Backoff, QtClientCore
from ._install import qt_reactor
from ._link import QtLink

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IStreamClientEndpoint

    from .._client import Client
    from .._errors import ClientError

__all__ = ["QtClient"]

_qt = binding()
QObject: Any = _qt.QtCore.QObject
Signal: Any = _qt.Signal


class QtClient(QObject):  # type: ignore[misc]  # the binding is typed Any
    """
    One connection to a length-prefixed message server, with Qt signals.

    A QObject over `twisted_client.Client` for signal/slot code. While
    connected it is the client's subscriber (`Client.subscribe`): every
    message, pushed by the server or not, is emitted as `message_received`
    as it arrives, and the client's `receive` is not for use meanwhile.
    Every method returns at once; the Deferreds they return fire when the
    operation completes, and failures are also emitted as `error_occurred`
    and `failed`, so a slot may ignore the Deferreds: a failure that was
    emitted, or that a local `close` caused, is not logged again as
    "Unhandled error in Deferred" (a caller who adds an errback still gets
    it). Nothing raises into Qt: misuse (sending str, sending while not
    connected, connecting twice) is a failed Deferred and an
    `error_occurred` too.

    However many messages arrive at once, delivering them never holds Qt's
    event loop for much more than `turn_budget` seconds: once that is spent
    the client pauses reading and the rest is delivered on the next turns of
    the loop (timers and repaints run in between), in order, and the end of
    the connection is reported after the last of them. A slot that is slow
    for every message is the back-pressure: nothing is buffered for it.

    The QObject may be deleted under a connection (its parent deleted,
    ``deleteLater``, ``sip.delete``): the connection is then closed quietly,
    and nothing is emitted on the deleted object. The connection's work is
    done by an object that reaches this one only while its C++ side lives.

    With ``reconnect=True`` a connect keeps the connection up: after a failed
    attempt or a lost connection it tries again after a delay that grows
    from ``initial_delay`` by ``factor`` per failed attempt up to
    ``max_delay``, plus up to ``jitter`` seconds (`ReconnectingClient`),
    until `close`. Each failed attempt and each abnormal end is emitted
    (`error_occurred`, `failed`); each new connection emits `connected`,
    and its Deferred fires with the first one.

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
        failed(object): the same failure, as the exception itself (a
            `ConnectError` whose ``reason`` says refused, a `ConnectTimeout`,
            a `ConnectionClosed`, a `UsageError`, ...), after `error_occurred`.
        disconnected(): a connection that was up is gone, whoever ended it.
            After an abnormal end `error_occurred` comes first. A peer closing
            cleanly between messages is no error, and neither is a local end
            (`close`, or the reactor shutting down as the application quits).
            `close_reason` tells why.
        state_changed(str): `state` changed (``"unconnected"``,
            ``"connecting"``, ``"connected"``, and with reconnect
            ``"waiting"``); emitted once per change, after the signal of the
            event that caused it.

    Args:
        reactor: The reactor. By default the global one, which must run
            inside Qt: with none installed yet, the Qt reactor is installed,
            and started once Qt's loop runs if the program does not start
            it (``twisted_client.qt._install.qt_reactor``); another reactor
            installed already raises `WrongReactorError`.
        parent: The QObject parent.
        timeout: Seconds a connection attempt may take, or None.
        max_length: The longest message accepted from the server.
        reconnect: Keep reconnecting (see above) instead of one attempt.
        initial_delay, max_delay, factor, jitter: The backoff when
            reconnecting, as for `ReconnectingClient`.

    Raises:
        UsageError: a setting is out of range (checked here, not at the
            first `connect_to_host`; the backoff only with ``reconnect``).
        WrongReactorError: the global reactor is not one that runs inside Qt.
    """

    connected = Signal()
    message_received = Signal(bytes)
    error_occurred = Signal(str)
    failed = Signal(object)
    disconnected = Signal()
    state_changed = Signal(str)

    def __init__(
        self,
        reactor: Any = None,
        parent: Any = None,
        *,
        timeout: float | None = 30.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        reconnect: bool = False,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        factor: float = 1.5,
        jitter: float = 1.0,
    ) -> None:
        check_max_length(max_length)
        check_seconds("timeout", timeout, allow_none=True, positive=True)
        if reconnect:
            check_backoff(initial_delay, max_delay, factor, jitter)
        super().__init__(parent)
        if reactor is None:
            reactor = qt_reactor()
        backoff = (
            Backoff(
                initial_delay=initial_delay,
                max_delay=max_delay,
                factor=factor,
                jitter=jitter,
            )
            if reconnect
            else None
        )
        core = QtClientCore(
            reactor, timeout=timeout, max_length=max_length, backoff=backoff
        )
        core.link = QtLink(self, core.destroyed)
        self._core = core

    # -- settings ------------------------------------------------------------

    @property
    def reactor(self) -> Any:
        """The reactor the connection runs on."""
        return self._core.reactor

    @property
    def timeout(self) -> float | None:
        """Seconds a connection attempt may take, or None."""
        return self._core.timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        self._core.timeout = seconds

    @property
    def max_length(self) -> int:
        """The longest message accepted from the server."""
        return self._core.max_length

    @max_length.setter
    def max_length(self, length: int) -> None:
        self._core.max_length = length

    @property
    def turn_budget(self) -> float:
        """
        Seconds of emitting ``message_received`` in one turn of Qt's loop
        (default 0.004) before the rest waits for the next turn; given to
        each connection's `Client.turn_budget` when it is made.
        """
        return self._core.turn_budget

    @turn_budget.setter
    def turn_budget(self, seconds: float) -> None:
        self._core.turn_budget = seconds

    # -- state ---------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The `Client` while connected (and until the next connection), else None."""
        return self._core.client

    @property
    def state(self) -> ConnectionState:
        """
        ``UNCONNECTED``, ``CONNECTING``, ``CONNECTED`` or (reconnecting) ``WAITING``.

        A `ConnectionState`, equal to its string (``"connected"``, ...).
        """
        return self._core.state

    @property
    def close_reason(self) -> ClientError | None:
        """
        Why the last connection ended, or None.

        A `ClientClosed` when it ended on this side (`close`, or the reactor
        shutting down); a `ConnectionClosed` or a `RemoteProtocolError` when
        the peer or the network ended it.
        """
        return self._core.close_reason

    @property
    def last_error(self) -> BaseException | None:
        """The last error emitted (as `failed`), or None since the last connect."""
        return self._core.last_error

    @property
    def retry_delay(self) -> float | None:
        """
        Reconnecting and ``"waiting"``: the seconds of the wait before the
        next attempt (the backoff's delay, counted from when it began); else
        None.
        """
        return self._core.retry_delay

    def is_connected(self) -> bool:
        """True while the connection is up and `close` was not called."""
        return self.state is ConnectionState.CONNECTED

    # -- operations ------------------------------------------------------------

    def connect_to_host(self, host: str, port: int) -> Deferred[Client]:
        """
        Connect over TCP to ``host``:``port`` (a name or an IP address).

        Returns a Deferred that fires with the `Client` once `connected` was
        emitted, or fails (`ConnectError`, `ConnectTimeout`, `UsageError`)
        after `error_occurred` was emitted; when reconnecting, it fires with
        the first connection, and fails only with `UsageError` (bad
        arguments) or `CancelledError` (`close` first). Cancelling it
        abandons the attempt, with no signal.
        """
        return self._core.connect_to_host(host, port)

    def connect_to_endpoint(
        self, endpoint: IStreamClientEndpoint | str
    ) -> Deferred[Client]:
        """
        Connect through a Twisted client endpoint or endpoint string.

        Such as ``"tls:example.com:50007"`` or ``"unix:path=/run/app.sock"``;
        otherwise the same as `connect_to_host`.
        """
        return self._core.connect_to_endpoint(endpoint)

    def send(self, data: bytes) -> Deferred[None]:
        """
        Send ``data`` as one message.

        Returns a Deferred that fires once the bytes are handed to the kernel,
        or fails (after `error_occurred`): not connected, ``data`` not bytes,
        too long for the prefix, or the connection ended.
        """
        return self._core.send(data)

    def close(self) -> Deferred[None]:
        """
        Close the connection after writing what is still buffered.

        A connection attempt in progress is abandoned, and reconnecting
        stops. Returns a Deferred that fires once the connection is gone
        (after `disconnected`); harmless when not connected.
        """
        return self._core.close()
