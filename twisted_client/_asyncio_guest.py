"""`GuestReactor`: Twisted's asyncio reactor as a guest on someone else's loop."""

from __future__ import annotations

import asyncio

from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.error import ReactorNotRunning
from twisted.python.failure import Failure

__all__ = ["GuestReactor"]


class GuestReactor(AsyncioSelectorReactor):
    """
    Twisted's asyncio reactor as a guest on a loop that someone else runs.

    The stock reactor owns its loop: its shutdown stops the loop, which in
    `asyncio.run` ends the program with "Event loop stopped before Future
    completed". This one leaves the loop running, and `leave_loop` takes its
    last descriptor and timer off the loop once it has shut down.
    """

    def crash(self) -> None:
        """Stop running as Twisted's reactors do, without stopping the loop."""
        super(AsyncioSelectorReactor, self).crash()

    def leave_loop(self) -> None:
        """After shutdown: close the waker, unregister it, cancel the timer."""
        if self.waker is not None:
            self.removeReader(self.waker)  # type: ignore[no-untyped-call]
            self.waker.connectionLost(Failure(ReactorNotRunning()))
            self.waker = None
        timer: asyncio.TimerHandle | None = self._timerHandle
        if timer is not None:  # calls still pending stay uncalled
            timer.cancel()
            self._timerHandle = None
