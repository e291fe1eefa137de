"""
The wire format: a 4-byte little-endian unsigned length, then that many bytes.

`LengthPrefixedProtocol` parses it in linear time. Twisted's own
`IntNStringReceiver` re-slices its whole buffer for every chunk that arrives,
which makes one large message quadratic (a 64 MiB message in 64 KiB chunks
takes tens of seconds); here the chunks read are kept as they came, and a
message is copied out of them once: a slice of the chunk that holds it
whole, or one join of the pieces of the chunks it spans. (Bytes that came
in reads shorter than 4 KiB are first gathered into one buffer, so that a
trickle of tiny reads cannot cost more memory than the bytes themselves.)

On Twisted's TCP transport it reads into a buffer reused by every read
(`twisted_client._reads`), up to `READ_SIZE` (256 KiB) at a time, so that a
64 KiB message and its header arrive in one read, one loop turn, as asyncio
reads them; a read that is exactly one message is delivered with one copy.

Given a clock, it also bounds the work of one call: a chunk holding thousands
of small messages is delivered over several reactor turns, so that the event
loop (Qt's, in a GUI) gets its turn in between.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from typing import TYPE_CHECKING, Final

from twisted.internet.protocol import Protocol, connectionDone

from ._checks import check_seconds
from ._errors import UsageError
from ._reads import READ_SIZE, read_into_buffer

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
    from twisted.python.failure import Failure

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_TURN_BUDGET",
    "HEADER_SIZE",
    "MAX_PREFIX_LENGTH",
    "READ_SIZE",
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

DEFAULT_TURN_BUDGET: Final = 0.004
"""Seconds of delivering messages one call may take when a clock is given (4 ms)."""

_CHECK_EVERY: Final = 16
"""Messages delivered between two looks at the time budget."""

_JOIN_BELOW: Final = 8 * 1024
"""
Messages shorter than this are written as one buffer: header + body.

Longer ones stay two buffers: a socket's scatter/gather send takes both
(see `twisted_client._writes`), which costs less than copying the body
from about 8 KiB on (measured on Linux, loopback).
"""

_GATHER_BELOW: Final = 4096
"""Reads shorter than this are appended to the previous chunk if it is short too."""

_GATHER_UP_TO: Final = 64 * 1024
"""The size up to which short reads are gathered into one chunk."""


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
    if type(message) is not bytes:
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

    With a ``clock`` (a reactor), one call delivers messages for at most
    about ``turn_budget`` seconds (the time is looked at every 16 messages).
    What remains is held back: reading from the transport is paused (see
    `pause_reading`) and delivery continues from a zero-delay call on the
    clock, in order, until everything that arrived was delivered. A
    subclass that overrides `connectionLost` calls this class's first: it
    delivers the whole messages still held back, so they come before the
    end is reported. Without a clock every call delivers all it can, at once.

    Args:
        max_length: The longest message accepted from the peer.
        clock: Where the continuation of a held-back chunk is scheduled, or
            None for no time budget.
        turn_budget: Seconds (>= 0) of delivery per call when ``clock`` is
            given; 0 holds back after every 16 messages.
    """

    def __init__(
        self,
        max_length: int = DEFAULT_MAX_LENGTH,
        *,
        clock: IReactorTime | None = None,
        turn_budget: float = DEFAULT_TURN_BUDGET,
    ) -> None:
        self.max_length = check_max_length(max_length)
        self.clock = clock
        self.turn_budget: float = check_seconds("turn_budget", turn_budget) or 0.0
        # Bytes received and not delivered: the chunks as read (short reads
        # gathered), the first one from _offset on; _available counts them.
        self._chunks: deque[bytes | bytearray] = deque()
        self._offset = 0
        self._available = 0
        self._refused = False
        self._pauses = 0
        self._lost = False
        self._continuation: IDelayedCall | None = None
        self._parsing = False

    @property
    def parsing(self) -> bool:
        """False once the peer broke the limit or `stop_parsing` was called."""
        return not self._refused

    @property
    def partial_bytes(self) -> int:
        """
        Bytes received and not delivered yet (headers included).

        Between calls this is the start of a message that is not complete
        yet, plus whatever the time budget holds back; after this class's
        `connectionLost` only the incomplete message remains. Asked from
        `message_received`, the messages delivered so far do not count.
        """
        return self._available

    @property
    def holding(self) -> bool:
        """True while received bytes wait for a continuation (the budget ran out)."""
        return self._continuation is not None

    @property
    def reading_paused(self) -> bool:
        """True while at least one `pause_reading` has not been resumed."""
        return self._pauses > 0

    def pause_reading(self) -> None:
        """
        Stop reading from the transport until every pause is resumed.

        Pauses are counted: the time budget and a subclass (flow control)
        may both pause, and reading resumes only when both have resumed.
        """
        self._pauses += 1
        if self._pauses == 1 and not self._lost and self.transport is not None:
            self.transport.pauseProducing()  # type: ignore[attr-defined]

    def resume_reading(self) -> None:
        """Undo one `pause_reading`; reading resumes when none is left."""
        if self._pauses == 0:
            return
        self._pauses -= 1
        if self._pauses == 0 and not self._lost and self.transport is not None:
            self.transport.resumeProducing()  # type: ignore[attr-defined]

    def makeConnection(self, transport: ITransport) -> None:
        """
        Read Twisted's TCP transport through `buffer_received` (see ``_reads``).

        Other transports (TLS, UNIX sockets, in-memory) are left as they are.
        """
        read_into_buffer(transport, self)
        super().makeConnection(transport)  # type: ignore[no-untyped-call]

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

    @property
    def delivering(self) -> bool:
        """True while `message_received` runs further up the stack."""
        return self._parsing

    def delivery_ended(self) -> None:
        """
        Called each time a delivery of messages returns, none running any more.

        That is, once `delivering` turned false again: after each message
        delivered on its own, or each run of them. Does nothing; override it.
        """

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

    def buffer_received(self, buffer: memoryview, size: int) -> None:
        """
        `dataReceived` of ``buffer[:size]``, from a buffer the next read reuses.

        A read that is exactly one whole message, with nothing before it
        still to deliver (the common case of request/reply), is copied
        once, as the message, and delivered at once: also from a callback
        of the message before it (a receive reading ahead), which was
        delivered already. Any other read is copied as it is, then parsed.
        """
        if (
            size >= HEADER_SIZE
            and not self._available
            and self._continuation is None
            and not self._refused
        ):
            (length,) = _HEADER.unpack_from(buffer)
            if size - HEADER_SIZE == length <= self.max_length:
                self._deliver_whole(buffer[HEADER_SIZE:size].tobytes())
                return
        self.dataReceived(buffer[:size].tobytes())

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data``; deliver the messages it completes, in order."""
        if self._refused:
            return
        if type(data) is bytes and len(data) >= HEADER_SIZE and self._idle():
            (length,) = _HEADER.unpack_from(data)
            if len(data) - HEADER_SIZE == length <= self.max_length:
                self._deliver_whole(data[HEADER_SIZE:])
                return
        if data:
            self._append(data)
        if self._continuation is None:  # else the continuation parses it, in order
            self._parse(self.clock is not None)

    def _idle(self) -> bool:
        """Nothing buffered, parsed, held back or refused: a read starts afresh."""
        return (
            not self._chunks
            and not self._parsing
            and self._continuation is None
            and not self._refused
        )

    def _deliver_whole(self, message: bytes) -> None:
        """
        Deliver a read that was exactly ``message`` and its header, unbuffered.

        What `_parse` would do. Bytes that arrive meanwhile (a nested event
        loop) are buffered, then parsed. From within another delivery
        (`buffer_received`), that delivery goes on when this returns.
        """
        outer = self._parsing
        self._parsing = True
        try:
            self.message_received(message)
        finally:
            self._parsing = outer
            more = (
                not outer
                and bool(self._chunks)
                and not self._refused
                and self._continuation is None
            )
            if not outer and not more:
                self.delivery_ended()
        if more:
            self._parse(self.clock is not None)  # it ends the same way

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Deliver every whole message still held back by the time budget."""
        self._lost = True
        if self._continuation is not None:
            self._continuation.cancel()
            self._continuation = None
            self._parse(budget=False)

    def stop_parsing(self) -> None:
        """Ignore every byte from now on, and drop what was buffered."""
        self._refused = True
        self._drop()
        if self._continuation is not None:
            self._continuation.cancel()
            self._continuation = None
            self.resume_reading()

    def _continue(self) -> None:
        """Deliver what the time budget held back; resume reading once done."""
        self._continuation = None
        try:
            self._parse(budget=True)  # may hold again, pausing once more
        finally:
            self.resume_reading()  # the pause of the hold that scheduled this

    def _append(self, data: bytes) -> None:
        """Keep ``data`` after the bytes not delivered yet (see the module's doc)."""
        chunks = self._chunks
        data = bytes(data)  # a no-op for bytes; a caller's bytearray is copied
        if chunks and len(data) < _GATHER_BELOW:
            last = chunks[-1]
            if len(last) < _GATHER_UP_TO:
                if isinstance(last, bytes):
                    chunks[-1] = last = bytearray(last)
                last += data
                self._available += len(data)
                return
        chunks.append(data)
        self._available += len(data)

    def _drop(self) -> None:
        """Forget every byte not delivered yet."""
        self._chunks.clear()
        self._offset = 0
        self._available = 0

    def _parse(self, budget: bool) -> None:
        """
        Deliver the whole messages received (within the budget if asked).

        Called again from `message_received` (a nested event loop that reads
        this connection), it returns at once: the outer call goes on with
        the new bytes, in order.
        """
        if self._parsing:
            return
        self._parsing = True
        deadline = time.monotonic() + self.turn_budget if budget else 0.0
        delivered = 0
        try:
            while self._available >= HEADER_SIZE:
                message = self._next_message()
                if message is None:
                    return
                self.message_received(message)
                if not self.parsing:  # message_received may stop it
                    return
                delivered += 1
                if (
                    budget
                    and not delivered % _CHECK_EVERY
                    and self._available >= HEADER_SIZE
                    and time.monotonic() >= deadline
                ):
                    self._hold()
                    return
        finally:
            self._parsing = False
            self._compact()
            self.delivery_ended()

    def _compact(self) -> None:
        """
        Let go of the delivered start of the first chunk once it outweighs the rest.

        A read of many messages ending in the start of the next one would
        otherwise be held whole until that message is complete; copying the
        rest out when it is the smaller part keeps at most twice the bytes
        not delivered, and each byte is copied this way at most once more
        than it would be anyway, amortized.
        """
        chunks = self._chunks
        if chunks and self._offset > len(chunks[0]) - self._offset:
            chunks[0] = chunks[0][self._offset :]
            self._offset = 0

    def _next_message(self) -> bytes | None:
        """
        Take the next whole message off the chunks, or None if it is not whole.

        An announced length above `max_length` refuses the connection, drops
        what was buffered, calls `length_limit_exceeded` and returns None.
        """
        head = self._chunks[0]
        offset = self._offset
        if len(head) - offset >= HEADER_SIZE:
            (length,) = _HEADER.unpack_from(head, offset)
        else:
            (length,) = _HEADER.unpack(self._peek(HEADER_SIZE))
        if length > self.max_length:
            self._refused = True
            self._drop()
            self.length_limit_exceeded(length)
            return None
        size = HEADER_SIZE + length
        if size > self._available:
            return None
        self._available -= size
        end = offset + size
        if end > len(head):
            return self._take_spanning(length)
        if end == len(head):
            self._chunks.popleft()
            self._offset = 0
        else:
            self._offset = end
        if isinstance(head, bytes):
            return head[offset + HEADER_SIZE : end]
        with memoryview(head) as view:
            return view[offset + HEADER_SIZE : end].tobytes()

    def _peek(self, size: int) -> bytes:
        """The next ``size`` bytes (all received), without taking them."""
        pieces = []
        chunks = iter(self._chunks)
        start = self._offset
        while size > 0:
            chunk = next(chunks)
            piece = bytes(chunk[start : start + size])
            pieces.append(piece)
            size -= len(piece)
            start = 0
        return b"".join(pieces)

    def _take_spanning(self, length: int) -> bytes:
        """
        Take a header and its ``length``-byte message that span several chunks.

        The message is copied once, by one join of views of its pieces.
        """
        chunks = self._chunks
        skip = HEADER_SIZE
        views: list[memoryview] = []
        try:
            while skip or length:
                chunk = chunks[0]
                start = self._offset
                if skip:
                    skipped = min(skip, len(chunk) - start)
                    skip -= skipped
                    start += skipped
                taken = min(length, len(chunk) - start)
                if taken:
                    views.append(memoryview(chunk)[start : start + taken])
                    length -= taken
                    start += taken
                if start == len(chunk):
                    chunks.popleft()
                    self._offset = 0
                else:
                    self._offset = start
            return b"".join(views)
        finally:
            for view in views:
                view.release()

    def _hold(self) -> None:
        """Stop here: pause reading and continue on the clock's next turn."""
        assert self.clock is not None
        self._continuation = self.clock.callLater(0, self._continue)
        self.pause_reading()
