"""
Hostile input, without sockets: property tests of the framing and the client.

Hypothesis generates messages and the points where TCP cuts the stream, and
plain garbage; the protocol runs on a `StringTransport` and a `Clock`, so no
reactor and no socket is involved.
"""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from twisted_client import (
    HEADER_SIZE,
    ClientProtocol,
    ConnectionClosed,
    LengthPrefixedProtocol,
    MessageTooLong,
)

from .wire import Recorder, wire

PROPERTIES = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# In memory with a Clock: the same in every pass, so it runs in the plain one.
pytestmark = pytest.mark.reactorless


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` split at ``points`` (any order, repeats allowed): TCP's chunks."""
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def reference_parse(data: bytes, max_length: int) -> tuple[list[bytes], int | None]:
    """
    What a correct receiver makes of ``data``: the whole messages in it, and
    the first announced length above ``max_length`` (None if there is none).
    """
    messages: list[bytes] = []
    offset = 0
    while len(data) - offset >= HEADER_SIZE:
        (length,) = struct.unpack_from("<L", data, offset)
        if length > max_length:
            return messages, length
        end = offset + HEADER_SIZE + length
        if end > len(data):
            break
        messages.append(data[offset + HEADER_SIZE : end])
        offset = end
    return messages, None


def feed(protocol: LengthPrefixedProtocol, chunks: list[bytes]) -> StringTransport:
    """Connect ``protocol`` to a fresh transport and deliver ``chunks``."""
    transport = StringTransport()
    protocol.makeConnection(transport)
    for chunk in chunks:
        protocol.dataReceived(chunk)
        # Whatever is kept between chunks is less than one maximal message.
        assert protocol.partial_bytes < HEADER_SIZE + protocol.max_length
    return transport


messages_strategy = st.lists(st.binary(max_size=300), max_size=30)
cuts_strategy = st.lists(st.integers(min_value=0, max_value=10_000), max_size=40)


@st.composite
def structured_garbage(draw: st.DrawFn) -> bytes:
    """Headers with small or huge lengths, bodies that may fall short: near-misses."""
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        length = draw(
            st.one_of(
                st.integers(0, 64),
                st.integers(0, 2**32 - 1),
                st.sampled_from([2**31, 2**32 - 1, 65, 300]),
            )
        )
        body = draw(st.binary(max_size=80))
        parts.append(struct.pack("<L", length) + body)
    return b"".join(parts)


garbage_strategy = st.one_of(st.binary(max_size=600), structured_garbage())


@PROPERTIES
@given(messages=messages_strategy, points=cuts_strategy)
def test_any_cuts_deliver_every_message_whole_and_in_order(
    messages: list[bytes], points: list[int]
) -> None:
    """Messages cut at any points arrive whole, in order, none lost or merged."""
    protocol = Recorder(max_length=300)
    transport = feed(protocol, cut(wire(*messages), points))
    assert protocol.messages == messages
    assert protocol.partial_bytes == 0
    assert protocol.refused == []
    assert not transport.disconnecting


@PROPERTIES
@given(messages=st.lists(st.binary(max_size=40), max_size=20))
def test_one_byte_at_a_time_delivers_every_message(messages: list[bytes]) -> None:
    """A peer that trickles one byte per read still gets every message through."""
    data = wire(*messages)
    protocol = Recorder(max_length=40)
    feed(protocol, [data[i : i + 1] for i in range(len(data))])
    assert protocol.messages == messages


@PROPERTIES
@given(
    data=st.one_of(garbage_strategy, st.binary(max_size=2000)),
    points=cuts_strategy,
    max_length=st.one_of(st.integers(0, 100), st.integers(0, 600)),
)
def test_garbage_yields_framed_messages_or_one_clear_refusal(
    data: bytes, points: list[int], max_length: int
) -> None:
    """
    Garbage never raises out of dataReceived: it yields exactly the messages
    the framing defines, the bytes they came from and nothing else; then
    either it waits for more (holding only the bytes after them, less than
    one maximal message) or, at the first announced length over the limit,
    one refusal with that length, an aborted connection, and nothing parsed
    after.
    """
    protocol = Recorder(max_length=max_length)
    transport = feed(protocol, cut(data, points))
    expected, too_long = reference_parse(data, max_length)
    assert protocol.messages == expected
    consumed = sum(HEADER_SIZE + len(m) for m in protocol.messages)
    assert wire(*protocol.messages) == data[:consumed]
    if too_long is None:
        assert protocol.refused == []
        assert not transport.disconnecting
        assert protocol.partial_bytes == len(data) - consumed
        assert protocol.partial_bytes < HEADER_SIZE + max_length
    else:
        (announced,) = struct.unpack_from("<L", data, consumed)
        assert protocol.refused == [too_long] == [announced]
        assert announced > max_length
        assert transport.disconnecting
        assert transport.disconnected  # StringTransport's mark of abortConnection
        assert protocol.partial_bytes == 0


@PROPERTIES
@given(
    data=garbage_strategy,
    points=cuts_strategy,
    max_length=st.integers(min_value=0, max_value=100),
    clean=st.booleans(),
)
def test_client_answers_garbage_with_messages_then_one_error(
    data: bytes, points: list[int], max_length: int, clean: bool
) -> None:
    """
    Through the Client, garbage gives the framed messages in order, then every
    later receive fails with the same clear error: `MessageTooLong` for a
    length over the limit, else `ConnectionClosed` counting the partial bytes.
    """
    clock = Clock()
    protocol = ClientProtocol(clock, max_length, None)
    client = protocol.client
    pending = [client.receive(), client.receive()]  # waiting before anything arrives
    transport = feed(protocol, cut(data, points))
    expected, too_long = reference_parse(data, max_length)
    reason = ConnectionDone() if clean else ConnectionLost()
    if too_long is not None:
        assert transport.disconnected
    partial = protocol.partial_bytes
    protocol.connectionLost(Failure(reason))

    results: list[object] = []
    for waiter in pending:
        waiter.addBoth(results.append)
    while True:
        outcome: list[object] = []
        client.receive().addBoth(outcome.append)
        results.append(outcome[0])
        if isinstance(outcome[0], Failure):
            break
    got = [r for r in results if isinstance(r, bytes)]
    errors = [r for r in results if isinstance(r, Failure)]
    assert got == expected
    assert errors, "the stream ended, so some receive must fail"
    first = errors[0].value
    assert all(e.value is first for e in errors)
    if too_long is not None:
        assert isinstance(first, MessageTooLong)
        assert first.length == too_long
        assert first.max_length == max_length
    else:
        assert isinstance(first, ConnectionClosed)
        assert first.partial == partial
        assert first.clean == (clean and partial == 0)
    outcome = []
    client.when_closed().addBoth(outcome.append)
    assert outcome == [first]


@PROPERTIES
@given(
    sizes=st.lists(st.integers(0, 2000), min_size=1, max_size=60),
    max_buffered=st.integers(0, 5000),
)
def test_reading_pauses_over_max_buffered_and_nothing_is_dropped(
    sizes: list[int], max_buffered: int
) -> None:
    """
    Unread messages over ``max_buffered`` pause the transport; reading them
    resumes it; every message comes out once, in order.
    """
    protocol = ClientProtocol(Clock(), 2000, max_buffered)
    client = protocol.client
    transport = StringTransport()
    protocol.makeConnection(transport)
    messages = [bytes([i % 256]) * size for i, size in enumerate(sizes)]
    got: list[bytes] = []
    for message in messages:
        # A paused transport delivers nothing: the application reads first.
        while transport.producerState == "paused":
            client.receive().addCallback(got.append)
        protocol.dataReceived(wire(message))
        unread = sum(len(m) for m in client._messages)
        assert client.reading_paused == (transport.producerState == "paused")
        if unread > max_buffered:
            assert client.reading_paused
        # Bounded: what is held is at most the limit plus the last message.
        assert unread <= max_buffered + len(message)
    while len(got) < len(messages):
        client.receive().addCallback(got.append)
    assert got == messages
    assert transport.producerState == "producing"
    assert not client.reading_paused


@PROPERTIES
@given(messages=messages_strategy, points=cuts_strategy)
def test_what_one_client_sends_another_receives_whatever_the_cuts(
    messages: list[bytes], points: list[int]
) -> None:
    """
    Client to client with no socket: the bytes `Client.send` writes, cut at
    any points, come out of the other side's `receive` as the same messages.
    """
    sender = ClientProtocol(Clock(), 300, None)
    written = StringTransport()
    sender.makeConnection(written)
    for message in messages:
        sender.client.send(message)
    assert written.value() == wire(*messages)
    receiver = ClientProtocol(Clock(), 300, None)
    feed(receiver, cut(written.value(), points))
    got: list[bytes] = []
    for _ in messages:
        receiver.client.receive().addCallback(got.append)
    assert got == messages
    assert receiver.client.buffered_messages == 0
