"""
Reading Twisted's TCP transport into one buffer per thread, reused by every read.

Twisted's TCP transport reads with ``socket.recv(bufferSize)``, which
allocates ``bufferSize`` bytes each time and then shrinks them to what
arrived. A read size that takes a 64 KiB message and its header at once
(`READ_SIZE`, 256 KiB, as asyncio's) is above glibc's default mmap threshold
(128 KiB): until something in the process happens to raise that threshold,
every read then costs an ``mmap``, an ``mremap``, a ``munmap`` and the page
faults between (measured on Linux: a 20-byte read 9.9 µs instead of 1.4 µs,
a 64 KiB one 29 µs instead of 3); any size between 64 and 128 KiB makes the
heap grow and shrink (``brk``) on each read instead.

`read_into_buffer` gives the transport a ``doRead`` that reads with
``recv_into`` into the calling thread's buffer (allocated once, `READ_SIZE`
bytes) and hands the receiver the buffer and the size read; the receiver
copies out what it keeps (one whole message, or the chunk) before it acts
on it, so the buffer is free again before any user code runs, nested event
loops included. Everything else is Twisted's ``doRead``: a read that would
block does nothing, an error loses the connection, an empty read is the
peer's closing; after ``startTLS`` the bytes go, copied, to the transport's
own ``_dataReceived`` (the TLS layer).
"""

from __future__ import annotations

import threading
from typing import Protocol

from twisted.internet import main, tcp
from twisted.internet.error import ConnectionDone, ConnectionLost

__all__ = ["READ_SIZE", "BufferReceiver", "read_into_buffer"]

READ_SIZE = 256 * 1024
"""Bytes one read takes at most (Twisted's own ``bufferSize``: 64 KiB)."""

_local = threading.local()


def _thread_buffer() -> memoryview:
    """The calling thread's read buffer (`READ_SIZE` bytes, made on first use)."""
    view: memoryview | None = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(READ_SIZE))
    return view


class BufferReceiver(Protocol):
    """What `read_into_buffer` hands each read to."""

    def buffer_received(self, buffer: memoryview, size: int) -> None:
        """
        ``buffer[:size]`` was read (``size`` > 0).

        ``buffer`` is reused by the next read: copy what is kept before
        anything that may read again (delivering a message, say) runs.
        """


class _BufferedRead:
    """A TCP transport's ``doRead``, into the thread's buffer."""

    __slots__ = ("_receiver", "_recv_into", "_transport")

    def __init__(self, transport: tcp.Connection, receiver: BufferReceiver) -> None:
        self._transport = transport
        self._receiver = receiver
        self._recv_into = transport.socket.recv_into

    def __call__(self) -> ConnectionLost | ConnectionDone | None:
        view = _thread_buffer()
        try:
            size = self._recv_into(view)
        except BlockingIOError:
            return None  # nothing to read after all
        except OSError:
            return main.CONNECTION_LOST
        if not size:
            return main.CONNECTION_DONE
        transport = self._transport
        protocol: object = transport.protocol
        if protocol is self._receiver:
            self._receiver.buffer_received(view, size)
        else:  # startTLS put the TLS layer between: it takes bytes
            transport._dataReceived(bytes(view[:size]))
        return None


def read_into_buffer(transport: object, receiver: BufferReceiver) -> bool:
    """
    Make ``transport`` hand its reads to ``receiver`` from the thread's buffer.

    Only Twisted's own TCP transport (its ``doRead`` not overridden by a
    subclass or on the instance) is changed; returns whether it was.
    """
    if (
        not isinstance(transport, tcp.Connection)
        or type(transport).doRead is not tcp.Connection.doRead
        or "doRead" in vars(transport)
    ):
        return False
    transport.doRead = _BufferedRead(transport, receiver)  # type: ignore[method-assign]
    return True
