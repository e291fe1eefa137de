"""
The drop-in `compat.SocketClientThread`: each flaw of the seed's thread that
it fixes, its thread-like surface, and how it watches the queues.

Most tests drive the client from the test's own thread, which is the
reactor's thread: commands put there are handled during the ``put`` call,
and replies are awaited through ``on_reply`` or taken with
``get(block=False)``, never with a blocking ``get`` (which is refused there).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from twisted_client import UsageError
from twisted_client.compat import (
    NOT_CONNECTED,
    STOPPED_BY_JOIN,
    BlockingCallError,
    ClientCommand,
    ClientReply,
    SocketClientThread,
    _queues,
)
from twisted_client.server import ServerProtocol

from .compat_programs.peers import ScriptedServer
from .helpers import CLOSE, CONNECT, ERROR, RECEIVE, SEND, SUCCESS


@pytest_twisted.ensureDeferred
async def test_commands_before_connect(adapter: Any, echo_port: int) -> None:
    """SEND, RECEIVE and CLOSE before any CONNECT (the seed's thread dies on
    each) get ERROR(NOT_CONNECTED), and the client keeps working."""
    client = adapter()
    got = await client.exchange(
        (SEND, b"early"),
        (RECEIVE,),
        (CLOSE,),
        (CONNECT, ("127.0.0.1", echo_port)),
        (SEND, b"later"),
        (RECEIVE,),
    )
    refused = (ERROR, NOT_CONNECTED)
    assert got == [
        refused,
        refused,
        refused,
        (SUCCESS, None),
        (SUCCESS, None),
        (SUCCESS, b"later"),
    ]


@pytest_twisted.ensureDeferred
async def test_connect_while_connected(
    reactor: Any, adapter: Any, listening: Any
) -> None:
    """A second CONNECT while connected gets an ERROR and opens nothing (the
    seed opens a second socket and leaks the first); the first connection
    stays in use."""
    accepted: list[ServerProtocol] = []

    def build() -> ServerProtocol:
        accepted.append(ServerProtocol(reactor))
        return accepted[-1]

    address = ("127.0.0.1", listening.tcp(build).getHost().port)
    got = await adapter().exchange(
        (CONNECT, address), (CONNECT, address), (SEND, b"still"), (RECEIVE,)
    )
    assert got[1][0] == ERROR
    assert "already connected" in got[1][1]
    assert got[2:] == [(SUCCESS, None), (SUCCESS, b"still")]
    assert len(accepted) == 1


@pytest_twisted.ensureDeferred
async def test_unknown_commands_and_non_commands(adapter: Any, echo_port: int) -> None:
    """An unknown command type, or an object that is no ClientCommand, gets an
    ERROR naming what was wrong (the seed's thread dies on a KeyError)."""
    client = adapter()
    client.thread.cmd_q.put(None)
    got = [await client.reply()]
    got += await client.exchange(
        (9,), (CONNECT, ("127.0.0.1", echo_port)), (SEND, b"ok"), (RECEIVE,)
    )
    assert got[0] == (ERROR, "not a ClientCommand: None")
    assert got[1][0] == ERROR
    assert "unknown command type 9" in got[1][1]
    assert got[2:] == [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"ok")]


@pytest_twisted.ensureDeferred
async def test_data_that_is_not_bytes(adapter: Any, echo_port: int) -> None:
    """SEND with str or None data gets an ERROR that says messages are bytes
    (the seed's thread dies on a TypeError); bytearray and memoryview are sent
    like bytes, as the seed's sendall accepts them."""
    client = adapter()
    got = await client.exchange(
        (CONNECT, ("127.0.0.1", echo_port)),
        (SEND, "text"),
        (SEND, None),
        (SEND, bytearray(b"array")),
        (RECEIVE,),
        (SEND, memoryview(b"view")),
        (RECEIVE,),
    )
    assert got[1][0] == ERROR
    assert "bytes, not str" in got[1][1]
    assert got[2][0] == ERROR
    assert "bytes, not NoneType" in got[2][1]
    assert got[3:] == [
        (SUCCESS, None),
        (SUCCESS, b"array"),
        (SUCCESS, None),
        (SUCCESS, b"view"),
    ]


@pytest_twisted.ensureDeferred
async def test_bad_connect_data(adapter: Any, echo_port: int) -> None:
    """CONNECT data that is not a (host, port) pair, or a port that is not an
    int, gets an ERROR that says so; a good CONNECT after it works."""
    client = adapter()
    got = await client.exchange(
        (CONNECT, "127.0.0.1"),
        (CONNECT, ("127.0.0.1", str(echo_port))),
        (CONNECT, ("127.0.0.1", echo_port)),
    )
    assert got[0][0] == ERROR
    assert "(host, port)" in got[0][1]
    assert got[1][0] == ERROR
    assert "port must be an int" in got[1][1]
    assert got[2] == (SUCCESS, None)


@pytest_twisted.ensureDeferred
async def test_hostile_length_prefix(
    reactor: Any, adapter: Any, echo_port: int
) -> None:
    """A peer announcing a 4 GiB message gets ERROR with the MessageTooLong text
    (the seed tries to collect 4 GiB); nothing of that size is allocated, and
    the client can CONNECT again afterwards."""
    hostile = ScriptedServer(reactor, b"\xff\xff\xff\xff")
    client = adapter()
    try:
        got = await client.exchange(
            (CONNECT, ("127.0.0.1", hostile.port)),
            (RECEIVE,),
            (CONNECT, ("127.0.0.1", echo_port)),
            (SEND, b"fine"),
            (RECEIVE,),
        )
    finally:
        await hostile.stop()
    assert got[0] == (SUCCESS, None)
    assert got[1] == (
        ERROR,
        "the peer announced a message of 4294967295 bytes, "
        "longer than max_length=16777216",
    )
    assert got[2:] == [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"fine")]


@pytest_twisted.ensureDeferred
async def test_max_length_option(adapter: Any, echo_port: int) -> None:
    """``max_length`` bounds the messages accepted: one byte over is an ERROR."""
    client = adapter(max_length=4)
    got = await client.exchange(
        (CONNECT, ("127.0.0.1", echo_port)), (SEND, b"12345"), (RECEIVE,)
    )
    assert got[2][0] == ERROR
    assert "longer than max_length=4" in got[2][1]


@pytest_twisted.ensureDeferred
async def test_join_answers_a_receive_that_waits(reactor: Any, adapter: Any) -> None:
    """join() while a RECEIVE waits for data that never comes (the seed's
    thread never dies) returns with that RECEIVE answered by
    ERROR(STOPPED_BY_JOIN), drops the connection, and handles no more."""
    silent = ScriptedServer(reactor)
    client = adapter()
    try:
        assert await client.exchange((CONNECT, ("127.0.0.1", silent.port))) == [
            (SUCCESS, None)
        ]
        client.put(RECEIVE)
        client.thread.join()
        assert [(reply.type, reply.data) for reply in client.replies.pending] == [
            (ERROR, STOPPED_BY_JOIN)
        ]
        client.replies.pending.clear()
        assert not client.thread.is_alive()
        assert not client.thread.alive.is_set()
        await silent.ended
        client.put(SEND, b"after join")
        assert client.replies.pending == []
        assert client.thread.cmd_q.qsize() == 1
    finally:
        await silent.stop()


@pytest_twisted.ensureDeferred
async def test_join_from_another_thread(reactor: Any) -> None:
    """join() called in another thread (a script's main thread) returns once
    the reactor's thread has answered the waiting RECEIVE: the ERROR reply is
    on reply_q when join() returns."""
    silent = ScriptedServer(reactor)

    def run() -> list[tuple[int, Any]]:
        client = SocketClientThread(reactor=reactor)
        client.start()
        client.cmd_q.put(ClientCommand(CONNECT, ("127.0.0.1", silent.port)))
        first = client.reply_q.get(timeout=10)
        client.cmd_q.put(ClientCommand(RECEIVE))
        client.join()
        second = client.reply_q.get_nowait()
        return [(first.type, first.data), (second.type, second.data)]

    try:
        got = await deferToThread(run)
        await silent.ended
    finally:
        await silent.stop()
    assert got == [(SUCCESS, None), (ERROR, STOPPED_BY_JOIN)]


def test_blocking_get_on_the_reactor_thread_is_refused(reactor: Any) -> None:
    """A blocking reply_q.get() on the reactor's thread, which would freeze it
    for ever, raises BlockingCallError saying what to do instead; a get that
    does not block works as usual."""
    client = SocketClientThread(reactor=reactor)
    client.start()
    try:
        for blocking in ({}, {"block": True, "timeout": 5}):
            with pytest.raises(BlockingCallError) as raised:
                client.reply_q.get(**blocking)
            assert "get(block=False)" in str(raised.value)
            assert "on_reply" in str(raised.value)
        with pytest.raises(queue.Empty):
            client.reply_q.get(block=False)
        with pytest.raises(queue.Empty):
            client.reply_q.get(timeout=0)
    finally:
        client.join()
    assert isinstance(raised.value, UsageError)


@pytest_twisted.ensureDeferred
async def test_blocking_get_in_another_thread_works(reactor: Any) -> None:
    """In any other thread, reply_q.get() blocks until the reply comes."""
    client = SocketClientThread(reactor=reactor)
    client.start()
    try:
        reply = await deferToThread(
            lambda: (
                client.cmd_q.put(ClientCommand(SEND, b"x")),
                client.reply_q.get(timeout=10),
            )[1]
        )
    finally:
        client.join()
    assert (reply.type, reply.data) == (ERROR, NOT_CONNECTED)


def test_a_put_is_handled_at_once(reactor: Any) -> None:
    """A command put on the reactor's thread is handled during the put itself:
    its reply (here an immediate ERROR) is on reply_q when put() returns."""
    client = SocketClientThread(reactor=reactor)
    client.start()
    try:
        client.cmd_q.put(ClientCommand(RECEIVE))
        reply = client.reply_q.get(block=False)
    finally:
        client.join()
    assert (reply.type, reply.data) == (ERROR, NOT_CONNECTED)


def test_commands_queued_before_start_run_at_start(reactor: Any) -> None:
    """Commands put before start() wait, as with a thread, and run at start()."""
    client = SocketClientThread(reactor=reactor)
    client.cmd_q.put(ClientCommand(CLOSE))
    client.cmd_q.put_nowait(ClientCommand(RECEIVE))
    assert client.reply_q.empty()
    client.start()
    try:
        got = [client.reply_q.get(block=False).data for _ in range(2)]
    finally:
        client.join()
    assert got == [NOT_CONNECTED, NOT_CONNECTED]


@pytest_twisted.ensureDeferred
async def test_an_idle_client_sets_no_timer(
    reactor: Any, adapter: Any, echo_port: int
) -> None:
    """Connected and idle, the client has no timer pending on the reactor (the
    seed's thread wakes ten times a second)."""
    before = set(reactor.getDelayedCalls())
    client = adapter()
    assert await client.exchange((CONNECT, ("127.0.0.1", echo_port))) == [
        (SUCCESS, None)
    ]
    added = [
        call
        for call in reactor.getDelayedCalls()
        if call not in before and call.active()
    ]
    assert added == []


@pytest_twisted.ensureDeferred
async def test_plain_user_queues(reactor: Any, echo_port: int) -> None:
    """Plain queue.Queue objects passed in are used as they are; the put hook
    is removed from the command queue by join()."""
    commands: queue.Queue[Any] = queue.Queue()
    answers: queue.Queue[Any] = queue.Queue()
    client = SocketClientThread(commands, answers, reactor=reactor)
    assert client.cmd_q is commands
    assert client.reply_q is answers
    client.start()
    try:

        def run() -> list[tuple[int, Any]]:
            for each in (
                ClientCommand(CONNECT, ("127.0.0.1", echo_port)),
                ClientCommand(SEND, b"plain"),
                ClientCommand(RECEIVE),
            ):
                commands.put(each)
            return [(r.type, r.data) for r in (answers.get(timeout=10) for _ in "123")]

        got = await deferToThread(run)
    finally:
        client.join()
    assert got == [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"plain")]
    assert "put" not in vars(commands)


@pytest_twisted.ensureDeferred
async def test_on_reply_replaces_reply_q(
    reactor: Any, adapter: Any, echo_port: int
) -> None:
    """With on_reply, each reply goes to the callback, in order, on the
    reactor's thread, and nothing accumulates in reply_q."""
    threads: list[int] = []
    client = adapter()
    original = client.thread._on_reply

    def record(reply: ClientReply) -> None:
        threads.append(threading.get_ident())
        assert original is not None
        original(reply)

    client.thread._on_reply = record
    got = await client.exchange(
        (CONNECT, ("127.0.0.1", echo_port)), (SEND, b"cb"), (RECEIVE,)
    )
    client.thread.join()
    assert got == [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"cb")]
    assert client.thread.reply_q.empty()
    assert set(threads) == {threading.get_ident()}


def test_thread_like_surface(reactor: Any) -> None:
    """start() twice and join() before start() raise RuntimeError as a Thread's
    do; daemon can be set before start() only; names are distinct."""
    client = SocketClientThread(reactor=reactor)
    other = SocketClientThread(reactor=reactor)
    assert client.name != other.name
    assert client.name.startswith("SocketClientThread-")
    with pytest.raises(RuntimeError):
        client.join()
    client.daemon = True
    assert client.daemon is True
    client.start()
    try:
        with pytest.raises(RuntimeError):
            client.start()
        with pytest.raises(RuntimeError):
            client.daemon = False
        assert "started" in repr(client)
    finally:
        client.join()
    client.join()
    assert "stopped" in repr(client)


@pytest.mark.reactorless
def test_rejects_what_it_cannot_use() -> None:
    """Queues it cannot watch, and bad options, are refused at construction."""
    with pytest.raises(TypeError, match=r"cmd_q must be a queue\.Queue"):
        SocketClientThread(queue.SimpleQueue())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"reply_q must be a queue\.Queue"):
        SocketClientThread(None, [])  # type: ignore[arg-type]
    for bad in (0, -1, float("nan"), float("inf"), True, "5"):
        with pytest.raises(UsageError, match="connect_timeout"):
            SocketClientThread(connect_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="max_length"):
        SocketClientThread(max_length=2**32)
    with pytest.raises(UsageError, match="on_reply"):
        SocketClientThread(on_reply="print")  # type: ignore[arg-type]


@pytest.mark.reactorless
def test_readable_reprs() -> None:
    """Commands and replies show their type by name; both clients share the
    same two classes, with the seed's constant values."""
    from twisted_client.compat import threaded

    assert threaded.ClientCommand is ClientCommand
    assert threaded.ClientReply is ClientReply
    assert repr(ClientReply(SUCCESS, b"tuxy")) == "ClientReply(SUCCESS, b'tuxy')"
    assert repr(ClientReply(ERROR, "boom")) == "ClientReply(ERROR, 'boom')"
    assert (
        repr(ClientCommand(CONNECT, ("localhost", 50007)))
        == "ClientCommand(CONNECT, ('localhost', 50007))"
    )
    assert repr(ClientCommand(7)) == "ClientCommand(7, None)"
    assert (CONNECT, SEND, RECEIVE, CLOSE, ERROR, SUCCESS) == (0, 1, 2, 3, 0, 1)


@pytest.mark.reactorless
def test_the_queue_internals_relied_on_are_there() -> None:
    """The queue fast paths use members the standard library does not
    document (`_queues.RELIED_ON`): a Python that renames one fails here,
    naming it, before the fast paths misbehave."""
    owners = {
        "queue.Queue": queue.Queue(),
        "threading.Condition": threading.Condition(),
    }
    assert set(_queues.RELIED_ON) == set(owners)
    missing = [
        f"{owner}.{name}"
        for owner, names in _queues.RELIED_ON.items()
        for name in names
        if not hasattr(owners[owner], name)
    ]
    assert missing == []
    # A put wakes a waiting get only when there is one: Condition keeps them
    # in a sized collection, empty while nobody waits.
    assert len(owners["threading.Condition"]._waiters) == 0  # type: ignore[attr-defined]
