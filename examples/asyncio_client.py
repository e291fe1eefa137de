"""
Talk to the demo server from an asyncio program.

    python -m twisted_client.server --port 50007 &
    python examples/asyncio_client.py [HOST] [PORT]
    python examples/asyncio_client.py --embedded    # with a server of its own

The program is plain ``asyncio.run(main())``: inside ``async with
asyncio_reactor()``, Twisted's reactor runs on the same loop, and
``as_future`` turns each Deferred (or a coroutine written as in Twisted) into
something asyncio awaits. Sends three messages, prints the answers, closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from twisted_client import Client, ClientError, as_future, asyncio_reactor, connect
from twisted_client.server import listen, listening_address


async def main(host: str, port: int, embedded: bool) -> int:
    """Connect, exchange three messages, close; 1 if it could not."""
    async with asyncio_reactor() as reactor:
        if embedded:
            port = listening_address(listen(reactor, 0, host)).port
        try:
            client = await as_future(connect(reactor, host, port, timeout=5))
            for text in (b"hello", b"asyncio"):
                await as_future(client.send(text))
                # asyncio's own timeout works on the future too.
                answer = await asyncio.wait_for(as_future(client.receive()), 5)
                print("answer:", answer)
            print("answer:", await as_future(last_exchange(client)))
        except ClientError as error:
            print(f"error: {error}")
            return 1
    return 0


async def last_exchange(client: Client) -> bytes:
    """A coroutine written as in Twisted: it awaits Deferreds, and closes the client."""
    async with client:
        await client.send(b"twisted")
        return await client.receive(timeout=5)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("host", nargs="?", default="127.0.0.1")
    parser.add_argument("port", nargs="?", type=int, default=50007)
    parser.add_argument(
        "--embedded", action="store_true", help="serve on a free port of this host"
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    sys.exit(asyncio.run(main(arguments.host, arguments.port, arguments.embedded)))
