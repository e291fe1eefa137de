"""
The three ways the demo runs the seed's commands, behind one small interface.

Every backend takes `Command` objects with `submit`, runs them strictly in
order, and calls ``on_reply`` with one `Reply` per command, on the GUI thread:

* `TwistedBackend` (``twisted``): the native client on the reactor inside Qt.
  Each reply is delivered by the Deferred (or Qt signal) of the operation, the
  moment it completes: no polling, no thread.
* `QueueBackend` over ``compat.SocketClientThread`` (``compat``): the drop-in
  adapter, driven exactly as the seed drives its thread: commands go on
  ``cmd_q``, and a QTimer takes replies from ``reply_q`` every 100 ms.
* `QueueBackend` over ``compat.threaded.SocketClientThread`` (``thread``): the
  seed's original thread, driven the same way.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from ._options import BACKENDS

if TYPE_CHECKING:
    from twisted_client import Client

__all__ = [
    "CLOSE",
    "COMMAND_NAMES",
    "CONNECT",
    "RECEIVE",
    "SEND",
    "Backend",
    "BackendUnavailable",
    "Command",
    "QueueBackend",
    "Reply",
    "TwistedBackend",
    "backend_available",
    "describe_data",
    "make_backend",
]

CONNECT, SEND, RECEIVE, CLOSE = 0, 1, 2, 3
"""The seed's command types (the values of ``ClientCommand``'s constants)."""

COMMAND_NAMES = {CONNECT: "CONNECT", SEND: "SEND", RECEIVE: "RECEIVE", CLOSE: "CLOSE"}


@dataclass(frozen=True)
class Command:
    """One of the seed's commands: CONNECT (host, port), SEND bytes, RECEIVE, CLOSE."""

    type: int
    data: Any = None

    def __str__(self) -> str:
        name = COMMAND_NAMES.get(self.type, str(self.type))
        if self.type == CONNECT:
            host, port = self.data
            return f"{name} {host}:{port}"
        if self.type == SEND:
            return f"{name} {describe_data(self.data)}"
        return name


@dataclass(frozen=True)
class Reply:
    """The answer to one command: SUCCESS with data (bytes or None), or ERROR text."""

    ok: bool
    data: bytes | str | None = None

    @property
    def type_name(self) -> str:
        """``SUCCESS`` or ``ERROR``, as the seed's log shows it."""
        return "SUCCESS" if self.ok else "ERROR"

    def __str__(self) -> str:
        return f"Client reply {self.type_name}: {describe_data(self.data)}"


def describe_data(data: bytes | str | None, limit: int = 60) -> str:
    """Reply data as the log shows it: text as is, short ASCII bytes decoded."""
    if data is None or isinstance(data, str):
        return str(data)
    if len(data) <= limit and data.isascii() and data.decode().isprintable():
        return data.decode()
    if len(data) <= limit:
        return repr(data)
    return f"<{len(data)} bytes>"


ReplyCallback = Callable[[Reply], None]


class Backend(Protocol):
    """What the window needs from a backend."""

    name: str

    def submit(self, commands: Iterable[Command]) -> None:
        """Queue ``commands``; each gets one reply, in order."""

    def stop(self) -> None:
        """Drop pending commands and the connection at once; no reply follows."""

    def set_drain(self, drain: bool) -> None:
        """Deliver every waiting reply at once (True) or the seed's way (False)."""


class BackendUnavailable(RuntimeError):
    """The module a backend needs is not installed or not built yet."""


# -- twisted: the native client --------------------------------------------------


class TwistedBackend:
    """
    The native client: each command is one Deferred-returning call.

    Replies are delivered by the Deferred callbacks, when the operation
    completes: nothing polls. Uses ``twisted_client.qt.QtClient`` when it
    exists, else ``twisted_client.connect`` directly (the same calls).
    """

    name = "twisted"

    def __init__(
        self, reactor: Any, on_reply: ReplyCallback, *, connect_timeout: float = 10.0
    ) -> None:
        self._reactor = reactor
        self._on_reply = on_reply
        self._connect_timeout = connect_timeout
        self._pending: deque[Command] = deque()
        self._current: Deferred[Any] | None = None
        self._waiting = False
        self._pumping = False
        self._stopped = False
        self._connection = _NativeConnection(reactor, connect_timeout)

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


class _NativeConnection:
    """The seed's four commands as calls on one `twisted_client.Client`."""

    def __init__(self, reactor: Any, connect_timeout: float) -> None:
        self._reactor = reactor
        self._timeout = connect_timeout
        self._client: Client | None = None

    def execute(self, command: Command) -> Deferred[Any]:
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
        client, self._client = self._client, None
        if client is not None:
            client.abort()

    def _connect(self, address: tuple[str, int]) -> Deferred[None]:
        from twisted_client import connect

        if self._client is not None and self._client.is_open:
            return fail(RuntimeError("already connected: CLOSE first"))
        host, port = address

        def connected(client: Client) -> None:
            self._client = client

        return connect(self._reactor, host, port, timeout=self._timeout).addCallback(
            connected
        )

    def _send(self, data: bytes) -> Deferred[None]:
        return self._connected().send(data)

    def _receive(self, _: object) -> Deferred[bytes]:
        return self._connected().receive()

    def _close(self, _: object) -> Deferred[None]:
        client, self._client = self._client, None
        if client is None:
            return succeed(None)
        return client.close()

    def _connected(self) -> Client:
        if self._client is None:
            raise RuntimeError("not connected: CONNECT first")
        return self._client


# -- compat and thread: a client driven through its queues --------------------


class QueueBackend:
    """
    A seed-style client driven through ``cmd_q`` and polled through ``reply_q``.

    As in the seed's demo, a QTimer calls ``reply_q.get(block=False)`` every
    ``interval_ms``; it takes one reply per tick, or every waiting reply while
    draining (the stress action).
    """

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
        from PyQt5.QtCore import QTimer

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
        self._timer = QTimer()
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

    def submit(self, commands: Iterable[Command]) -> None:
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
        """Take every waiting reply per tick (True) or one, as the seed (False)."""
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


def _delete_later(timer: Any) -> None:
    """
    Have Qt delete ``timer`` from its event loop, not when Python drops it.

    `QueueBackend.stop` may run inside the timer's own ``timeout`` slot (a
    reply that ends the exchange); deleting the timer there would crash Qt.
    """
    from PyQt5 import sip

    timer.timeout.disconnect()
    sip.transferto(timer, None)  # type: ignore[arg-type]
    timer.deleteLater()


# -- choosing one -----------------------------------------------------------------

_QUEUE_CLIENTS = {
    # backend: (module holding SocketClientThread, join timeout in seconds)
    "compat": ("compat", 1.0),
    # The original cannot be interrupted in recv: do not wait for it (it is a
    # daemon thread, so it does not hold the process either).
    "thread": ("compat.threaded", 0.0),
}


def _queue_classes(name: str) -> tuple[Any, Any, Any]:
    module_name, _ = _QUEUE_CLIENTS[name]
    try:
        module = importlib.import_module(module_name)
        commands = importlib.import_module("compat")
        return (
            module.SocketClientThread,
            commands.ClientCommand,
            commands.ClientReply,
        )
    except (ImportError, AttributeError) as error:
        raise BackendUnavailable(
            f"the {name!r} backend needs {module_name}.SocketClientThread and "
            f"compat.ClientCommand/ClientReply, which are not available: {error}"
        ) from None


def backend_available(name: str) -> bool:
    """True when `make_backend` can build the backend called ``name``."""
    if name == "twisted":
        return True
    try:
        _queue_classes(name)
    except BackendUnavailable:
        return False
    return True


def make_backend(name: str, reactor: Any, on_reply: ReplyCallback) -> Backend:
    """
    Build the backend called ``name`` (one of `gui._options.BACKENDS`).

    Raises:
        ValueError: no backend has that name.
        BackendUnavailable: the backend's module is missing.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "twisted":
        return TwistedBackend(reactor, on_reply)
    client_class, command_class, reply_class = _queue_classes(name)
    _, join_timeout = _QUEUE_CLIENTS[name]
    return QueueBackend(
        name,
        client_class,
        command_class,
        reply_class,
        on_reply,
        join_timeout=join_timeout,
    )
