"""
`Session`: the adapter's commands, run one at a time on the reactor thread.

It takes a command, starts it on the Twisted `Client`, and takes the next
one only once the reply to this one is out: one reply per command, in
command order, however many were queued at once. It never blocks and never
sets a timer of its own; it runs when a command arrives or when the
operation it waits for completes.
"""

from __future__ import annotations

import enum
import errno
import queue
import socket
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.threads import deferToThreadPool
from twisted.python import log
from twisted.python.failure import Failure

from twisted_client import (
    DEFAULT_MAX_LENGTH,
    Client,
    ConnectError,
    ConnectionState,
    UsageError,
    connect,
)

from ._inline import Reader
from ._messages import ClientCommand, ClientReply
from ._queues import NOTHING
from ._texts import (
    connect_error_text,
    os_error_text,
    receive_error_text,
    send_error_text,
)
from ._tls import Opener

__all__ = ["NOT_CONNECTED", "NOT_CONNECTED_AFTER_FAILURE", "Session"]

NOT_CONNECTED = "not connected: send a CONNECT command first"
"""The ERROR text for SEND, RECEIVE or CLOSE before any CONNECT."""

NOT_CONNECTED_AFTER_FAILURE = "not connected: the last CONNECT failed"
"""What the ERROR text of a SEND after a failed CONNECT adds to the errno text."""

_Result = ClientReply | Deferred[ClientReply]


class _Unconnected(enum.Enum):
    """Why the session is unconnected: the classic socket's replies differ."""

    NEW = "new"  # no CONNECT yet
    FAILED = "failed"  # the last CONNECT failed
    CLOSED = "closed"  # CLOSE was handled


_CONNECT = ClientCommand.CONNECT


def _success(data: bytes | None = None) -> ClientReply:
    return ClientReply(ClientReply.SUCCESS, data)


def _error(text: str) -> ClientReply:
    return ClientReply(ClientReply.ERROR, text)


def _sent(_: None) -> ClientReply:
    return ClientReply(ClientReply.SUCCESS, None)


def _send_failed(failure: Failure) -> ClientReply:
    return _error(send_error_text(failure))


def _receive_failed(failure: Failure) -> ClientReply:
    return _error(receive_error_text(failure))


_PENDING = object()


def _value_of(deferred: Deferred[Any]) -> Any:
    """
    What ``deferred`` has fired with, or `_PENDING`.

    `_PENDING` too for a failure, which must go through the errbacks to be
    handled (and kept out of the "Unhandled error" log). A command whose
    operation completed at once (a SEND the socket took, a RECEIVE of a
    message that had arrived) gets its reply without a callback chain.
    """
    if deferred.called and not deferred.paused:
        result = deferred.result
        if not isinstance(result, (Failure, Deferred)):
            return result
    return _PENDING


class Session:
    """
    Runs commands taken from ``take`` and hands one reply each to ``deliver``.

    Every method runs on the reactor thread (or on its behalf, see
    `compat._inline`). ``take()`` returns the next command, or raises
    `queue.Empty` or returns `compat._queues.NOTHING` when there is none;
    ``waiting()``, if given, says cheaply whether one may be there (a false
    answer spares raising `queue.Empty`); `pump` is called
    whenever one may have arrived. `stop` ends the session: the running
    command gets an ERROR reply and the connection is dropped. A CONNECT
    connects with ``opener`` (`twisted_client.connect`; over TLS, see
    `compat._tls.opener_for`). ``reader(client)``, if given, is asked once
    per connection for a `compat._inline.Reader`: when pumping on the
    reactor's behalf in another thread, a SEND holds the socket and a
    RECEIVE reads what has arrived before it waits (when it must wait, the
    socket stays held for the thread that waits for the reply: see
    `read_waiting`). The client does not read ahead itself
    (`Client.reads_ahead`).
    """

    def __init__(
        self,
        reactor: Any,
        take: Callable[[], object],
        deliver: Callable[[ClientReply], None],
        *,
        connect_timeout: float | None = 30.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        waiting: Callable[[], object] | None = None,
        opener: Opener = connect,
        reader: Callable[[Client], Reader | None] | None = None,
    ) -> None:
        self._reactor = reactor
        self._opener = opener
        self._take = take
        self._waiting = waiting
        self._deliver = deliver
        self._connect_timeout = connect_timeout
        self._max_length = max_length
        # CONNECTED: a Client (maybe ended by the peer since), else UNCONNECTED
        # for the reason in _unconnected.
        self._state = ConnectionState.UNCONNECTED
        self._unconnected = _Unconnected.NEW
        self._client: Client | None = None
        self._reader_for = reader
        self._reader: Reader | None = None  # see _send and _receive
        self._read_by_getter = False  # the running RECEIVE: see read_waiting
        self._borrowed = False  # True while pumping in another thread
        self._running: Deferred[ClientReply] | None = None
        self._held: object = None  # a CONNECT taken, left for the reactor's thread
        self._pumping = False
        self._stopped = False
        self._handlers: dict[int, Callable[[ClientCommand], _Result]] = {
            ClientCommand.CONNECT: self._connect,
            ClientCommand.SEND: self._send,
            ClientCommand.RECEIVE: self._receive,
            ClientCommand.CLOSE: self._close,
        }

    @property
    def busy(self) -> bool:
        """True while a command waits for its operation to complete."""
        return self._running is not None

    def pump(self, *, connect: bool = True) -> bool:
        """
        Run queued commands until one has to wait, or none is left.

        With ``connect=False`` (on the reactor's behalf in another thread,
        see `compat._inline`) it stops at a CONNECT, keeps it as the next
        command, and returns False: the reactor's thread must pump then. A
        CONNECT always waits anyway, and it must not start Twisted's
        resolver threads from another thread (they would inherit its daemon
        flag, and a script would no longer exit by itself). Returns True
        otherwise.
        """
        if self._pumping:
            return True  # the loop below is already running further up the stack
        self._pumping = True
        self._borrowed = not connect
        try:
            waiting = self._waiting
            while self._running is None and not self._stopped:
                command = self._held
                if command is None:
                    if waiting is not None and not waiting():
                        return True
                    try:
                        command = self._take()
                    except queue.Empty:
                        return True
                    if command is NOTHING:
                        return True
                if not connect and getattr(command, "type", None) == _CONNECT:
                    self._held = command
                    return False
                self._held = None
                self._start(command)
            return True
        finally:
            self._pumping = False
            self._borrowed = False

    def stop(self, text: str) -> None:
        """End the session: ERROR(``text``) for the running command, drop the link."""
        if self._stopped:
            return
        self._stopped = True
        running, self._running = self._running, None
        held, self._held = self._held, None
        if running is not None:
            running.cancel()
            self._deliver(_error(text))
        if held is not None:  # taken from the queue, so it is answered too
            self._deliver(_error(text))
        if self._client is not None:
            self._client.abort()

    def waiting_reader(self) -> Reader | None:
        """
        The `Reader` of the socket whose message the running RECEIVE waits for.

        Set when that RECEIVE was run in a putting thread and found nothing
        yet: the socket stays held, and a thread about to wait for the
        reply may wait for the socket instead (`Reader.wait_readable`),
        then `read_waiting`. None otherwise. Read without the lock: an
        answer gone stale is harmless, `read_waiting` checks again.
        """
        if self._read_by_getter and self._running is not None:
            return self._reader
        return None

    def read_waiting(self) -> None:
        """
        Read what has arrived for the running RECEIVE (on the reactor's behalf).

        Its reply, if the message is complete, is delivered; the commands
        queued after it are left to the caller's `pump`.
        """
        reader = self.waiting_reader()
        if reader is None or self._pumping:
            return
        self._pumping = True  # _finished's pump is left to the caller's
        try:
            reader.read()
        finally:
            self._pumping = False

    def _start(self, command: object) -> None:
        self._read_by_getter = False
        try:
            result = self._dispatch(command)
        except Exception as error:  # a bug here must not silence the client
            log.err(Failure(), "compat: a command failed unexpectedly")
            result = _error(f"internal error: {error!r}")
        if isinstance(result, ClientReply):
            self._deliver(result)
            return
        self._running = result
        result.addBoth(self._finished, result)

    def _finished(self, reply: Any, running: Deferred[ClientReply]) -> None:
        if self._running is not running:
            return  # stopped meanwhile: the ERROR reply is out already
        self._running = None
        self._read_by_getter = False
        if isinstance(reply, Failure):
            log.err(reply, "compat: a command failed unexpectedly")
            reply = _error(f"internal error: {reply.getErrorMessage()}")
        self._deliver(reply)
        self.pump()

    def _dispatch(self, command: object) -> _Result:
        if type(command) is ClientCommand:  # the common case: one lookup
            handler = self._handlers.get(command.type)
            if handler is not None:
                return handler(command)
        kind = getattr(command, "type", None)
        if kind is None or not hasattr(command, "data"):
            return _error(f"not a ClientCommand: {command!r}")
        handler = self._handlers.get(kind) if isinstance(kind, int) else None
        if handler is None:
            return _error(
                f"unknown command type {kind!r}: expected ClientCommand.CONNECT, "
                "SEND, RECEIVE or CLOSE"
            )
        return handler(command)  # type: ignore[arg-type]

    # -- the handlers ----------------------------------------------------------

    def _connect(self, command: ClientCommand) -> _Result:
        if self._client is not None and self._client.is_open:
            return _error(
                "already connected: send CLOSE before connecting again "
                "(the connection stays open)"
            )
        try:
            host, port = command.data
        except (TypeError, ValueError):
            return _error(f"CONNECT needs a (host, port) tuple, not {command.data!r}")
        try:
            attempt = self._opener(
                self._reactor,
                host,
                port,
                timeout=self._connect_timeout,
                max_length=self._max_length,
            )
        except UsageError as error:
            return _error(f"CONNECT: {error}")
        return attempt.addCallbacks(
            self._connected, self._connect_failed, errbackArgs=(host, port)
        )

    def _connected(self, client: Client) -> ClientReply:
        self._client = client
        # A RECEIVE reads for itself, in the putting thread (see _receive);
        # in a GUI each message keeps a loop turn of its own, as with the
        # classic thread.
        client.reads_ahead = False
        self._state = ConnectionState.CONNECTED
        self._reader = None if self._reader_for is None else self._reader_for(client)
        return _success()

    def _connect_failed(self, failure: Failure, host: str, port: int) -> _Result:
        self._client = None
        self._unconnected_for(_Unconnected.FAILED)
        error = failure.value
        if isinstance(error, ConnectError) and isinstance(error.reason, DNSLookupError):
            return self._lookup_error(host, port, error)
        if isinstance(error, ConnectError):
            return _error(connect_error_text(error))
        return _error(str(error))

    def _lookup_error(self, host: str, port: int, error: ConnectError) -> _Result:
        """The ``socket.gaierror`` text the classic thread gives for a bad name."""

        def lookup() -> str:
            try:
                socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
            except OSError as lookup_error:
                return str(lookup_error)
            return connect_error_text(error)

        pool = self._reactor.getThreadPool()
        looked_up: Deferred[str] = deferToThreadPool(self._reactor, pool, lookup)
        return looked_up.addCallback(_error)

    def _send(self, command: ClientCommand) -> _Result:
        if self._state is not ConnectionState.CONNECTED:
            return self._unconnected_error(
                f"{os_error_text(errno.EPIPE)} ({NOT_CONNECTED_AFTER_FAILURE})"
            )
        assert self._client is not None
        reader = self._reader
        if reader is not None and self._borrowed:
            # This thread reads the reply itself (see _receive): the reactor's
            # poll need not wake for it.
            reader.hold()
        try:
            sent = self._client.send(command.data)
        except (TypeError, UsageError) as error:
            return _error(f"SEND: {error}")
        if _value_of(sent) is not _PENDING:
            return _success()  # the socket took it all
        return sent.addCallbacks(_sent, _send_failed)

    def _receive(self, command: ClientCommand) -> _Result:
        if self._state is not ConnectionState.CONNECTED:
            return self._unconnected_error(os_error_text(errno.ENOTCONN))
        assert self._client is not None
        client = self._client
        reader = self._reader
        if reader is not None and self._borrowed and not client.buffered_messages:
            # In the putting thread (compat._inline): the message may be in
            # the kernel already; reading it here spares the reactor's thread
            # the wake-up and the reply the crossing back.
            reader.read()
        received = client.receive()
        if reader is not None and not received.called:
            if self._borrowed:
                # The socket stays held for the thread that will wait for
                # this reply in reply_q.get (see read_waiting); unless one
                # does before the hold ends, the reactor's thread reads it.
                self._read_by_getter = True
            else:
                reader.release()  # the reactor's thread reads it when it comes
        message = _value_of(received)
        if message is not _PENDING:
            return _success(message)
        return received.addCallbacks(_success, _receive_failed)

    def _close(self, command: ClientCommand) -> _Result:
        if self._never_connected():
            return _error(NOT_CONNECTED)
        if self._client is not None:
            self._client.close()
        self._unconnected_for(_Unconnected.CLOSED)
        return _success()

    def _unconnected_for(self, why: _Unconnected) -> None:
        self._state = ConnectionState.UNCONNECTED
        self._unconnected = why

    def _never_connected(self) -> bool:
        return (
            self._state is ConnectionState.UNCONNECTED
            and self._unconnected is _Unconnected.NEW
        )

    def _unconnected_error(self, after_failed_connect: str) -> ClientReply:
        """What SEND and RECEIVE give unconnected, as the classic socket does."""
        if self._unconnected is _Unconnected.NEW:
            return _error(NOT_CONNECTED)
        if self._unconnected is _Unconnected.FAILED:
            return _error(after_failed_connect)
        return _error(os_error_text(errno.EBADF))
