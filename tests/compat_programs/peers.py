"""Peers for the compat tests: a raw-socket server thread and Twisted servers."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure


def frame(message: bytes) -> bytes:
    """``message`` with its 4-byte little-endian length prefix."""
    return struct.pack("<L", len(message)) + message


def reset(connection: socket.socket) -> None:
    """Close ``connection`` with a TCP reset (RST) instead of an orderly FIN."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class RawServer:
    """
    A blocking loopback server in a thread: accepts one connection and runs
    ``script(connection)`` on it, then closes it (unless the script did).

    Use it as a context manager; ``port`` is where it listens, ``done`` is
    set once the script returned, ``error`` holds what it raised.
    """

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.port: int = self._listener.getsockname()[1]
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
            connection.settimeout(10)
            with connection:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._script(connection)
        except BaseException as error:  # reported to the test through .error
            self.error = error
        finally:
            self.done.set()


def recv_exactly(connection: socket.socket, count: int) -> bytes:
    """Read exactly ``count`` bytes from a blocking socket, as the seed's
    `_recv_n_bytes` does; `ConnectionError` if it closes first."""
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed while reading a frame")
        data += chunk
    return data


def read_frame(connection: socket.socket) -> bytes:
    """Read one framed message from a blocking socket."""
    (length,) = struct.unpack("<L", recv_exactly(connection, 4))
    return recv_exactly(connection, length)


class _Scripted(Protocol):
    """Writes ``opening`` when connected; records how the connection ended."""

    def __init__(self, opening: bytes, ended: Deferred[BaseException]) -> None:
        self._opening = opening
        self._ended = ended

    def connectionMade(self) -> None:
        if self._opening:
            self.transport.write(self._opening)  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if not self._ended.called:
            self._ended.callback(reason.value)


class ScriptedServer:
    """A Twisted loopback server whose connections write ``opening`` and then
    stay silent; ``ended`` fires with the exception that ended the first one."""

    def __init__(self, reactor: Any, opening: bytes = b"") -> None:
        self.ended: Deferred[BaseException] = Deferred()
        ended = self.ended
        factory = Factory.forProtocol(lambda: _Scripted(opening, ended))
        self.listening = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.port: int = self.listening.getHost().port

    def stop(self) -> Deferred[None]:
        """Stop listening."""
        return self.listening.stopListening()  # type: ignore[no-any-return]


def free_port() -> int:
    """A loopback port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
