"""`QueueBackend`: a classic-style client driven through its two queues, polled."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._commands import (
    CLOSE,
    CONNECT,
    RECEIVE,
    SEND,
    ClientCommand,
    Reply,
    ReplyCallback,
    describe_command,
)
from ._options import ServerAddress
from ._stress import StressPlan, StressRun

__all__ = ["QueueBackend"]


class QueueBackend:
    """
    A classic-style client driven through ``cmd_q`` and polled through ``reply_q``.

    As in the classic demo, a QTimer calls ``reply_q.get(block=False)`` every
    ``interval_ms``; it takes one reply per tick, or every waiting reply while
    draining (the stress action). "Do it!" is the classic four commands,
    each answered by one reply, an ERROR included (`ends_on_error` is False).
    """

    ends_on_error = False
    """Every command is answered, after an ERROR too."""

    def __init__(
        self,
        name: str,
        make_client: Callable[[], Any],
        command_class: Any,
        reply_class: Any,
        on_reply: ReplyCallback,
        *,
        interval_ms: int = 100,
        join_timeout: float = 1.0,
    ) -> None:
        from ._qt import QtCore

        self.name = name
        self._make_client = make_client
        self._command_class = command_class
        self._success = reply_class.SUCCESS
        self._on_reply = on_reply
        self._join_timeout = join_timeout
        self._client: Any = None
        self._drain = False
        self._outstanding = 0
        self._stopped = False
        # Owned by the application, not by Python: `stop` may run inside the
        # timer's own slot, and Qt deletes it later, from its event loop.
        self._timer = QtCore.QTimer(QtCore.QCoreApplication.instance())
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._poll)

    @property
    def client(self) -> Any:
        """The client object (started on the first `submit`), or None."""
        return self._client

    @property
    def busy(self) -> bool:
        """True while some command has not been answered yet."""
        return self._outstanding > 0

    def describe_exchange(self, address: ServerAddress) -> str:
        """What "Do it!" does, for the log."""
        return ", ".join(map(describe_command, _exchange(address)))

    def exchange(self, address: ServerAddress) -> None:
        """Queue the classic exchange: CONNECT, SEND hello, RECEIVE, CLOSE."""
        self.submit(_exchange(address))

    def stress(self, plan: StressPlan) -> StressRun:
        """A `StressRun` of commands on this backend (feed it the replies)."""
        return StressRun(self, plan)

    def submit(self, commands: Iterable[ClientCommand]) -> None:
        """Start the client if needed and put the commands on its ``cmd_q``."""
        if self._stopped:
            raise RuntimeError(f"the {self.name} backend was stopped")
        if self._client is None:
            self._client = self._make_client()
            self._client.daemon = True  # a thread stuck in recv must not block exit
            self._client.start()
            self._timer.start()
        for command in commands:
            self._outstanding += 1
            self._client.cmd_q.put(self._command_class(command.type, command.data))

    def set_drain(self, drain: bool) -> None:
        """Per tick, take every waiting reply (True) or one (False, the classic way)."""
        self._drain = drain

    def stop(self) -> None:
        """Stop polling and ask the client to end (``join``), without waiting long."""
        import queue

        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        _delete_later(self._timer)
        client, self._client = self._client, None
        self._outstanding = 0
        if client is None:
            return
        client.join(self._join_timeout)
        while True:  # forget replies nobody will read
            try:
                client.reply_q.get(block=False)
            except queue.Empty:
                break

    def _poll(self) -> None:
        import queue

        while self._client is not None:
            try:
                reply = self._client.reply_q.get(block=False)
            except queue.Empty:
                return
            self._outstanding = max(0, self._outstanding - 1)
            self._on_reply(Reply(reply.type == self._success, reply.data))
            if not self._drain:
                return


def _exchange(address: ServerAddress) -> list[ClientCommand]:
    return [
        ClientCommand(CONNECT, (address.host, address.port)),
        ClientCommand(SEND, b"hello"),
        ClientCommand(RECEIVE),
        ClientCommand(CLOSE),
    ]


def _delete_later(timer: Any) -> None:
    """
    Have Qt delete ``timer`` from its event loop, not in the middle of its slot.

    `QueueBackend.stop` may run inside the timer's own ``timeout`` slot (a
    reply that ends the exchange); deleting the timer there would crash Qt.
    The application owns the timer (its parent), so Python dropping its
    reference deletes nothing, on every binding.
    """
    timer.timeout.disconnect()
    timer.deleteLater()
