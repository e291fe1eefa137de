"""
The demo and test server: echoes each message, or answers a fixed one.

Run it with ``python -m twisted_client.server`` (or ``twisted-client-server``);
start it in-process with `listen`. It speaks the format of the classic socket
client thread (4-byte little-endian length, then the bytes), over TCP or
TLS, and serves any number of clients.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from ._checks import check_seconds, seconds_argument
from ._errors import UsageError
from ._framing import DEFAULT_MAX_LENGTH, LengthPrefixedProtocol, check_max_length
from ._reactor_types import ListenReactor, as_clock
from ._server_tls import ServerTLS, server_tls_options

if TYPE_CHECKING:
    from twisted.internet.interfaces import (
        IDelayedCall,
        IListeningPort,
        IReactorSSL,
        IReactorTime,
    )

__all__ = ["DEFAULT_PORT", "ServerProtocol", "listen", "listening_address", "main"]

DEFAULT_PORT = 50007
"""The port the classic socket client thread's example uses."""


class ServerProtocol(LengthPrefixedProtocol):
    """
    One server connection: answers every message, in order, after ``delay``.

    The answer is ``reply`` when given, else the message itself. With
    ``push_every``, it also sends ``push <n>`` messages unasked at that period.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        *,
        delay: float = 0.0,
        reply: bytes | None = None,
        push_every: float | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        super().__init__(max_length)
        self._reactor = reactor
        self._delay = delay
        self._reply = reply
        self._push_every = push_every
        self._pushes = 0
        self._pusher: LoopingCall | None = None
        self._due: deque[tuple[float, bytes]] = deque()
        self._timer: IDelayedCall | None = None

    def connectionMade(self) -> None:
        """Start pushing, if asked to."""
        if self._push_every is not None:
            self._pusher = LoopingCall(self._push)
            self._pusher.clock = self._reactor
            self._pusher.start(self._push_every, now=False)

    def message_received(self, message: bytes) -> None:
        """Answer now, or queue the answer for ``delay`` seconds from now."""
        answer = self._reply if self._reply is not None else message
        if self._delay <= 0 and not self._due:
            self.send_message(answer)
            return
        self._due.append((self._reactor.seconds() + self._delay, answer))
        if self._timer is None:
            self._schedule()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Forget pending answers and stop pushing."""
        self._due.clear()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._pusher is not None and self._pusher.running:
            self._pusher.stop()

    def _schedule(self) -> None:
        due, _ = self._due[0]
        wait = max(0.0, due - self._reactor.seconds())
        self._timer = self._reactor.callLater(wait, self._answer_due)

    def _answer_due(self) -> None:
        self._timer = None
        now = self._reactor.seconds()
        while self._due and self._due[0][0] <= now:
            self.send_message(self._due.popleft()[1])
        if self._due:
            self._schedule()

    def _push(self) -> None:
        self._pushes += 1
        self.send_message(b"push %d" % self._pushes)


def listen(
    reactor: ListenReactor,
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    delay: float = 0.0,
    reply: bytes | None = None,
    push_every: float | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    backlog: int = 1024,
    tls: ServerTLS | None = None,
) -> IListeningPort:
    """
    Start the server on ``host``:``port`` (0 picks a free port) and return the port.

    `listening_address` tells which address and port were chosen;
    ``port.stopListening()`` stops accepting (connections already made stay
    open).

    With ``tls``, a ``(certificate, key)`` pair (PEM bytes or file paths) or
    a Twisted server TLS context factory, it serves over TLS
    (``reactor.listenSSL``); clients connect with `connect_tls`.

    Raises:
        UsageError: ``delay`` is not a finite number >= 0, ``push_every`` not
            None or a finite number > 0, ``max_length`` out of range, or
            ``tls`` unusable (unreadable, not a certificate and its key, or
            pyOpenSSL missing).
    """
    check_seconds("delay", delay)
    check_seconds("push_every", push_every, allow_none=True, positive=True)
    check_max_length(max_length)
    context = server_tls_options(tls) if tls is not None else None
    clock = as_clock(reactor)

    def build() -> ServerProtocol:
        return ServerProtocol(
            clock,
            delay=delay,
            reply=reply,
            push_every=push_every,
            max_length=max_length,
        )

    # forProtocol builds an instance of the class it is called on; its
    # annotation says Factory whatever the class.
    factory = cast("ServerFactory[ServerProtocol]", ServerFactory.forProtocol(build))
    if context is not None:
        # Every reactor with TCP has TLS too (pyOpenSSL permitting, which
        # server_tls_options checked); the type says TCP only, so that the
        # global reactor, typed without IReactorSSL, is accepted.
        secure: IListeningPort = cast("IReactorSSL", reactor).listenSSL(
            port, factory, context, backlog=backlog, interface=host
        )
        return secure
    listening: IListeningPort = reactor.listenTCP(
        port, factory, backlog=backlog, interface=host
    )
    return listening


def listening_address(port: IListeningPort) -> IPv4Address | IPv6Address:
    """
    The address a TCP or TLS listening port is bound to.

    ``listening_address(listen(reactor)).port`` is the port number that
    ``listen(reactor, 0)`` picked; ``.host`` the interface.

    Raises:
        UsageError: ``port`` listens on something other than TCP (a UNIX
            socket, say).
    """
    address = port.getHost()
    if not isinstance(address, IPv4Address | IPv6Address):
        raise UsageError(f"{port!r} does not listen on TCP: it is bound to {address!r}")
    return address


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m twisted_client.server",
        description="Serve 4-byte little-endian length-prefixed messages: "
        "echo each one, or answer a fixed reply.",
        epilog="examples: 'python -m twisted_client.server' serves the classic "
        "example's clients on port 50007 (Ctrl-C stops it); "
        "'--port 0 --reply tuxy --delay 1.5' answers tuxy after 1.5 s on a "
        "free port, printed first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one"
    )
    parser.add_argument(
        "--delay",
        type=seconds_argument(),
        default=0.0,
        metavar="SECONDS",
        help="seconds to wait before answering",
    )
    parser.add_argument(
        "--reply",
        help="answer this text instead of echoing (the classic example's: tuxy)",
    )
    parser.add_argument(
        "--push-every",
        type=seconds_argument(positive=True),
        metavar="SECONDS",
        help="also send 'push N' messages unasked at this period",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        default=DEFAULT_MAX_LENGTH,
        help="longest message accepted (bytes)",
    )
    parser.add_argument(
        "--tls",
        nargs=2,
        metavar=("CERT", "KEY"),
        help="serve over TLS with this certificate and private key (PEM files; "
        "needs pyOpenSSL: pip install 'twisted-qt-client[tls]')",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port < 65536:
        parser.error("--port must be from 0 to 65535")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; first print ``listening on HOST:PORT``."""
    args = _parse_args(argv)
    from twisted.internet import reactor

    try:
        port = listen(
            reactor,
            args.port,
            args.host,
            delay=args.delay,
            reply=args.reply.encode() if args.reply is not None else None,
            push_every=args.push_every,
            max_length=args.max_length,
            tls=tuple(args.tls) if args.tls is not None else None,
        )
    except Exception as error:  # CannotListenError, an unknown address, bad --tls
        print(f"cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    address = listening_address(port)
    shown = f"[{address.host}]" if ":" in address.host else address.host
    print(f"listening on {shown}:{address.port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
