"""
Scripted peers for the reliability tests: a loopback server whose every
connection the test drives by hand (what to write, when to stop reading, how
to end), and small measuring helpers.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import Factory, ProcessProtocol, Protocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from twisted_client import Client


class Peer(Protocol):
    """The far end of one connection: records what arrives, tells when it ends."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.lost: Deferred[BaseException] = Deferred()  # fires with the reason
        self.pause_after_each_read = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.pause_after_each_read:
            self.transport.pauseProducing()  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(reason.value)

    def messages(self) -> list[bytes]:
        """The whole messages received so far, parsed from the raw bytes."""
        found, offset, data = [], 0, bytes(self.received)
        while len(data) - offset >= 4:
            (length,) = struct.unpack_from("<L", data, offset)
            if len(data) - offset - 4 < length:
                break
            found.append(data[offset + 4 : offset + 4 + length])
            offset += 4 + length
        return found

    def reset(self) -> None:
        """End the connection with a TCP reset (RST), not an orderly close."""
        handle = self.transport.getHandle()  # type: ignore[union-attr]
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abortConnection()  # type: ignore[union-attr]


class PeerServer:
    """A loopback listener (TCP, or TLS) that hands each accepted `Peer` to the test."""

    def __init__(self, reactor: Any, port: int = 0, tls: Any = None) -> None:
        self._accepted: DeferredQueue[Peer] = DeferredQueue()
        server = self

        class _Factory(Factory):
            def buildProtocol(self, addr: Any) -> Peer:
                peer = Peer()
                peer.factory = self
                reactor.callLater(0, server._accepted.put, peer)
                return peer

        if tls is None:
            self.port = reactor.listenTCP(port, _Factory(), interface="127.0.0.1")
        else:  # TLS with these options (a `CertificateOptions`)
            self.port = reactor.listenSSL(port, _Factory(), tls, interface="127.0.0.1")

    @property
    def number(self) -> int:
        """The TCP port it listens on."""
        return int(self.port.getHost().port)

    def accept(self) -> Deferred[Peer]:
        """The next connection made to it."""
        return self._accepted.get()

    def stop(self) -> Deferred[None]:
        """Stop listening."""
        return self.port.stopListening()  # type: ignore[no-any-return]


def frame(message: bytes) -> bytes:
    """``message`` with its 4-byte little-endian prefix."""
    return struct.pack("<L", len(message)) + message


def set_buffers(
    transport: Any, *, send: int | None = None, recv: int | None = None
) -> None:
    """Shrink a socket's kernel buffers, so that back-pressure shows quickly."""
    handle = transport.getHandle()
    if send is not None:
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send)
    if recv is not None:
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv)


def kernel_buffer(transport: Any, option: int) -> int:
    """The size the kernel reports for a socket buffer (data plus overhead)."""
    return int(transport.getHandle().getsockopt(socket.SOL_SOCKET, option))


def client_transport(client: Client) -> Any:
    """The transport under a `Client` (for socket options and instrumentation)."""
    return client._protocol.transport


def rss_bytes() -> int:
    """This process's resident set size, from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def when_paused(transport: Any) -> Deferred[None]:
    """A Deferred that fires the first time ``pauseProducing`` is called on it."""
    paused: Deferred[None] = Deferred()
    original = transport.pauseProducing

    def pause() -> None:
        original()
        if not paused.called:
            paused.callback(None)

    transport.pauseProducing = pause
    return paused


async def send_to_a_slow_reader(
    reactor: Any,
    client: Client,
    peer: Peer,
    messages: list[bytes],
    allowed: Callable[[bytes], int],
) -> list[int]:
    """
    Send ``messages`` one ``await client.send`` at a time to ``peer``, which
    reads one chunk (at most 64 KiB) per tick; after each send, assert that
    the bytes sent but not yet read by the peer are at most
    ``allowed(message)``. Then let the peer read the rest, close, and assert
    it got every message whole and in order. Returns how far the sender was
    ahead after each send.
    """
    peer.transport.pauseProducing()
    peer.pause_after_each_read = True
    reader = LoopingCall(peer.transport.resumeProducing)
    reader.clock = reactor
    reader.start(0.002, now=False)
    done = 0
    ahead = []
    try:
        for message in messages:
            await client.send(message)
            done += len(frame(message))
            ahead.append(done - len(peer.received))
            assert done - len(peer.received) <= allowed(message)
    finally:
        reader.stop()
    peer.pause_after_each_read = False
    peer.transport.resumeProducing()
    await client.close()
    await peer.lost
    assert peer.messages() == messages
    return ahead


class ServerProcess(ProcessProtocol):
    """``python -m twisted_client.server --port 0`` as a child process."""

    def __init__(self) -> None:
        self.listening: Deferred[int] = Deferred()
        self.ended: Deferred[None] = Deferred()
        self._out = b""
        self.errors = b""

    def outReceived(self, data: bytes) -> None:
        self._out += data
        match = re.search(rb"listening on \S+:(\d+)\n", self._out)
        if match and not self.listening.called:
            self.listening.callback(int(match.group(1)))

    def errReceived(self, data: bytes) -> None:
        self.errors += data

    def processEnded(self, reason: Failure) -> None:
        if not self.listening.called:
            self.listening.errback(reason)
        self.ended.callback(None)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, its sockets closed by the kernel."""
        with contextlib.suppress(ProcessExitedAlready):
            self.transport.signalProcess("KILL")  # type: ignore[union-attr]


def spawn_server(reactor: Any, *options: str) -> ServerProcess:
    """Start the demo server in a child process; await ``.listening`` for its port."""
    process = ServerProcess()
    reactor.spawnProcess(
        process,
        sys.executable,
        [sys.executable, "-m", "twisted_client.server", "--port", "0", *options],
        env=None,
    )
    return process
