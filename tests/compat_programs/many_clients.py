"""
Many drop-in clients at once, in script mode.

    python -m tests.compat_programs.many_clients PORT COUNT

Starts COUNT clients, queues CONNECT / SEND / RECEIVE / CLOSE on each at
once, then takes every reply with a blocking get in the main thread. Prints
one JSON line: how many exchanges succeeded, and the most threads alive at
any of the checks.
"""

from __future__ import annotations

import json
import sys
import threading

from tests.compat_programs.seed import seed_commands
from twisted_client.compat import ClientReply, SocketClientThread


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    clients = [SocketClientThread() for _ in range(count)]
    peak = threading.active_count()
    for number, client in enumerate(clients):
        client.start()
        message = b"client %d" % number
        for command in seed_commands(port, "127.0.0.1", message):
            client.cmd_q.put(command)
        peak = max(peak, threading.active_count())
    succeeded = 0
    errors = []
    for number, client in enumerate(clients):
        replies: list[ClientReply] = [client.reply_q.get(True, 60) for _ in range(4)]
        peak = max(peak, threading.active_count())
        expected = [None, None, b"client %d" % number, None]
        if [r.type for r in replies] == [ClientReply.SUCCESS] * 4 and [
            r.data for r in replies
        ] == expected:
            succeeded += 1
        else:
            errors.append(repr(replies))
    for client in clients:
        client.join()
    report = {"succeeded": succeeded, "peak_threads": peak, "errors": errors[:5]}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
