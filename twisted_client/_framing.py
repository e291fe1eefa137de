"""
The wire format: a 4-byte little-endian unsigned length, then that many bytes.

`LengthPrefixedProtocol` parses it in linear time. Twisted's own
`IntNStringReceiver` re-slices its whole buffer for every chunk that arrives,
which makes one large message quadratic (a 64 MiB message in 64 KiB chunks
takes tens of seconds); here each byte is copied a bounded number of times.
"""

from __future__ import annotations

import struct
from typing import Final

from twisted.internet.protocol import Protocol

from ._errors import UsageError

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "HEADER_SIZE",
    "MAX_PREFIX_LENGTH",
    "LengthPrefixedProtocol",
    "check_max_length",
    "frame",
]

_HEADER: Final = struct.Struct("<L")

HEADER_SIZE: Final = _HEADER.size
"""Bytes in the length prefix (4)."""

MAX_PREFIX_LENGTH: Final = 2**32 - 1
"""The longest message the 4-byte prefix can announce (4 GiB - 1)."""

DEFAULT_MAX_LENGTH: Final = 16 * 1024 * 1024
"""The longest message a receiver accepts unless told otherwise (16 MiB)."""

_JOIN_BELOW: Final = 64 * 1024
"""Messages shorter than this are written as one buffer: header + body."""


def check_max_length(max_length: int) -> int:
    """Return ``max_length`` if it is a valid limit; raise `UsageError` otherwise."""
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise UsageError(f"max_length must be an int, not {type(max_length).__name__}")
    if not 0 <= max_length <= MAX_PREFIX_LENGTH:
        raise UsageError(
            f"max_length must be between 0 and {MAX_PREFIX_LENGTH}, not {max_length}"
        )
    return max_length


def frame(message: bytes) -> list[bytes]:
    """
    Return the buffers that put ``message`` on the wire, prefix first.

    Raises:
        TypeError: ``message`` is not bytes-like.
        UsageError: ``message`` is longer than the prefix can announce.
    """
    message = _as_bytes(message)
    length = len(message)
    if length > MAX_PREFIX_LENGTH:
        raise UsageError(
            f"a message of {length} bytes is longer than the 4-byte prefix can "
            f"announce ({MAX_PREFIX_LENGTH} bytes)"
        )
    header = _HEADER.pack(length)
    if length < _JOIN_BELOW:
        return [header + message]
    return [header, message]


def _as_bytes(data: object) -> bytes:
    """``data`` as bytes if it is bytes-like; TypeError otherwise."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    hint = " (encode text first, e.g. text.encode())" if isinstance(data, str) else ""
    raise TypeError(f"messages are bytes, not {type(data).__name__}{hint}")


class LengthPrefixedProtocol(Protocol):
    """
    A protocol that sends and receives length-prefixed messages.

    Subclasses override `message_received` (and may override
    `length_limit_exceeded`); they send with `send_message`. Bytes from the
    peer never raise out of `dataReceived`: an announced length above
    `max_length` calls `length_limit_exceeded` without allocating anything
    of that size, and nothing more is parsed from that connection.
    """

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.max_length = check_max_length(max_length)
        self._buffer = bytearray()
        self._refused = False

    @property
    def parsing(self) -> bool:
        """False once the peer broke the limit or `stop_parsing` was called."""
        return not self._refused

    @property
    def partial_bytes(self) -> int:
        """Bytes received of a message that is not complete yet (header included)."""
        return len(self._buffer)

    def send_message(self, message: bytes) -> None:
        """Write ``message`` with its prefix; see `frame` for the errors raised."""
        assert self.transport is not None
        buffers = frame(message)
        if len(buffers) == 1:
            self.transport.write(buffers[0])
        else:
            self.transport.writeSequence(buffers)

    def message_received(self, message: bytes) -> None:
        """Called once for each whole message, in order. Override it."""
        raise NotImplementedError

    def length_limit_exceeded(self, length: int) -> None:
        """
        Called when the peer announces a message longer than `max_length`.

        The default aborts the connection: the rest of the stream cannot be
        framed without reading the announced bytes.
        """
        transport = self.transport
        assert transport is not None
        abort = getattr(transport, "abortConnection", transport.loseConnection)
        abort()

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data``; deliver every message it completes, in order."""
        if self._refused:
            return
        buffer = self._buffer
        buffer += data
        available = len(buffer)
        offset = 0
        while available - offset >= HEADER_SIZE:
            (length,) = _HEADER.unpack_from(buffer, offset)
            if length > self.max_length:
                self._refused = True
                del buffer[:]
                self.length_limit_exceeded(length)
                return
            end = offset + HEADER_SIZE + length
            if end > available:
                break
            with memoryview(buffer) as view:
                message = view[offset + HEADER_SIZE : end].tobytes()
            offset = end
            self.message_received(message)
            if not self.parsing:  # message_received may stop it
                return
        del buffer[:offset]

    def stop_parsing(self) -> None:
        """Ignore every byte from now on, and drop what was buffered."""
        self._refused = True
        del self._buffer[:]
