"""argparse ``type=`` functions for the benchmark command lines' numbers."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["count", "finite"]


def count(minimum: int = 1) -> Callable[[str], int]:
    """An int option of at least ``minimum`` (a count of runs, messages, ...)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, not {value}")
        return value

    return parse


def finite(minimum: float = 0.0) -> Callable[[str], float]:
    """
    A float option of at least ``minimum``: NaN and infinities are refused.

    A NaN limit would make every comparison with it false, so a check
    against it would pass whatever was measured.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum:g}, not {value:g}")
        return value

    return parse
