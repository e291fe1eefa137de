"""`FrameMeter`: frames per second and the worst gap between frames."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FrameMeter"]


class FrameMeter:
    """
    Measures how regularly the animation runs, from the times of its frames.

    Call `tick` once per frame. `fps` and `worst_gap` describe the last
    ``window`` seconds (what the live meter shows); `frames` and
    `worst_gap_ever` describe the whole run (what the headless summary
    prints). A frozen GUI shows up as a large gap, whatever the average.
    """

    def __init__(
        self, window: float = 3.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not window > 0:
            raise ValueError(f"window must be > 0, not {window!r}")
        self.window = window
        self._clock = clock
        self._times: deque[float] = deque()
        self.frames = 0
        """Frames counted since the meter was made (or `reset`)."""
        self.worst_gap_ever = 0.0
        """The longest gap between two frames since the first one, in seconds."""

    def tick(self) -> None:
        """Record one frame, now."""
        now = self._clock()
        if self._times:
            self.worst_gap_ever = max(self.worst_gap_ever, now - self._times[-1])
        self._times.append(now)
        self.frames += 1
        self._forget_before(now - self.window)

    def reset(self) -> None:
        """Forget every frame: the next `tick` starts a new measurement."""
        self._times.clear()
        self.frames = 0
        self.worst_gap_ever = 0.0

    def fps(self) -> float:
        """Frames per second over the last ``window`` seconds (0 before two frames)."""
        self._forget_before(self._clock() - self.window)
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def worst_gap(self) -> float:
        """
        The longest gap between frames over the last ``window`` seconds.

        The time since the last frame counts as a gap too, so a GUI frozen
        right now shows a growing gap instead of the last good figure.
        """
        now = self._clock()
        self._forget_before(now - self.window)
        if not self._times:
            return 0.0
        gaps = [later - earlier for earlier, later in _pairs(self._times)]
        return max([now - self._times[-1], *gaps])

    def _forget_before(self, start: float) -> None:
        # Keep one frame older than the window: it starts the first gap.
        while len(self._times) > 1 and self._times[1] < start:
            self._times.popleft()


def _pairs(times: deque[float]) -> list[tuple[float, float]]:
    return list(itertools.pairwise(times))
