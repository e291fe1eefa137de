"""
Drop-in clients driven from several threads at once, in script mode, where
commands run in the putting thread whenever the reactor's thread lets them.

    python -m tests.compat_programs.threaded_stress PORT

Against an echo server:

* ``WORKERS`` threads, each with a client of its own, run ``ROUNDS`` rounds
  of SEND a, SEND b, RECEIVE, RECEIVE, then take the four replies;
* one more client is fed by a producer thread (``PAIRS`` SEND/RECEIVE
  pairs, no waiting) and drained by a consumer thread;
* then each worker's client gets a RECEIVE that nothing answers, and is
  joined while it waits; the connection must still close, although only the
  reactor's thread can run the abort's zero-delay call (it must be woken).

Prints one JSON line: every reply that was not the expected one (by client
and position), the replies left over, the clients still alive after join,
the connections that never closed, and what ``threadable.isInIOThread()``
said inside and outside work done on the reactor's behalf.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from twisted.python import threadable

from tests.compat_programs.seed import reply_row
from twisted_client.compat import (
    STOPPED_BY_JOIN,
    ClientCommand,
    ClientReply,
    SocketClientThread,
)

WORKERS = 4
ROUNDS = 500
PAIRS = 2000
WAIT = 30.0  # seconds any single reply may take before the run counts it lost

CONNECT, SEND, RECEIVE = (
    ClientCommand.CONNECT,
    ClientCommand.SEND,
    ClientCommand.RECEIVE,
)
SUCCESS = ClientReply.SUCCESS


def connected(port: int) -> SocketClientThread:
    """A started client, connected (its reply taken)."""
    client = SocketClientThread()
    client.start()
    client.cmd_q.put(ClientCommand(CONNECT, ("127.0.0.1", port)))
    reply = client.reply_q.get(True, WAIT)
    assert reply.type == SUCCESS, reply
    return client


def worker(number: int, client: SocketClientThread, wrong: list[Any]) -> None:
    """ROUNDS rounds of two SENDs and two RECEIVEs, each reply checked."""
    for round_ in range(ROUNDS):
        first, second = f"w{number} r{round_} a", f"w{number} r{round_} b"
        for command in (
            ClientCommand(SEND, first.encode()),
            ClientCommand(SEND, second.encode()),
            ClientCommand(RECEIVE),
            ClientCommand(RECEIVE),
        ):
            client.cmd_q.put(command)
        expected = [
            [SUCCESS, None],
            [SUCCESS, None],
            [SUCCESS, first],
            [SUCCESS, second],
        ]
        for position, want in enumerate(expected):
            got = reply_row(client.reply_q.get(True, WAIT))
            if got != want:
                wrong.append([f"worker {number}", round_ * 4 + position, got, want])


def producer(client: SocketClientThread) -> None:
    for number in range(PAIRS):
        client.cmd_q.put(ClientCommand(SEND, f"p{number}".encode()))
        client.cmd_q.put(ClientCommand(RECEIVE))


def consumer(client: SocketClientThread, wrong: list[Any]) -> None:
    for number in range(PAIRS):
        for position, want in enumerate([[SUCCESS, None], [SUCCESS, f"p{number}"]]):
            got = reply_row(client.reply_q.get(True, WAIT))
            if got != want:
                wrong.append(["producer", number * 2 + position, got, want])


def closed_after_join(clients: list[SocketClientThread]) -> tuple[list[Any], int, int]:
    """
    Join each client while a RECEIVE waits; return the wrong replies, how
    many are still alive, and how many connections never closed.
    """
    reactor = clients[0]._runtime.reactor  # type: ignore[union-attr]
    gone = [threading.Event() for _ in clients]
    watching = threading.Event()

    def watch() -> None:  # on the reactor's thread, before anything is joined
        for client, event in zip(clients, gone, strict=True):
            native = client._session._client  # type: ignore[union-attr]
            native.when_closed().addCallback(lambda _, event=event: event.set())
        watching.set()

    reactor.callFromThread(watch)
    assert watching.wait(WAIT)
    wrong = []
    for number, client in enumerate(clients):
        client.cmd_q.put(ClientCommand(RECEIVE))
        client.join(WAIT)
        got = reply_row(client.reply_q.get(True, WAIT))
        if got != [ClientReply.ERROR, STOPPED_BY_JOIN]:
            wrong.append([f"join {number}", 0, got, STOPPED_BY_JOIN])
    alive = sum(client.is_alive() for client in clients)
    open_ = sum(not event.wait(WAIT) for event in gone)
    return wrong, alive, open_


def io_thread_views(client: SocketClientThread) -> list[bool]:
    """isInIOThread() outside, inside work run on the reactor's behalf, after."""
    seen = [threadable.isInIOThread()]
    runtime = client._runtime
    assert runtime is not None
    ran = runtime.run_inline(lambda: seen.append(threadable.isInIOThread()), None)
    assert ran, "the inline path is not in use"
    seen.append(threadable.isInIOThread())
    return seen


def main() -> None:
    port = int(sys.argv[1])
    wrong: list[Any] = []
    clients = [connected(port) for _ in range(WORKERS)]
    fed = connected(port)
    threads = [
        threading.Thread(target=worker, args=(number, client, wrong))
        for number, client in enumerate(clients)
    ]
    threads.append(threading.Thread(target=producer, args=(fed,)))
    threads.append(threading.Thread(target=consumer, args=(fed, wrong)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 10)
    stuck = sum(thread.is_alive() for thread in threads)
    left_over = sum(client.reply_q.qsize() for client in [*clients, fed])
    views = io_thread_views(fed)
    join_wrong, alive, never_closed = closed_after_join(clients)
    fed.join(WAIT)
    report = {
        "wrong": (wrong + join_wrong)[:10],
        "wrong_count": len(wrong) + len(join_wrong),
        "stuck_threads": stuck,
        "left_over": left_over,
        "alive_after_join": alive + fed.is_alive(),
        "never_closed": never_closed,
        "io_thread": views,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
