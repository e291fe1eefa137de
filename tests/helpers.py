"""
Helpers shared by the test modules (fixtures live in `tests/conftest.py`).

* ``success_of``, ``failure_of`` and ``assert_no_result``: trial's
  `SynchronousTestCase` checks of a Deferred's result (one instance for the
  whole suite), and ``error_of``: the exception a failed Deferred holds.
* ``run_python``: a child Python program from the repository root, its
  output captured, with a timeout; ``finish`` and ``stop_all`` for the
  programs a test starts with `subprocess.Popen`.
* The compat drop-in's reply kinds and command kinds under short names, and
  `Adapter`: a started `compat.SocketClientThread` whose replies arrive in a
  `DeferredQueue`, so a test awaits them instead of polling.
* `Listening`: loopback servers started for one test (the ``listening``
  fixture stops them after it).
* ``connected``: a client connected to a `MemoryServer`, and its peer;
  ``observing``: Twisted's global log seen by an observer in a block;
  ``tls_missing``: TLS's libraries hidden, and the install hint expected.
* ``wait_in_kernel``: return once bytes sent over loopback wait in a
  socket, unread.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from twisted.internet.defer import Deferred, DeferredQueue, gatherResults
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from twisted_client import Client, UsageError, connect_endpoint
from twisted_client.compat import ClientCommand, ClientReply, SocketClientThread
from twisted_client.server import listen
from twisted_client.testing import MemoryServer, MessagePeer

_trial = SynchronousTestCase()


def wait_in_kernel(sock: socket.socket, size: int) -> None:
    """
    Return once ``size`` bytes wait in non-blocking ``sock``, unread.

    A wait for loopback bytes in flight (microseconds), not a read: they
    stay for the code under test to read. At most 10 s.
    """
    sock.settimeout(10.0)
    try:
        peeked = sock.recv(size, socket.MSG_PEEK | socket.MSG_WAITALL)
    finally:
        sock.setblocking(False)
    assert len(peeked) == size


success_of = _trial.successResultOf
failure_of = _trial.failureResultOf
assert_no_result = _trial.assertNoResult


def error_of(deferred: Deferred[Any]) -> BaseException:
    """The exception ``deferred`` has failed with already; the test fails if
    it has not fired or succeeded (trial's ``failureResultOf``)."""
    return failure_of(deferred).value


SUCCESS, ERROR = ClientReply.SUCCESS, ClientReply.ERROR
CONNECT, SEND, RECEIVE, CLOSE = (
    ClientCommand.CONNECT,
    ClientCommand.SEND,
    ClientCommand.RECEIVE,
    ClientCommand.CLOSE,
)


class Adapter:
    """A started drop-in whose replies arrive in a DeferredQueue (no polling)."""

    def __init__(self, reactor: Any, **options: Any) -> None:
        self.replies: DeferredQueue[ClientReply] = DeferredQueue()
        self.thread = SocketClientThread(
            reactor=reactor, on_reply=self.replies.put, **options
        )
        self.thread.start()

    def put(self, kind: int, data: Any = None) -> None:
        """Queue one command, as the classic thread's callers do."""
        self.thread.cmd_q.put(ClientCommand(kind, data))

    async def reply(self) -> tuple[int, Any]:
        """The next reply as ``(type, data)``."""
        got = await self.replies.get()
        return got.type, got.data

    async def exchange(self, *commands: tuple[Any, ...]) -> list[tuple[int, Any]]:
        """Queue every command at once; await one reply per command."""
        for each in commands:
            self.put(*each)
        return [await self.reply() for _ in commands]

    def native(self) -> Any:
        """The Twisted `Client` under it (to look at its transport and buffers)."""
        return self.thread._session._client  # type: ignore[union-attr]


ROOT = Path(__file__).resolve().parent.parent
"""The repository root: child programs run from here."""


def run_python(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    """
    ``python ARGS`` (this interpreter) in ``cwd`` (default: the repository
    root), with ``env`` (default: this process's environment); its output
    captured as text. A
    program still running after ``timeout`` seconds is killed and the test
    fails with `subprocess.TimeoutExpired`, so a hang cannot stall the run.
    """
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def finish(
    process: subprocess.Popen[str], timeout: float, what: str = "the program"
) -> tuple[str, str]:
    """
    Wait for ``process`` to end; its ``(stdout, stderr)`` (stderr is ``""``
    when it goes to stdout). One still running after ``timeout`` seconds is
    killed and the test fails, showing what it printed.
    """
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{what} hung; it printed:\n{out[-3000:]}\n{err or ''}")
    return out, err or ""


def stop_all(processes: Iterable[subprocess.Popen[str]]) -> None:
    """Kill each of ``processes`` still running, and reap it."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


class Listening:
    """
    Loopback servers on free ports, started for one test: the ``listening``
    fixture stops every one after the test (`stop`).
    """

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self._ports: list[Any] = []

    def echo(self, **options: Any) -> Any:
        """The listening port of a demo server (`twisted_client.server.listen`
        with ``options``: an echo server unless they say otherwise)."""
        return self._keep(listen(self._reactor, 0, **options))

    def tcp(self, protocol: Callable[[], Protocol]) -> Any:
        """The listening port of a server giving each connection ``protocol()``."""
        factory = Factory.forProtocol(protocol)
        return self._keep(self._reactor.listenTCP(0, factory, interface="127.0.0.1"))

    def _keep(self, port: Any) -> Any:
        self._ports.append(port)
        return port

    def stop(self) -> Deferred[Any]:
        """Stop listening on every port; fires once all have stopped."""
        ports, self._ports = self._ports, []
        return gatherResults([port.stopListening() for port in ports])


def connected(server: MemoryServer, **options: Any) -> tuple[Client, MessagePeer]:
    """A client connected to ``server`` with ``options``, and the server's end."""
    connecting = connect_endpoint(server.reactor, server.endpoint, **options)
    peer = server.accept()
    return success_of(connecting), peer


@contextmanager
def observing(observer: Callable[[LogEvent], object]) -> Iterator[None]:
    """``observer`` sees every event of Twisted's global log inside the block."""
    as_observer = cast(ILogObserver, observer)  # any such callable is one
    globalLogPublisher.addObserver(as_observer)
    try:
        yield
    finally:
        globalLogPublisher.removeObserver(as_observer)


@contextmanager
def tls_missing(
    monkeypatch: pytest.MonkeyPatch, module: str = "service_identity"
) -> Iterator[None]:
    """
    ``module``, one of TLS's libraries, cannot be imported from here on (until
    the test ends); the block must raise the `UsageError` saying
    ``pip install twisted[tls]``.
    """
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(UsageError, match=r"pip install twisted\[tls\]"):
        yield
