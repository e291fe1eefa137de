"""`StressRun`: stream many MiB through a backend while the window animates."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ._commands import (
    CLOSE,
    COMMAND_NAMES,
    CONNECT,
    RECEIVE,
    SEND,
    ClientCommand,
    CommandBackend,
    Reply,
    describe_data,
)
from ._options import ServerAddress

__all__ = ["StressResult", "StressRun"]

CHUNK = 1024 * 1024
"""Bytes per message: 1 MiB."""

WINDOW = 8
"""Messages in flight at once (queued ahead of the replies)."""


class StressResult:
    """What a stress run did: bytes each way, seconds, and the error if any."""

    def __init__(self, sent: int, received: int, seconds: float, error: str | None):
        self.sent = sent
        self.received = received
        self.seconds = seconds
        self.error = error

    @property
    def ok(self) -> bool:
        """True when every message came back and nothing failed."""
        return self.error is None

    def __str__(self) -> str:
        mib = 1024 * 1024
        rate = (self.sent + self.received) / mib / self.seconds if self.seconds else 0
        outcome = "done" if self.ok else f"ERROR: {self.error}"
        return (
            f"Stress {outcome}: {self.sent / mib:.0f} MiB sent, "
            f"{self.received / mib:.0f} MiB received in {self.seconds:.2f} s "
            f"({rate:.0f} MiB/s both ways)"
        )


class StressRun:
    """
    CONNECT, then ``messages`` pairs of SEND 1 MiB / RECEIVE, then CLOSE.

    At most `WINDOW` pairs are queued ahead, so the data in flight stays
    bounded. Feed every reply of the backend to `reply`; ``on_done`` gets the
    `StressResult` once the CLOSE reply arrived (or the first error did).
    """

    def __init__(
        self,
        backend: CommandBackend,
        address: ServerAddress,
        messages: int,
        on_done: Callable[[StressResult], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._address = address
        self._messages = messages
        self._on_done = on_done
        self._clock = clock
        self._payload = bytes(range(256)) * (CHUNK // 256)
        self._queued = 0
        self._sent = 0
        self._received = 0
        self._inflight: deque[int] = deque()
        self._error: str | None = None
        self._started = 0.0
        self.finished = False

    @property
    def received_mib(self) -> float:
        """MiB received back so far."""
        return self._received / 2**20

    def start(self) -> None:
        """Connect and queue the first messages."""
        self._started = self._clock()
        self._backend.set_drain(True)
        self._submit([ClientCommand(CONNECT, (self._address.host, self._address.port))])
        self._top_up()

    def reply(self, reply: Reply) -> None:
        """Account for one reply of the backend."""
        if self.finished or not self._inflight:
            return
        answered = self._inflight.popleft()
        if not reply.ok:
            self._fail(f"{COMMAND_NAMES[answered]}: {describe_data(reply.data)}")
        elif answered == SEND:
            self._sent += len(self._payload)
        elif answered == RECEIVE and isinstance(reply.data, bytes):
            self._received += len(reply.data)
            if len(reply.data) != len(self._payload):
                self._fail(
                    f"the server answered {len(reply.data)} bytes to a 1 MiB "
                    "message: the stress needs an echo server (the embedded "
                    "one, or python -m twisted_client.server)"
                )
        if not self._inflight:
            self._finish()
            return
        self._top_up()

    def _fail(self, error: str) -> None:
        """Keep the first error, queue nothing more, and CLOSE."""
        if self._error is None:
            self._error = error
            self._queued = self._messages + 1
            self._submit([ClientCommand(CLOSE)])

    def _top_up(self) -> None:
        while self._queued < self._messages and len(self._inflight) < 2 * WINDOW:
            self._queued += 1
            self._submit([ClientCommand(SEND, self._payload), ClientCommand(RECEIVE)])
        if self._queued == self._messages:
            self._queued += 1  # CLOSE once, after the last pair
            self._submit([ClientCommand(CLOSE)])

    def _submit(self, commands: list[ClientCommand]) -> None:
        self._inflight.extend(command.type for command in commands)
        self._backend.submit(commands)

    def _finish(self) -> None:
        self.finished = True
        self._backend.set_drain(False)
        seconds = self._clock() - self._started
        self._on_done(StressResult(self._sent, self._received, seconds, self._error))
