"""
The reply texts: what the classic thread would have said, from a Twisted failure.

The classic thread puts ``str(exc)`` of the `OSError` its socket call raised into an
ERROR reply. The Twisted client reports the same events as its own
exceptions; these functions give back the text the classic thread gives for the same
kind of event, so code that shows or compares the texts keeps working.
"""

from __future__ import annotations

import errno
import os

from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure

from twisted_client import (
    ClientClosed,
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    ReactorShutdown,
)

__all__ = [
    "CLOSED_LOCALLY",
    "CLOSED_PREMATURELY",
    "connect_error_text",
    "os_error_text",
    "receive_error_text",
    "send_error_text",
]

CLOSED_PREMATURELY = "Socket closed prematurely"
"""The classic thread's text when the peer closes before a whole message arrived."""

CLOSED_LOCALLY = (
    "the client was closed locally: the program is quitting (the reactor stopped)"
)
"""
The text when the reactor stopped under a pending command (the program quit).

The classic thread has no such case (its thread dies with the program); the reset
text it would give for a dropped socket, ``'[Errno 104] Connection reset
by peer'``, would blame the peer for what this side did.
"""


def os_error_text(number: int) -> str:
    """``str()`` of the `OSError` the socket module raises for ``number``."""
    return str(OSError(number, os.strerror(number)))


def connect_error_text(error: BaseException) -> str:
    """The classic thread's text for a failed CONNECT (the core's `ConnectError`)."""
    if isinstance(error, ConnectTimeout):
        return os_error_text(errno.ETIMEDOUT)
    reason = error.reason if isinstance(error, ConnectError) else error
    if isinstance(reason, twisted_errors.TimeoutError):
        return os_error_text(errno.ETIMEDOUT)
    if isinstance(reason, twisted_errors.ConnectError):
        number = reason.osError
        if isinstance(number, int):
            return os_error_text(number)
        if isinstance(reason, twisted_errors.ConnectionRefusedError):
            return os_error_text(errno.ECONNREFUSED)
    return str(reason if reason is not None else error)


def _lost_text(error: ConnectionClosed, clean_text: str) -> str:
    """``clean_text`` if the peer closed in order; a reset's text otherwise."""
    reason = error.reason
    if reason.check(twisted_errors.ConnectionDone):
        return clean_text
    value = reason.value
    number = getattr(value, "errno", None) or getattr(value, "osError", None)
    if isinstance(number, int) and number > 0:
        return os_error_text(number)
    return os_error_text(errno.ECONNRESET)


def send_error_text(failure: Failure) -> str:
    """The classic thread's text when ``sendall`` fails: the connection ended/closed."""
    return _failure_text(failure, os_error_text(errno.EPIPE))


def receive_error_text(failure: Failure) -> str:
    """The classic thread's text when RECEIVE fails: closed early, reset, or by us."""
    return _failure_text(failure, CLOSED_PREMATURELY)


def _failure_text(failure: Failure, clean_text: str) -> str:
    """
    The text for a failed SEND or RECEIVE: quitting, closed by this side,
    lost (``clean_text`` when the peer closed cleanly), or the error itself.
    """
    error = failure.value
    if isinstance(error, ReactorShutdown):
        return CLOSED_LOCALLY
    if isinstance(error, ClientClosed):
        return os_error_text(errno.EBADF)
    if isinstance(error, ConnectionClosed):
        return _lost_text(error, clean_text)
    return str(error)
