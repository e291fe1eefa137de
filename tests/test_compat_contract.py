"""
The seed's contract, checked on both clients: the faithful port of the seed's
thread (`compat.threaded`) and the drop-in on the Twisted reactor (`compat`).

Every test runs once per client and expects the very same replies. The
clients are driven as the seed drives them, with blocking ``reply_q.get``
calls, so each test body runs in a worker thread (``deferToThread``): the
reactor (and the servers on it) keeps running in the main thread.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from twisted_client import compat
from twisted_client.compat import ClientCommand, ClientReply, threaded

from .compat_programs.peers import RawServer, ScriptedServer, frame, free_port, reset
from .helpers import CLOSE, CONNECT, ERROR, RECEIVE, SEND, SUCCESS

KINDS = ["threaded", "adapter"]


def make_client(kind: str, reactor: Any) -> Any:
    """A started client of the given kind (the threaded one as a daemon thread)."""
    if kind == "threaded":
        client: Any = threaded.SocketClientThread()
        client.daemon = True  # a test that fails must not keep pytest alive
    else:
        client = compat.SocketClientThread(reactor=reactor)
    client.start()
    return client


def command(kind: int, data: Any = None) -> ClientCommand:
    return ClientCommand(kind, data)


def conversation(
    port: int, *messages: bytes, host: str = "127.0.0.1"
) -> list[ClientCommand]:
    """The seed's conversation: CONNECT to ``host:port``, a SEND and a RECEIVE
    for each of ``messages``, then CLOSE."""
    commands = [command(CONNECT, (host, port))]
    for message in messages:
        commands += [command(SEND, message), command(RECEIVE)]
    return [*commands, command(CLOSE)]


def replies(client: Any, count: int) -> list[tuple[int, Any]]:
    """The next ``count`` replies as (type, data) pairs."""
    return [_pair(client.reply_q.get(timeout=10)) for _ in range(count)]


def _pair(reply: ClientReply) -> tuple[int, Any]:
    return (reply.type, reply.data)


def converse(client: Any, *commands: ClientCommand) -> list[tuple[int, Any]]:
    """Queue every command at once, then collect one reply per command."""
    for each in commands:
        client.cmd_q.put(each)
    return replies(client, len(commands))


def in_thread(reactor: Any, kind: str, body: Callable[[Any], Any]) -> Any:
    """Run ``body(client)`` in a worker thread; join the client afterwards."""

    def run() -> Any:
        client = make_client(kind, reactor)
        try:
            return body(client)
        finally:
            client.join(5)

    return deferToThread(run)


def exchange(reactor: Any, kind: str, *commands: ClientCommand) -> Any:
    """`converse` with a new client of ``kind`` in a worker thread: a Deferred
    firing with one ``(type, data)`` reply per command."""
    return in_thread(reactor, kind, lambda client: converse(client, *commands))


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Which client: the seed's thread ("threaded") or the drop-in ("adapter")."""
    return str(request.param)


@pytest_twisted.ensureDeferred
async def test_seed_main_sequence(reactor: Any, kind: str, listening: Any) -> None:
    """The seed's __main__: CONNECT, SEND, RECEIVE, CLOSE, each reply awaited
    before the next command, against the seed's server answering b'tuxy' late."""
    number = listening.echo(delay=0.05, reply=b"tuxy").getHost().port

    def body(client: Any) -> list[tuple[int, Any]]:
        seen = []
        for each in conversation(number, b"hello", host="localhost"):
            client.cmd_q.put(each)
            seen += replies(client, 1)
        return seen

    got = await in_thread(reactor, kind, body)
    assert got == [
        (SUCCESS, None),
        (SUCCESS, None),
        (SUCCESS, b"tuxy"),
        (SUCCESS, None),
    ]


@pytest_twisted.ensureDeferred
async def test_pipelined_commands(reactor: Any, kind: str, listening: Any) -> None:
    """Commands queued back to back before any reply run strictly in order,
    one reply each: the SEND waits for the CONNECT before it, and so on."""
    number = listening.echo(delay=0.02, reply=b"tuxy").getHost().port
    got = await exchange(reactor, kind, *conversation(number, b"hello", b"again"))
    assert got == [
        (SUCCESS, None),
        (SUCCESS, None),
        (SUCCESS, b"tuxy"),
        (SUCCESS, None),
        (SUCCESS, b"tuxy"),
        (SUCCESS, None),
    ]


@pytest_twisted.ensureDeferred
async def test_empty_and_one_mebibyte_messages(
    reactor: Any, kind: str, echo_port: int
) -> None:
    """An empty message and a 1 MiB message both make the round trip intact."""
    big = bytes(range(256)) * 4096
    got = await exchange(reactor, kind, *conversation(echo_port, b"", big))
    assert got[:3] == [(SUCCESS, None), (SUCCESS, None), (SUCCESS, b"")]
    assert got[3] == (SUCCESS, None)
    assert got[4][0] == SUCCESS
    assert got[4][1] == big
    assert got[5] == (SUCCESS, None)


def _trickle(message: bytes) -> Callable[[socket.socket], None]:
    """A raw-server script that writes the framed message one byte per send."""

    def script(connection: socket.socket) -> None:
        for byte in frame(message):
            connection.sendall(bytes([byte]))

    return script


@pytest_twisted.ensureDeferred
async def test_byte_at_a_time_delivery(reactor: Any, kind: str) -> None:
    """A message that arrives one byte per send (TCP_NODELAY) is reassembled
    and returned whole by one RECEIVE."""
    message = b"one byte at a time"
    with RawServer(_trickle(message)) as server:
        got = await exchange(
            reactor,
            kind,
            command(CONNECT, ("127.0.0.1", server.port)),
            command(RECEIVE),
            command(CLOSE),
        )
    assert server.error is None
    assert got == [(SUCCESS, None), (SUCCESS, message), (SUCCESS, None)]


@pytest_twisted.ensureDeferred
async def test_pushed_messages_come_with_later_receives(
    reactor: Any, kind: str
) -> None:
    """Messages the server sends unasked, before any RECEIVE, are returned by
    the following RECEIVEs in the order they were sent."""
    server = ScriptedServer(reactor, frame(b"first") + frame(b"") + frame(b"third"))

    def body(client: Any) -> list[tuple[int, Any]]:
        got = converse(client, command(CONNECT, ("127.0.0.1", server.port)))
        return got + converse(
            client, command(RECEIVE), command(RECEIVE), command(RECEIVE)
        )

    try:
        got = await in_thread(reactor, kind, body)
    finally:
        await server.stop()
    assert got == [
        (SUCCESS, None),
        (SUCCESS, b"first"),
        (SUCCESS, b""),
        (SUCCESS, b"third"),
    ]


@pytest_twisted.ensureDeferred
async def test_refused_connection(reactor: Any, kind: str) -> None:
    """CONNECT to a port nobody listens on: ERROR('[Errno 111] Connection
    refused'), the str() of the OSError the seed's socket raises."""
    number = free_port()
    got = await exchange(reactor, kind, command(CONNECT, ("127.0.0.1", number)))
    assert got == [(ERROR, "[Errno 111] Connection refused")]


@pytest_twisted.ensureDeferred
async def test_name_that_does_not_resolve(reactor: Any, kind: str) -> None:
    """CONNECT to a name that does not resolve: ERROR with the str() of the
    socket.gaierror the seed's socket raises for it."""
    host = "no-such-host.invalid"
    try:
        socket.getaddrinfo(host, 1, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as error:
        expected = str(error)
    else:
        pytest.skip(f"{host} resolves here")
    got = await exchange(reactor, kind, command(CONNECT, (host, 1)))
    assert got == [(ERROR, expected)]


def _close_mid_message(connection: socket.socket) -> None:
    """Announce 10 bytes, send 3, close."""
    connection.sendall(frame(b"0123456789")[:7])


def _close_before_a_header(connection: socket.socket) -> None:
    """Close without sending anything."""


@pytest.mark.parametrize(
    "script",
    [_close_mid_message, _close_before_a_header],
    ids=["mid-message", "before-a-header"],
)
@pytest_twisted.ensureDeferred
async def test_peer_closes(
    reactor: Any, kind: str, script: Callable[[socket.socket], None]
) -> None:
    """The peer closes in the middle of a message (it announced 10 bytes and
    sent 3) or before sending anything: the same ERROR('Socket closed
    prematurely') either way."""
    with RawServer(script) as server:
        got = await exchange(
            reactor,
            kind,
            command(CONNECT, ("127.0.0.1", server.port)),
            command(RECEIVE),
        )
    assert got == [(SUCCESS, None), (ERROR, "Socket closed prematurely")]


@pytest_twisted.ensureDeferred
async def test_peer_resets_the_connection(reactor: Any, kind: str) -> None:
    """The peer resets the connection (RST) while a RECEIVE waits: ERROR('[Errno
    104] Connection reset by peer')."""
    waiting = threading.Event()

    def script(connection: socket.socket) -> None:
        waiting.wait(10)
        reset(connection)

    def body(client: Any) -> list[tuple[int, Any]]:
        got = converse(client, command(CONNECT, ("127.0.0.1", server.port)))
        client.cmd_q.put(command(RECEIVE))
        waiting.set()
        return got + replies(client, 1)

    with RawServer(script) as server:
        got = await in_thread(reactor, kind, body)
    assert got == [(SUCCESS, None), (ERROR, "[Errno 104] Connection reset by peer")]


@pytest_twisted.ensureDeferred
async def test_send_and_receive_after_close(
    reactor: Any, kind: str, echo_port: int
) -> None:
    """After CLOSE, SEND and RECEIVE give ERROR('[Errno 9] Bad file
    descriptor') and a second CLOSE succeeds, as the seed's closed socket does."""
    got = await exchange(
        reactor,
        kind,
        command(CONNECT, ("127.0.0.1", echo_port)),
        command(CLOSE),
        command(SEND, b"late"),
        command(RECEIVE),
        command(CLOSE),
    )
    bad = (ERROR, "[Errno 9] Bad file descriptor")
    assert got == [(SUCCESS, None), (SUCCESS, None), bad, bad, (SUCCESS, None)]


@pytest_twisted.ensureDeferred
async def test_send_and_receive_after_a_failed_connect(
    reactor: Any, kind: str, echo_port: int
) -> None:
    """After a refused CONNECT, SEND gives '[Errno 32] Broken pipe' (the
    drop-in adds that it is not connected) and RECEIVE '[Errno 107] Transport
    endpoint is not connected', as on the seed's socket; a CONNECT after that
    works."""
    refused = free_port()
    got = await exchange(
        reactor,
        kind,
        command(CONNECT, ("127.0.0.1", refused)),
        command(SEND, b"x"),
        command(RECEIVE),
        *conversation(echo_port, b"echo"),
    )
    broken_pipe = {
        "threaded": "[Errno 32] Broken pipe",
        "adapter": "[Errno 32] Broken pipe (not connected: the last CONNECT failed)",
    }
    assert got == [
        (ERROR, "[Errno 111] Connection refused"),
        (ERROR, broken_pipe[kind]),
        (ERROR, "[Errno 107] Transport endpoint is not connected"),
        (SUCCESS, None),
        (SUCCESS, None),
        (SUCCESS, b"echo"),
        (SUCCESS, None),
    ]


@pytest_twisted.ensureDeferred
async def test_thread_surface(reactor: Any, kind: str) -> None:
    """The thread-like surface: alive is set at construction; is_alive() is
    False before start(), True after, False after join(); join() clears alive."""

    def run() -> list[object]:
        if kind == "threaded":
            client: Any = threaded.SocketClientThread()
            client.daemon = True
        else:
            client = compat.SocketClientThread(reactor=reactor)
        seen: list[object] = [client.alive.is_set(), client.is_alive()]
        client.start()
        seen.append(client.is_alive())
        client.join()
        seen += [client.is_alive(), client.alive.is_set(), isinstance(client.name, str)]
        return seen

    assert await deferToThread(run) == [True, False, True, False, False, True]
