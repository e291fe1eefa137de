"""
Twisted's TCP transport reading into the thread's buffer (`_reads`): over a
real loopback connection, the framing protocol gets what it would get from
Twisted's own ``doRead``, and what it keeps survives the buffer's next use.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from twisted.internet import main, tcp
from twisted.internet.abstract import FileDescriptor
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactor

from twisted_client._reads import READ_SIZE, _thread_buffer, read_into_buffer

from .helpers import wait_in_kernel
from .wire import Recorder, wire

pytestmark = pytest.mark.reactorless


class Pair:
    """Twisted's TCP transport (in a reactor in memory) on one end of a
    loopback connection, with ``protocol`` connected to it; a plain socket
    at the other end."""

    def __init__(self, protocol: Protocol) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.peer = socket.create_connection(listener.getsockname())
        ours, _ = listener.accept()
        listener.close()
        self.transport = tcp.Connection(ours, protocol, MemoryReactor())  # type: ignore[no-untyped-call]
        self.transport.connected = 1
        protocol.makeConnection(self.transport)

    def arrive(self, data: bytes) -> None:
        """Send ``data`` from the peer; return once all of it can be read."""
        self.peer.sendall(data)
        wait_in_kernel(self.transport.socket, len(data))

    def close(self) -> None:
        self.peer.close()
        self.transport.socket.close()


@pytest.fixture
def pair() -> Iterator[Pair]:
    made = Pair(Recorder())
    yield made
    made.close()


def test_a_message_and_its_header_come_in_one_read(pair: Pair) -> None:
    """A 64 KiB message with its header is one read of the transport, and
    one message delivered (Twisted's own read stops at 64 KiB)."""
    message = bytes(range(256)) * 256
    pair.arrive(wire(message))
    assert pair.transport.doRead() is None
    assert pair.transport.protocol.messages == [message]  # type: ignore[attr-defined]


def test_what_was_delivered_survives_the_next_read(pair: Pair) -> None:
    """Each read reuses the buffer: a message delivered from it, and the
    partial message kept from it, are copies that the next read leaves
    as they were."""
    recorder: Recorder = pair.transport.protocol  # type: ignore[assignment]
    first, second = b"a" * 1000, b"b" * 3000
    stream = wire(first, second)
    pair.arrive(stream[:2000])
    pair.transport.doRead()
    assert recorder.messages == [first]
    pair.arrive(stream[2000:])
    pair.transport.doRead()
    pair.arrive(wire(b"c" * 5000))
    pair.transport.doRead()
    assert recorder.messages == [first, second, b"c" * 5000]


def test_a_nested_read_keeps_the_order(pair: Pair) -> None:
    """A read made while a message is being delivered (a receive reading
    ahead, a nested event loop) overwrites the buffer under the first read:
    the first message was copied out before. A whole message, with nothing
    else to deliver before it, is delivered within that read; bytes read
    behind messages not delivered yet wait for them."""
    recorder: Recorder = pair.transport.protocol  # type: ignore[assignment]
    deliver = recorder.message_received
    events: list[object] = []

    def nested(message: bytes) -> None:
        deliver(message)
        events.append(message)
        if message in (b"first", b"third"):
            pair.arrive(wire(b"second" if message == b"first" else b"fifth"))
            pair.transport.doRead()
            events.append("read")

    recorder.message_received = nested  # type: ignore[method-assign]
    pair.arrive(wire(b"first"))
    pair.transport.doRead()
    assert events == [b"first", b"second", "read"]
    events.clear()
    pair.arrive(wire(b"third", b"fourth"))
    pair.transport.doRead()
    assert events == [b"third", "read", b"fourth", b"fifth"]
    assert recorder.messages == [b"first", b"second", b"third", b"fourth", b"fifth"]


def test_nothing_to_read_closing_and_errors_are_twisteds(pair: Pair) -> None:
    """A read that finds nothing does nothing; the peer's closing is
    CONNECTION_DONE, a reset CONNECTION_LOST, as Twisted's ``doRead``."""
    assert pair.transport.doRead() is None
    assert pair.transport.protocol.messages == []  # type: ignore[attr-defined]
    pair.peer.close()
    assert pair.transport.doRead() is main.CONNECTION_DONE

    reset = Pair(Recorder())
    try:
        reset.peer.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        reset.peer.close()  # linger 0: a reset
        assert reset.transport.doRead() is main.CONNECTION_LOST
    finally:
        reset.close()


def test_after_start_tls_the_bytes_go_to_the_tls_layer(pair: Pair) -> None:
    """Once something else is the transport's protocol (``startTLS`` puts
    the TLS layer there), each read reaches it as bytes, unparsed."""

    class Layer(Protocol):
        def __init__(self) -> None:
            self.received: list[bytes] = []

        def dataReceived(self, data: bytes) -> None:
            self.received.append(data)

    layer = Layer()
    pair.transport.protocol = layer
    pair.arrive(wire(b"hello"))
    pair.transport.doRead()
    assert layer.received == [wire(b"hello")]
    assert pair.transport.protocol is layer


def test_only_twisteds_own_tcp_read_is_replaced() -> None:
    """A transport that is not Twisted's TCP one, or whose ``doRead`` a
    subclass overrides, keeps its own reads."""

    class Overriding(tcp.Connection):
        def doRead(self) -> None:  # type: ignore[override]
            pass

    ours, peer = socket.socketpair()
    try:
        assert not read_into_buffer(FileDescriptor(MemoryReactor()), Recorder())
        overriding = Overriding(ours, Recorder(), MemoryReactor())  # type: ignore[no-untyped-call]
        assert not read_into_buffer(overriding, Recorder())
        plain = tcp.Connection(ours, Recorder(), MemoryReactor())  # type: ignore[no-untyped-call]
        assert read_into_buffer(plain, Recorder())
        assert not read_into_buffer(plain, Recorder())  # once is enough
    finally:
        ours.close()
        peer.close()


def test_each_thread_reads_into_a_buffer_of_its_own() -> None:
    """The buffer is made once per thread, `READ_SIZE` bytes, and kept."""
    mine = _thread_buffer()
    assert _thread_buffer() is mine
    assert len(mine) == READ_SIZE
    theirs: list[memoryview] = []
    worker = threading.Thread(target=lambda: theirs.append(_thread_buffer()))
    worker.start()
    worker.join()
    assert theirs[0] is not mine
    assert theirs[0].obj is not mine.obj
