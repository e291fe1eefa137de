"""`ConnectionState`: the one vocabulary for where a connection stands."""

from __future__ import annotations

import enum

__all__ = ["ConnectionState"]


class ConnectionState(str, enum.Enum):
    """
    Where a connection stands; each member is also its string value.

    `QtClient.state`, `ReconnectingClient.state` (and what their listeners and
    ``state_changed`` are given) and the drop-in's session all speak it. A
    member equals its value (``ConnectionState.CONNECTED == "connected"``)
    and prints as it, so code that compares with strings keeps working.
    """

    UNCONNECTED = "unconnected"
    """No connection and no attempt, and none will start by itself."""
    CONNECTING = "connecting"
    """An attempt to connect is under way."""
    CONNECTED = "connected"
    """The connection is up: the `Client` is usable."""
    WAITING = "waiting"
    """The connection or the attempt ended; the next attempt is scheduled."""
    STOPPED = "stopped"
    """A reconnecting client not started, or stopped: no connection, no retry."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
