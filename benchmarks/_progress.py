"""The progress display: one updating line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Shows which measurement runs, how many are done, and the time so far."""

    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.began = time.monotonic()
        self.total = 0
        self.done = 0
        self._width = 0

    def start(self, total: int) -> None:
        """A new phase of ``total`` steps."""
        self.total = total
        self.done = 0

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.began)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def step(self, what: str, count: bool = False) -> None:
        """Say what starts now; ``count`` makes it one of the ``total`` steps."""
        if count:
            self.done += 1
        if self.quiet:
            return
        where = f"[{self.done:>3}/{self.total}] " if count and self.total else ""
        line = f"{self._elapsed()} {where}{what}"
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A message that stays on screen."""
        if self.quiet:
            return
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the updating line."""
        if self.tty and self._width and not self.quiet:
            self.stream.write("\n")
            self._width = 0
        self.stream.flush()
