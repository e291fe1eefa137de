"""
A thread waiting in ``reply_q.get`` for a RECEIVE's reply reads the message
itself (script mode), and the reactor's thread still does when it waits too
long.

    python -m tests.compat_programs.getter_reads

Each RECEIVE is put before the server answers, so it must wait. Rounds of
three kinds, the server told when to answer by the test:
* ``ROUNDS`` times at once: the waiting ``get`` reads the echo in this thread
  (`twisted_client.compat._inline`), which the report counts by the name of
  the thread that parsed it;
* once 0.2 s later, after the socket's hold ended: the reactor's thread reads
  it, and ``get`` returns it all the same;
* once after a ``get`` with a 50 ms timeout raised `queue.Empty`: the next
  ``get`` has the reply.

Prints one JSON line: the replies that came back wrong, the number of echoes
parsed per thread name, whether the short get raised Empty, and whether the
client was alive after join.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections import Counter

from tests.compat_programs.peers import RawServer, frame, read_frame
from twisted_client._framing import LengthPrefixedProtocol
from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread

ROUNDS = 200
WAIT = 20.0  # seconds any single step may take before the run counts it stuck

parsed_by: Counter[str] = Counter()
_parse = LengthPrefixedProtocol.buffer_received  # where each TCP read arrives


def counting(self: LengthPrefixedProtocol, buffer: memoryview, size: int) -> None:
    parsed_by[threading.current_thread().name] += 1
    _parse(self, buffer, size)


def main() -> None:
    LengthPrefixedProtocol.buffer_received = counting  # type: ignore[method-assign]
    answer = threading.Semaphore(0)
    delays = [0.0] * ROUNDS + [0.2, 0.0]

    def script(connection: socket.socket) -> None:
        for delay in delays:
            message = read_frame(connection)
            answer.acquire(timeout=WAIT)
            time.sleep(delay)  # the peer's pace, part of the scenario
            connection.sendall(frame(message))

    with RawServer(script) as server:
        client = SocketClientThread()
        client.start()

        def put(kind: int, data: object = None) -> None:
            client.cmd_q.put(ClientCommand(kind, data))

        def get(timeout: float = WAIT) -> ClientReply:
            reply: ClientReply = client.reply_q.get(True, timeout)
            return reply

        put(ClientCommand.CONNECT, ("127.0.0.1", server.port))
        get()
        parsed_by.clear()
        wrong = 0
        for number in range(ROUNDS + 1):
            message = f"message {number}".encode()
            put(ClientCommand.SEND, message)
            put(ClientCommand.RECEIVE)
            answer.release()  # the RECEIVE is queued: now the server answers
            wrong += get().type != ClientReply.SUCCESS
            wrong += get().data != message
        put(ClientCommand.SEND, b"last")
        put(ClientCommand.RECEIVE)
        get()
        try:
            get(0.05)
            short_get_empty = False
        except queue.Empty:
            short_get_empty = True
        answer.release()
        wrong += get().data != b"last"
        client.join(5.0)
    report = {
        "wrong": wrong,
        "parsed_by": dict(parsed_by),
        "short_get_empty": short_get_empty,
        "alive_after_join": client.is_alive(),
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
