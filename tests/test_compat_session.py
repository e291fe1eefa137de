"""
`compat._session.Session`, the drop-in's command engine, in memory: a
`MemoryReactorClock` for the reactor, a `StringTransport` for the socket,
time driven by hand. No threads, no sockets.
"""

from __future__ import annotations

import errno
import queue
from typing import Any

import pytest
from twisted.internet import error as twisted_errors
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_client import ConnectError, ConnectTimeout
from twisted_client.compat import ClientCommand
from twisted_client.compat._session import Session
from twisted_client.compat._texts import (
    CLOSED_LOCALLY,
    connect_error_text,
    os_error_text,
)

from .compat_programs.peers import frame
from .helpers import CONNECT, ERROR, RECEIVE, SEND, SUCCESS

# In memory with a Clock: the same in every pass, so it runs in the plain one.
pytestmark = pytest.mark.reactorless


class Harness:
    """A Session on a fake reactor, its command queue and the replies it gave."""

    def __init__(self, connect_timeout: float | None = 5.0) -> None:
        self.reactor = MemoryReactorClock()
        self.commands: queue.Queue[Any] = queue.Queue()
        self.replies: list[tuple[int, Any]] = []
        self.session = Session(
            self.reactor,
            self.commands.get_nowait,
            lambda reply: self.replies.append((reply.type, reply.data)),
            connect_timeout=connect_timeout,
        )

    def put(self, kind: int, data: Any = None) -> None:
        """Queue a command and pump, as the adapter does on every put."""
        self.commands.put(ClientCommand(kind, data))
        self.session.pump()

    def accept(self) -> tuple[Any, StringTransport]:
        """Complete the pending connection attempt; the protocol and transport."""
        factory = self.reactor.tcpClients[-1][2]
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport


def test_commands_wait_for_the_one_before() -> None:
    """Commands queued behind a CONNECT wait for it; then each runs in turn and
    a message fed one byte at a time completes the RECEIVE."""
    harness = Harness()
    harness.put(CONNECT, ("127.0.0.1", 50007))
    harness.put(SEND, b"hello")
    harness.put(RECEIVE)
    assert harness.replies == []
    assert harness.session.busy
    assert harness.commands.qsize() == 2  # taken one at a time, as the seed does
    protocol, transport = harness.accept()
    assert harness.replies == [(SUCCESS, None), (SUCCESS, None)]
    assert transport.value() == frame(b"hello")
    for byte in frame(b"tuxy"):
        protocol.dataReceived(bytes([byte]))
    assert harness.replies[2:] == [(SUCCESS, b"tuxy")]
    assert not harness.session.busy


def test_connect_timeout() -> None:
    """A CONNECT that takes longer than connect_timeout gets the text of the
    OS's own connect timeout, '[Errno 110] Connection timed out'."""
    harness = Harness(connect_timeout=5)
    harness.put(CONNECT, ("192.0.2.1", 50007))
    harness.reactor.advance(4.9)
    assert harness.replies == []
    harness.reactor.advance(0.2)
    assert harness.replies == [(ERROR, "[Errno 110] Connection timed out")]


def test_no_timer_while_connected_and_waiting() -> None:
    """Once connected, nothing is scheduled on the reactor, not even while a
    RECEIVE waits: nothing wakes up until data or a command arrives."""
    harness = Harness(connect_timeout=5)
    harness.put(CONNECT, ("127.0.0.1", 50007))
    harness.accept()
    harness.put(RECEIVE)
    assert harness.reactor.getDelayedCalls() == []


def test_stop_answers_the_running_command() -> None:
    """stop() answers the running command with the given text, abandons its
    operation, and takes no more commands."""
    harness = Harness()
    harness.put(CONNECT, ("127.0.0.1", 50007))
    harness.put(RECEIVE)
    connector = harness.reactor.connectors[-1]
    harness.session.stop("stopped")
    assert harness.replies == [(ERROR, "stopped")]
    assert connector.stoppedConnecting
    harness.session.pump()
    assert harness.replies == [(ERROR, "stopped")]
    assert harness.commands.qsize() == 1


def test_reset_and_clean_close_texts() -> None:
    """A connection lost uncleanly gives the reset text; one closed cleanly in
    the middle of a message gives 'Socket closed prematurely'."""
    harness = Harness()
    harness.put(CONNECT, ("127.0.0.1", 50007))
    protocol, _ = harness.accept()
    harness.put(RECEIVE)
    protocol.connectionLost(Failure(twisted_errors.ConnectionLost()))
    harness.put(SEND, b"x")
    assert harness.replies[1:] == [
        (ERROR, "[Errno 104] Connection reset by peer"),
        (ERROR, "[Errno 104] Connection reset by peer"),
    ]
    harness.put(CONNECT, ("127.0.0.1", 50007))
    protocol, _ = harness.accept()
    harness.put(RECEIVE)
    protocol.dataReceived(frame(b"cut short")[:6])
    protocol.connectionLost(Failure(twisted_errors.ConnectionDone()))
    assert harness.replies[3:] == [
        (SUCCESS, None),
        (ERROR, "Socket closed prematurely"),
    ]


def test_reactor_shutdown_says_the_client_was_closed_locally() -> None:
    """A RECEIVE pending when the reactor stops (the program quits) gets an
    ERROR saying the client was closed locally, not the reset text that
    blames the peer; so does a SEND after it."""
    harness = Harness()
    harness.put(CONNECT, ("127.0.0.1", 50007))
    protocol, _ = harness.accept()
    harness.put(RECEIVE)
    for trigger, args, kwargs in harness.reactor.triggers["before"]["shutdown"]:
        trigger(*args, **kwargs)
    protocol.connectionLost(Failure(twisted_errors.ConnectionLost()))
    harness.put(SEND, b"x")
    assert harness.replies[1:] == [(ERROR, CLOSED_LOCALLY), (ERROR, CLOSED_LOCALLY)]
    assert "closed locally" in CLOSED_LOCALLY
    assert "quitting" in CLOSED_LOCALLY


def test_connect_error_texts() -> None:
    """Connect failures map to the str() of the OSError the seed's socket raises
    for the same errno; other reasons keep their own text."""
    refused = twisted_errors.ConnectionRefusedError()
    no_route = twisted_errors.NoRouteError(errno.EHOSTUNREACH, "unreachable")
    assert connect_error_text(ConnectError("h:1", refused)) == (
        "[Errno 111] Connection refused"
    )
    assert connect_error_text(ConnectError("h:1", no_route)) == (
        os_error_text(errno.EHOSTUNREACH)
    )
    assert connect_error_text(ConnectTimeout("h:1", 5)) == (
        "[Errno 110] Connection timed out"
    )
    assert connect_error_text(ConnectError("h:1", ValueError("odd"))) == "odd"
