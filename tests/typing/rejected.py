"""
Calls that ``mypy --strict`` must reject, one error on each line marked
``# rejected`` and none elsewhere (checked by tests/test_typing.py, never run).
"""

from __future__ import annotations

from twisted.internet.task import Clock

from twisted_client import (
    ReconnectingClient,
    connect,
    connect_endpoint,
    connect_tls,
    tls_endpoint,
)
from twisted_client.server import listen


def not_reactors() -> None:
    """Things that are not reactors at all."""
    connect(3, "127.0.0.1", 50007)  # rejected
    connect("127.0.0.1", "127.0.0.1", 50007)  # rejected
    connect_tls(None, "127.0.0.1", 50007)  # rejected
    tls_endpoint(object(), "127.0.0.1", 50007)  # rejected
    connect_endpoint("tcp:127.0.0.1:50007", "tcp:127.0.0.1:50007")  # rejected
    ReconnectingClient(50007, "tcp:127.0.0.1:50007")  # rejected
    listen("127.0.0.1", 0)  # rejected


def a_clock_cannot_make_connections() -> None:
    """A `Clock` keeps time but has no TCP: fine for timing, not for TCP."""
    connect(Clock(), "127.0.0.1", 50007)  # rejected
    connect_tls(Clock(), "127.0.0.1", 50007)  # rejected
    listen(Clock(), 0)  # rejected
