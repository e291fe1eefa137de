"""
The seed demo's two QTimers, shared by the GUI-mode compat program and tests:
its 25 ms animation, and its 100 ms poll of ``reply_q.get(block=False)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted_client.qt import binding

ANIMATION_MS = 25
"""The seed demo's animation period."""

POLL_MS = 100
"""How often the seed demo's QTimer takes a reply from ``reply_q``."""


def start_seed_timers(
    animate: Callable[[], None], poll: Callable[[], None]
) -> tuple[Any, Any]:
    """
    Start the seed demo's timers on the chosen binding: ``animate`` every
    `ANIMATION_MS`, ``poll`` every `POLL_MS`. Returns ``(animation, poller)``,
    the two QTimers: keep them (a QTimer without a reference is deleted), and
    stop them when done.
    """
    timer_class: Any = binding().QtCore.QTimer
    animation = timer_class()
    animation.timeout.connect(animate)
    animation.start(ANIMATION_MS)
    poller = timer_class()
    poller.timeout.connect(poll)
    poller.start(POLL_MS)
    return animation, poller
