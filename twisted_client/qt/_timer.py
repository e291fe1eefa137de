"""
`QtTimerDriven`: a Qt-driven reactor with one QTimer armed for the next call.

What `QtEPollReactor` and `QtNotifierReactor` share: a single-shot, precise
`QTimer` always armed for the earliest of the next timed call, a call from
another thread, or a stop; a new earlier ``callLater`` (or a call moved
sooner) re-arms it. How sockets are watched is the subclass's business.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable
from typing import Any

from twisted.internet.base import DelayedCall
from twisted.python import log

from ._binding import binding
from ._lifecycle import QtLifecycleMixin

__all__ = ["LONGEST_MS", "QtTimerDriven"]

# QTimer takes a signed 32-bit number of milliseconds.
LONGEST_MS = 2**31 - 1


class QtTimerDriven(QtLifecycleMixin):
    """
    Runs the reactor's turn when its one QTimer fires, and keeps it armed.

    A subclass calls `_make_timer` once Qt objects may be created, connects
    what it watches to `_turn` (or its own slot that ends in it), and may
    override `_poll_now` to dispatch ready I/O at the start of a turn.
    """

    _timer: Any = None
    _deadline: float = math.inf

    def _make_timer(self) -> None:
        """Create the single-shot precise QTimer whose timeout runs a turn."""
        qtcore = binding().QtCore
        self._timer = qtcore.QTimer()
        self._timer.setSingleShot(True)
        self._timer.setTimerType(qtcore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timer)

    def _on_timer(self) -> None:
        self._deadline = math.inf
        self._turn()

    def _poll_now(self) -> None:
        """Dispatch the I/O that is ready now (nothing, by default)."""

    def _turn(self, *_: object) -> None:
        """
        One iteration: dispatch ready I/O, run what is due, re-arm the timer.

        When the I/O scheduled nothing and nothing is due (the common case
        of a socket wake-up), the turn ends after the I/O without touching
        the timer: it is already armed for the earliest call (`callLater`
        keeps it so). Nothing is due when there is no call from a thread, no
        stop, no timed call added since the last run (``_newTimedCalls``),
        and either no timed call or the timer still armed (not the turn of
        its own firing, which may come a little before the call is due by
        `seconds`) and the earliest call not due. Arguments (a slot's) are
        ignored.
        """
        if not self._started:
            return
        rearm = True
        try:
            self._poll_now()
            if not (
                self._thread_calls
                or self.threadCallQueue
                or self._justStopped
                or self._newTimedCalls
            ):
                pending = self._pendingTimedCalls
                if not pending or (
                    self._deadline != math.inf and pending[0].time > self.seconds()
                ):
                    rearm = False
                    return
            self.runUntilCurrent()
        except KeyboardInterrupt:  # SIGINT without Twisted's handler
            self.sigInt(signal.SIGINT)
        except BaseException:  # nothing may escape into Qt
            log.err(None, "while running the reactor")
        finally:
            if rearm:
                self._rearm()

    def _rearm(self) -> None:
        if not self._started:
            return
        if self._thread_calls or self._justStopped:
            delay: float | None = 0.0
        else:
            delay = self.timeout()
        if delay is None:
            self._timer.stop()
            self._deadline = math.inf
        else:
            self._arm(delay)

    def _arm(self, delay: float) -> None:
        """Make sure a turn happens within ``delay`` seconds."""
        if self._timer is None:
            return
        deadline = self.seconds() + delay
        if self._timer.isActive() and deadline >= self._deadline:
            return
        self._deadline = deadline
        self._timer.start(min(LONGEST_MS, math.ceil(delay * 1000)))

    # -- IReactorTime: a new earliest call re-arms the timer -------------------

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> DelayedCall:
        """Call ``callable(*args, **kw)`` in ``delay`` seconds."""
        call = super().callLater(delay, callable, *args, **kw)
        if self._started and call.time < self._deadline:
            self._arm(delay)
        return call

    def _moveCallLaterSooner(self, delayedCall: DelayedCall) -> None:  # noqa: N803
        super()._moveCallLaterSooner(delayedCall)
        if self._started and delayedCall.time < self._deadline:
            self._arm(max(0.0, delayedCall.time - self.seconds()))
