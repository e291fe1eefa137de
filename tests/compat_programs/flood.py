"""
A drop-in client in script mode, connected and sent no RECEIVE, while its
server floods tiny messages.

    python -m tests.compat_programs.flood SIZE COUNT

The server is a plain blocking socket in a thread of this process; once
the client is connected it sends COUNT messages of SIZE bytes in one
``sendall``, then closes. The program waits until the client pauses
reading for flow control (the per-turn budget pauses it too, briefly) or
has read everything (and seen the close), then prints one JSON line:
whether reading paused, whether the connection ended, what the client
holds (messages, payload bytes, its limits), and how much traced memory
(tracemalloc) grew since before CONNECT.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import tracemalloc
from typing import Any

from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread


def serve(listener: socket.socket, blob: bytes, go: threading.Event) -> None:
    """Accept one connection, wait for ``go``, send ``blob`` and close."""
    connection, _ = listener.accept()
    go.wait()
    try:
        connection.sendall(blob)
    except OSError:
        return  # the client went away: the program is ending
    connection.close()


def main() -> None:
    size, count = int(sys.argv[1]), int(sys.argv[2])
    one = struct.pack("<L", size) + b"x" * size
    blob = one * count
    listener = socket.create_server(("127.0.0.1", 0))
    go, ended = threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=(listener, blob, go), daemon=True)
    server.start()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    client = SocketClientThread(max_length=64 * 1024)
    client.start()
    port = listener.getsockname()[1]
    client.cmd_q.put(ClientCommand(ClientCommand.CONNECT, ("127.0.0.1", port)))
    reply: ClientReply = client.reply_q.get(True, 30)
    assert reply.type == ClientReply.SUCCESS, reply.data
    runtime = client._runtime
    native = client._session._client  # type: ignore[union-attr]
    assert runtime is not None
    assert native is not None

    def watch_pause() -> None:
        protocol = native._protocol
        original = protocol.pause_reading

        def pause() -> None:
            original()
            if native.reading_paused:  # flow control, not the per-turn budget
                ended.set()

        protocol.pause_reading = pause  # type: ignore[method-assign]
        native.when_closed().addCallback(lambda _: ended.set())

    runtime.call_and_wait(watch_pause, 10)
    go.set()
    ended.wait(60)
    report: dict[str, Any] = {}

    def look() -> None:
        report.update(
            paused=native.reading_paused,
            closed=not native.is_open,
            buffered=native.buffered_messages,
            buffered_bytes=native.buffered_bytes,
            max_buffered=native.max_buffered,
            max_length=native.max_length,
            traced_growth=tracemalloc.get_traced_memory()[0] - before,
            mode=runtime.mode,
        )

    runtime.call_and_wait(look, 10)
    tracemalloc.stop()
    client.join()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
