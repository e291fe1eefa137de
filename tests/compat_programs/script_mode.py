"""
The seed's ``__main__`` on the drop-in, as a plain script (no Qt): three
clients, each CONNECT / SEND / RECEIVE / CLOSE with a blocking
``reply_q.get(True)`` after every command, in the main thread.

    python -m tests.compat_programs.script_mode PORT

Prints one JSON line: the replies, the threads that ran, the reactor's type.
A fourth client is left with a RECEIVE waiting and is never joined: the
process must still exit by itself when the main thread ends.
"""

from __future__ import annotations

import json
import sys
import threading

from tests.compat_programs.seed import reply_row, seed_commands
from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread


def main() -> None:
    port = int(sys.argv[1])
    clients = [SocketClientThread() for _ in range(3)]
    for client in clients:
        client.start()
    replies = []
    for client in clients:
        for command in seed_commands(port):
            client.cmd_q.put(command)
            reply: ClientReply = client.reply_q.get(True)
            replies.append(reply_row(reply))
    forgotten = SocketClientThread()
    forgotten.start()
    forgotten.cmd_q.put(ClientCommand(ClientCommand.CONNECT, ("127.0.0.1", port)))
    replies.append([forgotten.reply_q.get(True).type, "forgotten"])
    forgotten.cmd_q.put(ClientCommand(ClientCommand.RECEIVE))  # never answered
    from twisted.internet import reactor

    report = {
        "replies": replies,
        "threads": sorted(thread.name for thread in threading.enumerate()),
        "reactor": type(reactor).__name__,
        "qt_imported": any(
            f"{name}.QtCore" in sys.modules for name in ("PyQt5", "PyQt6", "PySide6")
        ),
    }
    for client in clients:
        client.join()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
