"""
A socket the putting thread reads for itself, then leaves: the reactor reads
what the server pushes unasked all the same (script mode).

    python -m tests.compat_programs.held_socket

A SEND run in the putting thread stops the reactor's poll from waking for
the reply, which that thread reads itself (`twisted_client.compat._inline`).
Here the thread takes the echo that way and then puts no command at all,
while the server pushes ``PUSHED`` messages of 64 KiB unasked, more than the
kernel's buffers hold: the server's ``sendall`` only completes once the
reactor's thread reads them, so the hold must end by itself. Then every
pushed message is received, in order.

Prints one JSON line: the echo's reply, whether the push completed within
``WAIT`` seconds, how many pushed messages came back wrong, and whether the
client was still alive after join.
"""

from __future__ import annotations

import json
import socket
import threading

from tests.compat_programs.peers import RawServer, frame, read_frame
from tests.compat_programs.seed import reply_row
from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread

PUSHED = 256  # 16 MiB: more than loopback's socket buffers, under max_buffered
SIZE = 64 * 1024
WAIT = 20.0  # seconds any single step may take before the run counts it stuck


def pushed_message(number: int) -> bytes:
    """The ``number``-th message the server pushes."""
    return number.to_bytes(4, "little") * (SIZE // 4)


def main() -> None:
    echoed = threading.Event()
    pushed = threading.Event()

    def script(connection: socket.socket) -> None:
        connection.sendall(frame(read_frame(connection)))
        echoed.set()
        connection.settimeout(WAIT * 2)
        for number in range(PUSHED):
            connection.sendall(frame(pushed_message(number)))
        pushed.set()
        read_frame(connection)  # the test's last SEND: then it may close

    with RawServer(script) as server:
        client = SocketClientThread()
        client.start()

        def command(kind: int, data: object = None) -> ClientReply:
            client.cmd_q.put(ClientCommand(kind, data))
            reply: ClientReply = client.reply_q.get(True, WAIT)
            return reply

        command(ClientCommand.CONNECT, ("127.0.0.1", server.port))
        command(ClientCommand.SEND, b"hello")
        echoed.wait(WAIT)  # the echo is in the kernel: RECEIVE reads it here
        echo = command(ClientCommand.RECEIVE)
        push_completed = pushed.wait(WAIT)  # no command meanwhile
        wrong = sum(
            command(ClientCommand.RECEIVE).data != pushed_message(number)
            for number in range(PUSHED if push_completed else 0)
        )
        command(ClientCommand.SEND, b"bye")
        client.join(5.0)
    report = {
        "echo": reply_row(echo),
        "push_completed": push_completed,
        "wrong": wrong,
        "alive_after_join": client.is_alive(),
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
