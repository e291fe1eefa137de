"""
`Qt5Reactor`: stock qt5reactor with its lifecycle traps removed.

It is a `qt5reactor.QtReactor` (so ``pytest --reactor=qt5reactor`` accepts
it) that keeps qt5reactor's way of watching sockets (one QSocketNotifier per
reader and per writer) and gains what `QtLifecycleMixin` fixes: ``stop()``
from a Qt slot takes effect at once, quitting the application stops the
reactor, no hang at exit, SIGINT/SIGTERM end the program, calls from threads
run once even inside nested event loops. A timed call moved sooner
(``DelayedCall.reset``) from a Qt slot fires on time too.

Inside a nested event loop (a modal dialog opened by a callback) qt5reactor
goes on working, except for the socket whose callback opened the loop: its
notifier stays disabled until that callback returns.
"""

from __future__ import annotations

from typing import Any

import qt5reactor
from twisted.internet.base import DelayedCall

from ._lifecycle import QtLifecycleMixin

__all__ = ["Qt5Reactor", "install"]


class Qt5Reactor(QtLifecycleMixin, qt5reactor.QtReactor):  # type: ignore[misc]
    """qt5reactor's `QtReactor` with the lifecycle fixes of `QtLifecycleMixin`."""

    def __init__(self) -> None:
        super().__init__()
        self._blockApp: Any = None  # our run() blocks; qt5reactor's must not

    def _start_driving(self) -> None:
        self.reactorInvocation()

    def _stop_driving(self) -> None:
        self._timer.stop()

    def _wake(self) -> None:
        self.reactorInvocation()

    def _moveCallLaterSooner(self, delayedCall: DelayedCall) -> None:  # noqa: N803
        """A call moved sooner (``reset``) re-arms the timer, as callLater does."""
        super()._moveCallLaterSooner(delayedCall)
        self.reactorInvocation()

    def _iterate(self, delay: float | None = None, fromqt: bool = False) -> None:
        if fromqt and not self._started:
            return  # a stopped reactor runs nothing, whatever Qt delivers
        super()._iterate(delay, fromqt=fromqt)

    def iterate_qt(self, delay: float | None = None) -> None:
        """Iterate because qt5reactor's timer fired (not once stopped)."""
        if self._started:
            super().iterate_qt(delay)


def install() -> Qt5Reactor:
    """Install a `Qt5Reactor` as the global reactor (the QApplication first)."""
    from twisted.internet.main import installReactor

    reactor = Qt5Reactor()
    installReactor(reactor)
    return reactor
