"""
`TwistedBackend`: the demo's exchange on the native client, with no polling.

Each command is one call that returns a Deferred; its reply is delivered by
that Deferred's callback. Received messages come from `QtClient`'s
``message_received`` signal (`gui._native_qt`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure

from ._commands import CLOSE, CONNECT, RECEIVE, SEND, Command, Reply, ReplyCallback

if TYPE_CHECKING:
    from twisted_client import Client

__all__ = [
    "Connection",
    "TwistedBackend",
]


class TwistedBackend:
    """
    The native client: each command is one Deferred-returning call.

    Replies are delivered by the Deferred callbacks, when the operation
    completes: nothing polls. The connection is a `twisted_client.qt.QtClient`
    and messages arrive by its ``message_received`` signal.
    """

    name = "twisted"

    def __init__(
        self,
        reactor: Any,
        on_reply: ReplyCallback,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        self._reactor = reactor
        self._on_reply = on_reply
        self._connect_timeout = connect_timeout
        self._pending: deque[Command] = deque()
        self._current: Deferred[Any] | None = None
        self._waiting = False
        self._pumping = False
        self._stopped = False
        from ._native_qt import SignalConnection

        self._connection: Connection = SignalConnection(reactor, connect_timeout)

    @property
    def client(self) -> Client | None:
        """The `twisted_client.Client` of the current connection, if any."""
        return self._connection.client

    @property
    def via(self) -> str:
        """What carries replies, for the log: ``"QtClient signals"``."""
        return self._connection.via

    def submit(self, commands: Iterable[Command]) -> None:
        """Queue ``commands`` and start the first if nothing runs."""
        self._pending.extend(commands)
        self._pump()

    def set_drain(self, drain: bool) -> None:
        """Nothing to do: replies are never held back."""

    def stop(self) -> None:
        """Drop pending commands, cancel the running one, drop the connection."""
        self._stopped = True
        self._pending.clear()
        current, self._current = self._current, None
        if current is not None:
            current.cancel()
        self._connection.abort()

    @property
    def busy(self) -> bool:
        """True while a command runs or waits."""
        return self._waiting or bool(self._pending)

    def _pump(self) -> None:
        if self._pumping:
            return
        self._pumping = True
        try:
            while self._pending and not self._waiting and not self._stopped:
                command = self._pending.popleft()
                self._waiting = True
                running = self._connection.execute(command)
                self._current = running
                running.addCallbacks(self._succeeded, self._failed)
        finally:
            self._pumping = False

    def _succeeded(self, value: Any) -> None:
        self._complete(Reply(True, value))

    def _failed(self, failure: Failure) -> None:
        self._complete(Reply(False, _error_text(failure)))

    def _complete(self, reply: Reply) -> None:
        self._waiting = False
        self._current = None
        if self._stopped:
            return
        self._on_reply(reply)
        self._pump()


def _error_text(failure: Failure) -> str:
    text = str(failure.value)
    return text or type(failure.value).__name__


class Connection:
    """The seed's four commands as Deferred-returning calls; subclasses do them."""

    via = ""
    """What carries the replies, for the log."""

    @property
    def client(self) -> Client | None:
        """The `twisted_client.Client` of the current connection, if any."""
        raise NotImplementedError

    def execute(self, command: Command) -> Deferred[Any]:
        """Run ``command``; the Deferred fires with its SUCCESS data or fails."""
        handlers: dict[int, Callable[[Any], Deferred[Any]]] = {
            CONNECT: self._connect,
            SEND: self._send,
            RECEIVE: self._receive,
            CLOSE: self._close,
        }
        handler = handlers.get(command.type)
        if handler is None:
            return fail(ValueError(f"unknown command type {command.type!r}"))
        try:
            return handler(command.data)
        except Exception:  # a UsageError or TypeError: an ERROR reply, not a crash
            return fail()

    def abort(self) -> None:
        """Drop the connection at once; pending operations get no reply."""
        raise NotImplementedError

    def _connect(self, address: tuple[str, int]) -> Deferred[None]:
        raise NotImplementedError

    def _send(self, data: bytes) -> Deferred[None]:
        raise NotImplementedError

    def _receive(self, _: object) -> Deferred[bytes]:
        raise NotImplementedError

    def _close(self, _: object) -> Deferred[None]:
        raise NotImplementedError
