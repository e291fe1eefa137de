"""
`TwistedBackend`: the demo's exchange as a signal/slot program on `QtClient`.

What a Qt program on the native client writes, as the classic sample's own
Twisted version does: "Do it!" calls ``connect_to_host``; the slot of
``connected`` sends ``hello``; the slot of ``message_received`` logs the
reply and closes. Nothing is queued, nothing polls, and no message is pulled
back out of a signal. The log shows one line per step, as for the classic
commands (CONNECT, SEND, RECEIVE, CLOSE), so the backends compare side by
side.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ._commands import Reply, ReplyCallback
from ._options import ServerAddress
from ._stress import WINDOW, StressCount, StressPlan

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from twisted_client import Client

__all__ = ["NativeStress", "TwistedBackend"]


class TwistedBackend:
    """
    The native client: the exchange is four slots on one `QtClient`.

    Each step's reply is logged the moment its signal (or its Deferred)
    fires. An error ends the exchange (`ends_on_error`): the slot of
    ``failed`` logs it and closes. "Do it!" pressed again while an exchange
    runs starts the next one when this one has closed.
    """

    name = "twisted"
    ends_on_error = True
    """An ERROR reply is the last one of its exchange."""

    def __init__(
        self,
        reactor: Any,
        on_reply: ReplyCallback,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        from twisted_client.qt import QtClient

        self._reactor = reactor
        self._on_reply = on_reply
        self._connect_timeout = connect_timeout
        self._waiting: deque[ServerAddress] = deque()
        self._step: str | None = None  # what the running exchange waits for
        self._early: bytes | None = None  # the reply, before send() confirmed
        self._stopped = False
        self._stress: NativeStress | None = None
        self.qt_client = QtClient(reactor, timeout=connect_timeout)
        self.qt_client.connected.connect(self._connected)
        self.qt_client.message_received.connect(self._message_received)
        self.qt_client.failed.connect(self._failed)
        self.qt_client.disconnected.connect(self._disconnected)

    @property
    def client(self) -> Client | None:
        """The `twisted_client.Client` of the current connection, if any."""
        if self._stress is not None:
            return self._stress.qt_client.client
        client: Client | None = self.qt_client.client
        return client

    @property
    def busy(self) -> bool:
        """True while an exchange runs or waits."""
        return self._step is not None or bool(self._waiting)

    def describe_exchange(self, address: ServerAddress) -> str:
        """What "Do it!" does, for the log."""
        return (
            f"connect_to_host({address.host!r}, {address.port}); on connected: "
            "send(b'hello'); on message_received: log it, close()"
        )

    def exchange(self, address: ServerAddress) -> None:
        """Run the exchange with the server at ``address`` (after the running one)."""
        self._waiting.append(address)
        if self._step is None:
            self._next()

    def stress(self, plan: StressPlan) -> NativeStress:
        """A stress run on its own `QtClient` (see `NativeStress`), not started."""
        self._stress = NativeStress(self._reactor, plan, self._connect_timeout)
        return self._stress

    def set_drain(self, drain: bool) -> None:
        """Nothing to do: replies are never held back."""

    def stop(self) -> None:
        """Drop waiting exchanges and the connections at once; no reply follows."""
        self._stopped = True
        self._waiting.clear()
        self._step = None
        _abort(self.qt_client)
        if self._stress is not None:
            self._stress.stop()

    # -- the slots -------------------------------------------------------------

    def _next(self) -> None:
        if self._stopped or not self._waiting:
            return
        address = self._waiting.popleft()
        self._step = "connected"
        self._early = None
        self.qt_client.connect_to_host(address.host, address.port)

    def _connected(self) -> None:
        if self._step != "connected":
            return
        self._reply(True, None)
        self._step = "sent"
        self.qt_client.send(b"hello").addCallbacks(self._sent, lambda _: None)

    def _sent(self, _: None) -> None:
        if self._step != "sent":
            return
        self._reply(True, None)
        self._step = "message"
        early, self._early = self._early, None
        if early is not None:
            self._message_received(early)

    def _message_received(self, message: bytes) -> None:
        if self._step == "sent":  # the reply came before send() confirmed
            self._early = message
            return
        if self._step != "message":
            return
        self._reply(True, message)
        self._step = "closed"
        self.qt_client.close().addCallback(self._closed)

    def _closed(self, _: None) -> None:
        if self._step != "closed":
            return
        self._finish(Reply(True, None))

    def _failed(self, error: BaseException) -> None:
        if self._step in (None, "closed"):
            return
        self._end_with(str(error) or type(error).__name__)

    def _disconnected(self) -> None:
        if self._step in ("sent", "message"):
            self._end_with("the server closed the connection before replying")

    def _end_with(self, text: str) -> None:
        """An ERROR ends the exchange: close, and take the next one."""
        self._step = None
        self.qt_client.close()
        self._finish(Reply(False, text))

    def _reply(self, ok: bool, data: bytes | None) -> None:
        if not self._stopped:
            self._on_reply(Reply(ok, data))

    def _finish(self, reply: Reply) -> None:
        self._step = None
        if self._stopped:
            return
        self._on_reply(reply)
        if self._step is None:  # the callback may have started one already
            self._next()


class NativeStress(StressCount):
    """
    Stream ``messages`` MiB through an echo server on a `QtClient` of its own.

    On ``connected`` it sends `WINDOW` messages of 1 MiB; each
    ``message_received`` sends the next one, until every message came back;
    then it closes and ``on_done`` gets the `StressResult`. The first error
    (``failed``, or an answer that is not the message) ends it the same way.
    """

    def __init__(self, reactor: Any, plan: StressPlan, connect_timeout: float) -> None:
        from twisted_client.qt import QtClient

        super().__init__(plan, reactor.seconds)
        self._queued = self._answered = 0  # messages
        self.qt_client = QtClient(reactor, timeout=connect_timeout)
        self.qt_client.connected.connect(self._top_up)
        self.qt_client.message_received.connect(self._message_received)
        self.qt_client.failed.connect(lambda error: self._end(str(error)))

    def start(self) -> None:
        """Connect; the slots do the rest."""
        self._begin()
        self.qt_client.connect_to_host(self.plan.address.host, self.plan.address.port)

    def reply(self, reply: Reply) -> None:
        """Nothing: this run hears from its signals, not from replies."""

    def stop(self) -> None:
        """Drop the connection at once; ``on_done`` is not called."""
        self.finished = True
        _abort(self.qt_client)

    def _top_up(self) -> None:
        while (
            self._queued < self.plan.messages and self._queued - self._answered < WINDOW
        ):
            self._queued += 1
            self.qt_client.send(self._payload).addCallbacks(
                self._counted, lambda _: None
            )

    def _counted(self, _: None) -> None:
        self._sent += len(self._payload)

    def _message_received(self, message: bytes) -> None:
        if self.finished:
            return
        self._answered += 1
        error = self._count_echo(message)
        if error is not None:
            self._end(error)
        elif self._answered == self.plan.messages:
            self._end(None)
        else:
            self._top_up()

    def _end(self, error: str | None) -> None:
        if self.finished:
            return
        self.finished = True
        self._error = error
        self.qt_client.close().addBoth(lambda _: self._report())


def _abort(qt_client: Any) -> None:
    """Drop ``qt_client``'s connection at once (a cancelled close aborts)."""
    closing: Deferred[None] = qt_client.close()
    closing.addErrback(lambda _: None)  # the CancelledError asked for
    closing.cancel()
