"""`SignalConnection`: the seed's commands on a `QtClient`, messages by signal."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, fail, succeed

from ._native import Connection

if TYPE_CHECKING:
    from twisted_client import Client

__all__ = ["SignalConnection"]


class NotConnected(Exception):
    """RECEIVE or SEND while no connection is up (the text says why)."""


class SignalConnection(Connection):
    """
    The commands on one `twisted_client.qt.QtClient`.

    CONNECT, SEND and CLOSE are its Deferred-returning methods. The client
    emits ``message_received`` for every message as it arrives; RECEIVE takes
    the oldest one not taken yet, or waits for the next emission. When the
    connection ends (``disconnected``), a waiting RECEIVE fails with the
    reason, as the seed's RECEIVE does when the peer closes.
    """

    via = "QtClient signals"

    @property
    def client(self) -> Client | None:
        """The `Client` under the `QtClient`, if connected."""
        client: Client | None = self.qt_client.client
        return client

    def __init__(self, reactor: Any, connect_timeout: float) -> None:
        from twisted_client.qt import QtClient

        self.qt_client = QtClient(reactor, timeout=connect_timeout)
        self.qt_client.message_received.connect(self._message_received)
        self.qt_client.disconnected.connect(self._disconnected)
        self._messages: deque[bytes] = deque()
        self._waiter: Deferred[bytes] | None = None
        self._aborted = False

    def abort(self) -> None:
        """Forget the signals and drop the connection at once."""
        if self._aborted:
            return
        self._aborted = True
        self.qt_client.message_received.disconnect(self._message_received)
        self.qt_client.disconnected.disconnect(self._disconnected)
        self._messages.clear()
        self._waiter = None
        closing = self.qt_client.close()
        closing.addErrback(lambda _: None)  # the CancelledError we ask for
        closing.cancel()  # cancelling the close aborts the connection

    def _connect(self, address: tuple[str, int]) -> Deferred[None]:
        host, port = address
        self._messages.clear()
        return self.qt_client.connect_to_host(host, port).addCallback(lambda _: None)

    def _send(self, data: bytes) -> Deferred[None]:
        return self.qt_client.send(data)

    def _receive(self, _: object) -> Deferred[bytes]:
        if self._messages:
            return succeed(self._messages.popleft())
        if not self.qt_client.is_connected():
            return fail(NotConnected(self._why_not_connected()))
        waiter: Deferred[bytes] = Deferred(self._forget_waiter)
        self._waiter = waiter
        return waiter

    def _close(self, _: object) -> Deferred[None]:
        return self.qt_client.close()

    def _message_received(self, message: bytes) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is None:
            self._messages.append(message)
        else:
            waiter.callback(message)

    def _disconnected(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.errback(NotConnected(self._why_not_connected()))

    def _forget_waiter(self, waiter: Deferred[bytes]) -> None:
        if self._waiter is waiter:
            self._waiter = None

    def _why_not_connected(self) -> str:
        reason = self.qt_client.close_reason
        if reason is None:
            return "not connected: CONNECT first"
        return f"not connected: {reason}"
