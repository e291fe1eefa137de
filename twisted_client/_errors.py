"""
The exceptions of `twisted_client`: one tree, with whose fault it is in the name.

* `UsageError`: the caller misused the API; `WrongThreadError` when it called
  from a thread other than the reactor's.
* `ClientClosed`: this side closed the client (`Client.close` or `abort`), and
  `ReactorShutdown`: this side's reactor stopped (the program is quitting).
* `RemoteProtocolError` and `MessageTooLong`: the peer broke the framing.
* `ConnectError`, `ConnectTimeout`: the connection could not be made.
* `ConnectionClosed`: the connection ended from outside (the peer, the network).
* `ReceiveTimeout`: a wait ran out of time.

Every one of them derives from `ClientError`; the timeouts also derive from the
built-in `TimeoutError`, so ``except TimeoutError`` catches them.
"""

from __future__ import annotations

from twisted.python.failure import Failure

__all__ = [
    "ClientClosed",
    "ClientError",
    "ClientTimeout",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionClosed",
    "MessageTooLong",
    "ReactorShutdown",
    "ReceiveTimeout",
    "RemoteProtocolError",
    "UsageError",
    "WrongThreadError",
]


class ClientError(Exception):
    """The common base of every error this library raises or fails with."""


class UsageError(ClientError):
    """The caller asked for something the API does not allow (your fault)."""


class WrongThreadError(UsageError):
    """
    A `Client` method was called from a thread other than its reactor's.

    Twisted's objects are not thread-safe: from another thread, hand the
    call to the reactor with ``reactor.callFromThread`` (or
    ``twisted.internet.threads.blockingCallFromThread`` to wait for the
    result), or use the drop-in ``compat.SocketClientThread``, whose queues
    work from any thread.
    """


class ClientClosed(UsageError):
    """
    The client was closed by its own side; it cannot be used.

    `Client.close` and `Client.abort` give this class itself; a reactor that
    shuts down gives the subclass `ReactorShutdown`.
    """

    def __init__(self, message: str = "the client was closed by its own side") -> None:
        super().__init__(message)


class ReactorShutdown(ClientClosed):
    """
    The reactor is shutting down (``reactor.stop()``, or the program quitting),
    and that closed the client: this side ended the connection, not the peer.
    """

    def __init__(
        self,
        message: str = (
            "the client was closed locally: the reactor is shutting down "
            "(the program is quitting)"
        ),
    ) -> None:
        super().__init__(message)


class RemoteProtocolError(ClientError):
    """The peer sent bytes that break the framing (the peer's fault)."""


class MessageTooLong(RemoteProtocolError):
    """
    The peer announced a message longer than the client accepts.

    Nothing of the announced size was allocated; the connection was aborted.

    Attributes:
        length: The length the peer announced in the 4-byte prefix.
        max_length: The limit in force (the client's ``max_length``).
    """

    def __init__(self, length: int, max_length: int) -> None:
        super().__init__(
            f"the peer announced a message of {length} bytes, "
            f"longer than max_length={max_length}"
        )
        self.length = length
        self.max_length = max_length


class ConnectError(ClientError):
    """
    The connection could not be established.

    Attributes:
        destination: What was being connected to (``host:port`` or an endpoint).
        reason: The underlying exception (refused, unreachable, DNS lookup, ...).
    """

    def __init__(self, destination: str, reason: BaseException | None) -> None:
        detail = f": {reason}" if reason is not None else ""
        super().__init__(f"could not connect to {destination}{detail}")
        self.destination = destination
        self.reason = reason


class ClientTimeout(ClientError, TimeoutError):
    """A wait ran out of time. Catch it as `ClientTimeout` or as `TimeoutError`."""


class ConnectTimeout(ConnectError, ClientTimeout):
    """Connecting took longer than the ``timeout`` given to `connect`."""

    def __init__(self, destination: str, timeout: float) -> None:
        ClientTimeout.__init__(
            self, f"connecting to {destination} timed out after {timeout:g} s"
        )
        self.destination = destination
        self.reason = None
        self.timeout = timeout


class ReceiveTimeout(ClientTimeout):
    """
    No message arrived within the ``timeout`` given to `Client.receive`.

    The connection is unaffected: the next message goes to the next receive.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(f"no message arrived within {timeout:g} s")
        self.timeout = timeout


class ConnectionClosed(ClientError):
    """
    The connection ended from outside: the peer closed it, or the network broke it.

    Raised by operations once every message that arrived whole was delivered.

    Attributes:
        clean: True when the peer closed the connection in an orderly way
            between two messages; False when it was reset or lost, or when it
            ended in the middle of a message.
        partial: How many bytes of an unfinished message (header included)
            were discarded when it ended; 0 when it ended between messages.
        reason: The Twisted `Failure` the transport reported.
    """

    def __init__(self, reason: Failure, *, clean: bool, partial: int) -> None:
        if partial:
            what = f"in the middle of a message ({partial} bytes of it received)"
            how = "closed by the peer" if clean else "lost"
            text = f"connection {how} {what}"
        elif clean:
            text = "connection closed by the peer"
        else:
            text = f"connection lost: {reason.getErrorMessage()}"
        super().__init__(text)
        self.clean = clean and not partial
        self.partial = partial
        self.reason = reason


class AsyncioReactorError(UsageError):
    """
    `asyncio_reactor` cannot run Twisted's asyncio reactor on this loop.

    Either another Twisted reactor is installed already (a process has one,
    and it cannot be restarted), or the running loop is not a selector loop
    (Windows' default ``ProactorEventLoop`` cannot watch sockets the way
    Twisted's reactor needs). The message says which, and what to do.
    """


class SignalTimeout(ClientTimeout):
    """
    A Qt signal awaited with `twisted_client.qt.signal_once` was not emitted
    within its ``timeout``; the wait is over and the slot disconnected.
    """

    def __init__(self, signal: str, timeout: float) -> None:
        super().__init__(f"{signal} was not emitted within {timeout:g} s")
        self.signal = signal
        self.timeout = timeout
