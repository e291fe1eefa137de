"""Checks of the caller's arguments: a clear `UsageError` naming the argument."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._errors import UsageError

__all__ = [
    "check_backoff",
    "check_callback",
    "check_max_buffered",
    "check_seconds",
    "check_tls_available",
    "default_max_buffered",
    "seconds_argument",
]


def check_seconds(
    name: str, value: Any, *, allow_none: bool = False, positive: bool = False
) -> float | None:
    """
    ``value`` as a float number of seconds, or None when that is allowed.

    It must be a finite number (not a bool, NaN or an infinity: None is how
    to say "no limit" where there is one), > 0 when ``positive``, else >= 0.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "a number of seconds or None" if allow_none else "a number of seconds"
        raise UsageError(f"{name} must be {what}, not {value!r}")
    if not math.isfinite(value):
        hint = " (None means no limit)" if allow_none else ""
        raise UsageError(
            f"{name} must be a finite number of seconds{hint}, not {value!r}"
        )
    if not (value > 0 if positive else value >= 0):
        raise UsageError(
            f"{name} must be {'> 0' if positive else '>= 0'}, not {value!r}"
        )
    return float(value)


def check_backoff(initial_delay: Any, max_delay: Any, factor: Any, jitter: Any) -> None:
    """
    Check a reconnecting backoff: delays and jitter in seconds, ``factor`` >= 1.

    The delay after the n-th failure in a row is
    ``min(initial_delay * factor ** n, max_delay)`` plus up to ``jitter``.
    """
    for name, value in (
        ("initial_delay", initial_delay),
        ("max_delay", max_delay),
        ("jitter", jitter),
    ):
        check_seconds(name, value)
    if isinstance(factor, bool) or not isinstance(factor, int | float):
        raise UsageError(f"factor must be a number, not {factor!r}")
    if not 1 <= factor < math.inf:
        raise UsageError(f"factor must be a finite number >= 1, not {factor!r}")


def check_callback(name: str, value: object) -> None:
    """Raise `UsageError` naming ``name`` unless ``value`` is callable or None."""
    if value is not None and not callable(value):
        raise UsageError(f"{name} must be callable or None, not {value!r}")


def seconds_argument(*, positive: bool = False) -> Callable[[str], float]:
    """
    An argparse ``type=`` for an option of seconds, checked by `check_seconds`.

    Text that is not a number, NaN, an infinity or a value out of range is
    an `argparse.ArgumentTypeError`: argparse then prints the usage and the
    reason, and exits with status 2.
    """

    def parse(text: str) -> float:
        import argparse

        try:
            seconds = check_seconds("the value", float(text), positive=positive)
        except (ValueError, UsageError) as error:
            wanted = "> 0" if positive else ">= 0"
            raise argparse.ArgumentTypeError(
                f"expected a finite number of seconds {wanted}, not {text!r}"
            ) from error
        assert seconds is not None
        return seconds

    return parse


def default_max_buffered(max_length: int) -> int:
    """The default bound on unread bytes: four maximal messages, at least 1 MiB."""
    return max(4 * max_length, 1024 * 1024)


def check_max_buffered(max_buffered: int | None, max_length: int) -> int:
    """``max_buffered`` if valid, its default for ``max_length`` if None."""
    if max_buffered is None:
        return default_max_buffered(max_length)
    if isinstance(max_buffered, bool) or not isinstance(max_buffered, int):
        raise UsageError(f"max_buffered must be an int, not {max_buffered!r}")
    if max_buffered < 0:
        raise UsageError(f"max_buffered must be >= 0, not {max_buffered}")
    return max_buffered


TLS_MISSING = "TLS needs pyOpenSSL and service-identity: pip install twisted[tls]"
"""What a TLS connection without its libraries says to do."""


def check_tls_available() -> None:
    """
    Raise `UsageError` saying what to install if TLS cannot work here.

    Twisted needs pyOpenSSL (``twisted.internet.ssl``) and service-identity
    (host name verification) for TLS client endpoints; without them its
    ``tls:`` endpoint parser fails with a ``NameError`` instead.
    """
    try:
        import service_identity  # noqa: F401
        import twisted.internet.ssl  # noqa: F401
    except ImportError as error:
        raise UsageError(TLS_MISSING) from error
