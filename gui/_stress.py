"""
`StressRun`: stream many MiB through a backend while the window animates;
the `StressPlan` a run is given, the `StressCount` every run keeps, and the
`StressResult` it reports.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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

__all__ = ["StressCount", "StressPlan", "StressResult", "StressRun"]

CHUNK = 1024 * 1024
"""Bytes per message: 1 MiB."""

WINDOW = 8
"""Messages in flight at once (queued ahead of the replies)."""


@dataclass(frozen=True)
class StressResult:
    """What a stress run did: bytes each way, seconds, and the error if any."""

    sent: int
    received: int
    seconds: float
    error: str | None

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


@dataclass(frozen=True)
class StressPlan:
    """A stress run as asked for: stream ``messages`` MiB through the echo
    server at ``address`` and back, then give ``on_done`` the `StressResult`."""

    address: ServerAddress
    messages: int
    on_done: Callable[[StressResult], None]


class StressCount:
    """
    What every stress run keeps, however it streams: its `StressPlan`, the
    1 MiB payload, the bytes sent and received so far, the first error, and
    when it started (on ``clock``). `StressRun` streams with the classic
    commands, `gui._native.NativeStress` with a `QtClient`'s signals.
    """

    def __init__(self, plan: StressPlan, clock: Callable[[], float]) -> None:
        self.plan = plan
        self._clock = clock
        self._payload = bytes(range(256)) * (CHUNK // 256)
        self._sent = self._received = 0  # bytes
        self._error: str | None = None
        self._started = 0.0
        self.finished = False

    @property
    def received_mib(self) -> float:
        """MiB received back so far."""
        return self._received / 2**20

    def _begin(self) -> None:
        """The run starts now: `_report` times it from here."""
        self._started = self._clock()

    def _count_echo(self, echo: bytes) -> str | None:
        """Count ``echo`` as received; if it is not the payload, why the run ends."""
        self._received += len(echo)
        if len(echo) == len(self._payload):
            return None
        return (
            f"the server answered {len(echo)} bytes to a 1 MiB message: the "
            "stress needs an echo server (the embedded one, or python -m "
            "twisted_client.server)"
        )

    def _report(self) -> None:
        """Give the plan's ``on_done`` the `StressResult`, timed from `_begin`."""
        seconds = self._clock() - self._started
        self.plan.on_done(
            StressResult(self._sent, self._received, seconds, self._error)
        )


class StressRun(StressCount):
    """
    CONNECT, then ``messages`` pairs of SEND 1 MiB / RECEIVE, then CLOSE.

    At most `WINDOW` pairs are queued ahead, so the data in flight stays
    bounded. Feed every reply of the backend to `reply`; ``on_done`` gets the
    `StressResult` once the CLOSE reply arrived (or the first error did).
    """

    def __init__(
        self,
        backend: CommandBackend,
        plan: StressPlan,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(plan, clock)
        self._backend = backend
        self._queued = 0
        self._inflight: deque[int] = deque()

    def start(self) -> None:
        """Connect and queue the first messages."""
        self._begin()
        self._backend.set_drain(True)
        address = self.plan.address
        self._submit([ClientCommand(CONNECT, (address.host, address.port))])
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
            error = self._count_echo(reply.data)
            if error is not None:
                self._fail(error)
        if not self._inflight:
            self._finish()
            return
        self._top_up()

    def _fail(self, error: str) -> None:
        """Keep the first error, queue nothing more, and CLOSE."""
        if self._error is None:
            self._error = error
            self._queued = self.plan.messages + 1
            self._submit([ClientCommand(CLOSE)])

    def _top_up(self) -> None:
        while self._queued < self.plan.messages and len(self._inflight) < 2 * WINDOW:
            self._queued += 1
            self._submit([ClientCommand(SEND, self._payload), ClientCommand(RECEIVE)])
        if self._queued == self.plan.messages:
            self._queued += 1  # CLOSE once, after the last pair
            self._submit([ClientCommand(CLOSE)])

    def _submit(self, commands: list[ClientCommand]) -> None:
        self._inflight.extend(command.type for command in commands)
        self._backend.submit(commands)

    def _finish(self) -> None:
        self.finished = True
        self._backend.set_drain(False)
        self._report()
