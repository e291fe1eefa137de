"""
The drop-in `compat.SocketClientThread` under hostile peers and faults:
bounded memory for a 4 GiB announcement, back-pressure on SEND, a flooding
server, and the server process killed with commands queued. Every command
gets exactly one reply, in order.
"""

from __future__ import annotations

import socket
import struct
import tracemalloc
from typing import Any

import pytest_twisted
from twisted.internet.task import LoopingCall

from twisted_client.compat import (
    CLOSED_PREMATURELY,
)

from .helpers import CLOSE, CONNECT, ERROR, RECEIVE, SEND, SUCCESS, Adapter
from .reliability_peers import (
    PeerServer,
    client_transport,
    frame,
    kernel_buffer,
    rss_bytes,
    set_buffers,
    spawn_server,
    when_paused,
)

MiB = 1024 * 1024


@pytest_twisted.ensureDeferred
async def test_a_4_gib_announcement_is_an_error_reply_with_bounded_memory(
    reactor: Any, echo_port: int
) -> None:
    """
    A server announcing 4 GiB (and sending nothing more): the RECEIVE gets an
    ERROR naming the lengths, memory grows by far less than 64 MB, and the
    same client connects again and works.
    """
    hostile = PeerServer(reactor)
    adapter = Adapter(reactor)
    try:
        adapter.put(CONNECT, ("127.0.0.1", hostile.number))
        assert await adapter.reply() == (SUCCESS, None)
        peer = await hostile.accept()
        rss_before = rss_bytes()
        tracemalloc.start()
        try:
            adapter.put(RECEIVE)
            peer.transport.write(frame(b"ok") + struct.pack("<L", 2**32 - 1))
            adapter.put(RECEIVE)
            first, second = await adapter.reply(), await adapter.reply()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert first == (SUCCESS, b"ok")
        assert second[0] == ERROR
        assert "4294967295" in second[1]
        assert "max_length=16777216" in second[1]
        assert peak < 4 * MiB
        assert rss_bytes() - rss_before < 64 * MiB
        for command in (
            (CLOSE,),
            (CONNECT, ("127.0.0.1", echo_port)),
            (SEND, b"again"),
            (RECEIVE,),
        ):
            adapter.put(*command)
        assert [await adapter.reply() for _ in range(4)] == [
            (SUCCESS, None),
            (SUCCESS, None),
            (SUCCESS, None),
            (SUCCESS, b"again"),
        ]
    finally:
        adapter.thread.join()
        await hostile.stop()


@pytest_twisted.ensureDeferred
async def test_send_replies_wait_for_a_peer_that_does_not_read(reactor: Any) -> None:
    """
    SEND's SUCCESS means the bytes reached the kernel, as ``sendall`` returning
    does: against a slow reader, the SUCCESS replies never run ahead of what
    the peer read by more than the two kernel buffers, and the adapter holds
    one message at a time, however many SENDs are queued.
    """
    server = PeerServer(reactor)
    adapter = Adapter(reactor)
    reader: LoopingCall | None = None
    try:
        adapter.put(CONNECT, ("127.0.0.1", server.number))
        assert await adapter.reply() == (SUCCESS, None)
        peer = await server.accept()
        peer.transport.pauseProducing()
        peer.pause_after_each_read = True
        transport = client_transport(adapter.native())
        set_buffers(transport, send=64 * 1024)
        set_buffers(peer.transport, recv=64 * 1024)
        in_kernel = kernel_buffer(transport, socket.SO_SNDBUF) + kernel_buffer(
            peer.transport, socket.SO_RCVBUF
        )
        messages = [bytes([i]) * (64 * 1024) for i in range(60)]
        for message in messages:  # all queued at once
            adapter.put(SEND, message)
        reader = LoopingCall(peer.transport.resumeProducing)
        reader.clock = reactor
        reader.start(0.002, now=False)
        confirmed = 0
        for message in messages:
            assert await adapter.reply() == (SUCCESS, None)
            confirmed += len(frame(message))
            assert confirmed - len(peer.received) <= in_kernel
        reader.stop()
        reader = None
        peer.pause_after_each_read = False
        peer.transport.resumeProducing()
        adapter.put(CLOSE)
        assert await adapter.reply() == (SUCCESS, None)
        await peer.lost
        assert peer.messages() == messages
    finally:
        if reader is not None:
            reader.stop()
        adapter.thread.join()
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_a_flooding_server_is_read_with_bounded_memory(reactor: Any) -> None:
    """
    A server pushing 8 MiB unasked: the adapter stops reading past its bound
    (``max_length`` 64 KiB gives the 1 MiB minimum), then RECEIVEs get every
    message, in order.
    """
    server = PeerServer(reactor)
    adapter = Adapter(reactor, max_length=64 * 1024)
    try:
        adapter.put(CONNECT, ("127.0.0.1", server.number))
        assert await adapter.reply() == (SUCCESS, None)
        native = adapter.native()
        set_buffers(client_transport(native), recv=64 * 1024)
        paused = when_paused(client_transport(native))
        peer = await server.accept()
        set_buffers(peer.transport, send=64 * 1024)
        messages = [struct.pack("<L", i) + b"f" * (32 * 1024) for i in range(256)]
        peer.transport.write(b"".join(frame(m) for m in messages))
        await paused
        bound = native.max_buffered + 64 * 1024 + len(messages[0])
        got = []
        for _ in messages:
            held = native.buffered_messages * len(messages[0])
            assert held <= bound
            adapter.put(RECEIVE)
            reply = await adapter.reply()
            assert reply[0] == SUCCESS
            got.append(reply[1])
        assert got == messages
        assert native.max_buffered == 1024 * 1024
    finally:
        adapter.thread.join()
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_server_killed_with_commands_queued(reactor: Any) -> None:
    """
    The server process is killed while SENDs and RECEIVEs are queued: every
    command still gets one reply, in order; the RECEIVEs give the echoes that
    arrived, whole and in order, then ERRORs.
    """
    process = spawn_server(reactor)
    adapter = Adapter(reactor)
    try:
        port = await process.listening
        adapter.put(CONNECT, ("127.0.0.1", port))
        assert await adapter.reply() == (SUCCESS, None)
        sent = [struct.pack("<L", i) + b"." * 100 for i in range(30)]
        for message in sent[:20]:
            adapter.put(SEND, message)
        for _ in range(20):
            adapter.put(RECEIVE)
        replies = [await adapter.reply() for _ in range(25)]  # 20 SENDs, 5 echoes
        process.kill()
        await process.ended
        for message in sent[20:]:
            adapter.put(SEND, message)
            adapter.put(RECEIVE)
        replies += [await adapter.reply() for _ in range(15 + 20)]
        assert all(reply == (SUCCESS, None) for reply in replies[:20])
        echoes = [data for kind, data in replies if kind == SUCCESS and data]
        assert echoes == sent[: len(echoes)]
        assert len(echoes) >= 5
        errors = [data for kind, data in replies if kind == ERROR]
        assert errors
        assert all(
            text == CLOSED_PREMATURELY or text.startswith("[Errno") for text in errors
        )
        first_error = next(i for i, (kind, _) in enumerate(replies) if kind == ERROR)
        assert all(kind == ERROR for kind, _ in replies[first_error:])
    finally:
        adapter.thread.join()
        if not process.ended.called:
            process.kill()
            await process.ended
