"""
Test your own code against `twisted_client` without a network.

`MemoryServer` is a message server that lives in memory, on a
`MemoryReactorClock`: connect a `Client` to it through its `endpoint` (with
`connect_endpoint`, `QtClient.connect_to_endpoint` or `ReconnectingClient`),
let it `accept` the attempt, and move bytes with `flush`. Time moves only
when the test says so (`advance`), so timeouts are tested without waiting.
Each accepted connection is a `MessagePeer`: it records what the client
sent and sends what the test tells it to, including bytes that break the
framing::

    from twisted.trial.unittest import SynchronousTestCase
    from twisted_client import connect_endpoint
    from twisted_client.testing import MemoryServer

    class GreeterTests(SynchronousTestCase):
        def test_says_hello(self) -> None:
            server = MemoryServer()
            connecting = connect_endpoint(server.reactor, server.endpoint)
            peer = server.accept()
            client = self.successResultOf(connecting)
            client.send(b"hello")
            server.flush()
            self.assertEqual(peer.received, [b"hello"])

`LoopbackServer` is the same idea over real sockets on 127.0.0.1, for
integration tests: it can drop every connection, stop, and start again on
the same port, so reconnecting code can be tested against a server that
goes away and comes back.

The in-memory transports are Twisted's own (`twisted.test.iosim`, which
treq's testing module uses too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.test.iosim import ConnectionCompleter, IOPump

from ._errors import UsageError
from ._framing import DEFAULT_MAX_LENGTH, LengthPrefixedProtocol
from .server import listening_address

if TYPE_CHECKING:
    from twisted.internet.interfaces import (
        IAddress,
        IListeningPort,
        IReactorTCP,
        IStreamClientEndpoint,
    )

__all__ = ["LoopbackServer", "MemoryServer", "MessagePeer", "echo"]

Handler = Callable[["MessagePeer", bytes], None]
"""What a server does with each message: ``handler(peer, message)``."""


def echo(peer: MessagePeer, message: bytes) -> None:
    """The default handler: send every message back as it came."""
    peer.send(message)


class MessagePeer(LengthPrefixedProtocol):
    """
    The server's end of one connection.

    Every whole message the client sends is appended to `received`, then
    passed to the server's handler (none: just recorded). `send` answers in
    the framing; `send_raw` sends any bytes, to test how the client takes a
    peer that breaks the framing.
    """

    def __init__(
        self, handler: Handler | None = None, max_length: int = DEFAULT_MAX_LENGTH
    ) -> None:
        super().__init__(max_length)
        self.received: list[bytes] = []
        """Every whole message the client sent, in order."""
        self.lost: Failure | None = None
        """Why the connection ended, once it has (None while it is open)."""
        self._handler = handler
        self._memory_client_side: Any = None  # the client's FakeTransport

    @property
    def is_open(self) -> bool:
        """True from the connection's start until it is lost."""
        return bool(self.transport is not None and self.lost is None)

    def message_received(self, message: bytes) -> None:
        """Record ``message`` and hand it to the handler."""
        self.received.append(message)
        if self._handler is not None:
            self._handler(self, message)

    def send(self, message: bytes) -> None:
        """Send ``message``, framed."""
        self.send_message(message)

    def send_raw(self, data: bytes) -> None:
        """Send ``data`` as it is, framing or not."""
        assert self.transport is not None, "not connected"
        self.transport.write(data)

    def close(self) -> None:
        """Close cleanly, after what was sent is delivered."""
        assert self.transport is not None, "not connected"
        self.transport.loseConnection()

    def reset(self) -> None:
        """Drop the connection abruptly: the client sees a reset (not clean)."""
        assert self.transport is not None, "not connected"
        if self._memory_client_side is not None:
            # iosim reports every end as clean unless told otherwise.
            self._memory_client_side.disconnectReason = ConnectionLost("reset")
        self.transport.abortConnection()  # type: ignore[attr-defined]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Remember why the connection ended."""
        self.lost = reason
        self.stop_parsing()


class _PeerFactory(ServerFactory):
    def __init__(self, handler: Handler | None, max_length: int) -> None:
        self._handler = handler
        self._max_length = max_length
        self.peers: list[MessagePeer] = []

    def buildProtocol(self, addr: IAddress | None) -> MessagePeer:
        peer = MessagePeer(self._handler, self._max_length)
        peer.factory = self
        self.peers.append(peer)
        return peer


class MemoryServer:
    """
    A message server in memory, and the reactor its clients connect through.

    Pass `reactor` (a `MemoryReactorClock`: also the clock of every timeout)
    and `endpoint` to the code under test. A connection attempt waits until
    the test calls `accept` (or `refuse`); bytes move when it calls `flush`.

    Args:
        handler: What the server does with each message, ``handler(peer,
            message)``; default: nothing but record it. `echo` sends it back.
        reactor: The reactor to live on (default: a new `MemoryReactorClock`).
        port: The port number the endpoint connects to.
        max_length: The longest message the server accepts.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        reactor: MemoryReactorClock | None = None,
        port: int = 50007,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        self.reactor = reactor if reactor is not None else MemoryReactorClock()
        """The `MemoryReactorClock` the server and its clients run on."""
        self.port = port
        """The port the server pretends to listen on."""
        self.endpoint: IStreamClientEndpoint = TCP4ClientEndpoint(
            self.reactor, "127.0.0.1", port
        )
        """Where a client connects to reach this server."""
        self._factory = _PeerFactory(handler, max_length)
        self.reactor.listenTCP(port, self._factory)
        self._completer = ConnectionCompleter(self.reactor)
        self._pumps: list[IOPump] = []

    @property
    def peers(self) -> list[MessagePeer]:
        """Every connection accepted, oldest first."""
        return list(self._factory.peers)

    @property
    def pending(self) -> int:
        """How many connection attempts wait for `accept` or `refuse`."""
        return len(self.reactor.tcpClients)

    def accept(self) -> MessagePeer:
        """
        Complete the oldest connection attempt; return the server's end of it.

        Raises:
            UsageError: no attempt is waiting (the code under test has not
                connected yet).
        """
        pump = self._completer.succeedOnce()
        if pump is None:
            raise UsageError("no connection attempt is waiting to be accepted")
        self._pumps.append(pump)
        self.flush()
        peer = pump.server
        assert isinstance(peer, MessagePeer)
        peer._memory_client_side = pump.clientIO
        return peer

    def refuse(self, reason: Exception | None = None) -> None:
        """
        Fail the oldest connection attempt (default: connection refused).

        Raises:
            UsageError: no attempt is waiting.
        """
        if not self.reactor.tcpClients:
            raise UsageError("no connection attempt is waiting to be refused")
        self._completer.failOnce(Failure(reason or ConnectionRefusedError()))

    def flush(self) -> bool:
        """
        Move bytes both ways on every connection until nothing moves.

        Calls due now (``callLater(0, ...)``) run too. Returns True if
        anything moved.
        """
        moved = False
        for pump in list(self._pumps):
            if pump.flush():
                moved = True
        self._pumps = [pump for pump in self._pumps if not pump.serverIO.disconnected]
        return moved

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on the clock, then `flush`."""
        self.reactor.advance(seconds)
        self.flush()


class LoopbackServer:
    """
    A message server on 127.0.0.1 for integration tests, that can go away.

    `start` listens (a free port the first time, the same port after);
    `drop_connections` cuts every open connection (abruptly by default, as a
    crashed server would); `stop` does both and stops listening; `restart` is
    `stop` then `start`. `peers` holds every connection accepted so far.

    Args:
        reactor: The running reactor (pytest-twisted's, trial's, or Qt's).
        handler: As for `MemoryServer`; default `echo`.
        max_length: The longest message the server accepts.
    """

    def __init__(
        self,
        reactor: IReactorTCP,
        handler: Handler | None = echo,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        self.reactor = reactor
        self._factory = _PeerFactory(handler, max_length)
        self._listening: IListeningPort | None = None
        self.port = 0

    @property
    def peers(self) -> list[MessagePeer]:
        """Every connection accepted, oldest first."""
        return list(self._factory.peers)

    @property
    def listening(self) -> bool:
        """True between `start` and `stop`."""
        return self._listening is not None

    def start(self) -> int:
        """Listen (again, on the same port after the first time); return the port."""
        if self._listening is None:
            self._listening = self.reactor.listenTCP(
                self.port, self._factory, interface="127.0.0.1"
            )
            self.port = listening_address(self._listening).port
        return self.port

    def drop_connections(self, *, abort: bool = True) -> None:
        """Cut every open connection: abruptly, or cleanly with ``abort=False``."""
        for peer in self._factory.peers:
            if peer.is_open and peer.transport is not None:
                if abort:
                    peer.transport.abortConnection()  # type: ignore[attr-defined]
                else:
                    peer.transport.loseConnection()

    def stop(self) -> Deferred[None]:
        """Drop every connection and stop listening; fires once the port is closed."""
        self.drop_connections()
        listening, self._listening = self._listening, None
        if listening is None:
            return succeed(None)
        stopped = listening.stopListening()
        return stopped if isinstance(stopped, Deferred) else succeed(None)

    def restart(self) -> Deferred[int]:
        """`stop`, then `start` on the same port; fires with the port."""
        return self.stop().addCallback(lambda _: self.start())
