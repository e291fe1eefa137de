"""`LengthPrefixedProtocol` and `frame`: the wire format, without reactor or sockets."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import connectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from twisted_client import (
    DEFAULT_MAX_LENGTH,
    MAX_PREFIX_LENGTH,
    LengthPrefixedProtocol,
    UsageError,
    frame,
)

from .wire import Recorder, wire

# In memory with a Clock: the same in every pass, so it runs in the plain one.
pytestmark = pytest.mark.reactorless


def connected(max_length: int = DEFAULT_MAX_LENGTH) -> tuple[Recorder, StringTransport]:
    """A `Recorder` connected to an in-memory transport."""
    protocol = Recorder(max_length)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def test_frame_is_little_endian_length_then_bytes() -> None:
    """The prefix is the seed's: 4 bytes, unsigned, little-endian (``'<L'``)."""
    assert b"".join(frame(b"tuxy")) == b"\x04\x00\x00\x00tuxy"
    assert b"".join(frame(b"")) == b"\x00\x00\x00\x00"
    assert b"".join(frame(b"x" * 258))[:4] == b"\x02\x01\x00\x00"


def test_frame_keeps_large_messages_apart_from_their_header() -> None:
    """A large message is not copied into a new buffer to prepend the header."""
    message = b"m" * (1024 * 1024)
    header, body = frame(message)
    assert header == struct.pack("<L", len(message))
    assert body is message


def test_frame_accepts_bytes_like() -> None:
    """bytearray and memoryview are sent as their bytes."""
    assert frame(bytearray(b"ab")) == frame(b"ab")
    assert frame(memoryview(b"ab")) == frame(b"ab")


@pytest.mark.parametrize("value", ["text", 3, None, [b"a"]])
def test_frame_refuses_non_bytes(value: object) -> None:
    """Anything that is not bytes-like is a TypeError that names its type."""
    with pytest.raises(TypeError, match=type(value).__name__):
        frame(value)  # type: ignore[arg-type]


def test_frame_tells_how_to_send_text() -> None:
    """A str gets a hint to encode it."""
    with pytest.raises(TypeError, match="encode"):
        frame("hello")  # type: ignore[arg-type]


def test_send_message_writes_the_framed_bytes() -> None:
    """`send_message` writes the prefix and the message to the transport."""
    protocol, transport = connected()
    protocol.send_message(b"hello")
    protocol.send_message(b"x" * 100_000)
    assert transport.value() == wire(b"hello", b"x" * 100_000)


def test_every_split_of_every_message() -> None:
    """Two messages cut at every pair of points arrive whole, in order."""
    messages = [b"", b"a", b"hello", bytes(range(256))]
    data = wire(*messages)
    for first in range(len(data) + 1):
        for second in range(first, len(data) + 1, 7):
            protocol, _ = connected()
            for piece in (data[:first], data[first:second], data[second:]):
                protocol.dataReceived(piece)
            assert protocol.messages == messages, (first, second)


def test_byte_at_a_time() -> None:
    """Bytes fed one at a time give the same messages, in order."""
    messages = [b"one", b"", b"three" * 50]
    protocol, _ = connected()
    for byte in wire(*messages):
        protocol.dataReceived(bytes([byte]))
    assert protocol.messages == messages


def test_many_messages_in_one_chunk() -> None:
    """One chunk holding many messages delivers all of them."""
    messages = [b"%d" % n for n in range(1000)]
    protocol, _ = connected()
    protocol.dataReceived(wire(*messages))
    assert protocol.messages == messages
    assert protocol.partial_bytes == 0


def test_partial_header_waits() -> None:
    """Fewer than four header bytes deliver nothing and are kept."""
    protocol, _ = connected()
    protocol.dataReceived(b"\x05\x00")
    assert protocol.messages == []
    assert protocol.partial_bytes == 2
    protocol.dataReceived(b"\x00\x00hel")
    assert protocol.partial_bytes == 7
    protocol.dataReceived(b"lo")
    assert protocol.messages == [b"hello"]
    assert protocol.partial_bytes == 0


def test_message_of_exactly_max_length_is_accepted() -> None:
    """The limit is inclusive: a message of ``max_length`` bytes arrives."""
    protocol, transport = connected(max_length=10)
    protocol.dataReceived(wire(b"0123456789"))
    assert protocol.messages == [b"0123456789"]
    assert not transport.disconnecting


def test_hostile_prefix_aborts_without_allocating() -> None:
    """
    A prefix above ``max_length`` is refused on sight.

    The connection is aborted, nothing of the announced size is buffered, and
    later bytes are ignored rather than parsed as a new message.
    """
    protocol, transport = connected(max_length=10)
    protocol.dataReceived(wire(b"ok") + struct.pack("<L", MAX_PREFIX_LENGTH) + b"xx")
    assert protocol.messages == [b"ok"]
    assert protocol.refused == [MAX_PREFIX_LENGTH]
    assert transport.disconnecting
    assert protocol.partial_bytes == 0
    protocol.dataReceived(wire(b"after"))
    assert protocol.messages == [b"ok"]
    assert protocol.refused == [MAX_PREFIX_LENGTH]


def test_zero_max_length_accepts_only_empty_messages() -> None:
    """``max_length=0`` is a valid limit: empty messages only."""
    protocol, transport = connected(max_length=0)
    protocol.dataReceived(wire(b"", b""))
    assert protocol.messages == [b"", b""]
    protocol.dataReceived(wire(b"x"))
    assert protocol.refused == [1]
    assert transport.disconnecting


@pytest.mark.parametrize("bad", [-1, MAX_PREFIX_LENGTH + 1, 1.5, "10", True])
def test_bad_max_length_is_refused(bad: object) -> None:
    """``max_length`` must be an int from 0 to 4 GiB - 1."""
    with pytest.raises(UsageError, match="max_length"):
        LengthPrefixedProtocol(bad)  # type: ignore[arg-type]


def test_max_length_up_to_the_prefix_limit() -> None:
    """The largest limit the prefix can express is accepted."""
    assert LengthPrefixedProtocol(MAX_PREFIX_LENGTH).max_length == MAX_PREFIX_LENGTH


@pytest.mark.parametrize(
    "chunks",
    [[wire(b"a", b"b", b"c")], [wire(b"a"), wire(b"b")]],
    ids=["one chunk", "a chunk per message"],
)
def test_stop_parsing_from_message_received(chunks: list[bytes]) -> None:
    """A subclass that stops parsing from its callback gets no further messages
    (whether the rest came in the same chunk or later)."""

    class StopAfterFirst(Recorder):
        def message_received(self, message: bytes) -> None:
            super().message_received(message)
            self.stop_parsing()

    protocol = StopAfterFirst()
    protocol.makeConnection(StringTransport())
    for chunk in chunks:
        protocol.dataReceived(chunk)
    assert protocol.messages == [b"a"]
    assert not protocol.parsing


def test_unimplemented_message_received_says_so() -> None:
    """The base class must be subclassed."""
    protocol = LengthPrefixedProtocol()
    protocol.makeConnection(StringTransport())
    with pytest.raises(NotImplementedError):
        protocol.dataReceived(wire(b"x"))


def test_frame_refuses_what_the_prefix_cannot_announce() -> None:
    """A message over 4 GiB - 1 is refused before anything is written."""

    class Huge(bytes):
        """Bytes that claim to be one byte longer than the prefix can announce."""

        def __len__(self) -> int:
            return MAX_PREFIX_LENGTH + 1

    protocol, transport = connected()
    with pytest.raises(UsageError, match="4294967296 bytes"):
        protocol.send_message(Huge(b"x"))
    assert transport.value() == b""


def budgeted(turn_budget: float = 0.0) -> tuple[Recorder, StringTransport, Clock]:
    """A `Recorder` on an in-memory transport, with a clock and a time budget."""
    protocol, transport = connected()
    clock = Clock()
    protocol.clock = clock
    protocol.turn_budget = turn_budget
    return protocol, transport, clock


def one_turn(clock: Clock) -> None:
    """Run the calls due now, not those they schedule: one reactor turn.

    (``Clock.advance(0)`` would also run the zero-delay calls they add.)
    """
    due = [call for call in clock.calls if call.getTime() <= clock.seconds()]
    for call in due:
        clock.calls.remove(call)
        call.func(*call.args, **call.kw)


def test_budget_spreads_a_chunk_over_clock_turns() -> None:
    """With the budget spent, one chunk of 100 messages is delivered 16 at a time,
    one clock turn each, in order; reading is paused until the last is out."""
    messages = [b"%d" % n for n in range(100)]
    protocol, transport, clock = budgeted()
    protocol.dataReceived(wire(*messages))
    seen = [len(protocol.messages)]
    assert transport.producerState == "paused"
    while protocol.holding:
        one_turn(clock)
        seen.append(len(protocol.messages))
    assert seen == [16, 32, 48, 64, 80, 96, 100]
    assert protocol.messages == messages
    assert transport.producerState == "producing"
    assert protocol.partial_bytes == 0
    assert clock.getDelayedCalls() == []


def test_budget_not_spent_delivers_everything_at_once() -> None:
    """A budget that is not spent changes nothing: all messages in one call."""
    messages = [b"%d" % n for n in range(1000)]
    protocol, transport, clock = budgeted(turn_budget=60.0)
    protocol.dataReceived(wire(*messages))
    assert protocol.messages == messages
    assert not protocol.holding
    assert transport.producerState == "producing"
    assert clock.getDelayedCalls() == []


def test_bytes_arriving_while_held_come_after_the_held_ones() -> None:
    """Data received while a chunk is held back (a partial message included) is
    delivered after it, in order, by the continuation."""
    first = [b"a%d" % n for n in range(40)]
    second = [b"b%d" % n for n in range(40)]
    protocol, _, clock = budgeted()
    data = wire(*second)
    protocol.dataReceived(wire(*first) + data[:3])
    protocol.dataReceived(data[3:])
    assert len(protocol.messages) == 16
    while protocol.holding:
        clock.advance(0)
    assert protocol.messages == first + second


def test_connection_lost_delivers_the_held_messages_first() -> None:
    """The connection ending while messages are held back: every whole one is
    delivered before connectionLost returns, then the end is seen; the
    incomplete message stays partial and the continuation is cancelled."""
    order: list[object] = []

    class Ending(Recorder):
        def message_received(self, message: bytes) -> None:
            order.append(message)

        def connectionLost(self, reason: Failure = connectionDone) -> None:
            super().connectionLost(reason)
            order.append(("lost", self.partial_bytes))

    protocol = Ending()
    protocol.makeConnection(StringTransport())
    clock = Clock()
    protocol.clock = clock
    protocol.turn_budget = 0.0
    messages = [b"%d" % n for n in range(50)]
    protocol.dataReceived(wire(*messages) + b"\x09\x00\x00\x00abc")
    assert len(order) == 16
    protocol.connectionLost(Failure(ConnectionLost()))
    assert order == [*messages, ("lost", 7)]
    assert clock.getDelayedCalls() == []


def test_pauses_are_counted_with_flow_control() -> None:
    """A subclass pausing reading (flow control) while the budget also paused it:
    the budget's end does not resume reading; the subclass's resume does."""

    class Throttled(Recorder):
        def message_received(self, message: bytes) -> None:
            super().message_received(message)
            if message == b"5":
                self.pause_reading()

    protocol = Throttled()
    transport = StringTransport()
    protocol.makeConnection(transport)
    clock = Clock()
    protocol.clock = clock
    protocol.turn_budget = 0.0
    protocol.dataReceived(wire(*(b"%d" % n for n in range(40))))
    while protocol.holding:
        clock.advance(0)
    assert len(protocol.messages) == 40
    assert protocol.reading_paused
    assert transport.producerState == "paused"
    protocol.resume_reading()
    assert transport.producerState == "producing"
    protocol.resume_reading()  # one too many: harmless
    assert not protocol.reading_paused


def test_flow_control_resuming_while_held_keeps_reading_paused() -> None:
    """A subclass pausing then resuming before the held chunk is delivered:
    reading stays paused until the continuation is done."""
    protocol, transport, clock = budgeted()
    protocol.pause_reading()
    protocol.dataReceived(wire(*(b"x" for _ in range(40))))
    protocol.resume_reading()
    assert transport.producerState == "paused"
    while protocol.holding:
        clock.advance(0)
    assert transport.producerState == "producing"


def test_stop_parsing_while_held_cancels_the_continuation() -> None:
    """stop_parsing with messages held back drops them, cancels the
    continuation and gives back the budget's pause."""
    protocol, transport, clock = budgeted()
    protocol.dataReceived(wire(*(b"x" for _ in range(40))))
    protocol.stop_parsing()
    assert clock.getDelayedCalls() == []
    assert transport.producerState == "producing"
    assert len(protocol.messages) == 16
    assert protocol.partial_bytes == 0


def test_partial_bytes_asked_from_message_received() -> None:
    """Asked while a chunk is being delivered (a connection lost from a slot),
    partial_bytes counts what is not delivered yet, not what was."""
    seen: list[int] = []

    class Asking(Recorder):
        def message_received(self, message: bytes) -> None:
            super().message_received(message)
            seen.append(self.partial_bytes)

    protocol = Asking()
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(wire(b"a", b"bb") + b"\x05\x00")
    assert seen == [8, 2]
    assert protocol.partial_bytes == 2


@pytest.mark.parametrize(
    ("first", "expected"),
    [(wire(b"1", b"2"), [b"1", b"2", b"3"]), (wire(b"1"), [b"1", b"3"])],
    ids=["two messages", "exactly one message"],
)
def test_data_received_again_from_message_received_keeps_order(
    first: bytes, expected: list[bytes]
) -> None:
    """dataReceived called again from message_received (a nested event loop
    reading the same connection): the new bytes come after the rest, in order,
    also when the first chunk was exactly one message (delivered unbuffered)."""

    class Nested(Recorder):
        def message_received(self, message: bytes) -> None:
            super().message_received(message)
            if message == b"1":
                self.dataReceived(wire(b"3"))

    protocol = Nested()
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(first)
    assert protocol.messages == expected
    assert protocol.partial_bytes == 0


def test_the_start_of_a_message_does_not_hold_the_whole_read() -> None:
    """
    A read of many small messages that ends in the start of the next one
    leaves about that start held, not the whole read (1 MiB here): the
    delivered part of a chunk is let go once it outweighs the rest.
    """
    protocol, _ = connected()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        chunk = wire(*[b"x" * 12] * 65536) + b"\x10\x00\x00\x00abc"
        protocol.dataReceived(chunk)
        del chunk
        count = len(protocol.messages)
        protocol.messages.clear()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert count == 65536
    assert protocol.partial_bytes == 7
    assert held < 64 * 1024
    protocol.dataReceived(b"d" * 13)
    assert protocol.messages == [b"abc" + b"d" * 13]
