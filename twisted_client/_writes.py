"""Writing to a transport, and knowing when the bytes were handed to the kernel."""

from __future__ import annotations

import sys
from collections.abc import Callable
from errno import ENOBUFS, EWOULDBLOCK
from typing import Any

from twisted.internet import tcp
from twisted.internet.abstract import FileDescriptor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPullProducer, IPushProducer, ITransport
from twisted.python.failure import Failure
from zope.interface import implementer

__all__ = ["WriteMonitor"]

_JOIN_TO_OFFER = 1024 * 1024
"""
A message in two buffers (header, body) shorter than this is offered to the
socket at once: in one scatter/gather ``sendmsg`` where the socket has one
and the message fits in the transport's ``SEND_LIMIT``, else joined (copying
up to 1 MiB costs less than leaving it to the next loop turn, which copies
it too: Twisted joins its buffers).
"""


@implementer(IPullProducer, IPushProducer)
class WriteMonitor:
    """
    Writes to a transport; tells when everything written was handed to the kernel.

    On a socket transport (TCP, UNIX) it registers itself as the transport's
    pull producer: the transport then calls `resumeProducing` each time its
    user-space buffer becomes empty, which is the moment `socket.sendall`
    would have returned. While that buffer is empty, a message is first
    offered to the socket at once (`writeSomeData`), as asyncio does: most
    messages then reach the kernel without a trip through the event loop,
    and only what the socket did not take is buffered. Not after
    ``startTLS``: then every byte goes through ``write`` and the TLS layer.

    On TLS it registers as a streaming producer: the socket under TLS pauses
    it while more than its buffer size (64 KiB) of encrypted bytes waits, and
    `flushed` waits until it resumes; so a sender that waits for `flushed` is
    throttled by a peer that does not read.
    Other transports (in-memory test transports) are taken at their word:
    `flushed` fires as soon as they accepted the bytes.
    """

    def __init__(self, transport: ITransport) -> None:
        self._transport = transport
        self._waiting: list[Deferred[None]] = []
        self._direct = isinstance(transport, FileDescriptor)
        # A plain TCP transport's writeSomeData is socket.send (at most
        # SEND_LIMIT bytes, EWOULDBLOCK and ENOBUFS meaning 0 bytes): the
        # socket's send is then called directly, two Python calls less.
        # Its sendmsg (not on Windows) takes header and body without joining.
        self._send: Callable[[bytes], int] | None = None
        self._sendmsg: Callable[[list[bytes]], int] | None = None
        if (
            self._direct
            and getattr(type(transport), "writeSomeData", None)
            is tcp.Connection.writeSomeData
        ):
            sock = transport.socket  # type: ignore[attr-defined]
            self._send = sock.send
            self._sendmsg = getattr(sock, "sendmsg", None)
            self._send_limit: int = transport.SEND_LIMIT  # type: ignore[attr-defined]
        self._streaming = not self._direct and _is_tls(transport)
        self._registered = self._direct or self._streaming
        self._paused = False
        self._unflushed = False
        if self._registered:
            transport.registerProducer(self, self._streaming)  # type: ignore[attr-defined]

    def write(self, buffers: list[bytes]) -> Deferred[None]:
        """
        Write ``buffers`` (one message); return `flushed` for them.

        A message offered to a socket whose transport buffer is empty (one
        buffer, or header and a body under 1 MiB) is sent at once as far as
        the socket takes it; the Deferred has then fired already if it took
        everything.
        """
        transport: Any = self._transport
        if (
            self._direct
            and not self._unflushed
            and transport.connected
            and not transport.disconnecting
            and not getattr(transport, "TLS", False)  # startTLS: TLS sees every byte
        ):
            buffers = self._offer(buffers)
            if not buffers:
                return succeed(None)
        if len(buffers) == 1:
            transport.write(buffers[0])
        else:
            transport.writeSequence(buffers)
        self._unflushed = True
        return self.flushed()

    def _offer(self, buffers: list[bytes]) -> list[bytes]:
        """
        Offer ``buffers`` to the socket; return what it did not take, in order.

        A socket error other than "would block" leaves every buffer to the
        transport: its next write meets the error and closes the connection
        as it would have.
        """
        sendmsg = self._sendmsg
        if len(buffers) == 1:
            data = buffers[0]
        elif sendmsg is not None and sum(map(len, buffers)) <= self._send_limit:
            try:
                return _unsent(buffers, sendmsg(buffers))
            except OSError as error:
                return _unsent(buffers, 0) if _would_block(error) else buffers
        elif len(buffers) == 2 and len(buffers[1]) < _JOIN_TO_OFFER:
            data = b"".join(buffers)
        else:
            return buffers
        send = self._send
        if send is not None and len(data) <= self._send_limit:
            try:
                sent: int | BaseException = send(data)
            except OSError as error:
                sent = 0 if _would_block(error) else error
        else:
            sent = self._transport.writeSomeData(data)  # type: ignore[attr-defined]
        if isinstance(sent, BaseException):
            return buffers
        return [data[sent:]] if sent < len(data) else []

    def flushed(self) -> Deferred[None]:
        """A Deferred that fires once the bytes written so far left the buffer."""
        if not self._registered or (self._streaming and not self._paused):
            return succeed(None)
        waiter: Deferred[None] = Deferred(self._forget)
        self._waiting.append(waiter)
        return waiter

    def detach(self) -> None:
        """Unregister from the transport, which waits for that before closing."""
        if self._registered:
            self._registered = False
            self._transport.unregisterProducer()  # type: ignore[attr-defined]

    def finish(self, failure: Failure | None) -> None:
        """Fire every waiter: with None, or with ``failure`` if given."""
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if waiter.called:
                continue
            if failure is None:
                waiter.callback(None)
            else:
                waiter.errback(failure)

    def pauseProducing(self) -> None:
        """(TLS) The socket's buffer is over its limit: hold the waiters."""
        self._paused = True

    def resumeProducing(self) -> None:
        """
        The transport's buffer is empty (TLS: back under its limit).

        If someone asked the transport to close, unregister: a socket
        transport closes only once it has no producer.
        """
        self._paused = False
        self._unflushed = False
        if self._waiting:
            self.finish(None)
        if getattr(self._transport, "disconnecting", False):
            self.detach()

    def stopProducing(self) -> None:
        """The transport is going away; the client calls `finish` to say how."""

    def _forget(self, waiter: Deferred[None]) -> None:
        """Cancelling a wait drops the wait; the bytes themselves are still sent."""
        if waiter in self._waiting:
            self._waiting.remove(waiter)


def _unsent(buffers: list[bytes], sent: int) -> list[bytes]:
    """What is left of ``buffers`` once their first ``sent`` bytes are gone."""
    for index, buffer in enumerate(buffers):
        if sent < len(buffer):
            return [buffer[sent:], *buffers[index + 1 :]] if sent else buffers[index:]
        sent -= len(buffer)
    return []


def _would_block(error: OSError) -> bool:
    """True for the errors a non-blocking send means "took nothing, try later" by."""
    return error.errno in (EWOULDBLOCK, ENOBUFS)


def _is_tls(transport: ITransport) -> bool:
    """True for Twisted's TLS transport (without importing pyOpenSSL otherwise)."""
    tls = sys.modules.get("twisted.protocols.tls")
    return tls is not None and isinstance(transport, tls.TLSMemoryBIOProtocol)
