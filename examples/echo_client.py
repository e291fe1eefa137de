"""
Talk to the demo server with `twisted_client`, using async/await.

    python -m twisted_client.server --port 50007 &
    python examples/echo_client.py [HOST] [PORT]

Sends three messages, prints the answers, then reads whatever the server
pushes for two seconds, and closes.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import defer, task

from twisted_client import ClientError, ReceiveTimeout, connect


async def main(reactor: Any, host: str = "127.0.0.1", port: str = "50007") -> None:
    """Connect, exchange a few messages, and close."""
    try:
        client = await connect(reactor, host, int(port), timeout=5)
    except ClientError as error:
        print(f"error: {error}")
        return
    for text in (b"hello", b"twisted", b"qt"):
        await client.send(text)
        print("answer:", await client.receive(timeout=5))
    deadline = reactor.seconds() + 2
    try:
        while (left := deadline - reactor.seconds()) > 0:
            print("pushed:", await client.receive(timeout=left))
    except ReceiveTimeout:
        pass
    except ClientError as error:
        print(f"error: {error}")
    await client.close()


if __name__ == "__main__":
    task.react(
        lambda reactor, *args: defer.ensureDeferred(main(reactor, *args)), sys.argv[1:]
    )
